//! Finding devices: what each one is (descriptors, alt settings, layouts, profile) and
//! picking the one the user means.

use crate::backend::{Backend, UsbDevice};
use crate::error::{DfuError, Op, Result};
pub use crate::selector::Selector;
use dfu_profiles::Profile;
use dfu_proto::descriptor::{parse_string, PROTOCOL_RUNTIME};
use dfu_proto::request::{DESC_CONFIG, DESC_STRING};
use dfu_proto::{ConfigDescriptor, FunctionalDescriptor, MemoryLayout, Setup, Transport};
use serde::Serialize;

/// Run-time (application) or DFU mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The application runs; DETACH switches to DFU mode.
    Runtime,
    /// The bootloader runs and accepts DFU requests.
    Dfu,
}

/// One alternate setting of the DFU interface.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AltInfo {
    /// bAlternateSetting.
    pub alt: u8,
    /// The interface string; `None` when the device did not return it.
    pub name: Option<String>,
    /// The parsed DfuSe layout, when the string is one.
    #[serde(serialize_with = "crate::info_json::serialize_layout")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::discovery::info_json::LayoutView<'static>>")
    )]
    pub layout: Option<MemoryLayout>,
    /// Why the string is not a layout (DfuSe devices only).
    pub layout_error: Option<String>,
}

impl AltInfo {
    /// The name as shown to users.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => "(unreadable)".into(),
        }
    }
}

/// Everything known about one DFU-capable device. Its JSON (as `dfu list --json` shows
/// it) is flat: ids, path, strings, the functional descriptor's fields, alts with layouts;
/// USB ids as `"0x0483"`, addresses as `"0x08000000"`, sizes as numbers.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// The device on the bus.
    pub usb: UsbDevice,
    /// Run-time or DFU mode.
    pub mode: Mode,
    /// The DFU interface number.
    pub interface: u8,
    /// bConfigurationValue of the configuration that holds it.
    pub configuration: u8,
    /// Its functional descriptor.
    pub functional: FunctionalDescriptor,
    /// Alternate settings in order.
    pub alts: Vec<AltInfo>,
    /// iManufacturer.
    pub manufacturer: Option<String>,
    /// iProduct.
    pub product: Option<String>,
    /// iSerialNumber.
    pub serial: Option<String>,
    /// The matching built-in (or user-given) profile.
    pub profile: Option<Profile>,
    /// Its name (for JSON output).
    pub profile_name: Option<String>,
    /// Why the profile applies, or why none does (`matched by ids and layout`,
    /// `generic: no profile has this layout`).
    pub profile_reason: String,
}

impl DeviceInfo {
    /// True for DfuSe devices.
    pub fn is_dfuse(&self) -> bool {
        self.functional.is_dfuse()
    }

    /// Where a plain DFU device's memory starts for `alt` (uploads and downloads begin
    /// there): the address the alt's name states (Maple: "DFU Program FLASH 0x08005000"),
    /// else its profile's real layout start, else 0.
    pub fn plain_base(&self, alt: u8) -> u32 {
        self.alts
            .iter()
            .find(|a| a.alt == alt)
            .and_then(|a| a.name.as_deref())
            .and_then(stated_address)
            .or_else(|| self.profile.as_ref().and_then(|p| p.plain_base(alt)))
            .unwrap_or(0)
    }

    /// One line: ids, mode, path, serial, product.
    pub fn summary(&self) -> String {
        format!(
            "{} {} at {} serial {:?} {:?}{}",
            self.usb.id(),
            match self.mode {
                Mode::Dfu => "DFU",
                Mode::Runtime => "run-time",
            },
            self.usb.path(),
            self.serial.as_deref().unwrap_or(""),
            self.product.as_deref().unwrap_or(""),
            self.profile_name
                .as_ref()
                .map(|p| format!(" (profile {p})"))
                .unwrap_or_default()
        )
    }
}

fn read_string(t: &mut dyn Transport, index: u8, lang: u16) -> Option<String> {
    if index == 0 {
        return None;
    }
    let b = t
        .control_in(Setup::get_descriptor(DESC_STRING, index, lang, 255))
        .ok()?;
    parse_string(&b).ok()
}

/// Reads a device's configuration and strings. `profile_override` replaces profile matching.
pub fn describe(
    backend: &mut dyn Backend,
    usb: &UsbDevice,
    profile_override: Option<&Profile>,
) -> Result<DeviceInfo> {
    let &(interface, protocol) =
        usb.dfu_interfaces
            .first()
            .ok_or_else(|| DfuError::Unsupported {
                code: crate::Code::WrongMode,
                what: format!(
                    "{} has no DFU interface: it cannot be flashed over DFU in its current mode",
                    usb.id()
                ),
            })?;
    let mut t = backend.open(usb, interface)?;
    let config = read_config(&mut *t)?;
    let lang = read_lang(&mut *t);
    let (manufacturer, product, serial) = read_strings(&mut *t, usb, lang);
    let dfu_alts: Vec<_> = config
        .alt_settings
        .iter()
        .filter(|a| a.is_dfu() && a.interface == interface)
        .collect();
    let functional =
        dfu_alts
            .iter()
            .find_map(|a| a.functional)
            .ok_or_else(|| DfuError::Protocol {
                op: Op::Descriptor("DFU functional descriptor"),
                what: format!(
                    "{} has a DFU interface without a functional descriptor",
                    usb.id()
                ),
            })?;
    let alts: Vec<AltInfo> = dfu_alts
        .iter()
        .map(|a| alt_info(&mut *t, a, lang, functional.is_dfuse()))
        .collect();
    drop(t);
    // A run-time interface's alt settings say nothing about the DFU-mode memory.
    let layouts: &[AltInfo] = if protocol == PROTOCOL_RUNTIME {
        &[]
    } else {
        &alts
    };
    let chosen = crate::choose::choose_profile(
        usb,
        profile_override,
        &functional,
        layouts,
        (&manufacturer, &product, &serial),
    );
    let (profile, profile_reason) = match chosen {
        Ok((p, why)) => (Some(p), why),
        Err(why) => (None, why),
    };
    // A bootloader whose DFU-mode interface says protocol 1 (the ESP32-S2/S3 ROM) is in DFU
    // mode all the same: dfu-util, finding it in dfuIDLE, carries on without a DETACH.
    let as_runtime = profile
        .as_ref()
        .is_some_and(|p| p.has_quirk(dfu_profiles::Quirk::DfuModeAsRuntime));
    Ok(DeviceInfo {
        usb: usb.clone(),
        mode: if protocol == PROTOCOL_RUNTIME && !as_runtime {
            Mode::Runtime
        } else {
            Mode::Dfu
        },
        interface,
        configuration: config.value,
        functional,
        alts,
        manufacturer,
        product,
        serial,
        profile_name: profile.as_ref().map(|p| p.name.clone()),
        profile,
        profile_reason,
    })
}

/// The first language ID of string descriptor 0; US English (0x0409) if it has none.
fn read_lang(t: &mut dyn Transport) -> u16 {
    t.control_in(Setup::get_descriptor(DESC_STRING, 0, 0, 255))
        .ok()
        .filter(|b| b.len() >= 4)
        .map(|b| u16::from_le_bytes([b[2], b[3]]))
        .unwrap_or(0x0409)
}

/// The configuration descriptor: its first 9 bytes for the total length, then all of it.
fn read_config(t: &mut dyn Transport) -> Result<ConfigDescriptor> {
    let op = Op::Descriptor("configuration descriptor");
    let head = t
        .control_in(Setup::get_descriptor(DESC_CONFIG, 0, 0, 9))
        .map_err(|e| DfuError::usb(op, e))?;
    let total = if head.len() >= 4 {
        u16::from_le_bytes([head[2], head[3]])
    } else {
        9
    };
    let full = t
        .control_in(Setup::get_descriptor(DESC_CONFIG, 0, 0, total))
        .map_err(|e| DfuError::usb(op, e))?;
    ConfigDescriptor::parse(&full).map_err(|e| DfuError::Protocol {
        op,
        what: e.to_string(),
    })
}

/// Manufacturer, product and serial strings, from the device descriptor's indexes (else
/// what the bus listing knows).
fn read_strings(
    t: &mut dyn Transport,
    usb: &UsbDevice,
    lang: u16,
) -> (Option<String>, Option<String>, Option<String>) {
    let dev = t
        .control_in(Setup::get_descriptor(
            dfu_proto::request::DESC_DEVICE,
            0,
            0,
            18,
        ))
        .ok()
        .and_then(|b| dfu_proto::DeviceDescriptor::parse(&b).ok());
    match &dev {
        Some(d) => (
            read_string(t, d.manufacturer_index, lang),
            read_string(t, d.product_index, lang),
            read_string(t, d.serial_index, lang),
        ),
        None => (
            usb.manufacturer.clone(),
            usb.product.clone(),
            usb.serial.clone(),
        ),
    }
}

/// One DFU alt setting: its name, and its memory layout when the device speaks DfuSe.
fn alt_info(
    t: &mut dyn Transport,
    a: &dfu_proto::descriptor::AltSetting,
    lang: u16,
    dfuse: bool,
) -> AltInfo {
    let name = read_string(t, a.string_index, lang);
    let (layout, layout_error) = match (&name, dfuse) {
        (Some(n), true) => match MemoryLayout::parse(n) {
            Ok(l) => (Some(l), None),
            Err(e) => (None, Some(e.reason)),
        },
        (None, true) => (None, Some("the device did not return the string".into())),
        _ => (None, None),
    };
    AltInfo {
        alt: a.alt,
        name,
        layout,
        layout_error,
    }
}

/// Every DFU-capable device that matches, described.
pub fn find(
    backend: &mut dyn Backend,
    selector: &Selector,
    profile_override: Option<&Profile>,
) -> Result<Vec<DeviceInfo>> {
    let mut out = Vec::new();
    for d in backend.devices()? {
        if !d.is_dfu() || !selector.matches(&d, None) {
            continue;
        }
        let info = describe(backend, &d, profile_override)?;
        if selector.matches(&d, info.serial.as_deref()) {
            out.push(info);
        }
    }
    Ok(out)
}

/// The one device the user means; clear errors for none and for several.
pub fn select_one(
    backend: &mut dyn Backend,
    selector: &Selector,
    profile_override: Option<&Profile>,
) -> Result<DeviceInfo> {
    let mut found = find(backend, selector, profile_override)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let seen = backend
                .devices()?
                .iter()
                .map(|d| {
                    format!(
                        "{} at {}{}",
                        d.id(),
                        d.path(),
                        if d.is_dfu() {
                            ""
                        } else {
                            " (no DFU interface)"
                        }
                    )
                })
                .collect();
            Err(DfuError::NoDevice {
                selector: selector.clone(),
                seen,
            })
        }
        _ => Err(DfuError::Ambiguous {
            selector: selector.clone(),
            candidates: found
                .iter()
                .map(|i| crate::error::Candidate {
                    summary: i.summary(),
                    path: i.usb.path(),
                    serial: i.serial.clone(),
                })
                .collect(),
        }),
    }
}

/// The address a plain DFU alt's name states: its one `0x` hex number, as in the Maple
/// bootloader's "DFU Program FLASH 0x08005000" or STM32duino's "... Upload to Flash
/// 0x8002000". `None` for a DfuSe layout (`@...`), a name with no such number, or with
/// more than one.
pub fn stated_address(name: &str) -> Option<u32> {
    if name.trim_start().starts_with('@') {
        return None;
    }
    let mut found = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|w| w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")))
        .map(|hex| u32::from_str_radix(hex, 16).ok());
    match (found.next(), found.next()) {
        (Some(Some(a)), None) => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod stated_tests {
    use super::stated_address;

    #[test]
    fn the_address_a_plain_alt_name_states() {
        assert_eq!(
            stated_address("DFU Program FLASH 0x08005000"),
            Some(0x0800_5000)
        );
        assert_eq!(
            stated_address("STM32duino bootloader v1.0  Upload to Flash 0x8002000"),
            Some(0x0800_2000)
        );
        assert_eq!(
            stated_address("DFU Program RAM 0x20000C00"),
            Some(0x2000_0C00)
        );
        for none in [
            "STM32duino bootloader v1.0  ERROR. Upload to RAM not supported.",
            "DAPBoot DFU",
            "FLASH",
            "@Internal Flash  /0x08000000/04*016Kg",
            "from 0x1000 to 0x2000",
            "bad 0xZZ",
            "0x123456789",
        ] {
            assert_eq!(stated_address(none), None, "{none}");
        }
    }

    #[test]
    fn profiles_whose_alt_names_state_an_address_keep_their_memory_there() {
        let mut seen = 0;
        for p in dfu_profiles::builtin_profiles() {
            for (i, alt) in p.alts.iter().enumerate() {
                if let Some(a) = stated_address(&alt.name) {
                    let i = u8::try_from(i).expect("alt number");
                    assert_eq!(p.plain_base(i), Some(a), "{} alt {i}", p.name);
                    seen += 1;
                }
            }
        }
        assert!(
            seen >= 4,
            "maple and stm32duino name their addresses ({seen})"
        );
    }
}

#[cfg(all(test, feature = "sim"))]
mod no_dfu_interface {
    use super::*;
    use crate::backend::sim::SimBackend;
    use crate::backend::Backend;

    /// `dfu::unsupported::mode`: a USB device with no DFU interface at all (an application
    /// without a DFU run-time interface) is refused before it is opened. Simulated devices
    /// always have one, so the bus's own description of one is stripped of it.
    #[test]
    fn a_device_without_a_dfu_interface_is_refused_by_its_mode() {
        let mut b = SimBackend::new("stm32f405").unwrap();
        let mut usb = b.devices().unwrap().remove(0);
        usb.dfu_interfaces.clear();
        let e = describe(&mut b, &usb, None).unwrap_err();
        assert_eq!(e.code(), crate::Code::WrongMode);
        assert_eq!(e.kind(), crate::ErrorKind::Refused);
        assert!(e.to_string().contains("has no DFU interface"), "{e}");
    }
}
