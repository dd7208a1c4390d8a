use super::*;

#[test]
fn every_builtin_loads_and_validates() {
    let all = builtins();
    assert_eq!(all.len(), 42);
    for p in &all {
        assert_eq!(Profile::builtin(&p.name).unwrap().name, p.name);
        assert!(!p.sources.is_empty(), "{}", p.name);
        for alt in &p.alts {
            assert!(alt.real_layout().is_some(), "{}: {}", p.name, alt.name);
        }
    }
}

#[test]
fn facts_from_the_device_table() {
    let photon = Profile::builtin("photon").unwrap();
    assert_eq!(
        (photon.usb.vendor_id, photon.usb.product_id),
        (0x2b04, 0xd006)
    );
    assert_eq!(
        photon.alts[0].name,
        "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg"
    );
    assert_eq!(photon.app_address, Some(0x080A_0000));
    assert_eq!(photon.dfu.transfer_size, 4096);
    let boot = photon.region_at(0, 0x0800_0100).unwrap();
    assert_eq!(boot.role, Role::Bootloader);
    let core = Profile::builtin("core").unwrap();
    assert!(core.has_quirk(Quirk::ResetOnLeave));
    assert_eq!(core.app_address, Some(0x0800_5000));
    let dap = Profile::builtin("dapboot").unwrap();
    assert!(!dap.is_dfuse());
    assert!(dap.alts[0].announced_layout().is_none());
    let gd = Profile::builtin("gd32vf103").unwrap();
    assert_eq!(gd.alts[0].announced_layout().unwrap().total_size(), 1 << 20);
    assert_eq!(gd.alts[0].real_layout().unwrap().total_size(), 128 << 10);
}

#[test]
fn matching_devices() {
    let m = |v, p, bcd, alts: &[&str]| {
        let alts: Vec<String> = alts.iter().map(|s| s.to_string()).collect();
        Profile::match_device(v, p, bcd, &alts).map(|p| p.name)
    };
    assert_eq!(m(0x2b04, 0xd006, None, &[]).as_deref(), Some("photon"));
    assert_eq!(m(0x2b04, 0xc006, None, &[]).as_deref(), Some("photon"));
    let f405 = Profile::builtin("stm32f405").unwrap();
    let names: Vec<&str> = f405.alts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        m(0x0483, 0xdf11, None, &names).as_deref(),
        Some("stm32f405")
    );
    // A string that is no layout contradicts nothing but supports nothing either.
    assert_eq!(m(0x0483, 0xdf11, Some(0x2200), &["junk"]), None);
    assert_eq!(m(0x0483, 0xdf11, None, &["junk"]), None);
    assert_eq!(m(0x1234, 0x5678, None, &[]), None);
}

#[test]
fn unknown_and_invalid_profiles_are_clear_errors() {
    let e = Profile::builtin("photon2").unwrap_err().to_string();
    assert!(
        e.contains("unknown profile \"photon2\"") && e.contains("stm32f405"),
        "{e}"
    );
    let e = Profile::load("/nonexistent/board.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read profile file"), "{e}");
    let e = Profile::from_toml("name = 3", "x").unwrap_err().to_string();
    assert!(e.starts_with("profile x:"), "{e}");
    let mut text = include_str!("../profiles/dapboot.toml").replace("memory = ", "# ");
    let e = Profile::from_toml(&text, "x").unwrap_err().to_string();
    assert!(e.contains("plain DFU alts need"), "{e}");
    text = include_str!("../profiles/photon.toml").replace(
        "size = 0x20000\nmodule_header_offset = 0\n\n[[regions]]\nname = \"factory\"",
        "size = 0x80000\nmodule_header_offset = 0\n\n[[regions]]\nname = \"factory\"",
    );
    let e = Profile::from_toml(&text, "x").unwrap_err().to_string();
    assert!(e.contains("lies outside"), "{e}");
}

#[test]
fn a_user_profile_file_loads() {
    let dir = std::env::temp_dir().join(format!("dfu-profile-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("myboard.toml");
    let text = include_str!("../profiles/stm32f405.toml")
        .replace("name = \"stm32f405\"", "name = \"myboard\"");
    std::fs::write(&path, text).unwrap();
    let p = Profile::load(path.to_str().unwrap()).unwrap();
    assert_eq!(p.name, "myboard");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timing_model() {
    let t = Profile::builtin("stm32f405").unwrap().timing;
    assert_eq!(t.erase_ms(16384), 250);
    assert_eq!(t.erase_ms(131072), 1000);
    assert_eq!(t.program_ns(2048), 512 * 16000);
    assert_eq!(t.program_ns(3), 16000);
}

#[test]
fn a_bad_layout_is_a_load_error_naming_the_profile_and_the_field() {
    let text = include_str!("../profiles/dapboot.toml")
        .replace("@Flash/0x08002000/56*001Kg", "@Flash/0x08002000/56*001Kz");
    let e = Profile::from_toml(&text, "myboard.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("profile myboard.toml:"), "{e}");
    assert!(e.contains("`memory` is not a memory layout"), "{e}");
    assert!(e.contains("\"DAPBoot DFU\""), "{e}");
}

#[test]
fn serial_triggers_are_typed() {
    let photon = Profile::builtin_ref("photon").unwrap();
    let trigger = photon.runtime.as_ref().unwrap().serial_trigger;
    assert_eq!(trigger, Some(SerialTrigger::Particle14400));
    assert_eq!(trigger.unwrap().baud(), 14400);
    assert_eq!(SerialTrigger::Touch1200.baud(), 1200);
    let text =
        include_str!("../profiles/photon.toml").replace("\"particle-14400\"", "\"touch-1200\"");
    let p = Profile::from_toml(&text, "x").unwrap();
    assert_eq!(
        p.runtime.unwrap().serial_trigger,
        Some(SerialTrigger::Touch1200)
    );
    let text =
        include_str!("../profiles/photon.toml").replace("\"particle-14400\"", "\"particle-1440\"");
    let e = Profile::from_toml(&text, "x").unwrap_err().to_string();
    assert!(
        e.contains("particle-1440") && e.contains("touch-1200"),
        "{e}"
    );
}

#[test]
fn builtins_are_parsed_once_and_shared() {
    let a = Profile::builtin_ref("photon").unwrap();
    let b = Profile::builtin_ref("PHOTON").unwrap();
    assert!(std::ptr::eq(a, b));
    assert!(std::ptr::eq(&builtin_profiles()[4], a));
    assert_eq!(Profile::builtin("photon").unwrap(), *a);
    assert!(Profile::builtin_ref("photon2").is_err());
}

#[test]
fn layouts_are_typed_at_load() {
    let gd = Profile::builtin_ref("gd32vf103").unwrap();
    assert_eq!(gd.alts[0].layout().total_size(), 128 << 10);
    assert_eq!(gd.alts[0].announced().unwrap().total_size(), 1 << 20);
    let mut alt = gd.alts[0].clone();
    let small = dfu_proto::MemoryLayout::parse("@Flash/0x08000000/4*1Kg").unwrap();
    alt.set_memory(small.clone());
    assert_eq!(alt.real_layout(), Some(small));
    assert_eq!(alt.announced_layout().unwrap().total_size(), 1 << 20);
}

#[test]
fn plain_base_is_the_start_of_the_alts_memory() {
    let dap = Profile::builtin_ref("dapboot").unwrap();
    assert_eq!(dap.plain_base(0), Some(0x0800_2000));
    assert_eq!(dap.plain_base(1), None);
    let tiny = Profile::builtin_ref("tinyusb").unwrap();
    assert_eq!(tiny.plain_base(1), Some(0));
}

fn facts<'a>(bcd: u16, alts: &'a [Option<String>]) -> DeviceFacts<'a> {
    DeviceFacts {
        vendor: 0x0483,
        product: 0xdf11,
        bcd_device: Some(bcd),
        alt_names: alts,
    }
}

fn names(list: &[&str]) -> Vec<Option<String>> {
    list.iter().map(|s| Some(s.to_string())).collect()
}

#[test]
fn every_builtin_is_matched_by_its_own_descriptors_and_says_why() {
    for p in builtin_profiles() {
        let alts: Vec<Option<String>> = p.alts.iter().map(|a| Some(a.name.clone())).collect();
        let m = Profile::match_facts(&DeviceFacts {
            vendor: p.usb.vendor_id,
            product: p.usb.product_id,
            bcd_device: Some(p.usb.bcd_device),
            alt_names: &alts,
        })
        .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(m.profile.name, p.name);
        assert_eq!(m.reason, "matched by ids and layout");
    }
}

#[test]
fn layouts_are_compared_by_meaning_not_by_padding() {
    // One space after the name instead of two, and the flash split differently.
    let alts = names(&[
        "@Internal Flash /0x08000000/04*016Kg,01*064Kg,07*128Kg",
        "@Option Bytes /0x1FFFC000/01*016 e",
        "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
        "@Device Feature/0xFFFF0000/01*004 e",
    ]);
    let m = Profile::match_facts(&facts(0x2200, &alts)).unwrap();
    assert_eq!(m.profile.name, "stm32f405");
    let a = dfu_proto::MemoryLayout::parse("@Flash/0x0/47*004Kg,192*004Kg").unwrap();
    let b = dfu_proto::MemoryLayout::parse("@ flash /0x0/239*4Kg").unwrap();
    assert!(same_layout(&a, &b));
    let c = dfu_proto::MemoryLayout::parse("@Flash/0x0/239*4Ke").unwrap();
    assert!(!same_layout(&a, &c), "access differs");
}

#[test]
fn a_device_whose_layout_no_profile_has_gets_no_profile() {
    // The examples: bcdDevice 0x2200 with 128 pages of 2 KiB, external flash only,
    // several address groups, and a smaller part of the F4 family.
    for alts in [
        names(&["@Internal Flash  /0x08000000/128*0002Kg"]),
        names(&["@Flash /0x90000000/64*4Kg/0x90040000/60*64Kg/0x90400000/60*64Kg"]),
        names(&["@External Flash /0x90000000/1024*4Kg"]),
        names(&[
            "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,02*128Kg",
            "@Option Bytes  /0x1FFFC000/01*016 e",
            "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
            "@Device Feature/0xFFFF0000/01*004 e",
        ]),
    ] {
        let e = Profile::match_facts(&facts(0x2200, &alts)).unwrap_err();
        assert_eq!(e, "no profile has this layout", "{alts:?}");
    }
    let e = Profile::match_facts(&DeviceFacts {
        vendor: 0x1234,
        product: 0x5678,
        bcd_device: None,
        alt_names: &[],
    })
    .unwrap_err();
    assert_eq!(e, "no profile has these ids");
}

#[test]
fn an_unreadable_alt_does_not_contradict_and_the_quirk_decides() {
    let f446 = Profile::builtin_ref("stm32f446").unwrap();
    let mut alts: Vec<Option<String>> = f446.alts.iter().map(|a| Some(a.name.clone())).collect();
    for bad in [None, Some("\u{1}\u{2}garbage".to_string())] {
        alts[0] = bad;
        let m = Profile::match_facts(&facts(0x2200, &alts)).unwrap();
        assert_eq!(m.profile.name, "stm32f446");
        assert_eq!(m.reason, "matched by ids and the layouts it could read");
    }
}

#[test]
fn a_generic_profile_is_built_from_the_devices_own_map() {
    let alts = names(&[
        "@Internal Flash  /0x08000000/04*016Ka,128*0002Kg",
        "@Option Bytes  /0x1FFF7800/01*040 e",
    ]);
    let dfu = DfuFunctional {
        attributes: 0x0b,
        detach_timeout_ms: 255,
        transfer_size: 2048,
        dfu_version: 0x011a,
        interface: 0,
    };
    let g = Profile::generic(&GenericDevice {
        ids: (0x0483, 0xdf11, 0x2200),
        strings: ("ST", "BOOT", "1"),
        dfu: dfu.clone(),
        alt_names: &alts,
    })
    .unwrap();
    assert_eq!(g.name, GENERIC_DFUSE);
    assert!(g.is_generic());
    assert_eq!(
        g.app_address,
        Some(0x0801_0000),
        "the first writable sector"
    );
    let ob: Vec<_> = g.regions_with(Role::OptionBytes).collect();
    assert_eq!((ob[0].alt, ob[0].start, ob[0].size), (1, 0x1FFF_7800, 40));
    assert!(g.regions_with(Role::App).next().is_none());
    let plain = DfuFunctional {
        dfu_version: 0x0110,
        ..dfu
    };
    let none = Profile::generic(&GenericDevice {
        ids: (0x0483, 0xdf11, 0x2200),
        strings: ("", "", ""),
        dfu: plain,
        alt_names: &alts,
    });
    assert!(none.is_none(), "plain DFU devices have no map of their own");
}

#[test]
fn unreadable_strings_match_only_where_the_ids_say_enough() {
    let unreadable = vec![None];
    let m = Profile::match_facts(&DeviceFacts {
        vendor: 0x1209,
        product: 0xdb42,
        bcd_device: None,
        alt_names: &unreadable,
    })
    .unwrap();
    assert_eq!(m.profile.name, "dapboot");
    assert_eq!(m.reason, "matched by ids (no alt string could be read)");
    let four = vec![None, None, None, None];
    assert!(Profile::match_facts(&facts(0x2200, &four)).is_err());
}

#[test]
fn a_generic_profile_written_as_toml_reads_back_the_same() {
    let f405 = Profile::builtin_ref("stm32f405").unwrap();
    let names: Vec<Option<String>> = f405.alts.iter().map(|a| Some(a.name.clone())).collect();
    let mut g = Profile::generic(&GenericDevice {
        ids: (0x0483, 0xdf11, 0x2200),
        strings: ("ST \"quoted\"", "STM32  BOOTLOADER", "1\\2"),
        dfu: f405.dfu.clone(),
        alt_names: &names,
    })
    .unwrap();
    g.name = "myboard".into();
    let back = Profile::from_toml(&g.to_toml(), "x").unwrap();
    assert_eq!(back, g);
}
