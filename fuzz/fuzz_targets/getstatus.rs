//! GETSTATUS replies: every state and status byte, 24-bit poll timeouts.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/dfu-proto/tests/device_data/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::getstatus(data));
