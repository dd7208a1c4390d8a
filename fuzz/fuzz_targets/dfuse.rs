//! The DfuSe parser alone (format forced, no detection).
#![no_main]

use dfu_image::{Format, Image, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ParseOptions {
        format: Some(Format::DfuSe),
        accept_bad_suffix_crc: data.first() == Some(&0),
    };
    if let Ok(image) = Image::parse_with(data, None, &options) {
        assert_eq!(image.format, Format::DfuSe);
        for pair in image.segments.windows(2) {
            assert!(
                pair[0].end() <= u64::from(pair[1].address),
                "segments sorted and disjoint"
            );
        }
        assert!(image
            .segments
            .iter()
            .all(|s| !s.data.is_empty() && s.end() <= 1 << 32));
    }
});
