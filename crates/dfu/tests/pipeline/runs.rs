//! Plans executed: multi-target DfuSe files, the dry run against the real run, mass erase,
//! and what a failure reports.

use super::*;
use dfu::Code;
use dfu_image::{DfuseTarget, Segment};

fn two_targets(app: &[u8], option_bytes: &[u8], second_alt: u8) -> Firmware {
    let targets = [
        DfuseTarget {
            alt: 0,
            name: Some("Internal Flash".into()),
            segments: vec![Segment::new(0x0800_0000, app)],
        },
        DfuseTarget {
            alt: second_alt,
            name: Some("Option Bytes".into()),
            segments: vec![Segment::new(0x1FFF_C000, option_bytes)],
        },
    ];
    Firmware::parse(
        "two.dfu",
        &dfu_image::dfuse::write(&targets, 0x0483, 0xdf11, 0xffff),
    )
    .unwrap()
}

#[test]
fn each_dfuse_target_lands_on_its_own_alt_setting() {
    let sim = Sim::new("stm32f405");
    let app = pattern(40_000, 3);
    // Option bytes that keep the device unprotected (RDP 0xAA, no nWRP bit cleared).
    let ob = [
        0xe0, 0xaa, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff,
    ];
    let done = sim.flash(vec![two_targets(&app, &ob, 1)], &FlashOptions::default());
    let report = done.ok();
    assert!(report.verified);
    // The ROM resets to apply option bytes: they go last, and replace the leave.
    assert!(report.leave.is_none());
    assert!(done
        .plan
        .findings
        .iter()
        .any(|f| f.code == dfu::Code::OptionBytes && !f.refuses()));
    assert_eq!(
        done.plan.steps.iter().map(|s| s.alt).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        done.plan.leave.map(|l| (l.alt, l.address)),
        Some((0, 0x0800_0000))
    );
    assert_eq!(sim.read(0, 0x0800_0000, app.len() as u64), app);
    assert_eq!(sim.read(1, 0x1FFF_C000, 16), ob);
    // Only the asked alt setting's target, when one is asked for.
    let sim = Sim::new("stm32f405");
    let only = FlashOptions {
        alt: Some(1),
        ..FlashOptions::default()
    };
    sim.flash(vec![two_targets(&app, &ob, 1)], &only).ok();
    assert_eq!(sim.read(1, 0x1FFF_C000, 16), ob);
    assert!(sim.read(0, 0x0800_0000, 64).iter().all(|b| *b == 0xFF));
}

#[test]
fn a_target_for_a_missing_alt_setting_is_refused_before_anything_is_written() {
    let sim = Sim::new("stm32f405");
    let plan = sim
        .plan(
            vec![two_targets(&pattern(4096, 1), &[0; 16], 9)],
            &FlashOptions::default(),
        )
        .unwrap();
    assert_eq!(plan.refusal().map(|f| f.code), Some(Code::NoSuchAlt));
    let done = sim.flash(
        vec![two_targets(&pattern(4096, 1), &[0; 16], 9)],
        &FlashOptions::default(),
    );
    let f = done.result.unwrap_err();
    assert_eq!(f.error.code(), Code::NoSuchAlt);
    assert!(f.done.erased.is_empty() && f.done.written.is_empty());
    assert!(sim.read(0, 0x0800_0000, 64).iter().all(|b| *b == 0xFF));
}

/// (start, length) pairs.
type Ranges = Vec<(u32, u64)>;

/// The steps a run announces, as (alt, erased sectors, written runs).
fn announced(events: &[Event]) -> Vec<(u8, Ranges, Ranges)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Plan { steps, .. } => Some(steps),
            _ => None,
        })
        .flatten()
        .map(|s| {
            let r = |v: &[dfu::json::Range]| v.iter().map(|x| (x.address, x.length)).collect();
            (s.alt, r(&s.erase), r(&s.write))
        })
        .collect()
}

#[test]
fn the_dry_run_lists_exactly_what_the_real_run_then_does() {
    let sim = Sim::new("stm32f405");
    let mut img = pattern(300 * 1024, 5);
    let dry = FlashOptions {
        dry_run: true,
        ..at(0x0800_0000)
    };
    let cases = ["blank", "equal", "different"];
    for case in cases {
        if case == "different" {
            img[70 * 1024] ^= 0xFF;
            img[200 * 1024] ^= 0xFF;
        }
        let planned = sim.flash(vec![raw("a.bin", img.clone())], &dry);
        let planned_report = planned.ok();
        assert!(
            planned_report.dry_run
                && planned_report.written.is_empty()
                && planned_report.erased.is_empty()
        );
        let real = sim.flash(vec![raw("a.bin", img.clone())], &at(0x0800_0000));
        let report = real.ok();
        let erased: Vec<(u32, u64)> = report
            .erased
            .iter()
            .map(|(a, n)| (*a, u64::from(*n)))
            .collect();
        let steps = announced(&planned.events);
        assert_eq!(steps.len(), 1, "{case}");
        assert_eq!(steps[0].1, erased, "{case}: erases");
        assert_eq!(steps[0].2, report.written, "{case}: writes");
        assert_eq!(
            announced(&real.events),
            steps,
            "{case}: the real run announces the same"
        );
        match case {
            "blank" => assert!(erased.is_empty() && report.written.len() == 1),
            "equal" => assert!(erased.is_empty() && report.written.is_empty()),
            _ => assert_eq!(
                erased,
                [(0x0801_0000, 64 * 1024), (0x0802_0000, 128 * 1024)]
            ),
        }
        assert_eq!(sim.read(0, 0x0800_0000, img.len() as u64), img);
    }
}

#[test]
fn the_plan_is_announced_before_the_first_erase_or_write() {
    let sim = Sim::new("stm32f405");
    sim.flash(vec![raw("a.bin", pattern(20_000, 1))], &at(0x0800_0000))
        .ok();
    let done = sim.flash(vec![raw("a.bin", pattern(20_000, 2))], &at(0x0800_0000));
    done.ok();
    let pos = |want: fn(&Event) -> bool| done.events.iter().position(want).unwrap();
    let plan = pos(|e| matches!(e, Event::Plan { .. }));
    let erase = pos(|e| {
        matches!(
            e,
            Event::Start {
                phase: dfu::Phase::Erase,
                ..
            }
        )
    });
    let write = pos(|e| {
        matches!(
            e,
            Event::Start {
                phase: dfu::Phase::Write,
                ..
            }
        )
    });
    assert!(plan < erase && erase < write, "{:?}", done.events);
}

#[test]
fn a_mass_erase_that_would_remove_system_firmware_needs_force() {
    let sim = Sim::new("photon,system-version=1");
    let opts = FlashOptions {
        mass_erase: true,
        ..FlashOptions::default()
    };
    let user = raw(
        "u.bin",
        dfu_image::particle::build_module(
            6,
            dfu_image::ModuleFunction::UserPart,
            1,
            2,
            0x080A_0000,
            &[],
            3000,
        ),
    );
    let plan = sim.plan(vec![user], &opts).unwrap();
    let f = plan.refusal().unwrap();
    assert_eq!(f.code, Code::MassEraseSystem);
    assert!(f.message.contains("system-part1"), "{}", f.message);
    assert!(plan
        .mass_erase_loses
        .iter()
        .any(|l| l.contains("bootloader")));
}

#[test]
fn a_failure_reports_exactly_what_was_erased_and_written() {
    // The 7th DNLOAD fails: the set-address that reads the option bytes (write protection),
    // the erase, the set-address and three data blocks went before it.
    let sim = Sim::new("stm32f405,fault=disconnect@dnload:7");
    let done = sim.flash(
        vec![raw("a.bin", pattern(10_000, 7))],
        &FlashOptions {
            skip_unchanged: false,
            ..at(0x0800_0000)
        },
    );
    let f = done.result.unwrap_err();
    assert_eq!(f.error.kind(), dfu::ErrorKind::Device);
    assert_eq!(f.done.erased, [(0x0800_0000, 16 * 1024)]);
    assert_eq!(f.done.written, [(0x0800_0000, 3 * 2048)]);
    assert!(!f.done.verified);
    let clean = Sim {
        spec: sim.spec.replace(",fault=disconnect@dnload:7", ""),
        ..sim
    };
    // The device holds what the report says was written, and the rest of the sector is erased.
    let held = clean.read(0, 0x0800_0000, 16 * 1024);
    assert_eq!(held[..3 * 2048], pattern(10_000, 7)[..3 * 2048]);
    assert!(held[4 * 2048..].iter().all(|b| *b == 0xFF));
    clean
        .flash(vec![raw("a.bin", pattern(10_000, 7))], &at(0x0800_0000))
        .ok();
    assert_eq!(clean.read(0, 0x0800_0000, 10_000), pattern(10_000, 7));
}
