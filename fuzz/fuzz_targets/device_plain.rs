//! The whole library against a simulated dapboot whose answers the input distorts
//! (descriptors, strings, GETSTATUS, UPLOAD replies longer or shorter than asked, stalls,
//! timeouts, disconnects): connect, survey, read and flash never panic and end in bounded
//! virtual time.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/dfu/tests/pipeline/liar.rs"]
mod liar;

libfuzzer_sys::fuzz_target!(|data: &[u8]| liar::drive("dapboot", 0x0800_2000, data));
