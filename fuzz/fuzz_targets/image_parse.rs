//! Whole pipeline: detection, parsing, and every writer read back.
#![no_main]

use dfu_image::{Format, Image, Segment};
use libfuzzer_sys::fuzz_target;

fn coalesce(segments: &[Segment]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for s in segments {
        match out.last_mut() {
            Some(last) if last.end() == u64::from(s.address) => {
                last.data.extend_from_slice(&s.data)
            }
            _ => out.push(s.clone()),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks a file name hint, so the extension tie-breaker is fuzzed too.
    let (hint, data) = match data.split_first() {
        Some((b, rest)) => (
            [
                None,
                Some("f.hex"),
                Some("f.srec"),
                Some("f.elf"),
                Some("f.dfu"),
                Some("f.bin"),
            ][usize::from(*b % 6)],
            rest,
        ),
        None => (None, data),
    };
    // A DFU suffix's CRC is fixed, so that DfuSe files and suffixed text reach their parsers.
    let mut owned = data.to_vec();
    dfu_image_fuzz::fix_suffix_crc(&mut owned);
    let data = &owned[..];
    let Ok(image) = Image::parse(data, hint) else {
        return;
    };
    let _ = (
        image.particle_module(),
        image.vector_table(),
        image.total_len(),
        image.end(),
    );
    let expected = coalesce(&image.segments);
    let hex = Image::parse(image.to_ihex().as_bytes(), None).expect("our Intel HEX reads back");
    assert_eq!(hex.segments, expected);
    let srec = Image::parse(image.to_srec().as_bytes(), None).expect("our S-records read back");
    assert_eq!(srec.segments, expected);
    let dfu = Image::parse(&image.to_dfuse(0x0483, 0xdf11, 0xffff, 0, "fuzz"), None)
        .expect("our DfuSe reads back");
    assert_eq!(dfu.format, Format::DfuSe);
    assert_eq!(dfu.segments, image.segments);
    // Flat binaries only for small spans: gaps of up to 16 MiB are legal but slow the fuzzer.
    let span = image.end().unwrap_or(0) - u64::from(image.start().unwrap_or(0));
    if span > 1 << 20 {
        return;
    }
    if let Ok((start, flat)) = image.to_bin(0xff) {
        let mut raw = Image::parse_with(
            &flat,
            None,
            &dfu_image::ParseOptions {
                format: Some(Format::Bin),
                ..Default::default()
            },
        )
        .unwrap();
        raw.place(start)
            .expect("a flat binary fits where it came from");
        assert_eq!(raw.total_len(), flat.len() as u64);
    }
});
