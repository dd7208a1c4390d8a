//! `dfu option-bytes` and `dfu unprotect`: read protection and option bytes (ST AN3156).
//! Writes show the decoded difference first; the ROM resets after them, and the tool waits
//! for the device to come back and reads the option bytes again.

use crate::args::{Global, OptionBytesArgs, OptionBytesCmd};
use crate::exit::{self, Failure};
use crate::out::{self, errln, outln};
use dfu::optbytes::{self, Decoded, OptionBytesAt};
use dfu::{Backend, Code, DeviceInfo, DfuDevice, DfuError};
use dfu_proto::num::Addr;
use serde::Serialize;
use std::time::Duration;

/// How long a device may take to come back after an option-byte write or an unprotect
/// (an F4 mass erase takes up to 16 s).
const COME_BACK: Duration = Duration::from_secs(30);

/// `unprotect --json` when the option bytes cannot be read afterwards.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Unprotected {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
}

/// The option bytes in `--json`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ObJson {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    alt: u8,
    address: Addr,
    raw: String,
    read_protected: bool,
    decoded: Option<Decoded>,
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the option bytes; `Ok(None)` when the device refuses because it is read-protected.
fn read(
    backend: &mut dyn Backend,
    info: DeviceInfo,
) -> Result<(OptionBytesAt, Option<Vec<u8>>), Failure> {
    let mut dev = DfuDevice::open(backend, info, 0)?;
    let at = dev.option_bytes_at()?;
    match dev.read_option_bytes(&mut |_| {}) {
        Ok((at, raw)) => Ok((at, Some(raw))),
        Err(DfuError::Refused(f)) if f.code == Code::ReadProtected => Ok((at, None)),
        Err(e) => Err(e.into()),
    }
}

fn show(at: &OptionBytesAt, raw: Option<&[u8]>, json: bool) {
    let decoded = raw.and_then(|r| at.decode(r));
    if json {
        out::json_result(&ObJson {
            result: "ok",
            alt: at.alt,
            address: Addr(at.address),
            raw: raw.map(hex).unwrap_or_default(),
            read_protected: raw.is_none(),
            decoded,
        });
        return;
    }
    let Some(raw) = raw else {
        outln!("read protection: active (level 1): the device refuses to show its option bytes");
        outln!("`dfu unprotect --force` removes it and erases the whole flash");
        return;
    };
    outln!(
        "option bytes at 0x{:08x} (alt {}, {} bytes): {}",
        at.address,
        at.alt,
        raw.len(),
        hex(raw)
    );
    match decoded {
        Some(d) => d.lines().iter().for_each(|l| outln!("  {l}")),
        None => outln!("  (this family's encoding is not known here: raw bytes only)"),
    }
}

/// `dfu option-bytes [write ...]`.
pub fn option_bytes(g: &Global, a: OptionBytesArgs) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let info = g.connect(backend.as_mut(), &mut crate::render::stderr_event)?;
    let Some(OptionBytesCmd::Write {
        value,
        force,
        irreversible,
        json,
    }) = a.write
    else {
        let (at, raw) = read(backend.as_mut(), info)?;
        backend.finish()?;
        show(&at, raw.as_deref(), a.json);
        return Ok(());
    };
    let new = parse_value(&value)?;
    let (at, old) = read(backend.as_mut(), info.clone())?;
    if new.len() as u64 != u64::from(at.size) {
        return Err(Failure::usage(
            format!(
                "the option bytes are {} bytes at 0x{:08x}; {} given",
                at.size,
                at.address,
                new.len()
            ),
            "give all of them, as `dfu option-bytes` shows them",
        ));
    }
    let Some(old) = old else {
        let mut f = Failure::new(
            exit::REFUSED,
            "the device is read-protected (level 1): it refuses to show or change its option bytes",
            "`dfu unprotect --force` removes read protection and erases the whole flash",
        );
        f.error_code = Some(Code::ReadProtected);
        return Err(f);
    };
    if old == new {
        errln!("note: the option bytes already hold these values; nothing was written");
        backend.finish()?;
        show(&at, Some(&old), json);
        return Ok(());
    }
    judge(&at, &old, &new, force, irreversible)?;
    let mut dev = DfuDevice::open(backend.as_mut(), info.clone(), at.alt)?;
    dev.write_option_bytes(&new)?;
    drop(dev);
    let level2 = at
        .decode(&new)
        .is_some_and(|d| d.rdp == optbytes::Rdp::Level2);
    let back = dfu::device::wait_for_dfu(backend.as_mut(), &info, COME_BACK);
    if level2 {
        errln!("note: read protection level 2 is set: the bootloader no longer runs, so the device does not come back in DFU mode");
        backend.finish()?;
        return Ok(());
    }
    let usb = back?;
    let info = dfu::describe(backend.as_mut(), &usb, g.profile()?.as_ref())?;
    let (at, raw) = read(backend.as_mut(), info)?;
    backend.finish()?;
    if raw.as_deref().is_some_and(|r| r != new.as_slice()) {
        return Err(Failure::new(
            exit::VERIFY,
            "the device came back with other option bytes than were written",
            "read them with `dfu option-bytes`; the ROM may have refused a value",
        ));
    }
    show(&at, raw.as_deref(), json);
    Ok(())
}

/// The checks of an option-byte write: notes for what passes (and what a flag overrode),
/// the first refusal as the failure.
fn judge(
    at: &optbytes::OptionBytesAt,
    old: &[u8],
    new: &[u8],
    force: bool,
    irreversible: bool,
) -> Result<(), Failure> {
    let findings: Vec<dfu::Finding> = optbytes::judge(at, Some(old), new, irreversible)
        .into_iter()
        .map(|f| f.forced(force))
        .collect();
    for f in findings.iter().filter(|f| !f.refuses()) {
        let by = match (f.severity, f.code) {
            (dfu::Severity::Overridden, Code::Irreversible) => "--irreversible: ",
            (dfu::Severity::Overridden, _) => "--force: ",
            _ => "",
        };
        errln!("note: {by}{}", f.message);
    }
    match findings.iter().find(|f| f.refuses()) {
        Some(f) => Err(DfuError::refused(f.clone()).into()),
        None => Ok(()),
    }
}

/// `dfu unprotect`.
pub fn unprotect(g: &Global, force: bool, json: bool) -> Result<(), Failure> {
    if !force {
        return Err(Failure::new(
            exit::REFUSED,
            "read-unprotect erases the whole flash (every sector) before it clears read protection",
            "add --force to erase the flash and remove read protection",
        ));
    }
    let mut backend = g.backend()?;
    let info = g.connect(backend.as_mut(), &mut crate::render::stderr_event)?;
    let mut dev = DfuDevice::open(backend.as_mut(), info.clone(), 0)?;
    // Read-unprotect is an ST ROM command: only for devices with option bytes.
    dev.option_bytes_at()?;
    errln!("note: read-unprotect: the device erases its whole flash, clears read protection and resets");
    dev.read_unprotect()?;
    drop(dev);
    let usb = dfu::device::wait_for_dfu(backend.as_mut(), &info, COME_BACK)?;
    let info = dfu::describe(backend.as_mut(), &usb, g.profile()?.as_ref())?;
    let after = read(backend.as_mut(), info).ok();
    backend.finish()?;
    match after {
        Some((at, raw)) => show(&at, raw.as_deref(), json),
        None if json => out::json_result(&Unprotected { result: "ok" }),
        None => outln!("read protection removed; the flash is erased"),
    }
    Ok(())
}

/// Option bytes from a file, or from hex on the command line.
fn parse_value(value: &str) -> Result<Vec<u8>, Failure> {
    let path = std::path::Path::new(value);
    if path.is_file() {
        return std::fs::read(path).map_err(|e| {
            Failure::file(
                format!("cannot read {value}: {e}"),
                "give a file holding the option bytes, or their hex",
            )
        });
    }
    let digits: String = value
        .split_whitespace()
        .collect::<String>()
        .trim_start_matches("0x")
        .to_string();
    let bad = || {
        Failure::usage(
            format!("{value:?} is neither a file nor hex bytes"),
            "give the option bytes as `dfu option-bytes` shows them, e.g. \"ec aa ff ff ff ff ff ff ff 0f ff ff ff ff ff ff\"",
        )
    };
    if digits.is_empty() || digits.len() % 2 != 0 {
        return Err(bad());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            let pair = digits.get(i..i + 2).ok_or_else(bad)?;
            u8::from_str_radix(pair, 16).map_err(|_| bad())
        })
        .collect()
}
