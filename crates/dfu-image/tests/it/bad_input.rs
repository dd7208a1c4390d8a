//! Truncated, corrupt, overlapping and oversized files: errors with context, never panics.

use crate::util::{build_elf, fixture, Phdr};
use dfu_image::{suffix, Format, Image, ImageError, ParseOptions, Segment};

/// Every prefix of every fixture parses without panicking; for the formats that
/// know their own length (text with end records, DfuSe) every proper prefix is
/// an error.
#[test]
fn truncated_at_every_length() {
    for name in [
        "fw.hex",
        "fw.srec",
        "fw.elf",
        "fw64.elf",
        "fw.dfu",
        "fw-2alt.dfu",
        "fw-a-suffixed.bin",
    ] {
        let full = fixture(name);
        // Text files: cutting the final line end still leaves a complete file.
        let complete = full.trim_ascii_end().len();
        for n in 0..full.len() {
            let r = Image::parse(&full[..n], Some(name));
            // A DfuSe file cut before its 5-byte signature is just a few raw bytes.
            let dfuse = name.ends_with(".dfu") && n >= 5;
            let text = name.ends_with(".hex") || name.ends_with(".srec");
            if dfuse || (text && n < complete) {
                assert!(r.is_err(), "{name} cut at {n} parsed: {r:?}");
            }
            // Every detection path, not just the one the name suggests.
            let _ = Image::parse(&full[..n], None);
        }
    }
}

#[test]
fn elf_cut_inside_segment_data_is_truncated() {
    let elf = fixture("fw.elf");
    // Segment A's data is at file offset 0x1000..0x12c3.
    let err = Image::parse(&elf[..0x1100], None).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Truncated {
                format: Format::Elf,
                offset: 0x1000,
                needed: 0x2c3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_checksum_reports_the_line() {
    let hex = String::from_utf8(fixture("fw.hex")).unwrap();
    let mut lines: Vec<String> = hex.lines().map(str::to_owned).collect();
    let l = &mut lines[4];
    let last = if l.ends_with('0') { "1" } else { "0" };
    l.replace_range(l.len() - 1.., last);
    let err = Image::parse(lines.join("\n").as_bytes(), None).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Checksum {
                format: Format::IntelHex,
                line: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("line 5"), "{err}");

    let srec = "S1050000AABB94\nS9030000FC\n";
    let err = Image::parse(srec.as_bytes(), None).unwrap_err();
    assert_eq!(
        err,
        ImageError::Checksum {
            format: Format::SRecord,
            line: 1,
            stored: 0x94,
            computed: 0x95
        }
    );
}

#[test]
fn malformed_records() {
    let cases: [(&str, usize); 8] = [
        (":0400000001020304F2\n", 1), // no EOF record -> MissingEnd(lines = 1)
        (":00000001FF\n:00000001FF\n", 2), // data after EOF
        (":0400000001020304\n:00000001FF\n", 1), // count says 4, record too short
        (":04000000010203G4F2\n:00000001FF\n", 1),
        (":0100000601F8\n:00000001FF\n", 1), // unknown type 06
        ("\n\n0400000001020304F2\n", 3),     // no ':' (read as hex by name)
        ("S1050000AABB95\n", 1),             // no termination record
        ("S4030000FC\nS9030000FC\n", 1),     // S4 is reserved
    ];
    for (text, line) in cases {
        let name = if text.contains('S') {
            "x.srec"
        } else {
            "x.hex"
        };
        let err = Image::parse(text.as_bytes(), Some(name)).unwrap_err();
        let got = match &err {
            ImageError::Line { line, .. } | ImageError::Checksum { line, .. } => *line,
            ImageError::MissingEnd { lines, .. } => *lines,
            other => panic!("{text:?}: {other}"),
        };
        assert_eq!(got, line, "{text:?}: {err}");
    }
}

#[test]
fn suffix_crc_mismatch_is_an_error_unless_accepted() {
    let mut file = suffix::add(&fixture("fw-a.bin"), 0x0483, 0xdf11, 0xffff);
    file[100] ^= 0xFF;
    let err = Image::parse(&file, Some("fw.dfu")).unwrap_err();
    assert!(matches!(err, ImageError::SuffixCrc { .. }), "{err}");
    assert!(err.to_string().starts_with("DFU suffix CRC mismatch"));
    let opts = ParseOptions {
        accept_bad_suffix_crc: true,
        ..ParseOptions::default()
    };
    let image = Image::parse_with(&file, None, &opts).unwrap();
    assert_eq!(image.format, Format::Suffixed);
    assert!(!image.suffix.unwrap().crc_ok);
    assert_eq!(image.total_len(), 707);
    // Forcing Bin keeps every byte, suffix included (what dfu-util flashes).
    let opts = ParseOptions {
        format: Some(Format::Bin),
        ..ParseOptions::default()
    };
    assert_eq!(
        Image::parse_with(&file, None, &opts).unwrap().total_len(),
        707 + 16
    );
    // A DfuSe file with a damaged suffix too.
    let mut dfu = fixture("fw.dfu");
    let n = dfu.len();
    dfu[n - 1] ^= 1;
    assert!(matches!(
        Image::parse(&dfu, None),
        Err(ImageError::SuffixCrc { .. })
    ));
    // Forcing Suffixed on a file without one.
    let opts = ParseOptions {
        format: Some(Format::Suffixed),
        ..ParseOptions::default()
    };
    assert!(matches!(
        Image::parse_with(b"abc", None, &opts),
        Err(ImageError::NoSuffix { .. })
    ));
}

#[test]
fn overlapping_data_is_refused() {
    let hex = ":0400000001020304F2\n:020002000506F1\n:00000001FF\n";
    let err = Image::parse(hex.as_bytes(), None).unwrap_err();
    assert_eq!(
        err,
        ImageError::Duplicate {
            format: Format::IntelHex,
            line: 2,
            address: 2,
            len: 2,
            earlier: (1, 1),
            earlier_start: 0,
            earlier_end: 4,
        }
    );
    assert_eq!(
        err.to_string(),
        "Intel HEX line 2: 2 bytes at 0x00000002 overlap the data of line 1 \
         (0x00000000-0x00000003); a record given twice?"
    );

    let elf = build_elf(
        false,
        false,
        0,
        &[Phdr::load(0x100, &[1; 16]), Phdr::load(0x108, &[2; 16])],
    );
    assert!(matches!(
        Image::parse(&elf, None),
        Err(ImageError::Overlap {
            first: 0x100,
            second: 0x108,
            ..
        })
    ));

    let a = Image::from_segments(Format::Elf, vec![Segment::new(0x1000, [0; 0x100])]).unwrap();
    let b = Image::from_segments(Format::IntelHex, vec![Segment::new(0x10FF, [1])]).unwrap();
    assert!(matches!(
        Image::combine(vec![a.clone(), b]),
        Err(ImageError::Overlap { .. })
    ));
    let raw = Image::parse(b"raw", None).unwrap();
    assert_eq!(
        Image::combine(vec![a, raw]),
        Err(ImageError::Unplaced { index: 1 })
    );

    // Two elements of one DfuSe target overlapping.
    let img = Image {
        segments: vec![Segment::new(0, [1, 2]), Segment::new(1, [3])],
        ..Image::default()
    };
    let file = img.to_dfuse(0xffff, 0xffff, 0xffff, 0, "x");
    assert!(matches!(
        Image::parse(&file, None),
        Err(ImageError::Overlap { .. })
    ));
}

#[test]
fn oversized_and_absurd_sizes() {
    // Intel HEX data past 4 GiB.
    let hex = ":02000004FFFFFC\n:10FFF800000102030405060708090A0B0C0D0E0F81\n:00000001FF\n";
    assert!(matches!(
        Image::parse(hex.as_bytes(), None),
        Err(ImageError::AddressOverflow { line: Some(2), .. })
    ));
    // S3 record at 0xFFFFFFFF with 2 bytes.
    let srec = "S307FFFFFFFF0102F9\nS70500000000FA\n";
    assert!(matches!(
        Image::parse(srec.as_bytes(), None),
        Err(ImageError::AddressOverflow { .. })
    ));
    // ELF64 segment above 4 GiB.
    let elf = build_elf(true, false, 0, &[Phdr::load(0x1_0000_0000, &[1])]);
    assert!(matches!(
        Image::parse(&elf, None),
        Err(ImageError::Malformed { .. })
    ));
    // ELF segment claiming 4 GiB of file data.
    let mut p = Phdr::load(0x0800_0000, &[1, 2, 3]);
    p.filesz = Some(0xFFFF_FFFF);
    for class64 in [false, true] {
        let elf = build_elf(class64, false, 0, std::slice::from_ref(&p));
        assert!(matches!(
            Image::parse(&elf, None),
            Err(ImageError::Truncated { .. })
        ));
    }
    // ELF claiming 65535 program headers.
    let mut elf = build_elf(false, false, 0, &[Phdr::load(0, &[1])]);
    elf[44..46].copy_from_slice(&0xFFFEu16.to_le_bytes());
    assert!(matches!(
        Image::parse(&elf, None),
        Err(ImageError::Malformed { .. })
    ));
    // DfuSe element claiming 4 GiB.
    let img = Image {
        segments: vec![Segment::new(0x0800_0000, [1, 2, 3])],
        ..Image::default()
    };
    let mut file = img.to_dfuse(0xffff, 0xffff, 0xffff, 0, "x");
    file.truncate(file.len() - 16);
    let at = 11 + 274 + 4;
    file[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Image::parse(&file, None).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Truncated {
                what: "element data",
                ..
            }
        ),
        "{err}"
    );
    // A flat binary over a 2 GiB gap.
    let img = Image::from_segments(
        Format::Elf,
        vec![Segment::new(0, [1]), Segment::new(0x8000_0000, [2])],
    )
    .unwrap();
    assert!(matches!(img.to_bin(0xFF), Err(ImageError::Gap { .. })));
}

#[test]
fn dfuse_size_mismatches() {
    let img = Image {
        segments: vec![Segment::new(0x0800_0000, [1, 2, 3])],
        ..Image::default()
    };
    let good = img.to_dfuse(0xffff, 0xffff, 0xffff, 0, "x");
    let content = &good[..good.len() - 16];
    let check = |patch: &dyn Fn(&mut Vec<u8>), offset: u64| {
        let mut c = content.to_vec();
        patch(&mut c);
        let file = suffix::add_with_spec(&c, 0xffff, 0xffff, 0xffff, 0x011a);
        match Image::parse(&file, None) {
            Err(ImageError::Malformed { offset: o, .. }) => assert_eq!(o, offset),
            other => panic!("expected Malformed at {offset}: {other:?}"),
        }
    };
    check(&|c| c[5] = 2, 5); // bVersion
    check(&|c| c[6] ^= 1, 6); // DFUImageSize
    check(&|c| c[11] = b't', 11); // "Target"
    check(&|c| c[11 + 266] ^= 1, 11 + 266); // dwTargetSize
    check(&|c| c[10] = 0, 11); // bTargets 0: bytes left over
}

#[test]
fn garbage_never_panics() {
    let mut seed = 0x1234_5678u32;
    for len in [0usize, 1, 4, 5, 16, 17, 52, 64, 300, 4096] {
        for _ in 0..50 {
            let mut data: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect();
            for magic in [
                &b""[..],
                b"DfuSe\x01",
                b"\x7fELF\x01\x01\x01",
                b"\x7fELF\x02\x02\x01",
                b":",
                b"S1",
            ] {
                let n = magic.len().min(data.len());
                data[..n].copy_from_slice(&magic[..n]);
                for name in [None, Some("x.hex"), Some("x.srec"), Some("x.elf")] {
                    if let Ok(image) = Image::parse(&data, name) {
                        let _ = (
                            image.particle_module(),
                            image.vector_table(),
                            image.to_ihex(),
                        );
                    }
                }
            }
        }
    }
}
