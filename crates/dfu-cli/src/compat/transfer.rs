//! dfu-util's -D, -U and `:unprotect`, each through `dfu`'s own request: what a -D file says
//! about itself before any device is touched, and how much -U reads.

use super::options;
use super::particle_keys;
use super::run::{refuse, Exit};
use super::sysexits::{EX_NOINPUT, EX_USAGE};
use crate::args::Global;
use crate::exit::Failure;
use dfu::{AltChoice, DeviceRequest, FlashOptions, Operation, Request};
use dfu_image::suffix;
use std::io::Read;
use std::path::Path;

/// What -D's file says about itself before any device is touched.
pub(super) struct FileFacts {
    /// A DfuSe file (by its prefix or its suffix).
    pub dfuse: bool,
    /// The ids its DFU suffix names.
    pub ids: Option<(u16, u16)>,
}

pub(super) fn file_facts(path: &Path) -> Result<FileFacts, Exit> {
    // A file no image could be is refused from its length; of the others only the first
    // bytes and the suffix are read here (the suffix CRC in one pass, in pieces).
    let cannot = |e: &dyn std::fmt::Display| {
        refuse(
            EX_NOINPUT,
            format!("cannot read {}: {e}", path.display()),
            "check the path; the build may not have produced the file",
        )
    };
    let mut file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    dfu::pipeline::fits::check_size(path, 1 << 32).map_err(Failure::from)?;
    let mut head = Vec::with_capacity(5);
    (&mut file)
        .take(5)
        .read_to_end(&mut head)
        .map_err(|e| cannot(&e))?;
    // A damaged suffix is the flash's to report, as for any other file.
    let s = match dfu_image::read_suffix(&mut file) {
        Err(dfu_image::ImageError::Read { message, .. }) => return Err(cannot(&message)),
        r => r.ok().flatten().filter(|s| s.crc_ok),
    };
    Ok(FileFacts {
        dfuse: head.starts_with(b"DfuSe") || s.is_some_and(|s| s.bcd_dfu == suffix::BCD_DFUSE),
        ids: s.map(|s| (s.vendor, s.product)),
    })
}

/// `-s :unprotect:force -D FILE`: DfuSe read-unprotect; the file is not written.
pub(super) fn unprotect(g: &Global, device: &DeviceRequest) -> Result<(), Exit> {
    let mut backend = g.backend()?;
    let request = Request {
        device: DeviceRequest {
            alt: AltChoice::Number(0),
            ..device.clone()
        },
        op: Operation::Survey,
    };
    let mut prepared = dfu::prepare(backend.as_mut(), &request, &mut crate::render::stderr_event)?;
    prepared.device.read_unprotect()?;
    drop(prepared);
    backend.finish()?;
    println!("Device disconnects, erases flash and resets now");
    Ok(())
}

/// -D through `dfu flash`. Returns whether the device left DFU mode.
#[allow(
    clippy::too_many_arguments,
    reason = "each of dfu-util's -D facts: the device, the file, -s, DfuSe or not, -R and a Particle key slot"
)]
pub(super) fn download(
    g: &Global,
    device: &DeviceRequest,
    file: &Path,
    d: &options::Dfuse,
    dfuse: bool,
    dfuse_file: bool,
    reset: bool,
    key: Option<&'static str>,
) -> Result<bool, Exit> {
    if dfuse && dfuse_file && d.address.is_some() {
        return Err(refuse(
            EX_USAGE,
            format!(
                "{} is a DfuSe file: it carries its own addresses",
                file.display()
            ),
            "use -s :leave (no address) with a DfuSe file",
        ));
    }
    if dfuse && !dfuse_file && d.address.is_none() {
        return Err(refuse(
            EX_USAGE,
            format!(
                "{} is a raw binary and the device is a DfuSe device: where does it go?",
                file.display()
            ),
            "give the address, e.g. -s 0x08000000:leave",
        ));
    }
    // DfuSe devices leave only with :leave (else they stay in DFU mode, as with dfu-util);
    // plain DFU devices are reset to start the application when -R is given.
    let leave = if dfuse { d.leave } else { reset };
    let request = Request {
        device: device.clone(),
        op: Operation::Flash {
            files: match &device.known {
                Some(info) => {
                    crate::cmd_flash::load_for(&[file.to_path_buf()], info, device.layout.as_ref())?
                }
                None => crate::cmd_flash::load(&[file.to_path_buf()])?,
            },
            options: FlashOptions {
                address: d.address,
                leave,
                mass_erase: d.mass_erase,
                // particle-cli's documented key slots only (the settings refusal).
                force: key.is_some(),
                ..FlashOptions::default()
            },
        },
    };
    match (key, d.address) {
        (Some(what), Some(address)) => {
            let len = std::fs::metadata(file).map_or(0, |m| m.len());
            particle_keys::write(g, &request, what, address, len)?;
        }
        _ => crate::cmd_flash::run(g, &request, false)?,
    }
    // dfu-util's closing lines, which callers read (docs/dfu-util.md): "Download done."
    // after every download; "File downloaded successfully" only after a raw binary on a
    // DfuSe device, where dfu-util prints it (particle-cli's writeDfu looks for it); a
    // DfuSe file ends with "Done parsing DfuSe file" instead.
    println!("Download done.");
    if dfuse && dfuse_file {
        println!("Done parsing DfuSe file");
    } else if dfuse {
        println!("File downloaded successfully");
    }
    Ok(leave)
}

/// -U through `dfu read`.
pub(super) fn upload(
    g: &Global,
    device: &DeviceRequest,
    info: &dfu::DeviceInfo,
    is_dfuse: bool,
    file: &Path,
    d: &options::Dfuse,
) -> Result<(), Exit> {
    let (address, length) = if is_dfuse {
        let Some(address) = d.address else {
            return Err(refuse(EX_USAGE, "-U on a DfuSe device needs -s ADDRESS[:LENGTH]", "e.g. -s 0x08000000:0x4000 (dfu-util would read 16 KiB from wherever the device points)"));
        };
        (
            Some(address),
            Some(upload_length(info, &device.alt, address, d)?),
        )
    } else {
        // As dfu-util: read until the device sends a short block; -Z only sizes its
        // progress bar.
        (None, None)
    };
    let request = Request {
        device: device.clone(),
        op: Operation::Read { address, length },
    };
    crate::cmd_read::read_request(g, &request, file, false, false)?;
    Ok(())
}

/// `:LEN`, else up to the end of the memory segment the address is in (as dfu-util).
fn upload_length(
    info: &dfu::DeviceInfo,
    alt: &AltChoice,
    address: u32,
    d: &options::Dfuse,
) -> Result<u64, Exit> {
    if d.length != 0 {
        return Ok(u64::from(d.length));
    }
    let alt = alt.resolve(info)?;
    let (layout, _) = dfu::survey::layout_for(info, alt, None);
    let seg = layout.as_ref().and_then(|l| {
        l.segments
            .iter()
            .find(|s| u64::from(s.start) <= u64::from(address) && u64::from(address) < s.end())
    });
    match seg {
        Some(s) => Ok(s.end() - u64::from(address)),
        None => Err(refuse(
            EX_USAGE,
            format!("0x{address:08x} is in no memory segment of alt {alt}"),
            "give the length too: -s ADDRESS:LENGTH, within the map `dfu info` shows",
        )),
    }
}
