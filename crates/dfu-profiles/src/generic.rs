//! A profile built from a DfuSe device's own descriptors and memory map, for a device no
//! built-in profile agrees with. It guesses nothing the device does not say: the application
//! address is the first writable sector of alt 0, regions come only from the alt names ST's
//! ROMs use (`Option Bytes`, `OTP Memory`, `Device Feature`), and timing figures are
//! generic ones, marked assumed.

use crate::alt::Alt;
use crate::model::*;

/// The name of a profile built from a DfuSe device's own map.
pub const GENERIC_DFUSE: &str = "generic-dfuse";

/// What [`Profile::generic`] needs from the device.
#[derive(Debug, Clone)]
pub struct GenericDevice<'a> {
    /// idVendor, idProduct, bcdDevice.
    pub ids: (u16, u16, u16),
    /// iManufacturer, iProduct, iSerialNumber.
    pub strings: (&'a str, &'a str, &'a str),
    /// The functional descriptor in DFU mode.
    pub dfu: DfuFunctional,
    /// The alt settings' interface strings in order.
    pub alt_names: &'a [Option<String>],
}

/// The role an ST ROM alt name implies.
fn role_of(name: &str) -> Option<(Role, &'static str)> {
    let n = name.to_ascii_lowercase();
    if n.contains("option byte") {
        Some((Role::OptionBytes, "option-bytes"))
    } else if n.contains("otp") {
        Some((Role::Otp, "otp"))
    } else if n.contains("device feature") {
        Some((Role::DeviceInfo, "device-feature"))
    } else {
        None
    }
}

impl Profile {
    /// A profile built from a DfuSe device's own descriptors and map; `None` for plain DFU
    /// devices and for a device any of whose alt strings is not a layout.
    pub fn generic(d: &GenericDevice) -> Option<Profile> {
        if d.dfu.dfu_version != 0x011a || d.alt_names.is_empty() {
            return None;
        }
        let alts: Vec<Alt> = d
            .alt_names
            .iter()
            .map(|n| Alt::from_layout_string(n.as_deref()?).ok())
            .collect::<Option<_>>()?;
        let regions = regions_of(&alts);
        let app_address = alts[0]
            .layout()
            .sectors()
            .find(|s| s.flags.writable())
            .map(|s| s.start);
        let (vendor_id, product_id, bcd_device) = d.ids;
        let p = Profile {
            name: GENERIC_DFUSE.into(),
            title: "a DfuSe device no built-in profile describes, by its own memory map".into(),
            sources: vec![
                "the device's own descriptors and memory layout strings".into(),
                "assumed: timing (generic figures), application address (first writable sector of alt 0)".into(),
            ],
            enter_dfu: None,
            particle_platform: None,
            usb: UsbIdentity {
                vendor_id,
                product_id,
                bcd_device,
                manufacturer: d.strings.0.into(),
                product: d.strings.1.into(),
                serial: d.strings.2.into(),
            },
            runtime: None,
            dfu: d.dfu.clone(),
            alts,
            regions,
            app_address,
            timing: generic_timing(),
            quirks: Vec::new(),
            leave: None,
            option_bytes: None,
            part_layout: None,
        };
        p.validate().ok()?;
        Some(p)
    }

    /// True for a profile built by [`Profile::generic`].
    pub fn is_generic(&self) -> bool {
        self.name == GENERIC_DFUSE
    }
}

/// The regions the alt names imply, one per contiguous run of each such alt's map (the
/// G474 names two option-byte groups).
fn regions_of(alts: &[Alt]) -> Vec<Region> {
    let mut regions = Vec::new();
    for (i, a) in alts.iter().enumerate() {
        let l = a.layout();
        let (Some((role, name)), Ok(alt)) = (role_of(&l.name), u8::try_from(i)) else {
            continue;
        };
        for (k, (start, end)) in contiguous_runs(&l.segments).into_iter().enumerate() {
            regions.push(Region {
                name: if k == 0 {
                    name.into()
                } else {
                    format!("{name}-{}", k + 1)
                },
                role,
                alt,
                start,
                size: u32::try_from(end - u64::from(start)).unwrap_or(u32::MAX),
                module_index: None,
                module_header_offset: None,
            });
        }
    }
    regions
}

/// The map's segments joined where one ends where the next starts: (start, end) pairs.
fn contiguous_runs(segments: &[dfu_proto::Segment]) -> Vec<(u32, u64)> {
    let mut runs: Vec<(u32, u64)> = Vec::new();
    for s in segments {
        match runs.last_mut() {
            Some((_, end)) if *end == u64::from(s.start) => *end = s.end(),
            _ => runs.push((s.start, s.end())),
        }
    }
    runs
}

/// Generic timing figures (assumed, not measured on any device).
fn generic_timing() -> Timing {
    Timing {
        erase: vec![EraseTime {
            sector_size: 2048,
            ms: 40,
        }],
        mass_erase_ms: 16000,
        program_unit: 4,
        program_unit_ns: 16000,
        poll_erase_ms: 100,
        poll_program_ms: 5,
        poll_command_ms: 5,
        reset_ms: 500,
    }
}
