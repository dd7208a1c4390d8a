//! The situations of tests/codes.rs that take more than a line: files, injected faults,
//! option bytes, and the checks of what the device holds afterwards.

use super::common::*;
use dfu_image::particle::build_module;
use dfu_image::{Dependency, ModuleFunction};

/// Where test images go on an STM32F405 (sector 2, away from the vector table checks).
pub const APP: &str = "0x08008000";
/// Particle platform ids.
pub const PHOTON: u16 = 6;
/// The Electron's platform id.
pub const ELECTRON: u16 = 10;
/// STM32F405 option bytes: the factory values with the user byte changed.
pub const USER_BYTE: &str = "e0 aa ff ff ff ff ff ff ff 0f ff ff ff ff ff ff";
/// The factory values with write protection on sector 0.
pub const WRP0: &str = "ec aa ff ff ff ff ff ff fe 0f ff ff ff ff ff ff";
/// The factory values with read protection level 2 (permanent).
pub const LEVEL2: &str = "ec cc ff ff ff ff ff ff ff 0f ff ff ff ff ff ff";

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-image/tests/fixtures");
const PROFILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-profiles/profiles");

/// `dfu --sim SIM ARGS... --json`.
pub fn sim_json(sim: &str, args: &[&str]) -> Run {
    let mut all = vec!["--sim", sim];
    all.extend_from_slice(args);
    all.push("--json");
    dfu(&all)
}

/// `dfu flash ARGS... --json` on `profile` pre-filled at [`APP`] (or the profile's own
/// application address), then checks that the device saw no erase and no write and still
/// holds its data.
pub fn refused(s: &Scratch, profile: &str, args: &[&str]) -> Run {
    let at = prefill_address(profile);
    let sim = filled(s, profile, at);
    let mut all = vec!["flash"];
    all.extend_from_slice(args);
    let r = sim_json(&sim, &all);
    untouched(&sim, s, at);
    r
}

/// After a refused run on a device [`prefilled`] with 4 KiB at `at`: the device saw no
/// erase and no write (or was not even opened: no statistics), and still holds its data.
pub fn untouched(sim: &str, s: &Scratch, at: u32) {
    if s.path("stats.json").exists() {
        assert_untouched(sim, s, at, 4096);
    } else {
        assert_eq!(
            read_back(sim, s, "untouched.bin", at, 4096),
            prefill_data(4096)
        );
    }
}

/// [`prefilled`], without the statistics of the run that filled it.
pub fn filled(s: &Scratch, profile: &str, at: u32) -> String {
    let sim = prefilled(s, profile, at, 4096);
    std::fs::remove_file(s.path("stats.json")).unwrap();
    sim
}

/// Where [`refused`] pre-fills each kind of device: an application address.
fn prefill_address(profile: &str) -> u32 {
    match profile.split(',').next().unwrap_or_default() {
        "photon" => 0x080A_0000,
        "dapboot" => 0x0800_2000,
        "gd32vf103" => 0x0800_0000,
        _ => 0x0800_8000,
    }
}

/// A flash of 64 KiB into a pre-filled STM32F405 that fails with `fault` (`fault=` in the
/// spec). What the error says was erased and written ("erased A-B (N bytes)", "wrote A-B
/// (N bytes)") is what the simulator did, give or take the one block under way.
pub fn faulted(s: &Scratch, fault: &str) -> Run {
    let sim = filled(s, "stm32f405", 0x0800_8000);
    let a = s.file("a.bin", &pattern(64 * 1024, 7));
    let r = sim_json(&format!("{sim},fault={fault}"), &["flash", &a, "-s", APP]);
    let stats: serde_json::Value =
        serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    let programmed = stats["programmed_bytes"].as_u64().unwrap();
    let result: serde_json::Value =
        serde_json::from_str(r.stdout.lines().last().unwrap_or("{}")).unwrap_or_default();
    let lines = result["written"]
        .as_array()
        .expect("the error lists what was written");
    let bytes = |what: &str| -> u64 {
        let counted = lines.iter().filter_map(|l| {
            let (_, n) = l.as_str()?.strip_prefix(what)?.split_once(" (")?;
            n.split(' ').next()?.parse::<u64>().ok()
        });
        counted.sum()
    };
    let (wrote, erased) = (bytes("wrote "), bytes("erased "));
    assert!(
        wrote > 0 && wrote <= programmed && programmed <= wrote + 2048,
        "{fault}: the error says {wrote} bytes were written, the device programmed {programmed}"
    );
    assert_eq!(erased, stats["erased_bytes"].as_u64().unwrap(), "{fault}");
    r
}

/// An STM32H743 erase that takes 100 times the datasheet's time: the sector holds data, so
/// it must be erased, and the device stays busy past every limit.
pub fn slow_erase(s: &Scratch) -> Run {
    let sim = prefilled(s, "stm32h743", 0x0802_0000, 4096);
    let a = s.file("a.bin", &pattern(4096, 8));
    sim_json(
        &format!("{sim},erase-factor=100"),
        &["flash", &a, "-s", "0x08020000"],
    )
}

/// A flash of 1000 bytes into an STM32F405 whose last request of `kind` (`getstatus`,
/// `upload`) meets `action` (`fault=ACTION@KIND:N`): a first flash into an identical device
/// counts those requests. The last status request answers the leave request; the last
/// upload reads back what was written. The image is in the device's memory either way.
pub fn at_last(s: &Scratch, kind: &str, action: &str) -> Run {
    let a = s.file("a.bin", &pattern(1000, 11));
    let counted = format!("stm32f405,stats={}", s.state("count.json"));
    sim_json(&counted, &["flash", &a, "-s", APP]).ok();
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("count.json"))).unwrap();
    let n = st["transfers"][kind.to_uppercase()].as_u64().unwrap();
    assert!(n > 1, "{st}");
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let r = sim_json(
        &format!("{sim},fault={action}@{kind}:{n}"),
        &["flash", &a, "-s", APP],
    );
    let back = read_back(&sim, s, "back.bin", 0x0800_8000, 1000);
    assert_eq!(
        back,
        pattern(1000, 11),
        "the image was written and stays written"
    );
    r
}

/// A device stuck in dfuERROR: each of its first 12 status requests reports errFIRMWARE,
/// so clearing the error at connect never brings it to dfuIDLE. Nothing is written.
pub fn stuck_in_error(s: &Scratch) -> Run {
    let sim = filled(s, "stm32f405", 0x0800_8000);
    let faults: String = (1..=12)
        .map(|n| format!(",fault=status=errFIRMWARE@getstatus:{n}"))
        .collect();
    let a = s.file("a.bin", &pattern(1000, 1));
    let r = sim_json(&format!("{sim}{faults}"), &["flash", &a, "-s", APP]);
    untouched(&sim, s, 0x0800_8000);
    r
}

/// A raw binary on a DfuSe device whose profile (given with `--profile`) names no
/// application address: nothing says where it goes.
pub fn no_address(s: &Scratch) -> Run {
    let profile = custom_profile(s, "no-app.toml", |t| {
        t.lines()
            .filter(|l| !l.starts_with("app_address"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let a = s.file("a.bin", &pattern(1000, 1));
    sim_json("stm32f405", &["--profile", &profile, "flash", &a])
}

/// The STM32F405 profile as another device (ids 1234:5678, name "custom"), edited by
/// `edit`, written to `name` in `s`: the path, usable as a `--sim` profile or `--profile`.
pub fn custom_profile(s: &Scratch, name: &str, edit: fn(String) -> String) -> String {
    let t = std::fs::read_to_string(format!("{PROFILES}/stm32f405.toml")).unwrap();
    let t = t
        .replacen("name = \"stm32f405\"", "name = \"custom\"", 1)
        .replacen("vendor_id = 0x0483", "vendor_id = 0x1234", 1)
        .replacen("product_id = 0xdf11", "product_id = 0x5678", 1);
    assert!(t.contains("0x5678") && t.contains("\"custom\""), "{t}");
    s.file(name, edit(t).as_bytes())
}

/// `dfu option-bytes write BYTES EXTRA... --json` on an STM32F405 with a state file; a
/// refused write must leave the option bytes as they were.
pub fn option_bytes(s: &Scratch, bytes: &str, extra: &[&str]) -> Run {
    let sim = format!("stm32f405,state={}", s.state("ob.json"));
    let before = sim_json(&sim, &["option-bytes"]);
    let mut args = vec!["option-bytes", "write", bytes];
    args.extend_from_slice(extra);
    let r = sim_json(&sim, &args);
    if r.code != 0 {
        assert_eq!(
            raw_option_bytes(&sim_json(&sim, &["option-bytes"])),
            raw_option_bytes(&before)
        );
    } else {
        assert_eq!(raw_option_bytes(&sim_json(&sim, &["option-bytes"])), bytes);
    }
    r
}

/// 1001 bytes into a device that programs 4 bytes at a time: the last unit is padded with
/// 0xFF, which leaves the byte after the image as it was (blank).
pub fn padded(s: &Scratch) -> Run {
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let a = s.file("a.bin", &pattern(1001, 1));
    let r = sim_json(&sim, &["flash", &a, "-s", APP]);
    let mut want = pattern(1001, 1);
    want.extend([0xFF; 3]);
    assert_eq!(read_back(&sim, s, "back.bin", 0x0800_8000, 1004), want);
    r
}

/// A HEX file that holds option bytes (the user byte changed), flashed: it goes to the
/// option-byte alt setting, and the option bytes read back are the file's.
pub fn option_byte_file(s: &Scratch) -> Run {
    let sim = format!("stm32f405,state={}", s.state("ob.json"));
    let bytes: Vec<u8> = USER_BYTE
        .split(' ')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let f = s.file("ob.hex", hex(&[(0x1FFF_C000, &bytes)]).as_bytes());
    let r = sim_json(&sim, &["flash", &f]);
    assert_eq!(
        raw_option_bytes(&sim_json(&sim, &["option-bytes"])),
        USER_BYTE
    );
    r
}

fn raw_option_bytes(r: &Run) -> String {
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    v["raw"].as_str().unwrap().to_string()
}

/// OTP that holds 0x0f, written with 0xff: bits would have to go from 0 to 1.
pub fn otp_bits(s: &Scratch) -> Run {
    let sim = format!("stm32f405,state={}", s.state("otp.json"));
    let otp = |name: &str, byte: u8| s.file(name, &[byte; 16]);
    let write = |file: &str| {
        let args = [
            "--alt",
            "2",
            "flash",
            file,
            "-s",
            "0x1FFF7800",
            "--irreversible",
        ];
        sim_json(&sim, &args)
    };
    write(&otp("first.bin", 0x0F)).ok();
    let r = write(&otp("second.bin", 0xFF));
    let out = s.state("otp-back.bin");
    let back = [
        "--alt",
        "2",
        "read",
        "-s",
        "0x1FFF7800",
        "--length",
        "16",
        "-o",
        &out,
    ];
    sim_json(&sim, &back).ok();
    assert_eq!(read_file(&s.path("otp-back.bin")), [0x0F; 16]);
    r
}

/// A flash into sector 0 after the option bytes write-protect it.
pub fn write_protected(s: &Scratch) -> Run {
    let sim = filled(s, "stm32f405", 0x0800_0000);
    sim_json(&sim, &["option-bytes", "write", WRP0, "--force"]).ok();
    let a = s.file("a.bin", &pattern(4096, 9));
    let r = sim_json(&sim, &["flash", &a, "-s", "0x08000000"]);
    untouched(&sim, s, 0x0800_0000);
    r
}

/// An unknown GD32VF103 part (serial "3C9J"): its memory was written while it still said
/// it was a known part ("3CBJ"), with the same state file.
pub fn layout_unknown(s: &Scratch) -> Run {
    let sim = filled(s, "gd32vf103,serial=3CBJ", 0x0800_0000);
    let sim = sim.replacen("serial=3CBJ", "serial=3C9J", 1);
    let a = s.file("a.bin", &pattern(1000, 1));
    let r = sim_json(&sim, &["flash", &a]);
    untouched(&sim, s, 0x0800_0000);
    r
}

/// A device without a usable layout (an unknown DfuSe device whose alt name is junk),
/// filled through `--layout` before.
pub fn no_layout(s: &Scratch) -> Run {
    let custom = custom_profile(s, "custom.toml", |t| t);
    let sim = format!(
        "{custom},alt-name=garbage,state={},stats={}",
        s.state("c.json"),
        s.state("stats.json")
    );
    let layout = [
        "--layout",
        "@Internal Flash/0x08000000/04*016Kg,01*064Kg,07*128Kg",
    ];
    let fill = s.file("fill.bin", &prefill_data(4096));
    let mut args = layout.to_vec();
    args.extend(["flash", &fill, "-s", APP, "--no-leave"]);
    sim_json(&sim, &args).ok();
    let a = s.file("a.bin", &pattern(1000, 1));
    let r = sim_json(&sim, &["flash", &a, "-s", APP]);
    no_erase_no_write(s);
    let out = s.state("back.bin");
    let mut args = layout.to_vec();
    args.extend(["read", "-s", APP, "--length", "4096", "-o", &out]);
    sim_json(&sim, &args).ok();
    assert_eq!(read_file(&s.path("back.bin")), prefill_data(4096));
    r
}

/// A device filled, then read-protected (level 1, forced): it refuses the write itself.
/// Its memory cannot be read back while protected; the statistics show no erase or write.
pub fn read_protected(s: &Scratch) -> Run {
    let sim = filled(s, "stm32f405", 0x0800_8000);
    let level1 = "ec 55 ff ff ff ff ff ff ff 0f ff ff ff ff ff ff";
    sim_json(&sim, &["option-bytes", "write", level1, "--force"]).ok();
    let a = s.file("a.bin", &pattern(1000, 1));
    let r = sim_json(&sim, &["flash", &a, "-s", APP]);
    no_erase_no_write(s);
    r
}

/// The last run's statistics show no erase and no programmed byte.
fn no_erase_no_write(s: &Scratch) {
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    assert_eq!(st["erases"], 0, "{st}");
    assert_eq!(st["programmed_bytes"], 0, "{st}");
}

/// An Intel HEX file of `runs` (address, bytes).
pub fn hex(runs: &[(u32, &[u8])]) -> String {
    let segments = runs
        .iter()
        .map(|(a, d)| dfu_image::Segment::new(*a, d.to_vec()))
        .collect();
    dfu_image::Image::from_segments(dfu_image::Format::IntelHex, segments)
        .unwrap()
        .to_ihex()
}

/// A DfuSe file with one target for `alt` holding `data` at `address`.
pub fn dfuse(alt: u8, address: u32, data: &[u8]) -> Vec<u8> {
    let target = dfu_image::dfuse::DfuseTarget {
        alt,
        name: Some("Internal Flash".into()),
        segments: vec![dfu_image::Segment::new(address, data.to_vec())],
    };
    dfu_image::dfuse::write(&[target], 0x0483, 0xdf11, 0xffff)
}

/// A Cortex-M image whose vector table says it was linked at `linked`: stack pointer in
/// SRAM, every handler inside the first KiB after `linked`.
pub fn vectors_for(linked: u32) -> Vec<u8> {
    let mut v = 0x2002_0000u32.to_le_bytes().to_vec();
    for _ in 1..16 {
        v.extend_from_slice(&(linked + 0x201).to_le_bytes());
    }
    v.extend_from_slice(&pattern(2048, 10));
    v
}

/// A Particle user part for `platform` at `start`, needing `needs`.
pub fn user_part(platform: u16, start: u32, needs: &[Dependency]) -> Vec<u8> {
    build_module(platform, ModuleFunction::UserPart, 1, 2, start, needs, 4000)
}

/// A dependency on system part `index` at `version` or newer.
pub fn needs_system(index: u8, version: u16) -> Dependency {
    Dependency {
        function: ModuleFunction::SystemPart,
        index,
        version,
    }
}

/// A file of the image crate's test fixtures.
pub fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}
