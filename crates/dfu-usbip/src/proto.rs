//! The USB/IP wire format (Linux `Documentation/usb/usbip_protocol.rst`), pure: no I/O.
//!
//! Every integer in a USB/IP header is big-endian; the 8-byte setup packet inside
//! `USBIP_CMD_SUBMIT` is copied raw from USB (little-endian fields), and transfer data
//! follows the headers unchanged. Parsers take fixed-size arrays, so a truncated header is
//! the reader's problem (it closes the connection) and nothing here can over-read.

use crate::UsbipError;

/// The protocol version both sides send in operation headers (USB/IP 1.1.1).
pub const USBIP_VERSION: u16 = 0x0111;
/// Operation code: the client asks for the list of exported devices.
pub const OP_REQ_DEVLIST: u16 = 0x8005;
/// Operation code: the server's device list.
pub const OP_REP_DEVLIST: u16 = 0x0005;
/// Operation code: the client asks to import one device.
pub const OP_REQ_IMPORT: u16 = 0x8003;
/// Operation code: the server's answer to an import.
pub const OP_REP_IMPORT: u16 = 0x0003;

/// Operation status: success.
pub const ST_OK: u32 = 0;
/// Operation status: the device is already imported by someone else.
pub const ST_DEV_BUSY: u32 = 2;
/// Operation status: no such device.
pub const ST_NODEV: u32 = 4;

/// URB command: submit a transfer.
pub const USBIP_CMD_SUBMIT: u32 = 1;
/// URB command: cancel a submitted transfer.
pub const USBIP_CMD_UNLINK: u32 = 2;
/// URB reply to a submit.
pub const USBIP_RET_SUBMIT: u32 = 3;
/// URB reply to an unlink.
pub const USBIP_RET_UNLINK: u32 = 4;

/// `USB_SPEED_FULL` in the kernel's `enum usb_device_speed`.
pub const SPEED_FULL: u32 = 2;

/// Length of an operation header (version, code, status).
pub const OP_HEADER_LEN: usize = 8;
/// Length of every URB header (`CMD_SUBMIT`, `RET_SUBMIT`, `CMD_UNLINK`, `RET_UNLINK`).
pub const URB_HEADER_LEN: usize = 48;
/// Length of a bus id field.
pub const BUSID_LEN: usize = 32;
/// Length of a sysfs path field.
pub const PATH_LEN: usize = 256;

/// Linux errno values sent (negated) in `RET_SUBMIT` / `RET_UNLINK` status fields.
pub mod errno {
    /// The endpoint stalled.
    pub const EPIPE: i32 = 32;
    /// Protocol error (bit stuffing, CRC, no answer from the device).
    pub const EPROTO: i32 = 71;
    /// The URB was unlinked before it completed.
    pub const ECONNRESET: i32 = 104;
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// An operation header: what starts every message before a device is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpHeader {
    /// Protocol version.
    pub version: u16,
    /// Operation code.
    pub code: u16,
    /// Status (0 in requests).
    pub status: u32,
}

impl OpHeader {
    /// Decodes an operation header.
    pub fn parse(b: &[u8; OP_HEADER_LEN]) -> Self {
        OpHeader {
            version: be16(b, 0),
            code: be16(b, 2),
            status: be32(b, 4),
        }
    }

    /// Encodes an operation header.
    pub fn encode(&self) -> [u8; OP_HEADER_LEN] {
        let mut b = [0u8; OP_HEADER_LEN];
        b[0..2].copy_from_slice(&self.version.to_be_bytes());
        b[2..4].copy_from_slice(&self.code.to_be_bytes());
        b[4..8].copy_from_slice(&self.status.to_be_bytes());
        b
    }
}

/// Decodes a NUL-padded bus id field; `None` when it is not valid UTF-8.
pub fn parse_busid(b: &[u8; BUSID_LEN]) -> Option<String> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(BUSID_LEN);
    std::str::from_utf8(&b[..end]).ok().map(str::to_string)
}

/// Encodes a string into a fixed, NUL-padded field (truncated, always NUL-terminated).
fn fixed<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let n = s.len().min(N - 1);
    out[..n].copy_from_slice(&s.as_bytes()[..n]);
    out
}

/// One interface as listed in `OP_REP_DEVLIST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceSummary {
    /// bInterfaceClass.
    pub class: u8,
    /// bInterfaceSubClass.
    pub subclass: u8,
    /// bInterfaceProtocol.
    pub protocol: u8,
}

/// What USB/IP tells a client about an exported device (`struct usbip_usb_device`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSummary {
    /// sysfs-like path (informational).
    pub path: String,
    /// Bus id the client imports by, e.g. `1-1`.
    pub busid: String,
    /// Bus number.
    pub busnum: u32,
    /// Device number (address).
    pub devnum: u32,
    /// Speed (`SPEED_FULL` for every DFU device here).
    pub speed: u32,
    /// The 18-byte device descriptor the other fields come from.
    pub device_descriptor: [u8; 18],
    /// bConfigurationValue of the configuration in use (or of the first one).
    pub configuration_value: u8,
    /// Interfaces (alternate setting 0 of each) of that configuration.
    pub interfaces: Vec<InterfaceSummary>,
}

impl DeviceSummary {
    /// Encodes `struct usbip_usb_device` (312 bytes), optionally followed by the
    /// interface list (4 bytes each) as `OP_REP_DEVLIST` wants it.
    pub fn encode(&self, with_interfaces: bool) -> Vec<u8> {
        let d = &self.device_descriptor;
        let mut b = Vec::with_capacity(312 + 4 * self.interfaces.len());
        b.extend_from_slice(&fixed::<PATH_LEN>(&self.path));
        b.extend_from_slice(&fixed::<BUSID_LEN>(&self.busid));
        b.extend_from_slice(&self.busnum.to_be_bytes());
        b.extend_from_slice(&self.devnum.to_be_bytes());
        b.extend_from_slice(&self.speed.to_be_bytes());
        // idVendor, idProduct, bcdDevice: little-endian in the descriptor, big-endian here.
        for at in [8, 10, 12] {
            b.extend_from_slice(&u16::from_le_bytes([d[at], d[at + 1]]).to_be_bytes());
        }
        b.extend_from_slice(&[d[4], d[5], d[6], self.configuration_value, d[17]]);
        let n = u8::try_from(self.interfaces.len()).unwrap_or(u8::MAX);
        b.push(n);
        if with_interfaces {
            for i in self.interfaces.iter().take(usize::from(n)) {
                b.extend_from_slice(&[i.class, i.subclass, i.protocol, 0]);
            }
        }
        b
    }
}

/// bConfigurationValue and the interfaces (alternate setting 0) of a configuration
/// descriptor set. Malformed descriptors end the walk; nothing here can panic.
pub fn summarize_config(config: &[u8]) -> (u8, Vec<InterfaceSummary>) {
    let value = config.get(5).copied().unwrap_or(1);
    let interfaces = dfu_proto::descriptor::walk(config, 0)
        .map_while(Result::ok)
        .map(|d| d.bytes)
        // Interface descriptors of alternate setting 0.
        .filter(|d| d[1] == dfu_proto::request::DESC_INTERFACE && d.len() >= 9 && d[3] == 0)
        .map(|d| InterfaceSummary {
            class: d[5],
            subclass: d[6],
            protocol: d[7],
        })
        .collect();
    (value, interfaces)
}

/// A decoded URB command from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrbCommand {
    /// `USBIP_CMD_SUBMIT`.
    Submit(Submit),
    /// `USBIP_CMD_UNLINK`: cancel the submit with `unlink_seqnum`.
    Unlink {
        /// Sequence number of this unlink request.
        seqnum: u32,
        /// Sequence number of the submit to cancel.
        unlink_seqnum: u32,
    },
}

/// A `USBIP_CMD_SUBMIT` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submit {
    /// Sequence number, echoed in the reply.
    pub seqnum: u32,
    /// `busnum << 16 | devnum` of the target device.
    pub devid: u32,
    /// 0 = OUT (host to device), 1 = IN.
    pub direction: u32,
    /// Endpoint number (0 for control transfers).
    pub ep: u32,
    /// URB transfer flags.
    pub transfer_flags: u32,
    /// Bytes of data that follow (OUT) or that the client accepts (IN).
    pub transfer_buffer_length: u32,
    /// ISO packet count; 0 or 0xFFFFFFFF for non-ISO transfers.
    pub number_of_packets: u32,
    /// The USB setup packet (control transfers).
    pub setup: [u8; 8],
}

impl Submit {
    /// True when data flows from the device to the host.
    pub fn is_in(&self) -> bool {
        self.direction == 1
    }
}

/// Decodes a URB header. Unknown commands and impossible field values are errors (the
/// connection is then closed); the transfer length is checked against `max_transfer`.
pub fn parse_urb(b: &[u8; URB_HEADER_LEN], max_transfer: u32) -> Result<UrbCommand, UsbipError> {
    let command = be32(b, 0);
    let seqnum = be32(b, 4);
    match command {
        USBIP_CMD_SUBMIT => {
            let s = Submit {
                seqnum,
                devid: be32(b, 8),
                direction: be32(b, 12),
                ep: be32(b, 16),
                transfer_flags: be32(b, 20),
                transfer_buffer_length: be32(b, 24),
                number_of_packets: be32(b, 32),
                setup: [b[40], b[41], b[42], b[43], b[44], b[45], b[46], b[47]],
            };
            if s.direction > 1 {
                return Err(UsbipError::protocol(format!(
                    "CMD_SUBMIT seq {seqnum}: direction {} is neither 0 nor 1",
                    s.direction
                )));
            }
            if s.ep > 15 {
                return Err(UsbipError::protocol(format!(
                    "CMD_SUBMIT seq {seqnum}: endpoint {} does not exist",
                    s.ep
                )));
            }
            if s.transfer_buffer_length > max_transfer {
                return Err(UsbipError::protocol(format!(
                    "CMD_SUBMIT seq {seqnum}: transfer length {} exceeds the limit of {max_transfer}",
                    s.transfer_buffer_length
                )));
            }
            if s.number_of_packets != 0 && s.number_of_packets != u32::MAX {
                return Err(UsbipError::protocol(format!(
                    "CMD_SUBMIT seq {seqnum}: isochronous transfers are not supported"
                )));
            }
            Ok(UrbCommand::Submit(s))
        }
        USBIP_CMD_UNLINK => Ok(UrbCommand::Unlink {
            seqnum,
            unlink_seqnum: be32(b, 20),
        }),
        other => Err(UsbipError::protocol(format!(
            "unknown URB command {other:#010x} (seq {seqnum})"
        ))),
    }
}

/// Encodes a `USBIP_RET_SUBMIT` header (the IN data, if any, follows it).
pub fn encode_ret_submit(
    seqnum: u32,
    status: i32,
    actual_length: u32,
    number_of_packets: u32,
) -> [u8; URB_HEADER_LEN] {
    let mut b = [0u8; URB_HEADER_LEN];
    b[0..4].copy_from_slice(&USBIP_RET_SUBMIT.to_be_bytes());
    b[4..8].copy_from_slice(&seqnum.to_be_bytes());
    b[20..24].copy_from_slice(&status.to_be_bytes());
    b[24..28].copy_from_slice(&actual_length.to_be_bytes());
    b[32..36].copy_from_slice(&number_of_packets.to_be_bytes());
    b
}

/// Encodes a `USBIP_RET_UNLINK` header.
pub fn encode_ret_unlink(seqnum: u32, status: i32) -> [u8; URB_HEADER_LEN] {
    let mut b = [0u8; URB_HEADER_LEN];
    b[0..4].copy_from_slice(&USBIP_RET_UNLINK.to_be_bytes());
    b[4..8].copy_from_slice(&seqnum.to_be_bytes());
    b[20..24].copy_from_slice(&status.to_be_bytes());
    b
}

#[cfg(test)]
#[path = "proto_tests.rs"]
mod tests;
