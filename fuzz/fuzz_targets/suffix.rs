//! DFU suffix reading, removal and re-adding.
#![no_main]

use dfu_image::suffix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
