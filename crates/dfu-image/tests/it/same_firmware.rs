//! One firmware (three segments with gaps, one of them linked in RAM but loaded in
//! flash) in every format, made by independent tools (see tests/fixtures/README.md):
//! all must give the same segments.

use crate::util::{build_elf, fixture, fw_segments, Phdr};
use dfu_image::{Format, Image, Segment};

fn parse(name: &str) -> Image {
    Image::parse(&fixture(name), Some(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_format_gives_the_same_segments() {
    let expected = fw_segments();
    for (name, format) in [
        ("fw.hex", Format::IntelHex),
        ("fw.srec", Format::SRecord),
        ("fw.elf", Format::Elf),
        ("fw64.elf", Format::Elf),
        ("fw.dfu", Format::DfuSe),
    ] {
        let image = parse(name);
        assert_eq!(image.format, format, "{name}");
        assert_eq!(image.segments, expected, "{name}");
        assert!(!image.needs_address, "{name}");
    }
}

#[test]
fn big_endian_elf_of_the_same_firmware() {
    let phdrs: Vec<Phdr> = fw_segments()
        .iter()
        .map(|s| Phdr::load(u64::from(s.address), &s.data))
        .collect();
    for class64 in [false, true] {
        let image = Image::parse(&build_elf(class64, true, 0, &phdrs), None).unwrap();
        assert_eq!(image.segments, fw_segments());
    }
}

#[test]
fn flat_binary_and_pieces_with_addresses() {
    // objcopy -O binary --gap-fill 0xff of the ELF, placed at the ELF's first address.
    let mut flat = parse("fw.bin");
    assert_eq!(flat.format, Format::Bin);
    assert!(flat.needs_address);
    assert_eq!(flat.start(), Some(0));
    flat.place(0x0800_0000).unwrap();
    assert!(!flat.needs_address);
    for name in ["fw.hex", "fw.srec", "fw.elf", "fw.dfu"] {
        assert_eq!(
            parse(name).to_bin(0xFF).unwrap(),
            (0x0800_0000, flat.segments[0].data.clone()),
            "{name}"
        );
    }
    // The three raw pieces, each placed, combined.
    let pieces: Vec<Image> = [
        ("fw-a.bin", 0x0800_0000),
        ("fw-b.bin", 0x0800_4000),
        ("fw-c.bin", 0x0800_6011),
    ]
    .iter()
    .map(|(name, address)| {
        let mut i = parse(name);
        i.place(*address).unwrap();
        i
    })
    .collect();
    let combined = Image::combine(pieces).unwrap();
    assert_eq!(combined.segments, fw_segments());
}

#[test]
fn dfu_suffix_made_by_dfu_suffix() {
    let image = parse("fw-a-suffixed.bin");
    assert_eq!(image.format, Format::Suffixed);
    assert_eq!(image.segments, vec![Segment::new(0, fixture("fw-a.bin"))]);
    let s = image.suffix.unwrap();
    assert_eq!(
        (s.vendor, s.product, s.bcd_device, s.bcd_dfu),
        (0x0483, 0xDF11, 0x2200, 0x0100)
    );
    assert!(s.crc_ok);
}

#[test]
fn two_targets_for_two_alt_settings() {
    // dfuse-pack writes DFUImageSize including the suffix: accepted too.
    let image = parse("fw-2alt.dfu");
    assert_eq!(image.dfuse_targets.len(), 2);
    assert_eq!(image.dfuse_targets[1].alt, 1);
    assert_eq!(image.dfuse_targets[0].name.as_deref(), Some("ST..."));
    // Both start at 0x08000000: `segments` keeps the first target's.
    assert_eq!(
        image.segments,
        vec![Segment::new(0x0800_0000, fixture("fw-a.bin"))]
    );
    let alt1 = image.target_image(1).unwrap().unwrap();
    assert_eq!(
        alt1.segments,
        vec![Segment::new(0x0800_0000, fixture("fw-b.bin"))]
    );
    assert!(image.target_image(2).unwrap().is_none());
}

#[test]
fn what_the_image_says_about_itself() {
    let image = parse("fw.elf");
    let vt = image.vector_table().unwrap();
    assert_eq!(
        (vt.initial_sp, vt.reset_handler),
        (0x2002_0000, 0x0800_0201)
    );
    assert_eq!(vt.likely_link_base(), 0x0800_0000);
    assert!(vt.fits(0x0800_0000, 0x7000));
    let mut moved = parse("fw.bin");
    moved.place(0x0802_0000).unwrap();
    let vt = moved.vector_table().unwrap();
    assert!(!vt.fits(0x0802_0000, moved.total_len() as u32));
    assert!(image.particle_module().is_none());
}
