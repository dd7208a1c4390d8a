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
    while b.len() - p >= 2 {
        let len = usize::from(b[p]);
        if len < 2 {
            return None;
        }
        if len > b.len() - p || is_boundary(b[p + 1]) {
            break;
        }
        p += len;
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
    let mut b = raw.get(usize::from(raw[0])..total).ok_or("short descriptor")?;
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
                    .map(|e| {
                        let (extra, extra_length) = keep(&mut bytes, &e.extra);
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
                    })
                    .collect();
                let endpoint = if eps.is_empty() {
                    std::ptr::null()
                } else {
                    eps.as_ptr()
                };
                endpoints.push(eps);
                let (extra, extra_length) = keep(&mut bytes, &alt.extra);
                let b = alt.bytes;
                descs.push(libusb_interface_descriptor {
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
                });
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
#[path = "config_tests.rs"]
mod tests;
