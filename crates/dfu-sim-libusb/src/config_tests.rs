//! Tests of the libusb-style configuration split.

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
