//! The DfuSe parser alone (format forced, no detection). The input gets a DFU suffix whose
//! CRC matches (its own, fixed, or a new one), so that mutations reach the DfuSe parser
//! instead of stopping at the suffix CRC check.
#![no_main]

use dfu_image::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = dfu_image_fuzz::with_good_suffix(data);
    dfu_image_fuzz::parse_forced(&file, Format::DfuSe);
});
