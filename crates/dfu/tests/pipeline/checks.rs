//! Placement and every check of the plan, each shown to refuse (with its code) and, where
//! it may be overridden, to give way to `force`.

use super::*;
use dfu::{AddressSource, Code, Severity};
use dfu_image::particle::build_module;
use dfu_image::{Dependency, ModuleFunction};

const CORE: u16 = 0;
const PHOTON: u16 = 6;

fn module(
    platform: u16,
    function: ModuleFunction,
    index: u8,
    start: u32,
    deps: &[Dependency],
) -> Firmware {
    raw(
        "m.bin",
        build_module(platform, function, index, 2, start, deps, 3000),
    )
}

/// A Cortex-M image linked for `link_base`.
fn linked_for(link_base: u32, len: usize) -> Firmware {
    let mut v = 0x2000_5000u32.to_le_bytes().to_vec();
    for _ in 1..16 {
        v.extend_from_slice(&(link_base + 0x1A1).to_le_bytes());
    }
    v.extend(pattern(len - v.len(), 11));
    raw("app.bin", v)
}

/// The codes of the refusals of a plan.
fn refusals(p: &FlashPlan) -> Vec<Code> {
    p.findings
        .iter()
        .filter(|f| f.refuses())
        .map(|f| f.code)
        .collect()
}

#[test]
fn raw_binaries_are_placed_by_address_header_or_profile() {
    let photon = Sim::new("photon");
    let user = module(PHOTON, ModuleFunction::UserPart, 1, 0x080A_0000, &[]);
    let p = photon.plan(vec![user], &FlashOptions::default()).unwrap();
    assert!(matches!(
        p.placements[0].source,
        AddressSource::ModuleHeader { .. }
    ));
    assert_eq!(p.placements[0].parts[0].address, 0x080A_0000);
    let f405 = Sim::new("stm32f405");
    let p = f405
        .plan(
            vec![raw("a.bin", pattern(100, 1))],
            &FlashOptions::default(),
        )
        .unwrap();
    assert_eq!(
        p.placements[0].source,
        AddressSource::ProfileApp {
            profile: "stm32f405".into()
        }
    );
    assert_eq!(p.steps[0].writes[0].address, 0x0800_0000);
    let p = f405
        .plan(vec![raw("a.bin", pattern(100, 1))], &at(0x0800_4000))
        .unwrap();
    assert_eq!(p.placements[0].source, AddressSource::Given);
    let dapboot = Sim::new("dapboot");
    let p = dapboot
        .plan(
            vec![raw("a.bin", pattern(100, 1))],
            &FlashOptions::default(),
        )
        .unwrap();
    assert_eq!(p.placements[0].source, AddressSource::PlainBase);
    assert_eq!(p.placements[0].parts[0].address, 0x0800_2000);
    assert!(p.refusal().is_none());
}

#[test]
fn every_check_refuses_with_its_code() {
    let photon = Sim::new("photon,system-version=1");
    let f405 = Sim::new("stm32f405");
    let needs_v3 = [Dependency {
        function: ModuleFunction::SystemPart,
        index: 2,
        version: 3,
    }];
    let mut damaged = build_module(
        PHOTON,
        ModuleFunction::UserPart,
        1,
        2,
        0x080A_0000,
        &[],
        3000,
    );
    damaged[100] ^= 1;
    let suffixed = dfu_image::suffix::add(&pattern(4096, 2), 0x2b04, 0xd006, 0xffff);
    let elf = include_bytes!("../../../dfu-image/tests/fixtures/fw64.elf");
    let cases: Vec<(&Sim, Firmware, FlashOptions, Code)> = vec![
        (
            &photon,
            raw("empty.bin", vec![]),
            at(0x080A_0000),
            Code::Empty,
        ),
        (
            &photon,
            raw("big.bin", pattern(64, 1)),
            at(0x080F_FFF0),
            Code::OutsideMemory,
        ),
        (
            &photon,
            raw("dct.bin", pattern(64, 1)),
            at(0x0800_4000),
            Code::ReadOnly,
        ),
        (
            &photon,
            module(CORE, ModuleFunction::Monolithic, 0, 0x0800_5000, &[]),
            FlashOptions::default(),
            Code::Platform,
        ),
        (
            &f405,
            module(CORE, ModuleFunction::UserPart, 1, 0x0800_5000, &[]),
            FlashOptions::default(),
            Code::Platform,
        ),
        (
            &photon,
            module(PHOTON, ModuleFunction::UserPart, 1, 0x080A_0000, &[]),
            at(0x080C_0000),
            Code::ModuleAddress,
        ),
        (
            &photon,
            raw("damaged.bin", damaged),
            FlashOptions::default(),
            Code::ModuleCrc,
        ),
        (
            &photon,
            module(PHOTON, ModuleFunction::UserPart, 1, 0x080A_0000, &needs_v3),
            FlashOptions::default(),
            Code::Dependency,
        ),
        (
            &photon,
            linked_for(0x0800_5000, 4096),
            FlashOptions::default(),
            Code::VectorTable,
        ),
        (
            &f405,
            raw("photon.dfu", suffixed),
            at(0x0800_0000),
            Code::SuffixIds,
        ),
        (
            &f405,
            Firmware::parse("host.elf", elf).unwrap(),
            FlashOptions::default(),
            Code::ElfMachine,
        ),
    ];
    for (sim, file, opts, code) in cases {
        let name = file.name.clone();
        let plan = sim.plan(vec![file], &opts).unwrap();
        // The file's own checks come first; a Core image at 0x08005000 on a Photon also
        // lands on read-only pages.
        assert_eq!(
            refusals(&plan).first(),
            Some(&code),
            "{name}: {:#?}",
            plan.findings
        );
        let e = plan.check().unwrap_err();
        assert_eq!(e.code(), code);
        assert_eq!(e.kind(), dfu::ErrorKind::Refused);
    }
}

#[test]
fn force_overrides_what_may_be_overridden_and_nothing_else() {
    let photon = Sim::new("photon");
    let forced = FlashOptions {
        force: true,
        ..at(0x0000_0000)
    };
    let opts = FlashOptions {
        alt: Some(1),
        ..forced.clone()
    };
    let plan = photon
        .plan(vec![raw("dct.bin", pattern(64, 1))], &opts)
        .unwrap();
    assert!(plan.refusal().is_none());
    assert_eq!(plan.findings[0].code, Code::ProtectedRegion);
    assert_eq!(plan.findings[0].severity, Severity::Overridden);
    let opts = FlashOptions {
        alt: Some(1),
        force: false,
        ..forced.clone()
    };
    let plan = photon
        .plan(vec![raw("dct.bin", pattern(64, 1))], &opts)
        .unwrap();
    assert_eq!(refusals(&plan), [Code::ProtectedRegion]);
    let plan = photon
        .plan(
            vec![raw("dct.bin", pattern(64, 1))],
            &FlashOptions {
                force: true,
                ..at(0x0800_4000)
            },
        )
        .unwrap();
    assert_eq!(
        refusals(&plan),
        [Code::ReadOnly],
        "the device itself refuses read-only pages"
    );
}

#[test]
fn requests_that_cannot_be_planned_are_errors() {
    let f405 = Sim::new("stm32f405");
    let hex = Firmware::parse("a.hex", b":0400000001020304F2\n:00000001FF\n").unwrap();
    let e = f405.plan(vec![hex], &at(0x0800_0000)).unwrap_err();
    assert_eq!(e.code(), Code::AddressConflict);
    let a = raw("a.bin", pattern(100, 1));
    let b = raw("b.bin", pattern(100, 2));
    let e = f405.plan(vec![a, b], &at(0x0800_0000)).unwrap_err();
    assert_eq!(
        (e.code(), e.kind()),
        (Code::InputOverlap, dfu::ErrorKind::Input)
    );
}

#[test]
fn modules_are_ordered_by_dependency_not_by_command_line() {
    let electron = Sim::new("electron,system-version=1");
    let dep = |i| {
        [Dependency {
            function: ModuleFunction::SystemPart,
            index: i,
            version: 2,
        }]
    };
    let part = |i: u8, start: u32| {
        let deps = if i > 1 {
            dep(i - 1).to_vec()
        } else {
            Vec::new()
        };
        let mut f = raw(
            "p.bin",
            build_module(10, ModuleFunction::SystemPart, i, 2, start, &deps, 3000),
        );
        f.name = format!("part{i}");
        f
    };
    let files = vec![
        part(3, 0x0804_0000),
        part(1, 0x0806_0000),
        part(2, 0x0802_0000),
    ];
    let plan = electron.plan(files, &FlashOptions::default()).unwrap();
    let order: Vec<&str> = plan.steps.iter().map(|s| s.files[0].as_str()).collect();
    assert_eq!(order, ["part1", "part2", "part3"]);
    assert!(plan.refusal().is_none(), "{:#?}", plan.findings);
}
