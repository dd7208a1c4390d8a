//! Option bytes and read protection against the simulated STM32F405 ROM: reading and
//! decoding them, writes that need --force or --irreversible, a read-protected device that
//! refuses flash and read with the way out, and `dfu unprotect`.

mod common;
use common::*;

const FACTORY: &str = "ec aa ff ff ff ff ff ff ff 0f ff ff ff ff ff ff";

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(r.stdout.lines().last().unwrap()).expect("valid JSON")
}

#[test]
fn option_bytes_start_at_the_factory_state_and_are_decoded() {
    let r = dfu(&["--sim", "stm32f405", "option-bytes"]);
    r.ok()
        .says(&format!(
            "option bytes at 0x1fffc000 (alt 1, 16 bytes): {FACTORY}"
        ))
        .says("read protection: level 0")
        .says("write-protected sectors: none (nWRP 0x0fff)")
        .says("user: 0xec");
    let v = json(&dfu(&["--sim", "stm32f405", "option-bytes", "--json"]));
    assert_eq!(v["raw"], FACTORY);
    assert_eq!(v["decoded"]["rdp"], "level 0");
    assert_eq!(v["read_protected"], false);
    // A family whose encoding is not sourced shows raw bytes.
    dfu(&["--sim", "stm32g474", "option-bytes"])
        .ok()
        .says("raw bytes only");
}

#[test]
fn writes_show_the_difference_and_protection_needs_force_or_irreversible() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    dfu(&["--sim", &sim, "option-bytes", "write", FACTORY])
        .ok()
        .says("already hold these values; nothing was written");
    let user = "e0 aa ff ff ff ff ff ff ff 0f ff ff ff ff ff ff";
    dfu(&["--sim", &sim, "option-bytes", "write", user])
        .ok()
        .says("note: option bytes: user byte: 0xec -> 0xe0; the device resets to apply them")
        .says(&format!("(alt 1, 16 bytes): {user}"));
    // Write protection on sector 0: refused, then forced.
    let wrp = "e0 aa ff ff ff ff ff ff fe 0f ff ff ff ff ff ff";
    dfu(&["--sim", &sim, "option-bytes", "write", wrp])
        .code(5)
        .says("write protection added on sectors 0")
        .says("code: dfu::refused::raises-protection");
    assert_eq!(
        json(&dfu(&["--sim", &sim, "option-bytes", "--json"]))["raw"],
        user,
        "nothing was written"
    );
    dfu(&["--sim", &sim, "option-bytes", "write", wrp, "--force"])
        .ok()
        .says("--force: the option bytes raise the device's protection")
        .says("write-protected sectors: 0 (nWRP 0x0ffe)");
    // Level 2 is refused even with --force.
    let level2 = "e0 cc ff ff ff ff ff ff ff 0f ff ff ff ff ff ff";
    dfu(&["--sim", &sim, "option-bytes", "write", level2, "--force"])
        .code(5)
        .says("read protection level 2, which is permanent")
        .says("help: add --irreversible")
        .says("code: dfu::refused::irreversible");
    dfu(&["--sim", &sim, "option-bytes", "--json"]).ok();
    // With --irreversible the ROM never runs again: the device is gone for good.
    dfu(&[
        "--sim",
        &sim,
        "option-bytes",
        "write",
        level2,
        "--irreversible",
    ])
    .ok()
    .says("does not come back in DFU mode");
    dfu(&["--sim", &sim, "list", "--json"])
        .ok()
        .says("\"devices\":[]");
}

#[test]
fn a_write_protected_sector_refuses_erase_and_write() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("w.json"));
    let wrp = "ec aa ff ff ff ff ff ff fe 0f ff ff ff ff ff ff";
    dfu(&["--sim", &sim, "option-bytes", "write", wrp, "--force"]).ok();
    let app = s.file("app.bin", &pattern(2000, 4));
    // Refused before anything is erased, with the sector and the way out.
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08000000"])
        .code(5)
        .says("sector(s) 0 (0x08000000-0x08003fff) are write-protected by the option bytes")
        .says("dfu option-bytes write ECAAFFFFFFFFFFFFFF0F")
        .says("nothing was written to the device")
        .says("code: dfu::refused::write-protected");
    dfu(&[
        "--sim",
        &sim,
        "erase",
        "--address",
        "0x08000000",
        "--length",
        "16",
    ])
    .code(6)
    .says("errERASE")
    .says("check the option bytes");
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08004000"])
        .ok()
        .says("verified");
}

#[test]
fn bad_option_byte_values_are_usage_errors() {
    dfu(&["--sim", "stm32f405", "option-bytes", "write", "xyz"])
        .code(2)
        .says("neither a file nor hex bytes");
    dfu(&["--sim", "stm32f405", "option-bytes", "write", "ec aa"])
        .code(2)
        .says("the option bytes are 16 bytes at 0x1fffc000; 2 given");
    dfu(&["--sim", "photon", "option-bytes"])
        .code(5)
        .says("no option bytes");
    // Read-unprotect is an ST ROM command: a Photon's flash is not erased by it.
    dfu(&["--sim", "photon", "unprotect", "--force"])
        .code(5)
        .says("no option bytes");
}

#[test]
fn a_read_protected_device_refuses_with_the_way_out_and_unprotect_brings_it_back_blank() {
    let s = Scratch::new();
    let sim = format!("stm32f405,rdp=1,state={}", s.state("p.json"));
    let app = s.file("app.bin", &pattern(5000, 3));
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08000000"])
        .code(5)
        .says("it is read-protected")
        .says("dfu unprotect --force")
        .says("nothing was written")
        .says("code: dfu::refused::read-protected");
    let out = s.path("r.bin").display().to_string();
    dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x08000000",
        "--length",
        "16",
        "-o",
        &out,
    ])
    .code(5)
    .says("code: dfu::refused::read-protected");
    dfu(&["--sim", &sim, "option-bytes"])
        .ok()
        .says("read protection: active (level 1)");
    dfu(&["--sim", &sim, "unprotect"])
        .code(5)
        .says("erases the whole flash")
        .says("--force");
    dfu(&["--sim", &sim, "unprotect", "--force"])
        .ok()
        .says("erases its whole flash")
        .says("read protection: level 0");
    // Blank now, and writable.
    assert!(read_back(&sim, &s, "b.bin", 0x0800_0000, 64)
        .iter()
        .all(|b| *b == 0xFF));
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08000000"])
        .ok()
        .says("verified");
}

#[test]
fn unprotect_erases_the_flash_of_an_unprotected_device_too() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("u.json"));
    let app = s.file("app.bin", &pattern(3000, 9));
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08000000"]).ok();
    dfu(&["--sim", &sim, "unprotect", "--force"]).ok();
    assert!(read_back(&sim, &s, "b.bin", 0x0800_0000, 3000)
        .iter()
        .all(|b| *b == 0xFF));
}

#[test]
fn otp_writes_need_irreversible_and_otp_is_never_erased() {
    let s = Scratch::new();
    let sim = format!("stm32f407-v21,state={}", s.state("o.json"));
    let otp = s.file("otp.bin", b"SERIAL-0042");
    let args = |extra: &[&'static str]| {
        let mut v = vec![
            "--sim",
            &sim,
            "--alt",
            "2",
            "flash",
            &otp,
            "--address",
            "0x1FFF7800",
        ];
        v.extend_from_slice(extra);
        v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| dfu(&a.iter().map(String::as_str).collect::<Vec<_>>());
    run(args(&[]))
        .code(5)
        .says("one-time programmable")
        .says("code: dfu::refused::irreversible");
    // This ROM types OTP erasable ("g"), but the plan never erases it.
    let r = run(args(&["--irreversible", "--json"]));
    r.ok();
    let last = json(&r);
    assert_eq!(
        last["report"]["erased"].as_array().unwrap().len(),
        0,
        "{last}"
    );
    dfu(&[
        "--sim",
        &sim,
        "--alt",
        "2",
        "erase",
        "--address",
        "0x1FFF7800",
        "--length",
        "16",
    ])
    .code(5)
    .says("one-time programmable memory is never erased")
    .says("code: dfu::unsupported::erase");
    // The option bytes are read/write but not erasable (type `e`): an erase there is
    // refused, not reported as done with nothing erased.
    let before = std::fs::read(sim.split("state=").nth(1).unwrap()).unwrap();
    dfu(&[
        "--sim",
        &sim,
        "--alt",
        "1",
        "erase",
        "--address",
        "0x1fffc000",
        "--length",
        "16",
    ])
    .code(5)
    .says("holds no erasable sector")
    .says("code: dfu::unsupported::erase");
    let after = std::fs::read(sim.split("state=").nth(1).unwrap()).unwrap();
    assert_eq!(before, after, "the device's state is unchanged");
}

#[test]
fn the_rdp_knob_is_checked() {
    dfu(&["--sim", "photon,rdp=1", "list"])
        .code(2)
        .says("no option bytes this simulator models");
    dfu(&["--sim", "stm32f405,rdp=3", "list"])
        .code(2)
        .says("expected 0, 1 or 2");
    // Level 2: the ROM bootloader never runs, so no device shows.
    dfu(&["--sim", "stm32f405,rdp=2", "list", "--json"])
        .ok()
        .says("\"devices\":[]");
}
