//! The `dfu` command against simulated devices: every profile, DFU 1.1 and DfuSe, state that
//! persists between runs, refusals and clear errors.

mod common;
use common::*;
use dfu_profiles::Profile;

#[test]
fn list_json_shows_every_profile_with_exact_ids_and_alt_strings() {
    for p in dfu_profiles::builtins() {
        let r = dfu(&["--sim", &p.name, "list", "--json"]);
        r.ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
        let d = &v["devices"][0];
        assert_eq!(
            d["id"],
            format!("{:04x}:{:04x}", p.usb.vendor_id, p.usb.product_id),
            "{}",
            p.name
        );
        assert_eq!(d["profile"], p.name.as_str());
        assert_eq!(d["dfuse"], p.is_dfuse());
        assert_eq!(d["transfer_size"], p.dfu.transfer_size);
        let alts: Vec<Option<&str>> = d["alts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str())
            .collect();
        // The ESP32-S2/S3 ROM's interface names no string.
        let unnamed = p.has_quirk(dfu_profiles::Quirk::DfuModeAsRuntime);
        let want: Vec<Option<&str>> = p
            .alts
            .iter()
            .map(|a| (!unnamed).then_some(a.name.as_str()))
            .collect();
        assert_eq!(alts, want, "{}", p.name);
    }
}

fn round_trip(profile: &str, address: Option<u32>, len: usize, seed: u32) {
    let s = Scratch::new();
    let img = pattern(len, seed);
    let file = s.file("app.bin", &img);
    let sim = format!("{profile},state={}", s.state("dev.json"));
    let mut args = vec!["--sim", &sim, "flash", &file];
    let addr = address.map(|a| format!("0x{a:08x}"));
    if let Some(a) = &addr {
        args.extend(["--address", a]);
    }
    let p = Profile::builtin(profile).unwrap();
    if !p.dfu.descriptor().can_upload() {
        // The bootloader cannot send its memory back (Kiibohd, Zephyr's DFU class by
        // default): the flash says so, and the simulator's memory is the ground truth.
        dfu(&args).ok().says("not read back");
        let at = address.or(p.plain_base(0)).unwrap();
        let bus = dfu_sim::Bus::from_spec(&sim).unwrap();
        assert_eq!(
            bus.read_memory(0, 0, at, len).unwrap(),
            img,
            "{profile}: memory differs"
        );
        return;
    }
    dfu(&args).ok().says("verified");
    // A second process reads it back from the persisted state.
    let out = s.path("back.bin").display().to_string();
    let n = len.to_string();
    let mut rargs = vec!["--sim", &sim, "read", "--length", &n, "-o", &out];
    let default_addr;
    if addr.is_some() || Profile::builtin(profile).unwrap().is_dfuse() {
        default_addr = addr.clone().unwrap_or_else(|| {
            format!(
                "0x{:08x}",
                Profile::builtin(profile).unwrap().app_address.unwrap()
            )
        });
        rargs.extend(["--address", &default_addr]);
    }
    dfu(&rargs).ok();
    assert_eq!(
        read_file(&s.path("back.bin")),
        img,
        "{profile}: read back differs"
    );
}

#[test]
fn stm32f405_300k_round_trip() {
    round_trip("stm32f405", Some(0x0800_0000), 300 * 1024, 1);
}

#[test]
fn photon_20k_round_trip_at_the_app_address() {
    round_trip("photon", Some(0x080A_0000), 20 * 1024, 2);
}

#[test]
fn dapboot_5k_round_trip_plain_dfu() {
    round_trip("dapboot", None, 5 * 1024, 3);
}

#[test]
fn every_profile_takes_an_image_at_its_app_address() {
    for p in dfu_profiles::builtins() {
        round_trip(&p.name, None, 3000, 7);
    }
}

#[test]
fn reflashing_changes_only_what_differs() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f405.json"));
    let mut img = pattern(512 * 1024, 9);
    let a = s.file("a.bin", &img);
    dfu(&["--sim", &sim, "flash", &a, "--address", "0x08000000"]).ok();
    img[200 * 1024] ^= 0xFF;
    let b = s.file("b.bin", &img);
    let r = dfu(&[
        "--sim",
        &sim,
        "flash",
        &b,
        "--address",
        "0x08000000",
        "--json",
    ]);
    r.ok();
    let last: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    let report = &last["report"];
    assert_eq!(report["erased"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["erased"][0]["address"], "0x08020000");
    assert_eq!(report["erased"][0]["length"], 128 * 1024);
    assert_eq!(report["verified"], true);
    assert_eq!(read_back(&sim, &s, "back.bin", 0x08000000, 512 * 1024), img);
}

#[test]
fn manifestation_tolerant_and_intolerant() {
    // tinyusb: bmAttributes 0x07, manifestation tolerant: back to dfuIDLE, verified after.
    let s = Scratch::new();
    let f = s.file("t.bin", &pattern(4096, 4));
    dfu(&["--sim", "tinyusb", "flash", &f])
        .ok()
        .says("verified");
    // dapboot: intolerant, read back before manifestation.
    dfu(&["--sim", "dapboot", "flash", &f])
        .ok()
        .says("read back before manifestation")
        .says("verified");
}

#[test]
fn detach_from_run_time_mode() {
    let s = Scratch::new();
    let sim = format!("photon,mode=runtime,state={}", s.state("p.json"));
    dfu(&["--sim", &sim, "list"])
        .ok()
        .says("2b04:c006")
        .says("run-time mode");
    dfu(&["--sim", &sim, "detach"])
        .ok()
        .says("now in DFU mode as 2b04:d006");
    let f = s.file("u.bin", &pattern(8192, 5));
    dfu(&["--sim", &sim, "flash", &f])
        .ok()
        .says("switching it to DFU mode")
        .says("verified");
}

#[test]
fn read_only_sector_is_refused_and_nothing_is_written() {
    let s = Scratch::new();
    // Known data in the first writable sector the image would reach: a refused flash that
    // erased it anyway would show.
    let sim = prefilled(&s, "photon", 0x0800_C000, 0x4000);
    let before = read_back(&sim, &s, "before.bin", 0x0800_4000, 0x8000);
    let core_app = s.file("core.bin", &pattern(78_172, 6));
    dfu(&["--sim", &sim, "flash", &core_app, "--address", "0x08005000"])
        .code(5)
        .says("page at 0x08004000 is not writable")
        .says("applications go at 0x080a0000")
        .says("nothing was written");
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &core_app,
        "--address",
        "0x08005000",
        "--force",
    ])
    .code(5);
    assert_untouched(&sim, &s, 0x0800_C000, 0x4000);
    assert_eq!(
        read_back(&sim, &s, "after.bin", 0x0800_4000, 0x8000),
        before
    );
}

#[test]
fn empty_image_is_refused() {
    let s = Scratch::new();
    let f = s.file("empty.bin", b"");
    let sim = prefilled(&s, "core", 0x0800_5000, 2048);
    dfu(&["--sim", &sim, "flash", &f, "--address", "0x08005000"])
        .code(5)
        .says("empty");
    assert_untouched(&sim, &s, 0x0800_5000, 2048);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let s = Scratch::new();
    let f = s.file("a.bin", &[1, 2, 3, 4]);
    dfu(&["--sim", "photon", "flash", &f, "--address", "0xZZ"])
        .code(2)
        .says("not a 32-bit number");
    dfu(&[
        "--sim",
        "photon",
        "read",
        "--address",
        "0x08000000",
        "--length",
        "0",
        "-o",
        "x",
    ])
    .code(2);
    dfu(&[
        "--sim",
        "photon",
        "read",
        "--address",
        "0x08000000",
        "--length",
        "5G",
        "-o",
        "x",
    ])
    .code(2);
    dfu(&[
        "--sim",
        "photon",
        "read",
        "--address",
        "0x080FFF00",
        "--length",
        "0x200",
        "-o",
        &s.state("o.bin"),
    ])
    .code(5)
    .says("0x08100000 is outside the memory of alt setting 0")
    .says("code: dfu::refused::outside-memory");
    dfu(&["--sim", "photon2", "list"])
        .code(2)
        .says("unknown profile \"photon2\"")
        .says("code: dfu::sim::spec");
    dfu(&["--sim", "photon", "flash", "/nonexistent/x.bin"])
        .code(3)
        .says("cannot read /nonexistent/x.bin");
}

#[test]
fn no_device_and_several_devices() {
    let s = Scratch::new();
    let f = s.file("a.bin", &pattern(1024, 8));
    dfu(&["--sim", "photon", "--device", "1234:5678", "flash", &f])
        .code(4)
        .says("no DFU device found for --device 1234:5678");
    dfu(&["--sim", "photon;photon,serial=ABC", "flash", &f])
        .code(4)
        .says("2 DFU devices match")
        .says("--path")
        .says("--serial ABC");
    // Which device was written: the one with serial ABC, and only that one.
    let two = format!(
        "photon,state={};photon,serial=ABC,state={}",
        s.state("first.json"),
        s.state("abc.json")
    );
    dfu(&["--sim", &two, "--serial", "ABC", "flash", &f]).ok();
    let abc = format!("photon,serial=ABC,state={}", s.state("abc.json"));
    let first = format!("photon,state={}", s.state("first.json"));
    assert_eq!(
        read_back(&abc, &s, "abc.bin", 0x080A_0000, 1024),
        pattern(1024, 8)
    );
    assert_eq!(
        read_back(&first, &s, "first.bin", 0x080A_0000, 1024),
        vec![0xff; 1024]
    );
    dfu(&["--device", "/dev/ttyACM0", "--sim", "photon", "flash", &f])
        .code(2)
        .says("is a serial port, not a USB VID:PID");
}

#[test]
fn read_never_overwrites_without_force() {
    let s = Scratch::new();
    let out = s.file("keep.bin", b"precious");
    dfu(&[
        "--sim",
        "photon",
        "read",
        "--address",
        "0x080A0000",
        "--length",
        "16",
        "-o",
        &out,
    ])
    .code(3)
    .says("not overwriting");
    assert_eq!(read_file(&s.path("keep.bin")), b"precious");
    dfu(&[
        "--sim",
        "photon",
        "read",
        "--address",
        "0x080A0000",
        "--length",
        "16",
        "-o",
        &out,
        "--force",
    ])
    .ok();
    assert_eq!(read_file(&s.path("keep.bin")).len(), 16);
}

#[test]
fn erase_range_and_dry_run() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let f = s.file("a.bin", &pattern(40_000, 10));
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &f,
        "--address",
        "0x08000000",
        "--dry-run",
    ])
    .ok()
    .says("dry run: nothing was written");
    dfu(&["--sim", &sim, "flash", &f, "--address", "0x08000000"]).ok();
    dfu(&[
        "--sim",
        &sim,
        "erase",
        "--address",
        "0x08004000",
        "--length",
        "1",
    ])
    .ok()
    .says("erased 0x08004000-0x08007fff");
    let back = read_back(&sim, &s, "b.bin", 0x0800_0000, 40_000);
    assert_eq!(&back[..0x4000], &pattern(40_000, 10)[..0x4000]);
    assert!(back[0x4000..0x8000].iter().all(|b| *b == 0xFF));
}

#[test]
fn a_device_lost_mid_flash_says_what_was_written_and_the_next_run_recovers() {
    let s = Scratch::new();
    let img = pattern(300 * 1024, 21);
    let f = s.file("a.bin", &img);
    let faulty = format!(
        "stm32f405,state={},fault=disconnect@dnload:41",
        s.state("f.json")
    );
    let r = dfu(&[
        "--sim",
        &faulty,
        "flash",
        &f,
        "--address",
        "0x08000000",
        "--no-skip",
    ]);
    r.code(6)
        .says("the device disconnected")
        .says("erased 0x08000000-0x0805ffff (393216 bytes)")
        .says("wrote 0x08000000-0x0800f7ff");
    assert!(!r.stderr.contains("nothing was written"));
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    dfu(&["--sim", &sim, "flash", &f, "--address", "0x08000000"])
        .ok()
        .says("verified");
    assert_eq!(read_back(&sim, &s, "b.bin", 0x08000000, 300 * 1024), img);
}

#[test]
fn stalls_and_timeouts_are_device_errors_with_help() {
    let s = Scratch::new();
    let out = s.state("o.bin");
    dfu(&[
        "--sim",
        "stm32f405,fault=stall@upload:3",
        "read",
        "--address",
        "0x08000000",
        "--length",
        "16K",
        "-o",
        &out,
    ])
    .code(6)
    .says("the device stalled the request")
    .says("help:");
    assert!(!s.path("o.bin").exists(), "no partial output file");
    let f = s.file("a.bin", &pattern(4096, 22));
    // A DNLOAD that times out fails; a GETSTATUS that times out while the device is busy is
    // sent again (docs/reliability.md).
    dfu(&[
        "--sim",
        "stm32f405,fault=timeout@dnload:2",
        "flash",
        &f,
        "--address",
        "0x08000000",
    ])
    .code(6)
    .says("did not answer in time")
    .says("help:");
}

#[test]
fn path_selects_one_of_several_devices() {
    let s = Scratch::new();
    let f = s.file("a.bin", &pattern(4096, 23));
    let r = dfu(&["--sim", "photon;stm32f405", "list", "--json"]);
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let paths: Vec<&str> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["1-1", "1-2"]);
    let two = format!(
        "photon,state={};photon,state={}",
        s.state("p1.json"),
        s.state("p2.json")
    );
    dfu(&["--sim", &two, "--path", "1-2", "flash", &f])
        .ok()
        .says("verified");
    // Which device was written: the second (path 1-2), not the first.
    let second = format!("photon,state={}", s.state("p2.json"));
    let first = format!("photon,state={}", s.state("p1.json"));
    assert_eq!(
        read_back(&second, &s, "p2.bin", 0x080A_0000, 4096),
        pattern(4096, 23)
    );
    assert_eq!(
        read_back(&first, &s, "p1.bin", 0x080A_0000, 4096),
        vec![0xff; 4096]
    );
    dfu(&[
        "--sim",
        "photon;stm32f405",
        "--device",
        "0483:df11",
        "flash",
        &f,
        "--address",
        "0x08000000",
    ])
    .ok();
}

/// A stats file that cannot be written is reported once, with its code; a path that is not
/// a regular file is written in place, never replaced.
#[cfg(unix)]
#[test]
fn a_simulator_save_failure_is_reported_once_and_keeps_the_device_node() {
    use std::os::unix::fs::FileTypeExt;
    let r = dfu(&["--sim", "stm32f405,stats=/dev/full", "list"]);
    r.code(6).says("code: dfu::sim::save");
    assert_eq!(
        r.stderr.matches("No space left on device").count(),
        1,
        "{}",
        r.stderr
    );
    let m = std::fs::metadata("/dev/full").unwrap();
    assert!(
        m.file_type().is_char_device(),
        "/dev/full is still a device"
    );
}
