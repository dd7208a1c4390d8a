//! What every parser of device data must do with any bytes a device sends: return an error
//! or a value that keeps its invariants, never panic. Shared by the proptests beside this
//! file (`cargo test -p dfu-proto`) and the cargo-fuzz targets in fuzz/ (`#[path]`).

use dfu_proto::descriptor::{encode_string, parse_string};
use dfu_proto::{
    ConfigDescriptor, DeviceDescriptor, FunctionalDescriptor, GetStatus, MemoryLayout, State,
    Status,
};

/// Device, configuration (with its interface and functional descriptors) and functional
/// descriptors: what parses encodes to something that parses to the same value.
pub fn descriptors(data: &[u8]) {
    if let Ok(d) = DeviceDescriptor::parse(data) {
        assert_eq!(DeviceDescriptor::parse(&d.encode()).unwrap(), d);
        assert_eq!(d.encode()[2..], data[2..18]);
    }
    if let Ok(f) = FunctionalDescriptor::parse(data) {
        let again = FunctionalDescriptor::parse(&f.encode()).unwrap();
        assert_eq!(again.attributes, f.attributes);
        assert_eq!(again.transfer_size, f.transfer_size);
        assert_eq!(again.detach_timeout_ms, f.detach_timeout_ms);
    }
    if let Ok(c) = ConfigDescriptor::parse(data) {
        let again = ConfigDescriptor::parse(&c.encode()).expect("re-encoded config parses");
        assert_eq!(again.alt_settings.len(), c.alt_settings.len());
        for (a, b) in again.alt_settings.iter().zip(&c.alt_settings) {
            assert_eq!((a.interface, a.alt, a.class), (b.interface, b.alt, b.class));
            assert_eq!(a.functional.is_some(), b.functional.is_some());
        }
    }
}

/// String descriptors of any length byte and any UTF-16 (odd byte counts, unpaired
/// surrogates): text of at most 127 UTF-16 units; encoded text reads back the same.
pub fn strings(data: &[u8]) {
    if let Ok(s) = parse_string(data) {
        assert!(s.encode_utf16().count() <= 127, "{s:?}");
        let units: Vec<u16> = s.encode_utf16().take(126).collect();
        let cut = String::from_utf16_lossy(&units);
        assert_eq!(parse_string(&encode_string(&cut)).unwrap(), cut);
    }
}

/// DfuSe layout strings (the alt setting's name): a layout that parses has non-empty
/// segments whose sectors lie inside them and are found again by address; its map prints.
pub fn layout(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(l) = MemoryLayout::parse(&text) {
        assert!(!l.segments.is_empty());
        let _ = l.to_string();
        let mut total = 0u64;
        for s in l.sectors().take(10_000) {
            total += u64::from(s.size);
            assert!(s.size > 0);
            assert_eq!(l.first_uncovered(s.start, u64::from(s.size)), None, "{s:?}");
            let found = l
                .sector_at(s.start)
                .expect("a sector is found by its start");
            assert!(found.start <= s.start && u64::from(s.start) < found.end());
        }
        assert!(total <= l.total_size(), "{total} > {}", l.total_size());
    }
}

/// GETSTATUS replies: any six or more bytes parse, every state and status byte round-trips,
/// poll timeouts are 24-bit.
pub fn getstatus(data: &[u8]) {
    match GetStatus::parse(data) {
        None => assert!(data.len() < 6),
        Some(s) => {
            assert_eq!(s.encode()[..], data[..6]);
            assert!(s.poll_timeout_ms <= 0xFF_FFFF);
            assert!(!s.state.name().is_empty() && !s.status.name().is_empty());
            assert_eq!(State::from_u8(data[4]).as_u8(), data[4]);
            assert_eq!(Status::from_u8(data[0]).as_u8(), data[0]);
        }
    }
}
