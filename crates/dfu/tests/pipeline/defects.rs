//! The breaks of "nothing lost" found on real callers' command lines, one test each, on
//! devices pre-filled with data and checked against the simulator's memory. Each names the
//! invariant of `invariants.rs` that catches its whole class.

use super::world::{noise, Ran, World};
use dfu::{Code, DfuError, Firmware, FlashOptions, FlashReport};

fn image(len: usize, seed: u64) -> Firmware {
    Firmware::parse("img.bin", &noise(len, seed)).unwrap()
}

fn report(ran: Ran) -> Result<FlashReport, String> {
    match ran {
        Ran::Done(_, Ok(r)) => Ok(r),
        Ran::Done(_, Err(f)) => Err(format!("{} ({})", f.error, f.error.code())),
        Ran::NotPlanned(e) | Ran::NoDevice(e) => Err(e.to_string()),
    }
}

/// The refusal's code, and that nothing was erased or written.
fn refused(ran: &Ran) -> Code {
    match ran {
        Ran::Done(plan, Err(f)) => {
            assert!(
                f.done.erased.is_empty() && f.done.written.is_empty(),
                "{:?}",
                f.done
            );
            assert!(matches!(f.error, DfuError::Refused(_)), "{}", f.error);
            plan.refusal().map_or(f.error.code(), |r| r.code)
        }
        Ran::Done(_, Ok(r)) => panic!("not refused: {r:?}"),
        Ran::NotPlanned(e) | Ran::NoDevice(e) => panic!("{e}"),
    }
}

/// Invariant 5 (and 6): the ROM announces 512 x 2 KiB and erases 1 KiB pages, so erasing by
/// the announced layout left every other KiB unerased and the write failed with errPROG
/// after the old firmware was erased. Every density, a device that holds firmware, a
/// different image.
#[test]
fn a_gd32vf103_that_holds_firmware_is_flashed_again_at_every_density() {
    for (serial, kib) in [("3CBJ", 128), ("3C8J", 64), ("3C6J", 32), ("3C4J", 16)] {
        let w = World::new("gd32vf103", &format!(",serial={serial}"), 5, 0, Some(0));
        let opts = FlashOptions {
            address: Some(0x0800_0000),
            ..FlashOptions::default()
        };
        let old = image(kib * 1024 / 2 + 300, 1);
        report(w.flash(None, &old, &opts)).unwrap();
        let new = image(kib * 1024 / 2 - 700, 2);
        let r = report(w.flash(None, &new, &opts)).unwrap_or_else(|e| panic!("{serial}: {e}"));
        assert!(r.verified, "{serial}");
        // 1 KiB pages: the erases are the pages the image touches, no more.
        assert!(
            r.erased.iter().all(|&(_, n)| n == 1024),
            "{serial}: {:?}",
            r.erased
        );
        let mem = w.memory();
        let flash = &mem.iter().find(|m| m.0 == 0).unwrap().2;
        assert_eq!(
            flash.len(),
            kib * 1024,
            "{serial}: the simulated part's flash"
        );
        let data = &new.image.segments[0].data;
        assert_eq!(&flash[..data.len()], &data[..], "{serial}");
    }
}

/// A GD32VF103 whose serial carries no known part code: nothing is erased on a guess.
#[test]
fn an_unknown_gd32vf103_part_is_refused_before_anything_is_erased() {
    let w = World::new("gd32vf103", ",serial=3C9J", 6, 0, Some(0));
    let before = w.memory();
    let ran = w.flash(None, &image(5000, 3), &FlashOptions::default());
    assert_eq!(refused(&ran), Code::LayoutUnknown);
    assert!(w.memory() == before);
}

/// Invariant 2: the SimTrace's alt 1 is its bootloader partition (plain DFU); writing it
/// took no flag.
#[test]
fn the_simtrace_bootloader_partition_takes_force() {
    let w = World::new("simtrace", "", 7, 1, None);
    let before = w.memory();
    let small = image(1000, 4);
    let opts = FlashOptions {
        alt: Some(1),
        ..FlashOptions::default()
    };
    assert_eq!(
        refused(&w.flash(None, &small, &opts)),
        Code::ProtectedRegion
    );
    assert!(w.memory() == before, "the bootloader partition changed");
    let forced = FlashOptions {
        force: true,
        ..opts
    };
    assert!(report(w.flash(None, &small, &forced)).unwrap().verified);
}

/// Invariant 4: `--preserve` with `--mass-erase` erased the whole chip.
#[test]
fn preserve_with_a_mass_erase_is_refused_before_the_erase() {
    let w = World::new("stm32f405", "", 8, 0, Some(0x8000));
    let before = w.memory();
    let opts = FlashOptions {
        address: Some(0x0800_8000),
        mass_erase: true,
        preserve: true,
        force: true,
        ..FlashOptions::default()
    };
    assert_eq!(
        refused(&w.flash(None, &image(3000, 5), &opts)),
        Code::Preserve
    );
    assert!(w.memory() == before);
}

/// Invariant 4: on dapboot (plain DFU, 1 KiB pages) a 100-byte image cleared the other 924
/// bytes of its page with `--preserve`, and without a note.
#[test]
fn preserve_on_plain_dfu_keeps_the_rest_of_the_page() {
    let w = World::new("dapboot", "", 9, 0, None);
    let before = w.memory();
    let small = image(100, 6);
    let opts = FlashOptions {
        preserve: true,
        ..FlashOptions::default()
    };
    let r = report(w.flash(None, &small, &opts)).unwrap();
    assert!(r.verified);
    let after = w.memory();
    let (b, a) = (&before[0].2, &after[0].2);
    assert_eq!(&a[..100], &small.image.segments[0].data[..]);
    assert_eq!(&a[100..], &b[100..], "bytes outside the image changed");
    assert!(
        r.notes
            .iter()
            .any(|n| n.code == Code::Kept && n.message.starts_with("kept 924 byte(s)")),
        "{:?}",
        r.notes
    );
    // Without --preserve the loss is named, in the dry run too.
    let plain = FlashOptions {
        dry_run: true,
        ..FlashOptions::default()
    };
    let r = report(w.flash(None, &image(200, 7), &plain)).unwrap();
    assert!(
        r.notes
            .iter()
            .any(|n| n.code == Code::ClearsNearby && n.message.contains("clears 824 byte(s)")),
        "{:?}",
        r.notes
    );
}

/// Invariant 6 (a device that `dfu` cannot recover): OTP bits that would need to go from 0
/// to 1 failed at the device with errPROG; now the plan refuses, naming the first address.
#[test]
fn otp_bits_that_cannot_be_set_are_refused_with_the_first_address() {
    let w = World::new("stm32f405", "", 10, 2, None);
    let before = w.memory();
    let otp = &before.iter().find(|m| m.0 == 2).unwrap().2;
    // The first 8 bytes clear bits only; the 9th wants a bit the device holds at 0.
    let mut bytes: Vec<u8> = otp[..16].to_vec();
    bytes[8] |= 0x01;
    let opts = FlashOptions {
        alt: Some(2),
        irreversible: true,
        ..FlashOptions::default()
    };
    let ran = w.flash(None, &Firmware::parse("otp.bin", &bytes).unwrap(), &opts);
    assert_eq!(refused(&ran), Code::OtpBits);
    let Ran::Done(plan, Err(f)) = &ran else {
        unreachable!()
    };
    assert!(f.error.to_string().contains("0x1fff7808"), "{}", f.error);
    // The default address of alt 2 is its own start.
    assert_eq!(plan.placements[0].parts[0].address, 0x1FFF_7800);
    assert!(w.memory() == before);
}

/// Invariant 5: a sector write-protected by nWRP failed at the device with errWRITE after
/// the others were erased; now it is refused before, naming the sector and the way out.
#[test]
fn a_write_protected_sector_is_refused_before_anything_is_erased() {
    let w = World::new("stm32f405", "", 11, 0, Some(0x8000));
    // Sector 2 (0x08008000) protected: nWRP bit 2 clear.
    let ob = [
        0xEC, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFB, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF,
    ];
    let target = dfu_image::DfuseTarget {
        alt: 1,
        name: Some("Option Bytes".into()),
        segments: vec![dfu_image::Segment::new(0x1FFF_C000, ob)],
    };
    let file = dfu_image::dfuse::write(&[target], 0x0483, 0xdf11, 0xffff);
    let ob_file = Firmware::parse("ob.dfu", &file).unwrap();
    let force = FlashOptions {
        force: true,
        ..FlashOptions::default()
    };
    report(w.flash(None, &ob_file, &force)).unwrap();
    let before = w.memory();
    let opts = FlashOptions {
        address: Some(0x0800_4000),
        ..FlashOptions::default()
    };
    let ran = w.flash(None, &image(40_000, 8), &opts);
    assert_eq!(refused(&ran), Code::WriteProtected);
    let Ran::Done(_, Err(f)) = &ran else {
        unreachable!()
    };
    let DfuError::Refused(finding) = &f.error else {
        unreachable!()
    };
    assert!(
        finding
            .message
            .contains("sector(s) 2 (0x08008000-0x0800bfff)"),
        "{}",
        finding.message
    );
    assert!(
        finding.detail.contains("dfu option-bytes write"),
        "{}",
        finding.detail
    );
    assert!(
        w.memory() == before,
        "sector 1 was erased before the refusal"
    );
}
