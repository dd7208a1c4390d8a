//! The user stories of the support threads (shared/seeds), each reproduced against a
//! simulated device: `dfu` prevents the failure or explains it in one screen, and a refused
//! flash leaves the device's memory unchanged (read back to prove it).

mod common;
use common::*;
use dfu_image::particle::build_module;
use dfu_image::{Dependency, ModuleFunction};

const CORE: u16 = 0;
const PHOTON: u16 = 6;
const ELECTRON: u16 = 10;

/// A Core application as the Web IDE builds it: 78 KB, module header at 0x10C, 0x08005000.
fn core_app() -> Vec<u8> {
    build_module(
        CORE,
        ModuleFunction::Monolithic,
        0,
        1,
        0x0800_5000,
        &[],
        78_172 - 0x10C - 24 - 4,
    )
}

fn user_part(platform: u16, start: u32, needs: &[Dependency]) -> Vec<u8> {
    build_module(platform, ModuleFunction::UserPart, 1, 2, start, needs, 4000)
}

fn system_part(platform: u16, index: u8, version: u16, start: u32) -> Vec<u8> {
    let deps: Vec<Dependency> = (index > 1)
        .then(|| Dependency {
            function: ModuleFunction::SystemPart,
            index: index - 1,
            version,
        })
        .into_iter()
        .collect();
    build_module(
        platform,
        ModuleFunction::SystemPart,
        index,
        version,
        start,
        &deps,
        6000,
    )
}

#[test]
fn seed_000_002_core_image_on_a_photon_is_refused_before_any_write() {
    let s = Scratch::new();
    let sim = format!("photon,state={}", s.state("p.json"));
    let before = read_back(&sim, &s, "before.bin", 0x0800_4000, 0xA_0000);
    let app = s.file("core-app.bin", &core_app());
    for extra in [&[][..], &["--address", "0x080A0000"][..]] {
        let mut args = vec!["--sim", sim.as_str(), "flash", app.as_str()];
        args.extend_from_slice(extra);
        dfu(&args)
            .code(5)
            .says("built for the Core (platform 0), but this device is the Photon (platform 6)")
            .says("go at 0x080a0000")
            .says("nothing was written");
    }
    assert_eq!(
        read_back(&sim, &s, "after.bin", 0x0800_4000, 0xA_0000),
        before
    );
}

#[test]
fn seed_002_an_electron_module_on_a_photon_is_refused() {
    let s = Scratch::new();
    let part = s.file(
        "system-part1.bin",
        &system_part(ELECTRON, 1, 100, 0x0806_0000),
    );
    let sim = prefilled(&s, "photon", 0x0806_0000, 6000);
    dfu(&["--sim", &sim, "flash", &part])
        .code(5)
        .says("built for the Electron (platform 10), but this device is the Photon (platform 6)");
    assert_untouched(&sim, &s, 0x0806_0000, 6000);
}

#[test]
fn seed_003_a_module_goes_where_its_header_says_and_nowhere_else() {
    let s = Scratch::new();
    let sim = prefilled(&s, "core", 0x0800_A000, 4096);
    let app = s.file("core-firmware.bin", &core_app());
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x0800A000"])
        .code(5)
        .says("belongs at 0x08005000 (its module header says so), but it would be written at 0x0800a000");
    assert_untouched(&sim, &s, 0x0800_A000, 4096);
    dfu(&["--sim", &sim, "flash", &app])
        .ok()
        .says("placed at 0x08005000 (its Particle module header")
        .says("verified");
    assert_eq!(
        read_back(&sim, &s, "back.bin", 0x0800_5000, 78_172),
        core_app()
    );
}

#[test]
fn seed_003_an_empty_image_is_refused() {
    let s = Scratch::new();
    let f = s.file("core-firmware.bin", b"");
    let sim = prefilled(&s, "core", 0x0800_A000, 4096);
    dfu(&["--sim", &sim, "flash", &f, "--address", "0x0800A000"])
        .code(5)
        .says("the image is empty")
        .says("nothing was written");
    assert_untouched(&sim, &s, 0x0800_A000, 4096);
}

fn vector_table_app(link_base: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x2000_5000u32.to_le_bytes());
    for _ in 1..16 {
        v.extend_from_slice(&(link_base + 0x1A1).to_le_bytes());
    }
    v.extend(pattern(len - v.len(), 11));
    v
}

#[test]
fn a_raw_image_linked_for_another_address_is_refused_unless_forced() {
    let s = Scratch::new();
    let sim = prefilled(&s, "photon", 0x080A_0000, 30_000);
    let app = s.file("app.bin", &vector_table_app(0x0800_5000, 30_000));
    dfu(&["--sim", &sim, "flash", &app])
        .code(5)
        .says("linked to run at 0x08005000")
        .says("written at 0x080a0000")
        .says("nothing was written");
    assert_untouched(&sim, &s, 0x080A_0000, 30_000);
    dfu(&["--sim", &sim, "flash", &app, "--force"])
        .ok()
        .says("--force: ")
        .says("verified");
}

#[test]
fn the_bootloader_region_needs_force_and_read_only_pages_stay_refused() {
    let s = Scratch::new();
    // A board whose layout marks its bootloader sector writable: only the profile knows.
    let text = include_str!("../../dfu-profiles/profiles/stm32f405.toml")
        .replace("name = \"stm32f405\"", "name = \"myboard\"")
        .replace(
            "[[regions]]\nname = \"application\"\nrole = \"app\"\nstart = 0x08000000\nsize = 0x100000",
            "[[regions]]\nname = \"bootloader\"\nrole = \"bootloader\"\nstart = 0x08000000\nsize = 0x8000\n\n[[regions]]\nname = \"application\"\nrole = \"app\"\nstart = 0x08008000\nsize = 0xF8000",
        )
        .replace("app_address = 0x08000000", "app_address = 0x08008000");
    let profile = s.file("myboard.toml", text.as_bytes());
    let sim = format!("{profile},state={}", s.state("b.json"));
    let img = s.file("bl.bin", &pattern(4096, 12));
    dfu(&[
        "--sim",
        &sim,
        "--profile",
        &profile,
        "flash",
        &img,
        "--address",
        "0x08000000",
    ])
    .code(5)
    .says("overlaps the bootloader")
    .says("0x08008000")
    .says("add --force");
    dfu(&[
        "--sim",
        &sim,
        "--profile",
        &profile,
        "flash",
        &img,
        "--address",
        "0x08000000",
        "--force",
    ])
    .ok();
    // The Photon's first sectors are read-only (type `a`): refused even with --force, and
    // nothing is erased or written.
    let s = Scratch::new();
    let sim = prefilled(&s, "photon", 0x080A_0000, 4096);
    let img = s.file("ro.bin", &pattern(4096, 13));
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &img,
        "--address",
        "0x08000000",
        "--force",
    ])
    .code(5)
    .says("code: dfu::refused::read-only");
    assert_untouched(&sim, &s, 0x080A_0000, 4096);
    let st = read_back(&sim, &s, "bl.bin", 0x0800_0000, 4096);
    assert_ne!(st, pattern(4096, 13));
}

#[test]
fn seed_000_002_an_app_whose_system_firmware_is_missing_is_refused() {
    let s = Scratch::new();
    let sim = prefilled(&s, "photon,system-version=1", 0x080A_0000, 4096);
    let needs_v2 = [Dependency {
        function: ModuleFunction::SystemPart,
        index: 2,
        version: 2,
    }];
    let app = s.file("user.bin", &user_part(PHOTON, 0x080A_0000, &needs_v2));
    dfu(&["--sim", &sim, "flash", &app])
        .code(5)
        .says("needs system part 2 version 2 or newer, but the device has version 1")
        .says("breathing magenta")
        .says("dfu flash system-part1.bin system-part2.bin user.bin");
    assert_untouched(&sim, &s, 0x080A_0000, 4096);
    // Given everything in one command, in any order, it flashes in dependency order.
    let p1 = s.file("system-part1.bin", &system_part(PHOTON, 1, 2, 0x0802_0000));
    let p2 = s.file("system-part2.bin", &system_part(PHOTON, 2, 2, 0x0806_0000));
    let r = dfu(&["--sim", &sim, "flash", &app, &p2, &p1, "--json"]);
    r.ok();
    let last: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    let starts: Vec<&str> = last["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["writes"][0]["address"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["0x08020000", "0x08060000", "0x080a0000"]);
    let header = read_back(&sim, &s, "h.bin", 0x0806_0184, 24);
    assert_eq!(
        u16::from_le_bytes([header[10], header[11]]),
        2,
        "system part 2 is now version 2"
    );
}

#[test]
fn electron_system_parts_are_written_in_dependency_order_not_address_order() {
    let s = Scratch::new();
    let sim = format!("electron,system-version=1,state={}", s.state("e.json"));
    let p1 = s.file("p1.bin", &system_part(ELECTRON, 1, 2, 0x0806_0000));
    let p2 = s.file("p2.bin", &system_part(ELECTRON, 2, 2, 0x0802_0000));
    let p3 = s.file("p3.bin", &system_part(ELECTRON, 3, 2, 0x0804_0000));
    let needs = [Dependency {
        function: ModuleFunction::SystemPart,
        index: 3,
        version: 2,
    }];
    let app = s.file("user.bin", &user_part(ELECTRON, 0x0808_0000, &needs));
    let r = dfu(&["--sim", &sim, "flash", &app, &p3, &p2, &p1, "--dry-run"]);
    r.ok();
    let order: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("write"))
        .collect();
    assert_eq!(order.len(), 4, "{}", r.stdout);
    for (line, want) in order
        .iter()
        .zip(["0x08060000", "0x08020000", "0x08040000", "0x08080000"])
    {
        assert!(
            line.contains(want),
            "{line} should write {want}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn seed_000_001_old_bootloader_loses_the_status_after_leave_and_that_is_not_an_error() {
    let s = Scratch::new();
    let app = s.file("user.bin", &pattern(4084, 13));
    let old = dfu(&["--sim", "photon,bootloader=0.4.4", "flash", &app]);
    old.ok()
        .says("restarted before answering")
        .says("verified before leaving")
        .says("harmless");
    let new = dfu(&["--sim", "photon,bootloader=0.4.5", "flash", &app]);
    new.ok().says("left DFU mode");
    assert!(!new.stderr.contains("restarted before answering"));
}

#[test]
fn an_unexpected_lost_status_after_leave_is_still_an_error() {
    let s = Scratch::new();
    let app = s.file("app.bin", &pattern(2048, 14));
    // DNLOADs with --no-skip: set address (the option bytes, read for write protection),
    // erase, set address, one data block, set address (verify), set address (leave), then
    // the zero-length leave request: the 7th.
    dfu(&[
        "--sim",
        "stm32f405,fault=disconnect@dnload:7",
        "flash",
        &app,
        "--address",
        "0x08000000",
        "--no-skip",
    ])
    .code(6)
    .says("verified before leaving, but the device did not answer after the leave request");
}

#[test]
fn seed_004_garbage_or_unreadable_layout_falls_back_to_the_profile() {
    let s = Scratch::new();
    let app = s.file("klipper.bin", &vector_table_app(0x0800_8000, 30_064));
    for knob in ["garbage", "unreadable"] {
        let sim = format!("stm32f446,alt-name={knob}");
        dfu(&["--sim", &sim, "flash", &app, "--address", "0x08008000"])
            .ok()
            .says("is not a usable memory layout")
            .says("using the stm32f446 profile's layout")
            .says("verified");
    }
}

#[test]
fn seed_004_garbage_layout_on_an_unknown_device_explains_how_to_give_one() {
    let s = Scratch::new();
    let text = include_str!("../../dfu-profiles/profiles/stm32f446.toml")
        .replace("name = \"stm32f446\"", "name = \"unknown\"")
        .replace(
            "vendor_id = 0x0483\nproduct_id = 0xdf11",
            "vendor_id = 0x1234\nproduct_id = 0x5678",
        );
    let profile = s.file("unknown.toml", text.as_bytes());
    let sim = format!("{profile},alt-name=garbage");
    let app = s.file("app.bin", &pattern(4096, 15));
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08008000"])
        .code(5)
        .says("no usable memory layout")
        .says("--layout");
    dfu(&[
        "--sim",
        &sim,
        "--layout",
        "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg",
        "flash",
        &app,
        "--address",
        "0x08008000",
    ])
    .ok()
    .says("using the layout given instead")
    .says("verified");
}

#[test]
fn seed_004_a_device_in_dfu_error_is_cleared_at_connect() {
    let s = Scratch::new();
    let app = s.file("klipper.bin", &vector_table_app(0x0800_8000, 30_064));
    let r = dfu(&[
        "--sim",
        "stm32f446,start-state=error",
        "flash",
        &app,
        "--address",
        "0x08008000",
    ]);
    r.ok()
        .says("was in dfuERROR with status errFIRMWARE")
        .says("cleared it")
        .says("left DFU mode");
    assert!(!r.stderr.contains("error:"), "{}", r.stderr);
}

#[cfg(unix)]
fn serial_touch(args: &[&str]) -> (String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/serial_touch.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_dfu"))
        .args(args)
        .env_remove("DFU_SIM")
        .output()
        .expect("python3 runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// Unix by nature: a pseudo-terminal stands in for the serial port.
#[cfg(unix)]
#[test]
fn seed_001_004_detach_through_a_serial_port_uses_the_device_convention() {
    let (out, err) = serial_touch(&["--sim", "photon", "--profile", "photon"]);
    assert!(
        out.contains("exit=0") && out.contains("ospeed=14400"),
        "{out}{err}"
    );
    assert!(out.contains("2b04:d006 is in DFU mode"), "{out}");
    assert!(
        err.contains("14400 baud (the photon profile's convention)"),
        "{err}"
    );
    let (out, err) = serial_touch(&["--sim", "stm32f405"]);
    assert!(
        out.contains("exit=0") && out.contains("ospeed=1200"),
        "{out}{err}"
    );
    assert!(err.contains("1200-baud touch"), "{err}");
}

#[test]
fn every_dfu_status_code_is_named_explained_and_advised() {
    let s = Scratch::new();
    let app = s.file("app.bin", &pattern(2048, 16));
    // On an ST ROM whose option bytes are known (F4), errVENDOR means read protection and
    // gets its own error (dfu::refused::read-protected); the H7 profile reports it as is.
    for code in 1u8..=15 {
        let st = dfu_proto::Status::from_u8(code);
        let fault = format!("stm32h743,fault=status={}@dnload:1", st.name());
        let r = dfu(&[
            "--sim",
            &fault,
            "flash",
            &app,
            "--address",
            "0x08000000",
            "--no-skip",
        ]);
        r.code(6)
            .says(st.name())
            .says(st.meaning())
            .says(&format!("help: {}", st.advice()));
    }
}
