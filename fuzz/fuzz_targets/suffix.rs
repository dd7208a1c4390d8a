//! DFU suffix reading, removal and re-adding. Unless the first byte is 0xFF, the CRC of a
//! suffix the input ends with is fixed first, so that the paths behind the CRC check (bLength,
//! removal, re-adding) are reached.
#![no_main]

use dfu_image::suffix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let mut owned = input.to_vec();
    if input.first() != Some(&0xFF) {
        dfu_image_fuzz::fix_suffix_crc(&mut owned);
    }
    let data = &owned[..];
    let read = suffix::read(data);
    match suffix::remove(data) {
        Ok(content) => {
            let s = read
                .expect("remove succeeded, so there is a suffix")
                .expect("valid");
            assert!(s.crc_ok);
            if s.length == 16 {
                assert_eq!(
                    suffix::add_with_spec(&content, s.vendor, s.product, s.bcd_device, s.bcd_dfu),
                    data
                );
            }
        }
        Err(_) => assert!(!matches!(read, Some(Ok(s)) if s.crc_ok)),
    }
    let added = suffix::add(data, 1, 2, 3);
    assert_eq!(suffix::remove(&added).unwrap(), data);
});
