//! particle-cli's key commands through the drop-in. `particle keys server`, `keys save` and
//! `keys load` write and read the device's keys in the DCT (alt 1) of Photon, P1 and
//! Electron at fixed offsets, with dfu-util and no way to pass `dfu flash --force`:
//! `dfu-util -d 2b04:d006 -a 1 -i 0 -s 2082 -D server-key.der` and `-a 1 -s 2082:512 -U
//! key.der`. Exactly these slots are allowed, with a note; any other DCT write is still
//! refused as settings.
//!
//! Offsets and lengths: particle-cli src/lib/device-specs.js and src/lib/keys-specs.js
//! (`laterGenerations`), in decimal as it passes them; they are fields of device-os's
//! `application_dct_t` (platform/MCU/STM32F2xx/SPARK_Firmware_Driver/inc/dct.h): 32 bytes of
//! system flags and a 2-byte version put `device_private_key` at 34, `server_public_key` at
//! 2082, `alt_device_private_key` at 3106 and `alt_server_public_key` at 3298.

use super::options::Dfuse;
use crate::args::Global;
use crate::exit::Failure;
use dfu::{AltChoice, DeviceInfo, Request};
use std::path::Path;

/// One documented key slot in the DCT: (what it holds, offset, length).
type Slot = (&'static str, u32, u32);

const SLOTS: &[Slot] = &[
    ("device private key (TCP, RSA)", 34, 612),
    ("server public key (TCP, RSA)", 2082, 512),
    ("device private key (UDP, EC)", 3106, 192),
    ("server public key (UDP, EC)", 3298, 320),
];

/// The DCT alt setting of the Gen 2 Particle devices.
const DCT_ALT: u8 = 1;

/// Particle platforms whose DCT has this layout: Photon 6, P1 8, Electron 10.
const PLATFORMS: &[u16] = &[6, 8, 10];

/// The key slot that `len` bytes at `address` on `alt` fill, on a device with this DCT
/// layout: the address is the slot's start and the bytes fit in it.
pub fn slot(info: &DeviceInfo, alt: u8, address: u32, len: u64) -> Option<&'static str> {
    let platform = info.profile.as_ref()?.particle_platform?;
    if alt != DCT_ALT || !PLATFORMS.contains(&platform) || len == 0 {
        return None;
    }
    SLOTS
        .iter()
        .find(|(_, at, size)| *at == address && len <= u64::from(*size))
        .map(|(what, _, _)| *what)
}

/// The note printed for a slot read or written: what the bytes are, then `done`.
pub fn note(what: &str, address: u32, len: u64, done: &str) -> String {
    format!(
        "note: DCT bytes {address}..{} are the {what}, where particle-cli's `keys` commands keep it; {done}",
        u64::from(address) + len
    )
}

/// Writes a key slot (`request` is the flash of the key file, with the settings refusal
/// lifted) and prints what dfu-util prints for it, plus the one note: the generic flash
/// report would speak of erased sectors, and the device's DCT alt erases nothing
/// (device-os usbd_dct_if.c: `DCT_If_Erase` returns at once, `DCT_If_Write` rewrites the
/// bytes sent through `dct_write_app_data`).
pub fn write(
    g: &Global,
    request: &Request,
    what: &str,
    address: u32,
    len: u64,
) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let mut prepared = dfu::prepare(backend.as_mut(), request, &mut |_| {})
        .map_err(|e| g.hint_failure(&request.device, e))?;
    let report = prepared.flash(&mut |_| {});
    drop(prepared);
    let finish = backend.finish();
    let report = report.map_err(|f| {
        let mut failure = Failure::from(f.error);
        failure.help = crate::help::after_flash_failure(&f.done, failure.help);
        failure
    })?;
    finish?;
    let done = if report.verified {
        "written and read back, the rest of the DCT kept (its erase does nothing)"
    } else {
        "written, the rest of the DCT kept (its erase does nothing)"
    };
    eprintln!("{}", note(what, address, len, done));
    Ok(())
}

/// The slot a `-D FILE` with `-s ADDRESS` writes, when it is one of particle-cli's.
pub fn download_slot(
    info: &DeviceInfo,
    alt: &AltChoice,
    d: &Dfuse,
    file: &Path,
) -> Option<&'static str> {
    let AltChoice::Number(alt) = alt else {
        return None;
    };
    let len = std::fs::metadata(file).ok()?.len();
    slot(info, *alt, d.address?, len)
}

/// Prints the note for a `-U` with `-s ADDRESS:LENGTH` that reads one of particle-cli's
/// slots (reads of the DCT are not refused; the note says what the bytes are).
pub fn note_read(info: &DeviceInfo, alt: &AltChoice, d: &Dfuse) {
    if let (AltChoice::Number(alt), Some(address)) = (alt, d.address) {
        let len = u64::from(d.length);
        if let Some(what) = slot(info, *alt, address, len) {
            eprintln!("{}", note(what, address, len, "read as particle-cli asks"));
        }
    }
}
