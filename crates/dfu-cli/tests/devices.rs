//! Which profile a device gets: the one whose ids and layouts agree with the device, else a
//! generic one built from the device's own map, never one that contradicts it.

mod common;
use common::*;

/// A profile file for a 0483:df11 device with these alt strings and nothing else known.
fn st_rom_with(s: &Scratch, file: &str, alts: &[&str]) -> String {
    let mut text = String::from(
        "name = \"board\"\ntitle = \"a board\"\nsources = [\"test\"]\n\n[usb]\n\
         vendor_id = 0x0483\nproduct_id = 0xdf11\nbcd_device = 0x2200\n\
         manufacturer = \"STMicroelectronics\"\nproduct = \"STM32  BOOTLOADER\"\nserial = \"1\"\n\n\
         [dfu]\nattributes = 0x0b\ndetach_timeout_ms = 255\ntransfer_size = 2048\n\
         dfu_version = 0x011a\n",
    );
    for a in alts {
        text.push_str(&format!("\n[[alts]]\nname = \"{a}\"\n"));
    }
    text.push_str(
        "\n[timing]\nerase = [{ sector_size = 2048, ms = 20 }]\nmass_erase_ms = 100\n\
         program_unit = 8\nprogram_unit_ns = 80000\npoll_erase_ms = 20\npoll_program_ms = 1\n\
         poll_command_ms = 1\nreset_ms = 50\n",
    );
    s.file(file, text.as_bytes())
}

fn info_json(sim: &str) -> serde_json::Value {
    let r = dfu(&["--sim", sim, "info", "--json"]);
    r.ok();
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

#[test]
fn a_small_part_with_known_ids_is_not_reported_as_a_bigger_one() {
    let s = Scratch::new();
    let file = st_rom_with(&s, "l4.toml", &["@Internal Flash  /0x08000000/128*0002Kg"]);
    let v = info_json(&file);
    assert_eq!(v["profile"], "generic-dfuse", "{v}");
    let why = v["profile_reason"].as_str().unwrap();
    assert!(
        why.starts_with("generic: no profile has this layout"),
        "{why}"
    );
    assert_eq!(v["profile_detail"]["app_address"], "0x08000000");
    let r = dfu(&["--sim", &file, "info"]);
    r.ok()
        .says("profile generic-dfuse")
        .says("why: generic: no profile has this layout")
        .says("applications go at 0x08000000");
    assert!(!r.stdout.contains("stm32f4"), "{}", r.stdout);
    // Everything that needs no profile works: flash at the first writable address, read.
    let sim = format!("{file},state={}", s.state("l4.json"));
    let img = pattern(6000, 4);
    let app = s.file("app.bin", &img);
    dfu(&["--sim", &sim, "flash", &app]).ok().says("verified");
    assert_eq!(read_back(&sim, &s, "back.bin", 0x0800_0000, 6000), img);
}

#[test]
fn external_flash_alone_gets_its_own_map_and_several_address_groups_too() {
    let s = Scratch::new();
    let ext = st_rom_with(&s, "ext.toml", &["@External Flash /0x90000000/1024*4Kg"]);
    let v = info_json(&ext);
    assert_eq!(v["profile"], "generic-dfuse", "{v}");
    assert_eq!(v["profile_detail"]["app_address"], "0x90000000");
    // A real bootloader's string (Electrosmith Daisy) with three address groups.
    let daisy = st_rom_with(
        &s,
        "daisy.toml",
        &["@Flash /0x90000000/64*4Kg/0x90040000/60*64Kg/0x90400000/60*64Kg"],
    );
    let v = info_json(&daisy);
    assert_eq!(v["profile"], "generic-dfuse", "{v}");
    let segs = v["alts"][0]["layout"]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    assert_eq!(segs[2]["start"], "0x90400000");
}

#[test]
fn one_space_after_the_name_still_matches_the_f405() {
    let s = Scratch::new();
    let file = st_rom_with(
        &s,
        "f405.toml",
        &[
            "@Internal Flash /0x08000000/04*016Kg,01*064Kg,07*128Kg",
            "@Option Bytes /0x1FFFC000/01*016 e",
            "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
            "@Device Feature/0xFFFF0000/01*004 e",
        ],
    );
    let v = info_json(&file);
    assert_eq!(v["profile"], "stm32f405", "{v}");
    assert_eq!(v["profile_reason"], "matched by ids and layout");
}

#[test]
fn a_run_time_device_is_matched_by_its_run_time_ids() {
    for name in ["photon", "electron", "core"] {
        let sim = format!("{name},mode=runtime");
        let v = info_json(&sim);
        assert_eq!(v["profile"], name, "{v}");
        assert_eq!(
            v["profile_reason"],
            "matched by ids (no layouts to compare in this mode)"
        );
    }
}

#[test]
fn a_profile_made_from_a_device_loads_and_simulates_the_same_device() {
    let s = Scratch::new();
    for name in ["stm32f405", "stm32g474", "argon"] {
        let file = s.path(&format!("{name}-new.toml")).display().to_string();
        dfu(&[
            "--sim", name, "profile", "new", "-o", &file, "--name", "mine",
        ])
        .ok()
        .says("wrote profile mine");
        let made = dfu_profiles::Profile::from_file(std::path::Path::new(&file)).unwrap();
        let real = dfu_profiles::Profile::builtin(name).unwrap();
        assert_eq!(made.usb, real.usb, "{name}");
        assert_eq!(made.dfu.descriptor(), real.dfu.descriptor(), "{name}");
        let names = |p: &dfu_profiles::Profile| -> Vec<String> {
            p.alts.iter().map(|a| a.name.clone()).collect()
        };
        assert_eq!(names(&made), names(&real), "{name}");
        assert!(made.sources.iter().any(|x| x.starts_with("assumed:")));
        // Simulated from the file, the device looks the same and takes an image.
        let v = info_json(&file);
        assert_eq!(
            v["profile"], name,
            "the built-in profile still describes it: {v}"
        );
        let sim = format!("{file},state={}", s.state(&format!("{name}.json")));
        let app = s.file("app.bin", &pattern(3000, 5));
        let at = format!("0x{:08x}", real.app_address.unwrap());
        dfu(&["--sim", &sim, "flash", &app, "--address", &at])
            .ok()
            .says("verified");
    }
    dfu(&["--sim", "dapboot", "profile", "new"])
        .code(5)
        .says("does not describe its memory");
}

#[test]
fn every_profile_is_listed_by_the_simulator() {
    let r = dfu(&["sim", "profiles"]);
    r.ok();
    for name in dfu_profiles::builtin_names() {
        assert!(
            r.stdout.contains(name),
            "{name} missing from:\n{}",
            r.stdout
        );
    }
}

#[test]
fn alts_that_announce_no_sectors_show_no_memory_and_refuse_writes() {
    // The Portenta H7 bootloader's alts 2 and 3 end in `/0x00000000/0*4Kg`.
    let s = Scratch::new();
    let sim = format!("portenta-h7,state={}", s.state("p.json"));
    let r = dfu(&["--sim", &sim, "info"]);
    r.ok()
        .says("alt 3: \"@Arduino  boot  v.25   /0x00000000/0*4Kg\"")
        .says("no sectors (the device announces 0 x 4 KiB): no memory here");
    let app = s.file("f.bin", &pattern(3000, 9));
    let w = dfu(&["--sim", &sim, "flash", &app, "--alt", "3", "--address", "0"]);
    assert_ne!(w.code, 0, "{}", w.stderr);
    assert!(
        w.stderr.contains("outside the device's memory"),
        "{}",
        w.stderr
    );
    // The sketch address on alt 0 is unaffected.
    let img = pattern(9000, 10);
    let app = s.file("app.bin", &img);
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &app,
        "--address",
        "0x08040000",
        "--no-leave",
    ])
    .ok()
    .says("verified");
    assert_eq!(read_back(&sim, &s, "back.bin", 0x0804_0000, 9000), img);
}

#[test]
fn no_leave_says_whether_the_device_really_stays_in_dfu_mode() {
    let s = Scratch::new();
    let image = s.file("app.bin", &pattern(3000, 7));
    // The Smoothieboard's bootloader is not manifestation tolerant: it restarts after a
    // download whatever the host asks.
    let stats = s.path("stats.json").display().to_string();
    let sim = format!("smoothie,stats={stats}");
    dfu(&["--sim", &sim, "flash", &image, "--force", "--no-leave"])
        .ok()
        .says("restarts by itself after a download");
    let st: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(st["programmed_bytes"], 3000, "{st}");
    // A DfuSe device stays.
    dfu(&[
        "--sim",
        "stm32f405",
        "flash",
        &image,
        "-s",
        "0x08000000",
        "--no-leave",
    ])
    .ok()
    .says("stays in DFU mode (it was not asked to leave)");
}
