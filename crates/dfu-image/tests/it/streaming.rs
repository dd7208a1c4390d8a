//! `Image::read_from`: the same images as `Image::parse`, read without holding the file.

use crate::util::{build_elf, fixture, Phdr};
use dfu_image::{suffix, Format, Image, ImageError, ParseOptions};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

const FOUR_GIB: u64 = 1 << 32;

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn read(bytes: &[u8], hint: Option<&str>) -> Result<Image, ImageError> {
    Image::read_from(Cursor::new(bytes), hint, &ParseOptions::default(), FOUR_GIB)
}

#[test]
fn every_fixture_reads_as_it_parses() {
    for name in [
        "fw.bin",
        "fw-a-suffixed.bin",
        "fw.dfu",
        "fw-2alt.dfu",
        "fw.hex",
        "fw.srec",
        "fw.elf",
        "fw64.elf",
    ] {
        let bytes = fixture(name);
        let parsed = Image::parse(&bytes, Some(name)).unwrap();
        assert_eq!(read(&bytes, Some(name)).unwrap(), parsed, "{name}");
    }
}

#[test]
fn text_with_a_dfu_suffix_is_checked_and_stripped() {
    let hex = fixture("fw.hex");
    let with = suffix::add(&hex, 0x0483, 0xdf11, 0x2200);
    let image = read(&with, None).unwrap();
    assert_eq!(image.segments, Image::parse(&hex, None).unwrap().segments);
    let s = image.suffix.unwrap();
    assert!(s.crc_ok);
    assert_eq!((s.vendor, s.product), (0x0483, 0xdf11));
    let mut bad = with.clone();
    bad[3] ^= 1;
    assert!(matches!(
        read(&bad, None),
        Err(ImageError::SuffixCrc { .. })
    ));
    assert_eq!(
        read(&bad, None).unwrap_err(),
        Image::parse(&bad, None).unwrap_err()
    );
}

#[test]
fn text_errors_keep_their_line_numbers() {
    let srec = "S00600004844521B\n\nS1050000AABB95\nS1050000AABB95\nS9030000FC\n";
    let e = read(srec.as_bytes(), None).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::Duplicate {
                line: 4,
                earlier: (3, 3),
                ..
            }
        ),
        "{e}"
    );
    let hex = ":0400000001020304F2\n:0400000001020304F3\n";
    let e = read(hex.as_bytes(), None).unwrap_err();
    assert!(matches!(e, ImageError::Checksum { line: 2, .. }), "{e}");
}

#[test]
fn a_binary_without_line_breaks_named_hex_is_refused_at_the_first_line() {
    let mut junk = vec![b'A'; 1 << 20];
    junk[0] = b':';
    let e = read(&junk, Some("x.hex")).unwrap_err();
    assert!(matches!(e, ImageError::LineTooLong { line: 1, .. }), "{e}");
}

#[test]
fn an_elf_is_read_through_its_program_headers() {
    let load: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
    let mut elf = build_elf(false, false, 0, &[Phdr::load(0x0800_0000, &load)]);
    // Four MiB of sections and debug information after the loadable data.
    elf.resize(elf.len() + (4 << 20), 0xAB);
    let mut counting = Counting {
        inner: Cursor::new(&elf),
        read: 0,
    };
    let image = Image::read_from(&mut counting, None, &ParseOptions::default(), FOUR_GIB).unwrap();
    assert_eq!(image.format, Format::Elf);
    assert_eq!(image.segments[0].data, load);
    assert!(
        counting.read < 80 * 1024,
        "read {} bytes of a {}-byte ELF",
        counting.read,
        elf.len()
    );
}

#[cfg(unix)] // a sparse 5 GiB file
#[test]
fn a_file_larger_than_any_image_is_refused_from_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(5 << 30).unwrap(); // sparse: costs no disk
    let started = Instant::now();
    let e = Image::read_from(
        std::fs::File::open(&path).unwrap(),
        Some("huge.bin"),
        &ParseOptions::default(),
        FOUR_GIB,
    )
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(e, ImageError::FileTooLarge { len, .. } if len == 5 << 30),
        "{e}"
    );
    // A device with 1 MiB: a 2 MiB raw binary is refused, a 2 MiB HEX file is read.
    let e = read(&vec![0x5A; 2 << 20], 1 << 20).unwrap_err();
    assert!(matches!(e, ImageError::FileTooLarge { limit, .. } if limit == (1 << 20) + 255));
    let hex = Image::from_segments(
        Format::Bin,
        vec![dfu_image::Segment::new(0x0800_0000, vec![1u8; 900 << 10])],
    )
    .unwrap()
    .to_ihex();
    assert!(hex.len() > 2 << 20);
    assert!(read(hex.as_bytes(), 1 << 20).is_ok());

    fn read(bytes: &[u8], max: u64) -> Result<Image, ImageError> {
        Image::read_from(Cursor::new(bytes), None, &ParseOptions::default(), max)
    }
}

#[test]
fn a_binary_written_as_it_goes_equals_the_flat_one() {
    let image = Image::parse(&fixture("fw.hex"), None).unwrap();
    let (_, flat) = image.to_bin(0xFF).unwrap();
    let mut out = Vec::new();
    image.write_bin(0xFF, None, &mut out).unwrap();
    assert_eq!(out, flat);
    let mut out = Vec::new();
    image
        .write_bin(0xFF, Some((0x0483, 0xdf11, 0x0200)), &mut out)
        .unwrap();
    assert_eq!(
        out,
        image.to_suffixed(0xFF, 0x0483, 0xdf11, 0x0200).unwrap().1
    );
    let far = Image::from_segments(
        Format::IntelHex,
        vec![
            dfu_image::Segment::new(0x0800_0000, [1]),
            dfu_image::Segment::new(0x1FFF_C000, [2]),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    assert!(far.bin_span().is_err());
    assert!(far.write_bin(0xFF, None, &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn the_head_of_a_raw_binary_is_all_that_is_kept() {
    let suffixed = fixture("fw-a-suffixed.bin");
    let mut counting = Counting {
        inner: Cursor::new(&suffixed),
        read: 0,
    };
    let (head, total) = Image::read_head_from(&mut counting, None, &ParseOptions::default(), 100)
        .unwrap()
        .unwrap();
    let whole = Image::parse(&suffixed, None).unwrap();
    assert_eq!(total, whole.total_len());
    assert_eq!(head.format, Format::Suffixed);
    assert_eq!(head.suffix, whole.suffix);
    assert_eq!(head.segments[0].data, whole.segments[0].data[..100]);
    assert_eq!(head.vector_table(), whole.vector_table());
    // Text, ELF and DfuSe files are not raw: read them whole.
    for name in ["fw.hex", "fw.elf", "fw.dfu"] {
        let r = Image::read_head_from(
            Cursor::new(fixture(name)),
            None,
            &ParseOptions::default(),
            100,
        );
        assert!(r.unwrap().is_none(), "{name}");
    }
    // A damaged suffix is found as when the file is read whole.
    let mut bad = suffixed.clone();
    bad[1] ^= 1;
    let r = Image::read_head_from(Cursor::new(&bad), None, &ParseOptions::default(), 100);
    assert_eq!(r.unwrap_err(), Image::parse(&bad, None).unwrap_err());
}

#[test]
fn an_elf_with_a_suffix_is_read_without_it() {
    let elf = fixture("fw.elf");
    let with = suffix::add(&elf, 0x0483, 0xdf11, 0xffff);
    assert_eq!(
        read(&with, None).unwrap(),
        Image::parse(&with, None).unwrap()
    );
    // Program headers that run into the suffix are cut short, as in memory.
    let mut short = build_elf(false, false, 0, &[Phdr::load(0x0800_0000, &[1, 2, 3, 4])]);
    short.truncate(short.len() - 2);
    let with = suffix::add(&short, 1, 2, 3);
    assert_eq!(
        read(&with, None).unwrap_err(),
        Image::parse(&with, None).unwrap_err()
    );
}
