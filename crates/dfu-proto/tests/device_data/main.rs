//! The parsers of what a device sends, against arbitrary bytes (the fuzz targets in fuzz/
//! run the same checks under libFuzzer), plus byte strings shaped like the real thing so
//! that the checks reach past the first length test.

mod checks;

use proptest::prelude::*;

/// Bytes that start like a descriptor of `kind`: bLength, bDescriptorType, then anything.
fn shaped(kind: u8) -> impl Strategy<Value = Vec<u8>> {
    (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)).prop_map(move |(len, mut b)| {
        b.splice(0..0, [len, kind]);
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn descriptors_of_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        checks::descriptors(&data);
    }

    #[test]
    fn device_descriptors(data in shaped(1)) {
        checks::descriptors(&data);
    }

    #[test]
    fn configuration_descriptors(data in shaped(2)) {
        checks::descriptors(&data);
    }

    #[test]
    fn functional_descriptors(data in shaped(0x21)) {
        checks::descriptors(&data);
    }

    #[test]
    fn string_descriptors(data in shaped(3)) {
        checks::strings(&data);
    }

    #[test]
    fn layout_strings(text in "@[ -~]{0,12}(/0x[0-9A-Fa-f]{1,9}/[0-9]{1,4}\\*[0-9]{1,5}[ BKMg]?[a-g ]?(,[0-9]{1,3}\\*[0-9]{1,4}[BKM ]?[a-g])*){0,3}") {
        checks::layout(text.as_bytes());
    }

    #[test]
    fn layout_bytes(data in proptest::collection::vec(any::<u8>(), 0..120)) {
        checks::layout(&data);
    }

    #[test]
    fn getstatus_replies(data in proptest::collection::vec(any::<u8>(), 0..10)) {
        checks::getstatus(&data);
    }
}

/// Every state and status byte, with the largest poll timeout.
#[test]
fn every_state_and_status_byte() {
    for state in 0..=255u8 {
        for status in 0..=255u8 {
            checks::getstatus(&[status, 0xff, 0xff, 0xff, state, 0]);
        }
    }
}

/// A configuration descriptor built from parts: the walk must not be fooled by lengths.
#[test]
fn config_with_odd_lengths() {
    for len in 0..=255u8 {
        let mut b = vec![9, 2, 40, 0, 1, 1, 0, 0x80, 50];
        b.extend([len, 4, 0, 0, 1, 0xfe, 1, 2, 0]);
        b.extend([len, 0x21, 0x0b, 0xff, 0, 0, 8, 0x1a, 1]);
        checks::descriptors(&b);
    }
}

/// Found by the `layout` fuzz target: a sector size that fits u64 but overflows when
/// multiplied by its unit (a panic in debug builds, a wrapped size in release builds).
#[test]
fn regression_huge_sector_size_times_unit() {
    let text = "@Inte@rnal Flash   /0x08000000/20*001Ka,108*22222222222222002Kg";
    checks::layout(text.as_bytes());
    let e = dfu_proto::MemoryLayout::parse(text).unwrap_err();
    assert!(e.reason.contains("over 4 GiB"), "{e:?}");
}
