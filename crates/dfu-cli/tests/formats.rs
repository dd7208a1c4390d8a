//! The same firmware as bin+address, Intel HEX, S-record, ELF32/64 and DfuSe (files made by
//! binutils and dfu-util's tools, see crates/dfu-image/tests/fixtures/README.md), and as
//! converted by `dfu image convert`, ends up byte-identical in a simulated device.

mod common;
use common::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-image/tests/fixtures");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// Flashes `file` into a fresh STM32F405 and returns the memory from 0x08000000 as long as
/// the flat reference binary.
fn flash_and_read(file: &str, extra: &[&str]) -> Vec<u8> {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let mut args = vec!["--sim", sim.as_str(), "flash", file];
    args.extend_from_slice(extra);
    dfu(&args).ok().says("verified");
    let len = std::fs::metadata(fixture("fw.bin"))
        .unwrap()
        .len()
        .to_string();
    let out = s.state("back.bin");
    dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x08000000",
        "--length",
        &len,
        "-o",
        &out,
    ])
    .ok();
    read_file(&s.path("back.bin"))
}

#[test]
fn every_format_lands_byte_identical() {
    let reference = std::fs::read(fixture("fw.bin")).unwrap();
    assert_eq!(
        flash_and_read(&fixture("fw.bin"), &["--address", "0x08000000"]),
        reference
    );
    let s = Scratch::new();
    for name in ["fw.hex", "fw.srec", "fw.elf", "fw64.elf", "fw.dfu"] {
        let file = if name.ends_with(".elf") {
            as_arm(&s, name)
        } else {
            fixture(name)
        };
        assert_eq!(flash_and_read(&file, &[]), reference, "{name}");
    }
}

/// The ELF fixtures are linked by the host's binutils (x86); the same file marked as Arm
/// code (e_machine 40, little-endian) is what a firmware build produces.
fn as_arm(s: &Scratch, name: &str) -> String {
    let mut elf = std::fs::read(fixture(name)).unwrap();
    elf[18..20].copy_from_slice(&40u16.to_le_bytes());
    s.file(name, &elf)
}

#[test]
fn an_elf_for_another_processor_is_refused() {
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32f405", 0x0800_0000, 4096);
    dfu(&["--sim", &sim, "flash", &fixture("fw64.elf")])
        .code(5)
        .says("is an ELF file for machine 62 (x86-64")
        .says("nothing was written")
        .says("dfu::refused::elf-machine");
    assert_untouched(&sim, &s, 0x0800_0000, 4096);
}

#[test]
fn our_own_writers_round_trip_through_the_device() {
    let reference = std::fs::read(fixture("fw.bin")).unwrap();
    let s = Scratch::new();
    for (to, name) in [
        ("hex", "o.hex"),
        ("srec", "o.srec"),
        ("dfuse", "o.dfu"),
        ("bin", "o.bin"),
        ("suffixed", "o-suffixed.bin"),
    ] {
        let out = s.state(name);
        dfu(&[
            "image",
            "convert",
            &fixture("fw.elf"),
            "-o",
            &out,
            "--to",
            to,
        ])
        .ok();
        let extra: &[&str] = if to == "bin" || to == "suffixed" {
            &["--address", "0x08000000"]
        } else {
            &[]
        };
        assert_eq!(flash_and_read(&out, extra), reference, "{to}");
    }
}

#[test]
fn inspect_and_suffix_commands() {
    dfu(&["image", "inspect", &fixture("fw.elf")])
        .ok()
        .says("ELF")
        .says("0x08000000-0x080002c2 (707 bytes)")
        .says("linked to run at 0x08000000");
    let r = dfu(&["image", "inspect", &fixture("fw.dfu"), "--json"]);
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format"], "DfuSe");
    assert_eq!(v["segments"].as_array().unwrap().len(), 3);
    assert_eq!(v["suffix"]["vendor"], "0x0483");
    let s = Scratch::new();
    let f = s.file("a.bin", &pattern(1000, 1));
    dfu(&["suffix", "add", &f, "--vid", "0483", "--pid", "df11"]).ok();
    dfu(&["suffix", "check", &f])
        .ok()
        .says("vendor 0483 product df11");
    dfu(&["suffix", "add", &f])
        .code(3)
        .says("already has a valid DFU suffix");
    dfu(&["suffix", "remove", &f]).ok();
    assert_eq!(read_file(&s.path("a.bin")), pattern(1000, 1));
    dfu(&["suffix", "check", &f])
        .code(3)
        .says("has no DFU suffix");
    let out = s.state("x.hex");
    dfu(&[
        "image",
        "convert",
        &fixture("fw.bin"),
        "-o",
        &out,
        "--to",
        "hex",
    ])
    .code(2)
    .says("raw binary");
    std::fs::write(s.path("x.hex"), b"keep").unwrap();
    dfu(&[
        "image",
        "convert",
        &fixture("fw.elf"),
        "-o",
        &out,
        "--to",
        "hex",
    ])
    .code(3)
    .says("exists");
    assert_eq!(read_file(&s.path("x.hex")), b"keep");
}

#[test]
fn damaged_files_are_refused_before_touching_the_device() {
    let s = Scratch::new();
    let mut hex = std::fs::read_to_string(fixture("fw.hex")).unwrap();
    hex.replace_range(9..11, if &hex[9..11] == "00" { "01" } else { "00" });
    let bad = s.file("bad.hex", hex.as_bytes());
    dfu(&["--sim", "stm32f405", "flash", &bad])
        .code(3)
        .says("line 1");
    let truncated = std::fs::read(fixture("fw.dfu")).unwrap();
    let cut = s.file("cut.dfu", &truncated[..truncated.len() / 2]);
    dfu(&[
        "--sim",
        "stm32f405",
        "flash",
        &cut,
        "--address",
        "0x08000000",
    ])
    .code(3);
    dfu(&[
        "--sim",
        "stm32f405",
        "flash",
        &fixture("fw.hex"),
        "--address",
        "0x08010000",
    ])
    .code(2)
    .says("says it belongs at 0x08000000, but --address says 0x08010000");
    let a = s.file("a.bin", &pattern(100, 2));
    dfu(&[
        "--sim",
        "stm32f405",
        "flash",
        &fixture("fw.hex"),
        &a,
        "--address",
        "0x08000000",
    ])
    .code(3)
    .says("overlap");
}
