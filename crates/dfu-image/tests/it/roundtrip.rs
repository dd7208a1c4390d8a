//! Property tests: writing an image and reading it back keeps every byte and address.

use crate::util::{build_elf, coalesce, Phdr};
use dfu_image::{Format, Image, Segment};
use proptest::prelude::*;

/// 1 to 5 non-overlapping segments (gaps of 0 make adjacent segments) anywhere in
/// the 32-bit space, including right at the top.
fn segments(max_gap: u64) -> impl Strategy<Value = Vec<Segment>> {
    (
        prop_oneof![
            0u64..0x1_0000,
            0x0800_0000u64..0x0800_1000,
            0xFFFF_0000u64..0xFFFF_F000
        ],
        prop::collection::vec(
            (0..=max_gap, prop::collection::vec(any::<u8>(), 1..300)),
            1..5,
        ),
    )
        .prop_map(|(start, parts)| {
            let mut at = start;
            let mut out = Vec::new();
            for (gap, data) in parts {
                at += gap;
                if at + data.len() as u64 > 1 << 32 {
                    break;
                }
                let len = data.len() as u64;
                out.push(Segment::new(at as u32, data));
                at += len;
            }
            out
        })
        .prop_filter("at least one segment", |s| !s.is_empty())
}

fn image(segments: Vec<Segment>, entry: Option<u32>) -> Image {
    let mut i = Image::from_segments(Format::Bin, segments).unwrap();
    i.entry = entry;
    i
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ihex(segs in segments(0x3_0000), entry in proptest::option::of(any::<u32>())) {
        let text = image(segs.clone(), entry).to_ihex();
        let back = Image::parse(text.as_bytes(), None).unwrap();
        prop_assert_eq!(back.format, Format::IntelHex);
        prop_assert_eq!(back.segments, coalesce(&segs));
        prop_assert_eq!(back.entry, entry);
    }

    #[test]
    fn srec(segs in segments(0x3_0000), entry in proptest::option::of(any::<u32>())) {
        let text = image(segs.clone(), entry).to_srec();
        let back = Image::parse(text.as_bytes(), None).unwrap();
        prop_assert_eq!(back.format, Format::SRecord);
        prop_assert_eq!(back.segments, coalesce(&segs));
        prop_assert_eq!(back.entry, Some(entry.unwrap_or(0)));
    }

    #[test]
    fn dfuse(segs in segments(0x3_0000), alt in any::<u8>(), name in "[ -~]{0,300}") {
        let file = image(segs.clone(), None).to_dfuse(0x0483, 0xdf11, 0x2200, alt, &name);
        let back = Image::parse(&file, None).unwrap();
        prop_assert_eq!(back.format, Format::DfuSe);
        prop_assert_eq!(&back.segments, &segs);
        let t = &back.dfuse_targets[0];
        prop_assert_eq!(t.alt, alt);
        let cut: String = name.chars().take(254).collect();
        prop_assert_eq!(t.name.clone(), (!name.is_empty()).then_some(cut));
        let s = back.suffix.unwrap();
        prop_assert_eq!((s.vendor, s.product, s.bcd_device, s.bcd_dfu), (0x0483, 0xdf11, 0x2200, 0x011a));
    }

    #[test]
    fn bin(segs in segments(0x2000), fill in any::<u8>()) {
        let (start, flat) = image(segs.clone(), None).to_bin(fill).unwrap();
        prop_assert_eq!(start, segs[0].address);
        let mut back = Image::parse(&flat, None).unwrap();
        prop_assert!(back.needs_address);
        back.place(start).unwrap();
        let (s2, flat2) = back.to_bin(0).unwrap();
        prop_assert_eq!(s2, start);
        prop_assert_eq!(&flat2, &flat);
        // Every byte where it belongs, every gap byte is `fill`.
        let mut expected = vec![fill; flat.len()];
        for s in &segs {
            let at = (s.address - start) as usize;
            expected[at..at + s.data.len()].copy_from_slice(&s.data);
        }
        prop_assert_eq!(flat, expected);
    }

    #[test]
    fn suffixed_bin(data in prop::collection::vec(any::<u8>(), 0..500), vid: u16, pid: u16, did: u16) {
        let file = dfu_image::suffix::add(&data, vid, pid, did);
        let back = Image::parse(&file, None).unwrap();
        prop_assert_eq!(back.format, Format::Suffixed);
        prop_assert_eq!(back.total_len(), data.len() as u64);
        prop_assert_eq!(dfu_image::suffix::remove(&file).unwrap(), data);
    }

    #[test]
    fn elf(segs in segments(0x3_0000), class64: bool, big: bool) {
        let phdrs: Vec<Phdr> = segs.iter().map(|s| Phdr::load(u64::from(s.address), &s.data)).collect();
        let back = Image::parse(&build_elf(class64, big, 0, &phdrs), None).unwrap();
        prop_assert_eq!(back.segments, segs);
    }

    #[test]
    fn place_moves_everything(segs in segments(0x3_0000), to in 0u32..0x8000_0000) {
        let mut i = image(segs.clone(), None);
        let span = i.end().unwrap() - u64::from(i.start().unwrap());
        let r = i.place(to);
        if u64::from(to) + span <= 1 << 32 {
            prop_assert!(r.is_ok());
            prop_assert_eq!(i.start(), Some(to));
            prop_assert_eq!(i.total_len(), segs.iter().map(|s| s.data.len() as u64).sum::<u64>());
        } else {
            prop_assert!(r.is_err());
            prop_assert_eq!(i.segments, segs);
        }
    }
}
