//! Hand-made test vectors, written from the format specifications.

use crate::util::{build_elf, unhex, Phdr};
use dfu_image::{suffix, Format, Image, Segment};

/// The Intel HEX example of the Wikipedia article "Intel HEX".
#[test]
fn wikipedia_intel_hex() {
    let text = "\
:10010000214601360121470136007EFE09D2190140
:100110002146017E17C20001FF5F16002148011928
:10012000194E79234623965778239EDA3F01B2CAA7
:100130003F0156702B5E712B722B732146013421C7
:00000001FF
";
    let image = Image::parse(text.as_bytes(), None).unwrap();
    assert_eq!(image.format, Format::IntelHex);
    assert!(!image.needs_address);
    let expected = unhex(
        "214601360121470136007EFE09D21901 2146017E17C20001FF5F160021480119
         194E79234623965778239EDA3F01B2CA 3F0156702B5E712B722B732146013421",
    );
    assert_eq!(image.segments, vec![Segment::new(0x0100, expected)]);
    assert_eq!(image.entry, None);
}

/// Extended segment address (02) and start segment address (03), CR LF line ends.
#[test]
fn intel_hex_segment_records() {
    let text = ":020000021000EC\r\n:0400100001020304E2\r\n:0400000300001234B3\r\n:00000001FF\r\n";
    let image = Image::parse(text.as_bytes(), None).unwrap();
    assert_eq!(image.segments, vec![Segment::new(0x1_0010, [1, 2, 3, 4])]);
    assert_eq!(image.entry, Some(0x1234));
}

/// The S-record example of the Wikipedia article "SREC (file format)".
#[test]
fn wikipedia_srecord() {
    let text = "\
S00F000068656C6C6F202020202000003C
S11F00007C0802A6900100049421FFF07C6C1B787C8C23783C6000003863000026
S11F001C4BFFFFE5398000007D83637880010014382100107C0803A64E800020E9
S111003848656C6C6F20776F726C642E0A0042
S5030003F9
S9030000FC
";
    let image = Image::parse(text.as_bytes(), Some("x.s19")).unwrap();
    assert_eq!(image.format, Format::SRecord);
    let mut expected = unhex(
        "7C0802A6900100049421FFF07C6C1B787C8C23783C60000038630000
         4BFFFFE5398000007D83637880010014382100107C0803A64E800020",
    );
    expected.extend_from_slice(b"Hello world.\n\0");
    assert_eq!(image.segments, vec![Segment::new(0, expected)]);
    assert_eq!(image.entry, Some(0));
}

/// A DfuSe file assembled byte by byte from UM0391.
#[test]
fn hand_built_dfuse() {
    let mut f = Vec::new();
    f.extend_from_slice(b"DfuSe");
    f.push(1); // bVersion
    f.extend_from_slice(&[0; 4]); // DFUImageSize, patched below
    f.push(1); // bTargets
    f.extend_from_slice(b"Target");
    f.push(0); // bAlternateSetting
    f.extend_from_slice(&1u32.to_le_bytes()); // bTargetNamed
    let mut name = b"Internal Flash".to_vec();
    name.resize(255, 0);
    f.extend_from_slice(&name);
    f.extend_from_slice(&(8u32 + 4 + 8 + 2).to_le_bytes()); // dwTargetSize
    f.extend_from_slice(&2u32.to_le_bytes()); // dwNbElements
    f.extend_from_slice(&0x0800_0000u32.to_le_bytes());
    f.extend_from_slice(&4u32.to_le_bytes());
    f.extend_from_slice(&[0xDE, 0xAD, 0xBE, 0xEF]);
    f.extend_from_slice(&0x0800_0010u32.to_le_bytes());
    f.extend_from_slice(&2u32.to_le_bytes());
    f.extend_from_slice(&[1, 2]);
    let len = f.len() as u32;
    f[6..10].copy_from_slice(&len.to_le_bytes());
    // Suffix: bcdDevice, idProduct, idVendor, bcdDFU 0x011A, "UFD", 16, CRC.
    f.extend_from_slice(&[
        0xFF, 0xFF, 0x11, 0xDF, 0x83, 0x04, 0x1A, 0x01, b'U', b'F', b'D', 16,
    ]);
    let crc = suffix::crc(&f);
    f.extend_from_slice(&crc.to_le_bytes());

    let image = Image::parse(&f, Some("anything.bin")).unwrap();
    assert_eq!(image.format, Format::DfuSe);
    assert_eq!(
        image.segments,
        vec![
            Segment::new(0x0800_0000, [0xDE, 0xAD, 0xBE, 0xEF]),
            Segment::new(0x0800_0010, [1, 2])
        ]
    );
    assert_eq!(image.dfuse_targets.len(), 1);
    assert_eq!(image.dfuse_targets[0].alt, 0);
    assert_eq!(
        image.dfuse_targets[0].name.as_deref(),
        Some("Internal Flash")
    );
    let s = image.suffix.unwrap();
    assert_eq!(
        (s.vendor, s.product, s.bcd_dfu, s.crc_ok),
        (0x0483, 0xDF11, 0x011A, true)
    );
    // Our writer produces the same bytes for the same content.
    assert_eq!(
        image.to_dfuse(0x0483, 0xDF11, 0xFFFF, 0, "Internal Flash"),
        f
    );
}

/// Tiny ELF files built field by field, all four class/endianness combinations:
/// physical addresses are used, non-LOAD and empty LOAD headers are skipped, the
/// .bss tail (memsz > filesz) is not data.
#[test]
fn hand_built_elf_all_classes() {
    for class64 in [false, true] {
        for big in [false, true] {
            let mut data_seg = Phdr::load(0x0800_1000, b"init-data");
            data_seg.vaddr = 0x2000_0000;
            data_seg.memsz = 0x400;
            let mut bss = Phdr::load(0x2000_0400, b"");
            bss.memsz = 0x1000;
            let mut note = Phdr::load(0, b"note");
            note.p_type = 4;
            let elf = build_elf(
                class64,
                big,
                0x0800_0009,
                &[
                    Phdr::load(0x0800_0000, &[1, 2, 3, 4, 5]),
                    note,
                    data_seg,
                    bss,
                ],
            );
            let image = Image::parse(&elf, None).unwrap();
            assert_eq!(image.format, Format::Elf, "class64={class64} big={big}");
            assert_eq!(
                image.segments,
                vec![
                    Segment::new(0x0800_0000, [1, 2, 3, 4, 5]),
                    Segment::new(0x0800_1000, b"init-data".to_vec())
                ],
                "class64={class64} big={big}"
            );
            assert_eq!(image.entry, Some(0x0800_0009));
        }
    }
}
