//! Integration tests of dfu-image (one test binary for the whole crate).

mod bad_input;
mod dfu_suffix;
mod particle;
mod roundtrip;
mod same_firmware;
mod streaming;
mod util;
mod vectors;
