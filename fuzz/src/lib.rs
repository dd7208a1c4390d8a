//! What every format-forced fuzz target checks.

use dfu_image::{Format, Image, ParseOptions};

/// Parses `data` as `format` (no detection; the first byte decides whether a bad suffix CRC
/// is tolerated) and checks the invariants every parsed image keeps: the format it was asked
/// for, segments sorted, disjoint, non-empty and inside the 4 GiB address space.
pub fn parse_forced(data: &[u8], format: Format) {
    let options = ParseOptions {
        format: Some(format),
        accept_bad_suffix_crc: data.first() == Some(&0),
    };
    if let Ok(image) = Image::parse_with(data, None, &options) {
        assert_eq!(image.format, format);
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
}
