//! The flash plan seen from the command line: multi-target DfuSe files, suffix ids, the dry
//! run against the real run, refusals for other devices' files, mass erase of system
//! firmware, one placement for flash and convert, and a flash whose output pipe closes.

mod common;
use common::*;
use dfu_image::{DfuseTarget, Segment};

fn json_lines(r: &Run) -> Vec<serde_json::Value> {
    r.stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn read_alt(sim: &str, s: &Scratch, alt: &str, address: &str, len: &str) -> Vec<u8> {
    let out = s.state(&format!("alt{alt}-{address}.bin"));
    dfu(&[
        "--sim",
        sim,
        "--alt",
        alt,
        "read",
        "--address",
        address,
        "--length",
        len,
        "-o",
        &out,
    ])
    .ok();
    std::fs::read(out).unwrap()
}

#[test]
fn a_two_target_dfuse_file_lands_each_target_on_its_alt() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let app = pattern(50_000, 1);
    // Option bytes that keep the device unprotected: only the USER byte changes.
    let mut ob = vec![0xFF; 16];
    (ob[0], ob[1], ob[9]) = (0xE0, 0xAA, 0x0F);
    let targets = [
        DfuseTarget {
            alt: 0,
            name: Some("ST...".into()),
            segments: vec![Segment::new(0x0800_0000, app.clone())],
        },
        DfuseTarget {
            alt: 1,
            name: Some("ST...".into()),
            segments: vec![Segment::new(0x1FFF_C000, ob.clone())],
        },
    ];
    let file = s.file(
        "two.dfu",
        &dfu_image::dfuse::write(&targets, 0x0483, 0xdf11, 0xffff),
    );
    dfu(&["--sim", &sim, "flash", &file])
        .ok()
        .says("plan: alt 0: write 0x08000000")
        .says("plan: alt 1: ")
        .says("option bytes: user byte: 0xec -> 0xe0")
        .says("the device resets to apply them")
        .says("in 2 runs: 0x08000000-0x0800c34f (50000 bytes), 0x1fffc000-0x1fffc00f (16 bytes)")
        .says("verified by reading back, except the option bytes at 0x1fffc000-0x1fffc00f");
    assert_eq!(read_alt(&sim, &s, "0", "0x08000000", "50000"), app);
    assert_eq!(read_alt(&sim, &s, "1", "0x1FFFC000", "16"), ob);
}

/// Intel HEX records of `data` at `address` (with an extended linear address record).
fn hex_at(address: u32, data: &[u8]) -> String {
    let rec = |addr: u16, kind: u8, bytes: &[u8]| {
        let mut b = vec![bytes.len() as u8, (addr >> 8) as u8, addr as u8, kind];
        b.extend_from_slice(bytes);
        let sum = b.iter().fold(0u8, |a, x| a.wrapping_add(*x));
        b.push(sum.wrapping_neg());
        format!(
            ":{}\n",
            b.iter().map(|x| format!("{x:02X}")).collect::<String>()
        )
    };
    let high = ((address >> 16) as u16).to_be_bytes();
    format!(
        "{}{}{}",
        rec(0, 4, &high),
        rec(address as u16, 0, data),
        rec(0, 1, &[])
    )
}

/// A HEX file whose bytes are the option bytes goes to the option-byte alt setting, as a
/// two-target DfuSe file's would, and is judged there like one.
#[test]
fn a_hex_file_of_option_bytes_goes_to_their_alt() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let mut ob = vec![0xFF; 16];
    (ob[0], ob[1], ob[9]) = (0xE0, 0xAA, 0x0F);
    let file = s.file("ob.hex", hex_at(0x1FFF_C000, &ob).as_bytes());
    dfu(&["--sim", &sim, "flash", &file])
        .ok()
        .says("plan: alt 1: write 0x1fffc000-0x1fffc00f")
        .says("option bytes: user byte: 0xec -> 0xe0");
    assert_eq!(read_alt(&sim, &s, "1", "0x1FFFC000", "16"), ob);
    // Write protection on sector 0 in the same way is refused, as from a DfuSe file.
    let mut wrp = ob.clone();
    wrp[8] = 0xFE;
    let file = s.file("wrp.hex", hex_at(0x1FFF_C000, &wrp).as_bytes());
    dfu(&["--sim", &sim, "flash", &file])
        .code(5)
        .says("code: dfu::refused::raises-protection");
    std::fs::remove_file(s.path("alt1-0x1FFFC000.bin")).unwrap();
    assert_eq!(read_alt(&sim, &s, "1", "0x1FFFC000", "16"), ob);
}

#[test]
fn a_suffix_naming_another_device_is_refused_unless_forced() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let photon = s.file(
        "user-part.dfu",
        &dfu_image::suffix::add(&pattern(4096, 2), 0x2b04, 0xd006, 0xffff),
    );
    dfu(&["--sim", &sim, "flash", &photon, "--address", "0x08000000"])
        .code(5)
        .says("DFU suffix says it is for 2b04:d006, but this device is 0483:df11")
        .says("nothing was written")
        .says("code: dfu::refused::suffix-ids");
    assert!(read_back(&sim, &s, "b.bin", 0x0800_0000, 4096)
        .iter()
        .all(|b| *b == 0xFF));
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &photon,
        "--address",
        "0x08000000",
        "--force",
    ])
    .ok()
    .says("--force: ");
    assert_eq!(
        read_back(&sim, &s, "a.bin", 0x0800_0000, 4096),
        pattern(4096, 2)
    );
    let any = s.file(
        "any.bin",
        &dfu_image::suffix::add(&pattern(4096, 3), 0xffff, 0xffff, 0xffff),
    );
    dfu(&["--sim", &sim, "flash", &any, "--address", "0x08000000"]).ok();
}

#[test]
fn the_dry_run_shows_what_the_real_run_then_does() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let mut img = pattern(200 * 1024, 4);
    let a = s.file("a.bin", &img);
    dfu(&["--sim", &sim, "flash", &a, "--address", "0x08000000"]).ok();
    img[100 * 1024] ^= 0x55;
    let b = s.file("b.bin", &img);
    let dry = dfu(&[
        "--sim",
        &sim,
        "flash",
        &b,
        "--address",
        "0x08000000",
        "--dry-run",
        "--json",
    ]);
    dry.ok();
    let real = dfu(&[
        "--sim",
        &sim,
        "flash",
        &b,
        "--address",
        "0x08000000",
        "--json",
    ]);
    real.ok();
    let plan_of = |r: &Run| {
        json_lines(r)
            .into_iter()
            .find(|v| v["event"] == "plan")
            .unwrap()
    };
    assert_eq!(plan_of(&dry), plan_of(&real));
    let result = json_lines(&real).pop().unwrap();
    let steps = &plan_of(&dry)["steps"][0];
    assert_eq!(steps["erase"], result["report"]["erased"]);
    assert_eq!(steps["write"], result["report"]["written"]);
    assert_eq!(steps["erase"][0]["address"], "0x08010000");
    assert_eq!(read_back(&sim, &s, "back.bin", 0x0800_0000, img.len()), img);
}

#[test]
fn a_flash_whose_output_pipe_closes_still_finishes_and_verifies() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let img = pattern(512 * 1024, 6);
    let a = s.file("a.bin", &img);
    let (code, stderr) = with_closed_pipe(
        &[
            "--sim",
            &sim,
            "flash",
            &a,
            "--address",
            "0x08000000",
            "--json",
        ],
        200,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(read_back(&sim, &s, "back.bin", 0x0800_0000, img.len()), img);
}

#[test]
fn a_particle_module_on_another_device_is_refused() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let core_user = dfu_image::particle::build_module(
        0,
        dfu_image::ModuleFunction::UserPart,
        1,
        2,
        0x0800_5000,
        &[],
        4000,
    );
    let f = s.file("core-user.bin", &core_user);
    dfu(&["--sim", &sim, "flash", &f])
        .code(5)
        .says(
            "built for the Core (platform 0), but this device (stm32f405) is not a Particle device",
        )
        .says("nothing was written");
    assert!(read_back(&sim, &s, "b.bin", 0x0800_4000, 8192)
        .iter()
        .all(|b| *b == 0xFF));
}

#[test]
fn a_mass_erase_of_system_firmware_needs_force_and_says_what_is_lost() {
    let s = Scratch::new();
    let sim = format!("photon,system-version=1,state={}", s.state("p.json"));
    let before = read_back(&sim, &s, "before.bin", 0x0802_0000, 1024);
    dfu(&["--sim", &sim, "erase", "--all"])
        .code(5)
        .says("would also remove the bootloader")
        .says("system-part1")
        .says("--force");
    assert_eq!(read_back(&sim, &s, "after.bin", 0x0802_0000, 1024), before);
    // With --force: Particle's bootloader runs the DfuSe erase only with an address
    // (device-os usbd_dfu_core.c, EP0_TxSent), so every sector is erased one by one.
    dfu(&["--sim", &sim, "erase", "--all", "--force"])
        .ok()
        .says("runs no mass erase: erasing every sector one by one")
        .says("Mass erase done");
    assert!(read_back(&sim, &s, "erased.bin", 0x0802_0000, 1024)
        .iter()
        .all(|b| *b == 0xFF));
}

#[test]
fn erase_checks_the_range_without_building_it() {
    let s = Scratch::new();
    let sim = format!("photon,state={}", s.state("p.json"));
    dfu(&[
        "--sim",
        &sim,
        "erase",
        "--address",
        "0x08000000",
        "--length",
        "4G",
    ])
    .code(5)
    .says("is outside the device's memory (the range covers 0x08000000-");
    dfu(&[
        "--sim",
        &sim,
        "erase",
        "--address",
        "0x0800C000",
        "--length",
        "16K",
    ])
    .ok()
    .says("erased 0x0800c000");
    dfu(&[
        "--sim",
        "dapboot",
        "erase",
        "--address",
        "0x08002000",
        "--length",
        "1K",
    ])
    .code(5)
    .says("code: dfu::unsupported::erase");
}

#[test]
fn convert_places_images_as_flash_does() {
    let s = Scratch::new();
    let user = dfu_image::particle::build_module(
        6,
        dfu_image::ModuleFunction::UserPart,
        1,
        2,
        0x080A_0000,
        &[],
        100,
    );
    let f = s.file("user.bin", &user);
    let out = s.path("user.hex").display().to_string();
    dfu(&["image", "convert", &f, "-o", &out, "--to", "hex"])
        .ok()
        .says("at 0x080a0000");
    let hex = s.file("a.hex", b":0400000001020304F2\n:00000001FF\n");
    let out2 = s.path("a.bin").display().to_string();
    dfu(&[
        "image",
        "convert",
        &hex,
        "-o",
        &out2,
        "--to",
        "bin",
        "--address",
        "0x08000000",
    ])
    .code(2)
    .says("says it belongs at 0x00000000, but --address says 0x08000000");
}

#[test]
fn a_layout_given_for_a_device_that_announces_one_is_noted() {
    let s = Scratch::new();
    let a = s.file("a.bin", &pattern(1024, 8));
    dfu(&[
        "--sim",
        "stm32f405",
        "--layout",
        "@Flash/0x08000000/4*016Kg",
        "flash",
        &a,
        "--address",
        "0x08000000",
    ])
    .ok()
    .says("the layout given was not used");
}

#[test]
fn every_failure_carries_a_stable_code() {
    let s = Scratch::new();
    let out = s.file("exists.bin", b"keep");
    dfu(&[
        "--sim",
        "stm32f405",
        "read",
        "--address",
        "0x08000000",
        "--length",
        "16",
        "-o",
        &out,
    ])
    .code(3)
    .says("code: dfu::output::file");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
    dfu(&["--sim", "stm32f405", "erase", "--address", "0x08000000"])
        .code(2)
        .says("code: dfu::usage::argument");
    let missing = s.path("missing.bin").display().to_string();
    dfu(&["--sim", "stm32f405", "flash", &missing])
        .code(3)
        .says("code: dfu::input::read")
        .says("nothing was written");
    let r = dfu(&["--sim", "dapboot", "erase", "--all", "--json"]);
    r.code(5);
    let v: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["code"], "dfu::unsupported::erase");
}

#[test]
fn verbose_prints_every_usb_request() {
    let r = dfu(&[
        "--sim",
        "stm32f405",
        "-v",
        "read",
        "--address",
        "0x08000000",
        "--length",
        "4",
        "-o",
        "-",
    ]);
    r.ok()
        .says("usb: GET_DESCRIPTOR wValue=512")
        .says("usb: GETSTATUS wValue=0 wIndex=0 wLength=6 -> status OK, state dfuIDLE, poll")
        .says("usb: UPLOAD wValue=2 wIndex=0 wLength=4 -> 4 byte(s)");
    // Four erased bytes (0xFF, read lossily as four replacement characters) and nothing else.
    assert_eq!(
        r.stdout.chars().count(),
        4,
        "the data alone goes to standard output"
    );
}

#[test]
fn a_flash_ends_with_the_strip_of_its_sectors() {
    let s = Scratch::new();
    let sim = format!("stm32f405,state={}", s.state("f.json"));
    let mut img = pattern(300_000, 9);
    let a = s.file("a.bin", &img);
    dfu(&["--sim", &sim, "flash", &a, "--address", "0x08000000"])
        .ok()
        .says("sectors of alt 0 (7):\n  0x08000000 WWWWWWW\n");
    img[200_000] ^= 1;
    let b = s.file("b.bin", &img);
    dfu(&["--sim", &sim, "flash", &b, "--address", "0x08000000"])
        .ok()
        .says("  0x08000000 =====E=\n")
        .says("E erased and written, W written without erasing (was blank), = unchanged, skipped");
}

#[test]
fn off_a_terminal_progress_is_a_plain_line_now_and_then() {
    // In real time (twice as fast), writing 512 KiB takes more than two seconds, so the
    // write phase prints at least one progress line; no bars, no control characters.
    let s = Scratch::new();
    let a = s.file("a.bin", &pattern(512 * 1024, 3));
    let r = dfu(&[
        "--sim",
        "stm32f405,time-scale=2",
        "flash",
        &a,
        "--address",
        "0x08000000",
        "--no-verify",
    ]);
    r.ok();
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("Write: ") && l.contains(" of 524288 bytes (")),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains('\r'),
        "{}",
        r.stderr
    );
}
