//! The "help:" line for every library error: what to do next, in terms of this command line.
//! The library says what happened (with a stable code); this module says what to type.

use dfu::{Code, DfuError};
use dfu_proto::TransportError;

/// What the user should do next about `e`.
pub fn for_error(e: &DfuError) -> String {
    match e {
        DfuError::NoDevice { seen, .. } => {
            let mut h = String::from(
                "put the device in DFU mode (Particle: hold MODE, tap RESET, release MODE when the LED blinks yellow; STM32: BOOT0 high, then reset), check the cable (some are charge-only), then run `dfu list`; on Linux `dfu doctor` checks permissions",
            );
            if !seen.is_empty() {
                h.push_str("; devices seen: ");
                h.push_str(&seen.join(", "));
            }
            h
        }
        DfuError::Ambiguous { candidates, .. } => format!(
            "add --serial or --path to pick one:\n{}",
            candidates
                .iter()
                .map(|c| format!(
                    "  {}   select with: --path {}{}",
                    c.summary,
                    c.path,
                    c.serial
                        .as_deref()
                        .map(|s| format!(" or --serial {s}"))
                        .unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        DfuError::Usb { source, .. } => usb(source),
        DfuError::Status { status, .. } => status.advice().to_string(),
        DfuError::UnexpectedState { .. } => {
            "power-cycle the device into DFU mode and try again; `dfu` clears error states at connect".into()
        }
        DfuError::Protocol { op: dfu::Op::Leave, .. } => {
            "reset or power-cycle the device; if it comes back in DFU mode, the application did not start".into()
        }
        DfuError::Protocol { .. } => {
            "the device answered something impossible: reconnect it and try again; if it happens again, its bootloader is faulty".into()
        }
        DfuError::Timeout { .. } => {
            "the device stopped answering: reconnect it (USB 2 port, short cable), put it back in DFU mode and try again".into()
        }
        DfuError::Refused(f) => refused(f),
        DfuError::Verify { .. } => {
            "flash again; if the same bytes differ again, the sector may be protected or worn (check the option bytes), or another program is writing the device".into()
        }
        DfuError::Usage { code, .. } => usage(*code),
        DfuError::AddressConflict { .. } => usage(Code::AddressConflict),
        DfuError::Io { .. } => "check the path; the build may not have produced the file".into(),
        DfuError::Input {
            source: dfu_image::ImageError::FileTooLarge { .. },
            ..
        } => "check the file name: no firmware image is that large (a disk image or an archive?)"
            .into(),
        DfuError::Input { .. } => {
            "the file is damaged or not a firmware image; `dfu image inspect FILE` shows what it contains".into()
        }
        DfuError::Unsupported { code, .. } => unsupported(*code),
        DfuError::Sim(_) => {
            "a simulated device is `PROFILE[,key=value...]`; `dfu sim profiles` lists the profiles, and the README's \"Simulated devices\" the keys".into()
        }
        DfuError::Interrupted { .. } => {
            "the device is back in dfuIDLE: run the same command again; it compares what is there and writes the rest".into()
        }
        _ => "run the command again with the device freshly in DFU mode".into(),
    }
}

/// The help after a flash failed part-way: `cause` (the error's own help), then how to
/// restore what was erased and not written again (the same command, once the cause is
/// fixed).
pub fn after_flash_failure(done: &dfu::FlashReport, cause: String) -> String {
    let mut lost = done.erased_not_written();
    lost.extend(done.unsure.iter().copied());
    lost.sort_unstable();
    if lost.is_empty() {
        return cause;
    }
    format!(
        "{cause}\n{} may no longer hold what it held: run the same command again once the cause is fixed; it writes the image there and leaves the rest as it is",
        ranges(&lost)
    )
}

/// The last line of the help of a refusal that `--force` overrides.
pub const FORCE_HINT: &str = "(--force writes it anyway)";

fn refused(f: &dfu::Finding) -> String {
    let lead = match f.code {
        Code::ReadOnly => "the device itself refuses writes there (no option overrides that); write where applications go:\n",
        Code::OutsideMemory => "the device's memory:\n",
        Code::ProtectedRegion => "check the address; if you really mean to replace it, add --force.\n",
        Code::NoLayout => {
            return "give the device's layout with --layout \"@Name/0xADDR/N*SIZEKg\", or a profile with --profile FILE".into()
        }
        Code::MassEraseSystem => "add --force to erase everything anyway: ",
        Code::RaisesProtection => "`dfu option-bytes` shows the current ones; add --force to protect the device anyway: ",
        Code::Irreversible => "add --irreversible only if you mean it for good: ",
        Code::ReadProtected => {
            return "`dfu option-bytes` shows the protection; `dfu unprotect --force` removes it, which erases the whole flash".into()
        }
        _ => "",
    };
    let mut h = format!("{lead}{}", f.detail);
    let says_how = [
        Code::ProtectedRegion,
        Code::MassEraseSystem,
        Code::RaisesProtection,
    ];
    if f.overridable && !says_how.contains(&f.code) {
        h.push('\n');
        h.push_str(FORCE_HINT);
    }
    h
}

fn usage(code: Code) -> String {
    match code {
        Code::NoAddress => "give the address with --address ADDRESS (`dfu info` shows the device's memory; the device is unknown, so there is no default)",
        Code::AddressConflict => "drop --address: the file carries its own addresses (or convert it to a raw binary first)",
        Code::InputOverlap => "flash the files one at a time, or fix their addresses",
        Code::NoSuchAlt => "leave out --alt to write every DfuSe target to its own alt setting, or pick one the file has",
        _ => "see `dfu --help`",
    }
    .into()
}

fn unsupported(code: Code) -> String {
    match code {
        Code::NoUpload => "reading is not possible over DFU on this device",
        Code::NoErase => "flash the new image directly: the device erases as it writes",
        Code::SimSave => "give state= and stats= a file path in a writable directory",
        Code::WrongMode => "`dfu list` shows each device's mode; `dfu detach` switches a run-time device to DFU mode; a board running an application without DFU support needs its bootloader started by hand (`dfu info` on the board's profile says how)",
        Code::NoOptionBytes => "option bytes are known for the STM32 ROM bootloaders; for another device, a profile file with an [option_bytes] table and an option-byte region gives them (`dfu info` shows the profile's regions)",
        _ => "`dfu info` shows what the device offers",
    }
    .into()
}

/// Advice for a USB-level failure.
pub fn usb(e: &TransportError) -> String {
    match e {
        TransportError::Access(_) => format!(
            "this user may not open the USB device. Linux: {} (`dfu doctor` checks it all). Windows: install the WinUSB driver for the device with Zadig",
            dfu::udev::install_help()
        ),
        TransportError::Busy(_) => {
            "another program (dfu-util, a serial monitor, a running flash) or a kernel driver holds the device: close it and try again".into()
        }
        TransportError::Disconnected => {
            "the device left the bus: check the cable and port (prefer a USB 2 port without a hub), put it back in DFU mode and run the command again; `dfu` starts over safely".into()
        }
        TransportError::Stall => {
            "the device rejected the request; it may not support this operation in its state. Run `dfu info` and try again".into()
        }
        _ => "reconnect the device and try again; on USB 3 ports or hubs, try a USB 2 port".into(),
    }
}

/// The selection as the options that give it (`--device 0483:df11 --serial X`).
pub fn selection_flags(s: &dfu::Selector) -> String {
    let mut parts = Vec::new();
    if !s.ids.is_empty() {
        parts.push(format!("--device {}", s.ids_text()));
    }
    if let Some(x) = &s.serial {
        parts.push(format!("--serial {x}"));
    }
    if let Some(p) = &s.path {
        parts.push(format!("--path {p}"));
    }
    parts.join(" ")
}

pub use dfu::account::ranges;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_how_to_override_only_when_they_can_be() {
        let soft = dfu::Finding::refusal(Code::Platform, "m", "build it for the Photon");
        assert!(refused(&soft).ends_with("(--force writes it anyway)"));
        let hard = dfu::Finding::hard(Code::ReadOnly, "m", "MAP");
        let h = refused(&hard);
        assert!(
            h.contains("no option overrides that") && h.ends_with("MAP"),
            "{h}"
        );
    }
}
