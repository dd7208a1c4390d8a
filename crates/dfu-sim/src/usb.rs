//! The USB device side: descriptors and strings built from the profile, and the
//! standard requests (GET_DESCRIPTOR, SET/GET_CONFIGURATION, SET/GET_INTERFACE,
//! GET_STATUS). Everything else STALLs.

use crate::device::Device;
use crate::error::UsbError;
use crate::spec::{AltNameKnob, Mode, SimSpec};
use dfu_profiles::{Profile, Quirk};
use dfu_proto::descriptor::{
    encode_raw_string, encode_string, DFU_CLASS, DFU_SUBCLASS, PROTOCOL_DFU_MODE, PROTOCOL_RUNTIME,
};
use dfu_proto::request::{
    DESC_CONFIG, DESC_DEVICE, DESC_STRING, STD_GET_CONFIGURATION, STD_GET_DESCRIPTOR,
    STD_GET_INTERFACE, STD_GET_STATUS, STD_SET_CONFIGURATION, STD_SET_INTERFACE,
};
use dfu_proto::{AltSetting, ConfigDescriptor, DeviceDescriptor, FunctionalDescriptor, Setup};

/// bcdUSB of every simulated device (USB 2.0, full speed).
pub(crate) const BCD_USB: u16 = 0x0200;
/// bMaxPacketSize0.
pub(crate) const MAX_PACKET0: u8 = 64;
/// bmAttributes of the configuration: bus powered (assumed).
const CONFIG_ATTRIBUTES: u8 = 0x80;
/// bMaxPower in 2 mA units: 100 mA (assumed).
const CONFIG_MAX_POWER: u8 = 50;
/// String index of alt setting 0's name; alt N uses FIRST_ALT_STRING + N.
pub(crate) const FIRST_ALT_STRING: u8 = 4;

/// The junk `alt-name=garbage` sends: UTF-16 units with non-zero high bytes, so hosts
/// that convert to ASCII (dfu-util) see `?` characters, and no leading `@` (assumed
/// bytes; the real Octopus Pro's junk was not recorded).
const GARBAGE: [u8; 24] = [
    0xB5, 0x9C, 0x1F, 0xE2, 0x73, 0xA8, 0x4D, 0xF1, 0x02, 0x6B, 0xC9, 0x3E, 0x88, 0xD4, 0x17, 0x5A,
    0xEE, 0x91, 0x30, 0xC7, 0x6D, 0x0B, 0xA2, 0x7F,
];

/// The device descriptor in `mode`.
pub(crate) fn device_descriptor(profile: &Profile, mode: Mode) -> DeviceDescriptor {
    let (vendor_id, product_id) = match (&profile.runtime, mode) {
        (Some(rt), Mode::Runtime) => (rt.vendor_id, rt.product_id),
        _ => (profile.usb.vendor_id, profile.usb.product_id),
    };
    DeviceDescriptor {
        bcd_usb: BCD_USB,
        class: 0,
        subclass: 0,
        protocol: 0,
        max_packet_size0: MAX_PACKET0,
        vendor_id,
        product_id,
        bcd_device: profile.usb.bcd_device,
        manufacturer_index: 1,
        product_index: 2,
        // A profile without a serial string has no iSerialNumber (the LPC17xx bootloader).
        serial_index: if profile.usb.serial.is_empty() { 0 } else { 3 },
        num_configurations: 1,
    }
}

/// The configuration descriptor in `mode`: in DFU mode one interface with an alt setting
/// per profile alt, each followed by the DFU functional descriptor; in run-time mode one
/// DFU run-time interface (protocol 1, no string) with the run-time functional descriptor.
pub(crate) fn config_descriptor(profile: &Profile, mode: Mode) -> Vec<u8> {
    let as_runtime = profile.has_quirk(Quirk::DfuModeAsRuntime);
    let alt_settings = match (&profile.runtime, mode) {
        (Some(rt), Mode::Runtime) => vec![AltSetting {
            interface: rt.interface,
            alt: 0,
            class: DFU_CLASS,
            subclass: DFU_SUBCLASS,
            protocol: PROTOCOL_RUNTIME,
            string_index: 0,
            functional: Some(FunctionalDescriptor {
                attributes: rt.attributes,
                detach_timeout_ms: rt.detach_timeout_ms,
                transfer_size: profile.dfu.transfer_size,
                dfu_version: profile.dfu.dfu_version,
            }),
        }],
        _ => (0..profile.alts.len())
            .map(|i| AltSetting {
                interface: profile.dfu.interface,
                alt: u8::try_from(i).unwrap_or(u8::MAX),
                class: DFU_CLASS,
                subclass: DFU_SUBCLASS,
                protocol: if as_runtime {
                    PROTOCOL_RUNTIME
                } else {
                    PROTOCOL_DFU_MODE
                },
                string_index: if as_runtime {
                    0
                } else {
                    u8::try_from(i)
                        .unwrap_or(u8::MAX)
                        .saturating_add(FIRST_ALT_STRING)
                },
                functional: Some(profile.dfu.descriptor()),
            })
            .collect(),
    };
    ConfigDescriptor {
        value: 1,
        attributes: CONFIG_ATTRIBUTES,
        max_power: CONFIG_MAX_POWER,
        alt_settings,
    }
    .encode()
}

/// String descriptor `index`, or `None` (the request STALLs).
pub(crate) fn string_descriptor(spec: &SimSpec, mode: Mode, index: u8) -> Option<Vec<u8>> {
    let p = &spec.profile;
    match index {
        0 => Some(vec![4, DESC_STRING, 0x09, 0x04]),
        1 => Some(encode_string(&p.usb.manufacturer)),
        2 => Some(encode_string(match (&p.runtime, mode) {
            (Some(rt), Mode::Runtime) => &rt.product,
            _ => &p.usb.product,
        })),
        3 if p.has_quirk(Quirk::Utf8Serial) => {
            let raw = spec.serial_string().as_bytes();
            let raw = &raw[..raw.len().min(253)];
            let mut b = vec![(2 + raw.len()) as u8, DESC_STRING];
            b.extend_from_slice(raw);
            Some(b)
        }
        3 => Some(encode_string(spec.serial_string())),
        i if mode == Mode::Dfu && i >= FIRST_ALT_STRING => {
            let alt = usize::from(i - FIRST_ALT_STRING);
            let name = &p.alts.get(alt)?.name;
            match (alt, spec.alt_name) {
                (0, AltNameKnob::Garbage) => Some(encode_raw_string(&GARBAGE)),
                (0, AltNameKnob::Unreadable) => None,
                _ => Some(encode_string(name)),
            }
        }
        _ => None,
    }
}

impl Device {
    /// The interface number of the DFU interface in the current mode.
    pub(crate) fn dfu_interface(&self, mode: Mode) -> u8 {
        match (&self.spec.profile.runtime, mode) {
            (Some(rt), Mode::Runtime) => rt.interface,
            _ => self.spec.profile.dfu.interface,
        }
    }

    /// Number of alt settings of the DFU interface in `mode`.
    fn alt_count(&self, mode: Mode) -> usize {
        match mode {
            Mode::Runtime => 1,
            Mode::Dfu => self.spec.profile.alts.len(),
        }
    }

    /// Handles a standard request. A STALL here does not touch the DFU state.
    pub(crate) fn standard_request(
        &mut self,
        mode: Mode,
        setup: Setup,
    ) -> Result<Vec<u8>, UsbError> {
        let iface = u16::from(self.dfu_interface(mode));
        let configured = self.core.configuration != 0;
        match (setup.request_type, setup.request) {
            (0x80, STD_GET_DESCRIPTOR) => {
                let [kind, index] = setup.value.to_be_bytes();
                match (kind, index) {
                    (DESC_DEVICE, 0) => Ok(device_descriptor(&self.spec.profile, mode)
                        .encode()
                        .to_vec()),
                    (DESC_CONFIG, 0) => Ok(config_descriptor(&self.spec.profile, mode)),
                    (DESC_STRING, i) => {
                        string_descriptor(&self.spec, mode, i).ok_or(UsbError::Stall)
                    }
                    _ => Err(UsbError::Stall),
                }
            }
            (0x00, STD_SET_CONFIGURATION) if setup.value <= 1 => {
                self.core.configuration = setup.value as u8;
                Ok(Vec::new())
            }
            (0x80, STD_GET_CONFIGURATION) => Ok(vec![self.core.configuration]),
            (0x01, STD_SET_INTERFACE)
                if configured
                    && setup.index == iface
                    && usize::from(setup.value) < self.alt_count(mode) =>
            {
                self.select_alt(setup.value as u8);
                Ok(Vec::new())
            }
            (0x81, STD_GET_INTERFACE) if configured && setup.index == iface => {
                Ok(vec![self.core.alt])
            }
            (0x80, STD_GET_STATUS) if setup.index == 0 => Ok(vec![0, 0]),
            (0x81, STD_GET_STATUS) if configured && setup.index == iface => Ok(vec![0, 0]),
            (0x82, STD_GET_STATUS) if setup.index & 0x7f == 0 => Ok(vec![0, 0]),
            _ => Err(UsbError::Stall),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfu_proto::descriptor::parse_string;

    #[test]
    fn photon_descriptors_in_both_modes() {
        let p = Profile::builtin("photon").unwrap();
        let d = device_descriptor(&p, Mode::Dfu);
        assert_eq!((d.vendor_id, d.product_id), (0x2b04, 0xd006));
        let r = device_descriptor(&p, Mode::Runtime);
        assert_eq!((r.vendor_id, r.product_id), (0x2b04, 0xc006));
        let c = ConfigDescriptor::parse(&config_descriptor(&p, Mode::Dfu)).unwrap();
        assert_eq!(c.alt_settings.len(), 2);
        assert_eq!(c.alt_settings[1].string_index, 5);
        assert!(c.alt_settings[0].functional.unwrap().is_dfuse());
        let c = ConfigDescriptor::parse(&config_descriptor(&p, Mode::Runtime)).unwrap();
        assert_eq!(c.alt_settings.len(), 1);
        assert_eq!(c.alt_settings[0].protocol, PROTOCOL_RUNTIME);
        assert_eq!(c.alt_settings[0].functional.unwrap().attributes, 0x09);
    }

    #[test]
    fn strings_and_knobs() {
        let mut s = SimSpec::new(Profile::builtin("stm32f446").unwrap());
        let alt0 = string_descriptor(&s, Mode::Dfu, 4).unwrap();
        assert_eq!(parse_string(&alt0).unwrap(), s.profile.alts[0].name);
        assert_eq!(string_descriptor(&s, Mode::Dfu, 0).unwrap(), [4, 3, 9, 4]);
        assert!(string_descriptor(&s, Mode::Dfu, 8).is_none());
        assert!(string_descriptor(&s, Mode::Runtime, 4).is_none());
        s.alt_name = AltNameKnob::Garbage;
        let junk = parse_string(&string_descriptor(&s, Mode::Dfu, 4).unwrap()).unwrap();
        assert!(!junk.starts_with('@'));
        assert!(string_descriptor(&s, Mode::Dfu, 5).is_some());
        s.alt_name = AltNameKnob::Unreadable;
        assert!(string_descriptor(&s, Mode::Dfu, 4).is_none());
        let gd = SimSpec::new(Profile::builtin("gd32vf103").unwrap());
        assert_eq!(
            string_descriptor(&gd, Mode::Dfu, 3).unwrap(),
            b"\x06\x033CBJ"
        );
    }
}
