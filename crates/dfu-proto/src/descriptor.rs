//! USB descriptors a DFU host reads: device, configuration (with interfaces and the DFU
//! functional descriptor) and strings. Parsers and the encoders the simulator uses.

use crate::request::{DESC_CONFIG, DESC_DEVICE, DESC_DFU_FUNCTIONAL, DESC_INTERFACE, DESC_STRING};
use crate::ProtoError;
use serde::Serialize;

mod walk;
pub use walk::{walk, BadLength, RawDescriptor, Walk};

/// USB interface class of DFU.
pub const DFU_CLASS: u8 = 0xFE;
/// USB interface subclass of DFU.
pub const DFU_SUBCLASS: u8 = 0x01;
/// Interface protocol of a run-time DFU interface.
pub const PROTOCOL_RUNTIME: u8 = 1;
/// Interface protocol of a DFU-mode interface.
pub const PROTOCOL_DFU_MODE: u8 = 2;

/// The 18-byte device descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceDescriptor {
    /// bcdUSB.
    pub bcd_usb: u16,
    /// bDeviceClass.
    pub class: u8,
    /// bDeviceSubClass.
    pub subclass: u8,
    /// bDeviceProtocol.
    pub protocol: u8,
    /// bMaxPacketSize0.
    pub max_packet_size0: u8,
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// iManufacturer.
    pub manufacturer_index: u8,
    /// iProduct.
    pub product_index: u8,
    /// iSerialNumber.
    pub serial_index: u8,
    /// bNumConfigurations.
    pub num_configurations: u8,
}

impl DeviceDescriptor {
    /// Encoded length.
    pub const LEN: usize = 18;

    /// Parses a device descriptor.
    pub fn parse(b: &[u8]) -> Result<Self, ProtoError> {
        if b.len() < Self::LEN || b[0] < 18 || b[1] != DESC_DEVICE {
            return Err(ProtoError::Descriptor(format!(
                "device descriptor is {} bytes of type {}, expected 18 bytes of type 1",
                b.len(),
                b.get(1).copied().unwrap_or(0)
            )));
        }
        let w = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Ok(DeviceDescriptor {
            bcd_usb: w(2),
            class: b[4],
            subclass: b[5],
            protocol: b[6],
            max_packet_size0: b[7],
            vendor_id: w(8),
            product_id: w(10),
            bcd_device: w(12),
            manufacturer_index: b[14],
            product_index: b[15],
            serial_index: b[16],
            num_configurations: b[17],
        })
    }

    /// Encodes the descriptor.
    pub fn encode(&self) -> [u8; 18] {
        let mut b = [0u8; 18];
        b[0] = 18;
        b[1] = DESC_DEVICE;
        b[2..4].copy_from_slice(&self.bcd_usb.to_le_bytes());
        b[4] = self.class;
        b[5] = self.subclass;
        b[6] = self.protocol;
        b[7] = self.max_packet_size0;
        b[8..10].copy_from_slice(&self.vendor_id.to_le_bytes());
        b[10..12].copy_from_slice(&self.product_id.to_le_bytes());
        b[12..14].copy_from_slice(&self.bcd_device.to_le_bytes());
        b[14] = self.manufacturer_index;
        b[15] = self.product_index;
        b[16] = self.serial_index;
        b[17] = self.num_configurations;
        b
    }
}

/// The DFU functional descriptor (type 0x21): 9 bytes in DFU 1.1, 7 in DFU 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunctionalDescriptor {
    /// bmAttributes.
    pub attributes: u8,
    /// wDetachTimeOut in milliseconds.
    pub detach_timeout_ms: u16,
    /// wTransferSize: the largest DNLOAD/UPLOAD block.
    pub transfer_size: u16,
    /// bcdDFUVersion (0x0100 when the descriptor is the 7-byte DFU 1.0 form).
    pub dfu_version: u16,
}

impl FunctionalDescriptor {
    /// bit 0: the device accepts DNLOAD.
    pub const CAN_DNLOAD: u8 = 0x01;
    /// bit 1: the device answers UPLOAD.
    pub const CAN_UPLOAD: u8 = 0x02;
    /// bit 2: the device stays on the bus after manifestation.
    pub const MANIFESTATION_TOLERANT: u8 = 0x04;
    /// bit 3: the device detaches by itself after DETACH.
    pub const WILL_DETACH: u8 = 0x08;

    /// Parses the descriptor body (including bLength and bDescriptorType).
    pub fn parse(b: &[u8]) -> Result<Self, ProtoError> {
        if b.len() < 7 || b[1] != DESC_DFU_FUNCTIONAL {
            return Err(ProtoError::Descriptor(format!(
                "DFU functional descriptor has {} bytes, at least 7 expected",
                b.len()
            )));
        }
        let dfu_version = if b.len() >= 9 && b[0] >= 9 {
            u16::from_le_bytes([b[7], b[8]])
        } else {
            0x0100
        };
        Ok(FunctionalDescriptor {
            attributes: b[2],
            detach_timeout_ms: u16::from_le_bytes([b[3], b[4]]),
            transfer_size: u16::from_le_bytes([b[5], b[6]]),
            dfu_version,
        })
    }

    /// Encodes the descriptor: the 7-byte DFU 1.0 form when `dfu_version` is 0x0100.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![9, DESC_DFU_FUNCTIONAL, self.attributes];
        b.extend_from_slice(&self.detach_timeout_ms.to_le_bytes());
        b.extend_from_slice(&self.transfer_size.to_le_bytes());
        if self.dfu_version == 0x0100 {
            b[0] = 7;
        } else {
            b.extend_from_slice(&self.dfu_version.to_le_bytes());
        }
        b
    }

    /// True when bcdDFUVersion is 0x011a (ST's DfuSe extension).
    pub fn is_dfuse(&self) -> bool {
        self.dfu_version == 0x011a
    }

    /// bit 0.
    pub fn can_download(&self) -> bool {
        self.attributes & Self::CAN_DNLOAD != 0
    }
    /// bit 1.
    pub fn can_upload(&self) -> bool {
        self.attributes & Self::CAN_UPLOAD != 0
    }
    /// bit 2.
    pub fn manifestation_tolerant(&self) -> bool {
        self.attributes & Self::MANIFESTATION_TOLERANT != 0
    }
    /// bit 3.
    pub fn will_detach(&self) -> bool {
        self.attributes & Self::WILL_DETACH != 0
    }
}

/// One alternate setting of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AltSetting {
    /// bInterfaceNumber.
    pub interface: u8,
    /// bAlternateSetting.
    pub alt: u8,
    /// bInterfaceClass.
    pub class: u8,
    /// bInterfaceSubClass.
    pub subclass: u8,
    /// bInterfaceProtocol.
    pub protocol: u8,
    /// iInterface: the string that names the alt setting (the DfuSe memory layout).
    pub string_index: u8,
    /// The DFU functional descriptor that follows this interface descriptor, if any.
    pub functional: Option<FunctionalDescriptor>,
}

impl AltSetting {
    /// True for a DFU interface (class 0xFE, subclass 1).
    pub fn is_dfu(&self) -> bool {
        self.class == DFU_CLASS && self.subclass == DFU_SUBCLASS
    }
}

/// A parsed configuration descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigDescriptor {
    /// bConfigurationValue.
    pub value: u8,
    /// bmAttributes.
    pub attributes: u8,
    /// bMaxPower in 2 mA units.
    pub max_power: u8,
    /// Every interface descriptor, alternate settings included, in order.
    pub alt_settings: Vec<AltSetting>,
}

impl ConfigDescriptor {
    /// Parses a whole configuration descriptor (wTotalLength bytes).
    ///
    /// A functional descriptor found after the last DFU interface descriptor is attached
    /// to every DFU alt setting of that interface that lacks one, as dfu-util does
    /// (some devices place it once, after the last alternate setting).
    pub fn parse(b: &[u8]) -> Result<Self, ProtoError> {
        if b.len() < 9 || b[1] != DESC_CONFIG {
            return Err(ProtoError::Descriptor(
                "configuration descriptor shorter than 9 bytes or of the wrong type".into(),
            ));
        }
        let total = usize::from(u16::from_le_bytes([b[2], b[3]])).min(b.len());
        let mut cfg = ConfigDescriptor {
            value: b[5],
            attributes: b[7],
            max_power: b[8],
            alt_settings: Vec::new(),
        };
        let mut shared_functional = None;
        for d in walk(&b[..total], usize::from(b[0]).max(9)) {
            let d = d.map_err(|bad| {
                let (BadLength::TooShort { offset, len } | BadLength::PastEnd { offset, len }) =
                    bad;
                ProtoError::Descriptor(format!(
                    "descriptor at offset {offset} has length {len}, which runs past the {total}-byte configuration"
                ))
            })?;
            let d = d.bytes;
            match d[1] {
                DESC_INTERFACE if d.len() >= 9 => cfg.alt_settings.push(AltSetting {
                    interface: d[2],
                    alt: d[3],
                    class: d[5],
                    subclass: d[6],
                    protocol: d[7],
                    string_index: d[8],
                    functional: None,
                }),
                DESC_DFU_FUNCTIONAL => {
                    let f = FunctionalDescriptor::parse(d)?;
                    if let Some(last) = cfg.alt_settings.last_mut() {
                        last.functional = Some(f);
                    }
                    shared_functional = Some(f);
                }
                _ => {}
            }
        }
        if let Some(f) = shared_functional {
            for a in cfg.alt_settings.iter_mut().filter(|a| a.is_dfu()) {
                a.functional.get_or_insert(f);
            }
        }
        Ok(cfg)
    }

    /// Encodes a configuration descriptor from its parts: every alt setting gets an
    /// interface descriptor with no endpoints followed by its functional descriptor.
    pub fn encode(&self) -> Vec<u8> {
        let num_interfaces = {
            let mut ids: Vec<u8> = self.alt_settings.iter().map(|a| a.interface).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len() as u8
        };
        let mut b = vec![9, DESC_CONFIG, 0, 0, num_interfaces, self.value, 0];
        b.push(self.attributes);
        b.push(self.max_power);
        for a in &self.alt_settings {
            b.extend_from_slice(&[
                9,
                DESC_INTERFACE,
                a.interface,
                a.alt,
                0,
                a.class,
                a.subclass,
                a.protocol,
                a.string_index,
            ]);
            if let Some(f) = &a.functional {
                b.extend_from_slice(&f.encode());
            }
        }
        let total = (b.len() as u16).to_le_bytes();
        b[2] = total[0];
        b[3] = total[1];
        b
    }
}

/// Decodes a string descriptor (UTF-16LE) into text; invalid code units become U+FFFD.
pub fn parse_string(b: &[u8]) -> Result<String, ProtoError> {
    if b.len() < 2 || b[1] != DESC_STRING {
        return Err(ProtoError::Descriptor(
            "string descriptor shorter than 2 bytes or of the wrong type".into(),
        ));
    }
    let len = usize::from(b[0]).min(b.len());
    let units: Vec<u16> = b[2..len.max(2)]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Ok(String::from_utf16_lossy(&units))
}

/// Encodes text as a string descriptor, cut to the 126 UTF-16 units a descriptor holds.
pub fn encode_string(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().take(126).collect();
    let mut b = vec![(2 + units.len() * 2) as u8, DESC_STRING];
    for u in units {
        b.extend_from_slice(&u.to_le_bytes());
    }
    b
}

/// Encodes raw bytes as a string descriptor body (used to simulate junk strings).
pub fn encode_raw_string(raw: &[u8]) -> Vec<u8> {
    let raw = &raw[..raw.len().min(252) & !1];
    let mut b = vec![(2 + raw.len()) as u8, DESC_STRING];
    b.extend_from_slice(raw);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photon_cfg() -> ConfigDescriptor {
        let f = FunctionalDescriptor {
            attributes: 0x0b,
            detach_timeout_ms: 255,
            transfer_size: 4096,
            dfu_version: 0x011a,
        };
        ConfigDescriptor {
            value: 1,
            attributes: 0xc0,
            max_power: 50,
            alt_settings: (0..2)
                .map(|alt| AltSetting {
                    interface: 0,
                    alt,
                    class: DFU_CLASS,
                    subclass: DFU_SUBCLASS,
                    protocol: PROTOCOL_DFU_MODE,
                    string_index: 4 + alt,
                    functional: Some(f),
                })
                .collect(),
        }
    }

    #[test]
    fn config_round_trips() {
        let c = photon_cfg();
        let b = c.encode();
        assert_eq!(u16::from_le_bytes([b[2], b[3]]) as usize, b.len());
        assert_eq!(ConfigDescriptor::parse(&b).unwrap(), c);
    }

    #[test]
    fn functional_descriptor_versions() {
        let mut f = photon_cfg().alt_settings[0].functional.unwrap();
        assert!(f.is_dfuse() && f.can_download() && f.can_upload() && f.will_detach());
        assert!(!f.manifestation_tolerant());
        for v in [0x0101, 0x0110, 0x011a] {
            f.dfu_version = v;
            assert_eq!(FunctionalDescriptor::parse(&f.encode()).unwrap(), f);
        }
        f.dfu_version = 0x0100;
        let b = f.encode();
        assert_eq!(b.len(), 7);
        assert_eq!(FunctionalDescriptor::parse(&b).unwrap(), f);
        assert!(FunctionalDescriptor::parse(&b[..5]).is_err());
    }

    #[test]
    fn truncated_config_is_an_error_not_a_panic() {
        let b = photon_cfg().encode();
        for n in 0..b.len() {
            let mut cut = b[..n].to_vec();
            let _ = ConfigDescriptor::parse(&cut);
            if n > 9 {
                cut[9] = 200;
                let _ = ConfigDescriptor::parse(&cut);
            }
        }
    }

    #[test]
    fn strings_round_trip() {
        let s = "@Internal Flash   /0x08000000/03*016Ka";
        assert_eq!(parse_string(&encode_string(s)).unwrap(), s);
        assert!(parse_string(&[1]).is_err());
        assert_eq!(
            parse_string(&encode_raw_string(&[0x00, 0xd8])).unwrap(),
            "\u{fffd}"
        );
    }

    #[test]
    fn device_descriptor_round_trips() {
        let d = DeviceDescriptor {
            bcd_usb: 0x0200,
            class: 0,
            subclass: 0,
            protocol: 0,
            max_packet_size0: 64,
            vendor_id: 0x0483,
            product_id: 0xdf11,
            bcd_device: 0x2200,
            manufacturer_index: 1,
            product_index: 2,
            serial_index: 3,
            num_configurations: 1,
        };
        assert_eq!(DeviceDescriptor::parse(&d.encode()).unwrap(), d);
        assert!(DeviceDescriptor::parse(&d.encode()[..10]).is_err());
    }
}
