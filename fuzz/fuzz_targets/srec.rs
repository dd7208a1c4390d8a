//! The S-record parser alone (format forced, no detection).
#![no_main]

use dfu_image::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dfu_image_fuzz::parse_forced(data, Format::SRecord));
