//! The S-record parser alone (format forced, no detection). Each record's checksum is
//! fixed first, so that mutations of its fields reach the parser.
#![no_main]

use dfu_image::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = dfu_image_fuzz::fix_line_checksums(data);
    dfu_image_fuzz::parse_forced(&text, Format::SRecord);
});
