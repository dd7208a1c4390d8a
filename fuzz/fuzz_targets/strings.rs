//! String descriptors: any length byte, odd UTF-16.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/dfu-proto/tests/device_data/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::strings(data));
