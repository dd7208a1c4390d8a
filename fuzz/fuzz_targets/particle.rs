//! Particle module header detection and the Cortex-M vector table reader.
#![no_main]

use dfu_image::particle::find;
use dfu_image::VectorTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for load in [
        None,
        data.get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    ] {
        if let Some(m) = find(data, load) {
            assert!(m.end > m.start);
            assert!(u64::from(m.end - m.start) <= data.len() as u64);
            assert!(m.function.is_flashable() && m.platform_name().is_some());
        }
    }
    if let Some(vt) = VectorTable::parse(data) {
        let _ = (
            vt.likely_link_base(),
            vt.fits(vt.likely_link_base(), data.len() as u32),
        );
        assert!(vt.fits(vt.lowest_handler(), u32::MAX));
    }
});
