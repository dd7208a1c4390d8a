//! Particle module headers: building, finding, checking.

use dfu_image::particle::{self, build_module, find, ModuleFunction};
use dfu_image::{Dependency, Format, Image, Segment};

const SYSTEM_PART_2: Dependency = Dependency {
    function: ModuleFunction::SystemPart,
    index: 2,
    version: 1512,
};

#[test]
fn round_trip_for_every_layout() {
    // (platform, function, index, start, expected header offset)
    let cases = [
        (
            0u16,
            ModuleFunction::Monolithic,
            0u8,
            0x0800_5000u32,
            0x10Cu32,
        ),
        (6, ModuleFunction::UserPart, 1, 0x080A_0000, 0),
        (6, ModuleFunction::SystemPart, 1, 0x0802_0000, 0x184),
        (6, ModuleFunction::Bootloader, 0, 0x0800_0000, 0x184),
        (10, ModuleFunction::SystemPart, 3, 0x0804_0000, 0x184),
        (12, ModuleFunction::SystemPart, 1, 0x0003_0000, 0x200),
        (13, ModuleFunction::UserPart, 1, 0x000D_4000, 0),
        (32, ModuleFunction::UserPart, 1, 0x0860_0000, 0),
    ];
    for (platform, function, index, start, offset) in cases {
        let deps = [
            SYSTEM_PART_2,
            Dependency {
                function: ModuleFunction::Bootloader,
                index: 0,
                version: 7,
            },
        ];
        let bytes = build_module(platform, function, index, 1512, start, &deps, 1000);
        let what = format!("platform {platform} {function}");
        let m = find(&bytes, None).unwrap_or_else(|| panic!("{what}: not found"));
        assert_eq!(m.offset, offset, "{what}");
        assert_eq!(
            (m.platform_id, m.function, m.index, m.version),
            (platform, function, index, 1512),
            "{what}"
        );
        assert_eq!(m.start, start, "{what}");
        assert_eq!(m.module_len(), bytes.len() as u64, "{what}");
        assert_eq!(m.dependencies, deps.to_vec(), "{what}");
        assert_eq!(m.crc_ok, Some(true), "{what}");
        // The same through Image: raw, then placed where the header says.
        let mut image = Image::parse(&bytes, Some("module.bin")).unwrap();
        assert_eq!(image.particle_module(), Some(m.clone()), "{what}");
        image.place(m.start).unwrap();
        assert_eq!(image.particle_module(), Some(m.clone()), "{what}");
        // Placed elsewhere, the header no longer agrees with the image.
        image.place(m.start.wrapping_add(0x1000)).unwrap();
        assert_eq!(image.particle_module(), None, "{what}");
    }
}

#[test]
fn names() {
    let m = find(
        &build_module(10, ModuleFunction::SystemPart, 1, 300, 0x0802_0000, &[], 64),
        None,
    )
    .unwrap();
    assert_eq!(m.platform_name(), Some("Electron"));
    assert_eq!(m.function.name(), "system part");
    assert_eq!(particle::platform_name(0), Some("Core"));
    assert_eq!(particle::platform_name(26), Some("Tracker"));
    assert_eq!(particle::platform_name(9999), None);
    assert_eq!(ModuleFunction::RadioStack.to_string(), "radio stack");
    assert_eq!(ModuleFunction::Other(42).to_string(), "function 42");
}

#[test]
fn modules_are_described_in_words() {
    let describe = |function, index, version| {
        let bytes = build_module(6, function, index, version, 0x0802_0000, &[], 64);
        find(&bytes, None).unwrap().describe()
    };
    assert_eq!(
        describe(ModuleFunction::UserPart, 1, 2),
        "user part 1 version 2"
    );
    assert_eq!(
        describe(ModuleFunction::SystemPart, 2, 6),
        "system part 2 version 6"
    );
    assert_eq!(
        describe(ModuleFunction::Bootloader, 0, 4),
        "bootloader version 4"
    );
    assert_eq!(
        describe(ModuleFunction::Monolithic, 0, 1512),
        "monolithic firmware version 1512"
    );
    let dep = Dependency {
        function: ModuleFunction::SystemPart,
        index: 3,
        version: 1512,
    };
    assert_eq!(dep.describe(), "system part 3 version 1512");
}

#[test]
fn crc_trailer_is_checked() {
    let mut bytes = build_module(
        6,
        ModuleFunction::UserPart,
        1,
        6,
        0x080A_0000,
        &[SYSTEM_PART_2],
        500,
    );
    bytes[300] ^= 0x55;
    assert_eq!(find(&bytes, None).unwrap().crc_ok, Some(false));
    // The trailer is CRC-32/IEEE, big-endian, over everything before it.
    let good = build_module(6, ModuleFunction::UserPart, 1, 6, 0x080A_0000, &[], 500);
    let n = good.len();
    assert_eq!(good[n - 4..], crc32fast::hash(&good[..n - 4]).to_be_bytes());
    // Image cut before the trailer: header found, CRC unknown.
    assert_eq!(find(&good[..n - 4], None).unwrap().crc_ok, None);
    // Padded to even length (old Core images): still fine.
    let mut padded = good.clone();
    padded.push(0);
    assert_eq!(find(&padded, None).unwrap().crc_ok, Some(true));
}

#[test]
fn core_versus_photon() {
    let core = build_module(
        0,
        ModuleFunction::Monolithic,
        0,
        0,
        0x0800_5000,
        &[],
        70_000,
    );
    let photon_user = build_module(
        6,
        ModuleFunction::UserPart,
        1,
        6,
        0x080A_0000,
        &[SYSTEM_PART_2],
        5000,
    );
    let photon_system = build_module(
        6,
        ModuleFunction::SystemPart,
        2,
        1512,
        0x0806_0000,
        &[],
        5000,
    );
    let c = find(&core, None).unwrap();
    assert_eq!(
        (c.offset, c.platform_id, c.platform_name()),
        (0x10C, 0, Some("Core"))
    );
    let u = find(&photon_user, None).unwrap();
    assert_eq!(
        (u.offset, u.platform_id, u.function),
        (0, 6, ModuleFunction::UserPart)
    );
    let s = find(&photon_system, None).unwrap();
    assert_eq!(
        (s.offset, s.function, s.index),
        (0x184, ModuleFunction::SystemPart, 2)
    );
    // The Core image's vector table says it was linked for 0x08005000: written
    // at the Photon's user part address it would not run.
    let image = Image::parse(&core, None).unwrap();
    let vt = image.vector_table().unwrap();
    assert_eq!(vt.likely_link_base(), 0x0800_5000);
    assert!(vt.fits(0x0800_5000, core.len() as u32));
    assert!(!vt.fits(0x080A_0000, core.len() as u32));
    // A user part has no vector table at its start.
    assert!(Image::parse(&photon_user, None)
        .unwrap()
        .vector_table()
        .is_none());
}

#[test]
fn inconsistent_headers_are_not_modules() {
    let good = build_module(6, ModuleFunction::UserPart, 1, 6, 0x080A_0000, &[], 100);
    let patch = |at: usize, v: u8| {
        let mut b = good.clone();
        b[at] = v;
        b
    };
    assert!(find(&patch(14, 1), None).is_none()); // function "resource"
    assert!(find(&patch(14, 9), None).is_none()); // unknown function
    assert!(find(&patch(12, 99), None).is_none()); // unknown platform
    assert!(find(&patch(6, 0xFF), None).is_none()); // end far beyond the file
    assert!(find(&patch(14, 4), None).is_none()); // system part header at offset 0 on a Photon
    assert!(find(&good[..20], None).is_none());
    assert!(find(&[], None).is_none());
    // A hex file of a module at its own address is recognised.
    let image = Image::from_segments(
        Format::IntelHex,
        vec![Segment::new(0x080A_0000, good.clone())],
    )
    .unwrap();
    let hex = Image::parse(image.to_ihex().as_bytes(), None).unwrap();
    assert_eq!(hex.particle_module().unwrap().start, 0x080A_0000);
}
