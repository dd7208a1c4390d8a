//! Configuration descriptors: the raw bytes a simulated device reports, split the way
//! libusb's `parse_configuration` splits them, and laid out as the C structs
//! `libusb_get_config_descriptor` returns.
//!
//! The split matters to DFU programs: descriptors that follow an interface descriptor
//! (up to the next interface, endpoint, configuration or device descriptor) become that
//! alternate setting's `extra` bytes. A DFU device lists its alternate settings and then
//! the DFU functional descriptor, so the functional descriptor is in the `extra` of the
//! last alternate setting, which is where dfu-util looks for it.

use crate::ffi::{
    libusb_config_descriptor, libusb_endpoint_descriptor, libusb_interface,
    libusb_interface_descriptor,
};
use dfu_proto::descriptor::BadLength;
use std::ffi::c_int;

const DT_DEVICE: u8 = 1;
const DT_CONFIG: u8 = 2;
const DT_INTERFACE: u8 = 4;
const DT_ENDPOINT: u8 = 5;

/// One endpoint descriptor and the descriptors after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEndpoint {
    /// The descriptor bytes (7, or 9 for audio endpoints).
    pub bytes: Vec<u8>,
    /// Class-specific descriptors after it.
    pub extra: Vec<u8>,
}

/// One alternate setting: its interface descriptor, the descriptors after it, endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAlt {
    /// The 9 interface descriptor bytes.
    pub bytes: [u8; 9],
    /// Class-specific descriptors after it (e.g. the DFU functional descriptor).
    pub extra: Vec<u8>,
    /// Its endpoints.
    pub endpoints: Vec<ParsedEndpoint>,
}

/// A configuration as libusb sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedConfig {
    /// The 9 configuration descriptor bytes.
    pub bytes: [u8; 9],
    /// Descriptors before the interfaces.
    pub extra: Vec<u8>,
    /// One entry per interface, each with its alternate settings.
    pub interfaces: Vec<Vec<ParsedAlt>>,
}

fn is_boundary(kind: u8) -> bool {
    matches!(kind, DT_DEVICE | DT_CONFIG | DT_INTERFACE | DT_ENDPOINT)
}

/// Skips descriptors that are not boundaries; returns how many bytes they take, or
/// `None` for a malformed descriptor (bLength below 2). A descriptor longer than what is
/// left ends the walk, as in libusb.
fn skip_extra(b: &[u8]) -> Option<usize> {
    let mut p = 0;
    for d in dfu_proto::descriptor::walk(b, 0) {
        match d {
            Err(BadLength::TooShort { .. }) => return None,
            Err(BadLength::PastEnd { .. }) => break,
            Ok(d) if is_boundary(d.kind()) => break,
            Ok(d) => p = d.end(),
        }
    }
    Some(p)
}

/// Parses a configuration descriptor set (what GET_DESCRIPTOR(CONFIG) returns with
/// wLength = wTotalLength). Errors are libusb's LIBUSB_ERROR_IO cases.
pub fn parse(raw: &[u8]) -> Result<ParsedConfig, &'static str> {
    if raw.len() < 9 || raw[1] != DT_CONFIG || raw[0] < 9 {
        return Err("not a configuration descriptor");
    }
    let total = usize::from(u16::from_le_bytes([raw[2], raw[3]])).min(raw.len());
    let mut b = raw
        .get(usize::from(raw[0])..total)
        .ok_or("short descriptor")?;
    let mut config = ParsedConfig {
        bytes: raw[..9].try_into().map_err(|_| "short descriptor")?,
        extra: Vec::new(),
        interfaces: Vec::new(),
    };
    for _ in 0..raw[4] {
        let skip = skip_extra(b).ok_or("invalid descriptor length")?;
        config.extra.extend_from_slice(&b[..skip]);
        b = &b[skip..];
        let (alts, used) = parse_interface(b)?;
        if used == 0 {
            break; // libusb: "skipping interface", keeps what it has
        }
        config.interfaces.push(alts);
        b = &b[used..];
    }
    Ok(config)
}

fn parse_interface(b: &[u8]) -> Result<(Vec<ParsedAlt>, usize), &'static str> {
    let mut alts = Vec::new();
    let mut p = 0;
    let number = b.get(2).copied();
    while b.len() - p >= 9 {
        let head = &b[p..];
        let len = usize::from(head[0]);
        if head[1] != DT_INTERFACE || len > head.len() {
            break; // libusb warns and keeps what it parsed so far
        }
        if len < 9 {
            return Err("invalid interface descriptor");
        }
        let mut alt = ParsedAlt {
            bytes: head[..9].try_into().map_err(|_| "short descriptor")?,
            extra: Vec::new(),
            endpoints: Vec::new(),
        };
        p += len;
        let skip = skip_extra(&b[p..]).ok_or("invalid descriptor length")?;
        alt.extra = b[p..p + skip].to_vec();
        p += skip;
        for _ in 0..alt.bytes[4] {
            let rest = &b[p..];
            if rest.len() < 2 || rest[1] != DT_ENDPOINT || rest[0] < 7 {
                break;
            }
            let elen = usize::from(rest[0]);
            if elen > rest.len() {
                return Err("short endpoint descriptor");
            }
            p += elen;
            let skip = skip_extra(&b[p..]).ok_or("invalid descriptor length")?;
            alt.endpoints.push(ParsedEndpoint {
                bytes: rest[..elen].to_vec(),
                extra: b[p..p + skip].to_vec(),
            });
            p += skip;
        }
        alt.bytes[4] = alt.endpoints.len() as u8;
        alts.push(alt);
        let next = &b[p..];
        if next.len() < 9 || next[1] != DT_INTERFACE || Some(next[2]) != number {
            break;
        }
    }
    Ok((alts, p))
}

/// A `libusb_config_descriptor` and everything its pointers point into. The pointers
/// target heap buffers owned by this value, so they stay valid while it lives, wherever
/// the value itself moves; the buffers are never changed after construction.
#[derive(Debug)]
pub struct OwnedConfig {
    desc: libusb_config_descriptor,
    _interfaces: Vec<libusb_interface>,
    _alts: Vec<Vec<libusb_interface_descriptor>>,
    _endpoints: Vec<Vec<libusb_endpoint_descriptor>>,
    _bytes: Vec<Vec<u8>>,
}

// SAFETY: the raw pointers inside only point into heap buffers owned by the same value
// and never shared mutably, so moving the value to another thread is sound.
unsafe impl Send for OwnedConfig {}

/// Keeps `bytes` alive in `store` and returns its (pointer, length) for an `extra` field.
fn keep(store: &mut Vec<Vec<u8>>, bytes: &[u8]) -> (*const u8, c_int) {
    if bytes.is_empty() {
        return (std::ptr::null(), 0);
    }
    store.push(bytes.to_vec());
    let kept = store.last().map_or(std::ptr::null(), |v| v.as_ptr());
    (kept, bytes.len() as c_int)
}

/// An endpoint descriptor as libusb's struct (missing bytes read as 0); its `extra` bytes
/// are kept in `store`.
fn endpoint_descriptor(store: &mut Vec<Vec<u8>>, e: &ParsedEndpoint) -> libusb_endpoint_descriptor {
    let (extra, extra_length) = keep(store, &e.extra);
    let at = |i: usize| e.bytes.get(i).copied().unwrap_or(0);
    libusb_endpoint_descriptor {
        bLength: at(0),
        bDescriptorType: at(1),
        bEndpointAddress: at(2),
        bmAttributes: at(3),
        wMaxPacketSize: u16::from_le_bytes([at(4), at(5)]),
        bInterval: at(6),
        bRefresh: at(7),
        bSynchAddress: at(8),
        extra,
        extra_length,
    }
}

/// An alternate setting's interface descriptor as libusb's struct, pointing at its
/// `endpoint` array (null for none); its `extra` bytes are kept in `store`.
fn interface_descriptor(
    store: &mut Vec<Vec<u8>>,
    alt: &ParsedAlt,
    endpoint: *const libusb_endpoint_descriptor,
) -> libusb_interface_descriptor {
    let (extra, extra_length) = keep(store, &alt.extra);
    let b = alt.bytes;
    libusb_interface_descriptor {
        bLength: b[0],
        bDescriptorType: b[1],
        bInterfaceNumber: b[2],
        bAlternateSetting: b[3],
        bNumEndpoints: b[4],
        bInterfaceClass: b[5],
        bInterfaceSubClass: b[6],
        bInterfaceProtocol: b[7],
        iInterface: b[8],
        endpoint,
        extra,
        extra_length,
    }
}

impl OwnedConfig {
    /// Lays a parsed configuration out as libusb's C structs.
    pub fn new(parsed: &ParsedConfig) -> Box<OwnedConfig> {
        let mut bytes = Vec::new();
        let mut endpoints = Vec::new();
        let mut alts = Vec::new();
        for iface in &parsed.interfaces {
            let mut descs = Vec::with_capacity(iface.len());
            for alt in iface {
                let eps: Vec<libusb_endpoint_descriptor> = alt
                    .endpoints
                    .iter()
                    .map(|e| endpoint_descriptor(&mut bytes, e))
                    .collect();
                let endpoint = if eps.is_empty() {
                    std::ptr::null()
                } else {
                    eps.as_ptr()
                };
                endpoints.push(eps);
                descs.push(interface_descriptor(&mut bytes, alt, endpoint));
            }
            alts.push(descs);
        }
        let interfaces: Vec<libusb_interface> = alts
            .iter()
            .map(|descs| libusb_interface {
                altsetting: descs.as_ptr(),
                num_altsetting: descs.len() as c_int,
            })
            .collect();
        let (extra, extra_length) = keep(&mut bytes, &parsed.extra);
        let b = parsed.bytes;
        let desc = libusb_config_descriptor {
            bLength: b[0],
            bDescriptorType: b[1],
            wTotalLength: u16::from_le_bytes([b[2], b[3]]),
            bNumInterfaces: interfaces.len() as u8,
            bConfigurationValue: b[5],
            iConfiguration: b[6],
            bmAttributes: b[7],
            MaxPower: b[8],
            interface: interfaces.as_ptr(),
            extra,
            extra_length,
        };
        Box::new(OwnedConfig {
            desc,
            _interfaces: interfaces,
            _alts: alts,
            _endpoints: endpoints,
            _bytes: bytes,
        })
    }

    /// The pointer handed to C; valid while this value lives.
    pub fn as_ptr(&self) -> *const libusb_config_descriptor {
        &self.desc
    }
}

/// The interface numbers a configuration has, and for each its alternate setting
/// numbers (what the kernel checks before CLAIM and SET_INTERFACE).
pub fn interface_alts(parsed: &ParsedConfig) -> Vec<(u8, Vec<u8>)> {
    parsed
        .interfaces
        .iter()
        .filter_map(|alts| {
            let first = alts.first()?;
            Some((first.bytes[2], alts.iter().map(|a| a.bytes[3]).collect()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DfuSe device: config, interface 0 alt 0 and alt 1, then the functional descriptor.
    fn dfu_config() -> Vec<u8> {
        let mut v = vec![9, 2, 0, 0, 1, 1, 0, 0xC0, 50];
        v.extend([9, 4, 0, 0, 0, 0xFE, 1, 2, 4]);
        v.extend([9, 4, 0, 1, 0, 0xFE, 1, 2, 5]);
        v.extend([9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01]);
        let total = v.len() as u16;
        v[2..4].copy_from_slice(&total.to_le_bytes());
        v
    }

    #[test]
    fn functional_descriptor_lands_in_the_last_alt_setting() {
        let c = parse(&dfu_config()).unwrap();
        assert!(c.extra.is_empty());
        assert_eq!(c.interfaces.len(), 1);
        let alts = &c.interfaces[0];
        assert_eq!(alts.len(), 2);
        assert!(alts[0].extra.is_empty());
        assert_eq!(alts[1].extra[..2], [9, 0x21]);
        assert_eq!(interface_alts(&c), vec![(0, vec![0, 1])]);
    }

    #[test]
    fn descriptors_before_the_first_interface_belong_to_the_config() {
        let mut v = vec![9, 2, 0, 0, 2, 1, 0, 0x80, 50];
        v.extend([3, 0x24, 7]);
        v.extend([9, 4, 0, 0, 1, 0xFF, 0, 0, 0]);
        v.extend([7, 5, 0x81, 2, 64, 0, 0, 4, 0x25, 1, 2]);
        v.extend([9, 4, 1, 0, 0, 0xFE, 1, 1, 0]);
        v.extend([9, 0x21, 0x09, 0xE8, 0x03, 0x00, 0x10, 0x1A, 0x01]);
        let total = v.len() as u16;
        v[2..4].copy_from_slice(&total.to_le_bytes());
        let c = parse(&v).unwrap();
        assert_eq!(c.extra, vec![3, 0x24, 7]);
        assert_eq!(c.interfaces.len(), 2);
        assert_eq!(c.interfaces[0][0].endpoints.len(), 1);
        assert_eq!(c.interfaces[0][0].endpoints[0].extra, vec![4, 0x25, 1, 2]);
        assert_eq!(c.interfaces[1][0].extra.len(), 9);
        assert_eq!(interface_alts(&c), vec![(0, vec![0]), (1, vec![0])]);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[9, 1, 0, 0, 0, 0, 0, 0, 0]).is_err());
        let mut v = dfu_config();
        v[9 + 9 + 9] = 0; // zero-length functional descriptor
        assert!(parse(&v).is_err());
        for cut in 0..v.len() {
            let _ = parse(&v[..cut]);
        }
        let mut long = dfu_config();
        long[2] = 0xFF; // wTotalLength beyond the buffer is clamped
        assert_eq!(parse(&long).unwrap().interfaces[0].len(), 2);
    }

    #[test]
    fn c_structs_point_at_the_parsed_bytes() {
        let owned = OwnedConfig::new(&parse(&dfu_config()).unwrap());
        let d = &owned.desc;
        assert_eq!((d.bNumInterfaces, d.bConfigurationValue), (1, 1));
        assert_eq!(d.extra_length, 0);
        let alts = &owned._alts[0];
        assert_eq!(owned._interfaces[0].num_altsetting, 2);
        assert_eq!(owned._interfaces[0].altsetting, alts.as_ptr());
        assert_eq!((alts[1].iInterface, alts[1].extra_length), (5, 9));
        assert!(alts[0].extra.is_null() && alts[0].endpoint.is_null());
        assert_eq!(alts[1].extra, owned._bytes[0].as_ptr());
        assert_eq!(owned._bytes[0][1], 0x21);
        assert_eq!(owned.as_ptr(), &owned.desc as *const _);
    }
}
