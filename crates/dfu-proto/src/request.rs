//! Control requests: the USB setup packet and the DFU class request codes.

use serde::Serialize;
use std::fmt;

/// DFU class requests (DFU 1.1 table 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum DfuRequest {
    /// Ask a run-time device to enter DFU mode.
    Detach = 0,
    /// Send a block of firmware (or, on DfuSe with block 0, a command).
    Dnload = 1,
    /// Read a block of firmware.
    Upload = 2,
    /// Read the 6-byte status.
    GetStatus = 3,
    /// Leave dfuERROR.
    ClrStatus = 4,
    /// Read the state byte.
    GetState = 5,
    /// Return to dfuIDLE.
    Abort = 6,
}

impl DfuRequest {
    /// Decodes a bRequest value.
    pub fn from_u8(v: u8) -> Option<Self> {
        use DfuRequest::*;
        Some(match v {
            0 => Detach,
            1 => Dnload,
            2 => Upload,
            3 => GetStatus,
            4 => ClrStatus,
            5 => GetState,
            6 => Abort,
            _ => return None,
        })
    }

    /// The name used in statistics and logs.
    pub fn name(self) -> &'static str {
        use DfuRequest::*;
        match self {
            Detach => "DETACH",
            Dnload => "DNLOAD",
            Upload => "UPLOAD",
            GetStatus => "GETSTATUS",
            ClrStatus => "CLRSTATUS",
            GetState => "GETSTATE",
            Abort => "ABORT",
        }
    }
}

/// Standard request: GET_STATUS.
pub const STD_GET_STATUS: u8 = 0;
/// Standard request: CLEAR_FEATURE.
pub const STD_CLEAR_FEATURE: u8 = 1;
/// Standard request: SET_ADDRESS.
pub const STD_SET_ADDRESS: u8 = 5;
/// Standard request: GET_DESCRIPTOR.
pub const STD_GET_DESCRIPTOR: u8 = 6;
/// Standard request: GET_CONFIGURATION.
pub const STD_GET_CONFIGURATION: u8 = 8;
/// Standard request: SET_CONFIGURATION.
pub const STD_SET_CONFIGURATION: u8 = 9;
/// Standard request: GET_INTERFACE.
pub const STD_GET_INTERFACE: u8 = 10;
/// Standard request: SET_INTERFACE.
pub const STD_SET_INTERFACE: u8 = 11;

/// Descriptor type: device.
pub const DESC_DEVICE: u8 = 1;
/// Descriptor type: configuration.
pub const DESC_CONFIG: u8 = 2;
/// Descriptor type: string.
pub const DESC_STRING: u8 = 3;
/// Descriptor type: interface.
pub const DESC_INTERFACE: u8 = 4;
/// Descriptor type: endpoint.
pub const DESC_ENDPOINT: u8 = 5;
/// Descriptor type: device qualifier (high-speed capable devices only).
pub const DESC_DEVICE_QUALIFIER: u8 = 6;
/// Descriptor type: DFU functional descriptor.
pub const DESC_DFU_FUNCTIONAL: u8 = 0x21;

/// bmRequestType: host-to-device, class, interface (DFU requests that send data).
pub const CLASS_OUT_INTERFACE: u8 = 0x21;
/// bmRequestType: device-to-host, class, interface (DFU requests that read data).
pub const CLASS_IN_INTERFACE: u8 = 0xA1;
/// bmRequestType: device-to-host, standard, device.
pub const STD_IN_DEVICE: u8 = 0x80;
/// bmRequestType: host-to-device, standard, device.
pub const STD_OUT_DEVICE: u8 = 0x00;
/// bmRequestType: host-to-device, standard, interface.
pub const STD_OUT_INTERFACE: u8 = 0x01;
/// bmRequestType: device-to-host, standard, interface.
pub const STD_IN_INTERFACE: u8 = 0x81;

/// The kind of a control request (bits 5-6 of bmRequestType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Standard request.
    Standard,
    /// Class request.
    Class,
    /// Vendor request.
    Vendor,
    /// Reserved value 3.
    Reserved,
}

/// The recipient of a control request (bits 0-4 of bmRequestType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The device.
    Device,
    /// An interface (wIndex holds its number).
    Interface,
    /// An endpoint.
    Endpoint,
    /// Anything else.
    Other,
}

/// A USB setup packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setup {
    /// bmRequestType.
    pub request_type: u8,
    /// bRequest.
    pub request: u8,
    /// wValue.
    pub value: u16,
    /// wIndex.
    pub index: u16,
    /// wLength: bytes sent (OUT) or the most the host accepts (IN).
    pub length: u16,
}

impl Setup {
    /// A DFU class request to `interface` that sends `length` bytes.
    pub fn dfu_out(request: DfuRequest, value: u16, interface: u8, length: u16) -> Self {
        Setup {
            request_type: CLASS_OUT_INTERFACE,
            request: request as u8,
            value,
            index: u16::from(interface),
            length,
        }
    }

    /// A DFU class request to `interface` that reads up to `length` bytes.
    pub fn dfu_in(request: DfuRequest, value: u16, interface: u8, length: u16) -> Self {
        Setup {
            request_type: CLASS_IN_INTERFACE,
            request: request as u8,
            value,
            index: u16::from(interface),
            length,
        }
    }

    /// GET_DESCRIPTOR to the device.
    pub fn get_descriptor(kind: u8, index: u8, language: u16, length: u16) -> Self {
        Setup {
            request_type: STD_IN_DEVICE,
            request: STD_GET_DESCRIPTOR,
            value: (u16::from(kind) << 8) | u16::from(index),
            index: language,
            length,
        }
    }

    /// Decodes the 8 bytes of a setup packet.
    pub fn parse(b: &[u8; 8]) -> Self {
        Setup {
            request_type: b[0],
            request: b[1],
            value: u16::from_le_bytes([b[2], b[3]]),
            index: u16::from_le_bytes([b[4], b[5]]),
            length: u16::from_le_bytes([b[6], b[7]]),
        }
    }

    /// Encodes the setup packet as 8 bytes.
    pub fn encode(&self) -> [u8; 8] {
        let v = self.value.to_le_bytes();
        let i = self.index.to_le_bytes();
        let l = self.length.to_le_bytes();
        [
            self.request_type,
            self.request,
            v[0],
            v[1],
            i[0],
            i[1],
            l[0],
            l[1],
        ]
    }

    /// True when data flows from the device to the host.
    pub fn is_in(&self) -> bool {
        self.request_type & 0x80 != 0
    }

    /// The request kind.
    pub fn kind(&self) -> RequestKind {
        match (self.request_type >> 5) & 3 {
            0 => RequestKind::Standard,
            1 => RequestKind::Class,
            2 => RequestKind::Vendor,
            _ => RequestKind::Reserved,
        }
    }

    /// The recipient.
    pub fn recipient(&self) -> Recipient {
        match self.request_type & 0x1f {
            0 => Recipient::Device,
            1 => Recipient::Interface,
            2 => Recipient::Endpoint,
            _ => Recipient::Other,
        }
    }

    /// The DFU request, when this is a class request to an interface with a known code.
    pub fn dfu_request(&self) -> Option<DfuRequest> {
        if self.kind() == RequestKind::Class && self.recipient() == Recipient::Interface {
            DfuRequest::from_u8(self.request)
        } else {
            None
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dfu_request() {
            Some(r) => write!(
                f,
                "{} (wValue {}, interface {}, {} bytes)",
                r.name(),
                self.value,
                self.index,
                self.length
            ),
            None => write!(
                f,
                "request 0x{:02x}/0x{:02x} (wValue 0x{:04x}, wIndex 0x{:04x}, {} bytes)",
                self.request_type, self.request, self.value, self.index, self.length
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_round_trips() {
        let s = Setup::dfu_out(DfuRequest::Dnload, 7, 0, 2048);
        assert_eq!(Setup::parse(&s.encode()), s);
        assert_eq!(s.encode(), [0x21, 1, 7, 0, 0, 0, 0, 8]);
        assert_eq!(s.dfu_request(), Some(DfuRequest::Dnload));
        assert!(!s.is_in());
        let g = Setup::get_descriptor(DESC_STRING, 4, 0x0409, 255);
        assert_eq!(g.encode(), [0x80, 6, 4, 3, 0x09, 0x04, 255, 0]);
        assert_eq!(g.dfu_request(), None);
        assert!(g.is_in());
    }
}
