//! `dfu` as a drop-in for dfu-util: each command line of the corpus runs from the same
//! simulated state once with the real dfu-util 0.11 (through this crate's libusb
//! drop-in) and once with `dfu` called `dfu-util`; exit codes, flash contents, uploaded
//! bytes and `Found` lines must agree, except where docs/dfu-util.md documents why not.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

#[path = "dfu_util_dropin/boards.rs"]
mod boards;
#[path = "dfu_util_dropin/corpus.rs"]
mod corpus;
#[path = "dfu_util_dropin/espdfu.rs"]
mod espdfu;
#[path = "dfu_util_dropin/harvested.rs"]
mod harvested;
#[path = "dfu_util_dropin/support.rs"]
mod support;

use support::{check, found_lines, Case};

fn run_all(cases: Vec<Case>) {
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn callers_command_lines() {
    run_all(corpus::callers());
}

/// The harvested lines, on as many threads as there are cores (each case is two runs of
/// external programs on its own simulated device).
#[test]
fn harvested_command_lines() {
    let cases = harvested::harvested();
    assert!(cases.len() >= 60, "only {} harvested lines", cases.len());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = cases.len().div_ceil(threads);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().filter_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a case thread panicked"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} harvested lines failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn boards_command_lines() {
    run_all(boards::callers());
}

#[test]
fn every_option() {
    run_all(corpus::options());
}

#[test]
fn found_lines_match_for_every_profile_in_dfu_and_run_time_mode() {
    let names = dfu_profiles::builtin_names();
    let mut compared = 0;
    for name in &names {
        let profile = dfu_profiles::Profile::builtin(name).expect("built-in profile");
        let mut specs = vec![name.to_string()];
        if profile.runtime.is_some() {
            specs.push(format!("{name},mode=runtime"));
        }
        for spec in specs {
            let case = Case::new("-l", "", &["-l"]).found();
            let dir = harness::scratch();
            let theirs = harness::dfu_util_run(&spec, &case.args, dir.path());
            let ours = std::process::Command::new(harness::dfu_cli())
                .args(["util", "-l"])
                .env("DFU_SIM", &spec)
                .output()
                .expect("run dfu util -l");
            let ours = harness::Run {
                code: ours.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&ours.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&ours.stderr).into_owned(),
            };
            assert_eq!((ours.code, theirs.code), (0, 0), "{spec}\n{ours}\n{theirs}");
            assert_eq!(found_lines(&ours), found_lines(&theirs), "{spec}");
            compared += found_lines(&theirs).len();
        }
    }
    // Every profile lists at least one alt in DFU mode; the Particle ones also at run time.
    assert!(compared >= names.len(), "only {compared} lines compared");
}

/// The bytes of one alt's flash from `start`, `len` long, read from the state file (erased
/// pages the state leaves out read as 0xFF).
fn state_bytes(dir: &std::path::Path, alt: u64, start: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0xff; len];
    for ((_, a, address), data) in support::memory(dir) {
        let base = u32::from_str_radix(address.trim_start_matches("0x"), 16).expect("page address");
        if a != alt {
            continue;
        }
        for (i, b) in data.iter().enumerate() {
            let at = u64::from(base) + i as u64;
            if at >= u64::from(start) && at < u64::from(start) + len as u64 {
                out[(at - u64::from(start)) as usize] = *b;
            }
        }
    }
    out
}

#[test]
fn maple_callers_write_where_the_alt_name_says_and_keep_the_rest() {
    // QMK's line on a pre-filled STM32duino bootloader: the image lands at 0x08002000 (what
    // alt 2's name states), the pages past it keep what was there.
    let dir = harness::scratch();
    let spec = format!(
        "stm32duino,state={}",
        dir.path().join("state0.json").display()
    );
    let seed = harness::pattern(40_000, 50);
    let image = corpus::linked_for(0x0800_2000, 12_000, 51);
    std::fs::write(dir.path().join("seed.bin"), &seed).expect("seed");
    std::fs::write(dir.path().join("f.bin"), &image).expect("image");
    let r = harness::dfu_run(
        &spec,
        &["flash", "seed.bin", "--alt", "2", "--no-leave"],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{r}");
    let out = std::process::Command::new(harness::dfu_cli())
        .args(["util", "-d", "1EAF:0003", "-a", "2", "-R", "-D", "f.bin"])
        .current_dir(dir.path())
        .env("DFU_SIM", &spec)
        .output()
        .expect("run dfu util");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        state_bytes(dir.path(), 2, 0x0800_2000, image.len()) == image,
        "the image is not at 0x08002000 in the device's flash"
    );
    // The image ends inside the page at 0x08004C00; the pages from 0x08005000 are untouched.
    let kept = 0x3000;
    assert!(
        state_bytes(
            dir.path(),
            2,
            0x0800_2000 + kept,
            seed.len() - kept as usize
        ) == seed[kept as usize..],
        "the pages past the image lost what they held"
    );
}

#[test]
fn dfu_flash_of_an_esp_idf_dfu_bin_on_the_esp32s2_rom() {
    // `dfu flash build/dfu.bin` on a pre-filled ESP32-S2: the suffix names 303a:0002 with
    // bcdDevice 0xFFFF (any release), the archive goes to the ROM as it is, the flash past it
    // keeps what it held, and the run says why it was not read back (attributes 0x05).
    let dir = harness::scratch();
    let spec = format!("esp32s2,state={}", dir.path().join("state0.json").display());
    let seed = harness::pattern(120_000, 60);
    let file = boards::esp_idf_dfu_bin(0x0002);
    std::fs::create_dir(dir.path().join("build")).expect("build dir");
    std::fs::write(dir.path().join("seed.bin"), &seed).expect("seed");
    std::fs::write(dir.path().join("build/dfu.bin"), &file).expect("dfu.bin");
    let args = ["flash", "seed.bin", "--no-leave", "--no-verify"];
    harness::dfu_run(&spec, &args, dir.path()).expect_code(0);
    let r = harness::dfu_run(&spec, &["flash", "build/dfu.bin", "--json"], dir.path());
    r.expect_code(0);
    assert!(
        r.stdout.contains("\"dfu::note::not-verified\""),
        "no not-verified note\n{r}"
    );
    assert!(!r.stderr.contains("switching it to DFU mode"), "{r}");
    let archive = &file[..file.len() - 16];
    assert!(
        state_bytes(dir.path(), 0, 0, archive.len()) == archive,
        "the archive (without its suffix) is not at 0 in the device's flash"
    );
    // The ROM's flash erases in 4 KiB sectors: the first sector past the archive is untouched.
    let kept = archive.len().div_ceil(4096) * 4096;
    let at = u32::try_from(kept).expect("small");
    assert!(
        state_bytes(dir.path(), 0, at, seed.len() - kept) == seed[kept..],
        "the flash past the archive lost what it held"
    );
    // Another chip's archive (the ESP32-S3's PID 9) is refused before anything is erased.
    std::fs::write(dir.path().join("s3.bin"), boards::esp_idf_dfu_bin(0x0009)).expect("s3");
    let before = support::memory(dir.path());
    let r = harness::dfu_run(&spec, &["flash", "s3.bin"], dir.path());
    assert_ne!(r.code, 0, "{r}");
    assert!(
        support::memory(dir.path()) == before,
        "a refused file changed the flash"
    );
}

#[test]
fn a_plain_alt_that_names_its_address_places_the_image_without_a_profile() {
    // A bootloader no built-in profile knows, whose alt name states 0x08003000: the image
    // linked there is placed there (not at 0) and passes the vector-table check.
    let dir = harness::scratch();
    let text = include_str!("../../dfu-profiles/profiles/stm32duino.toml")
        .replace("name = \"stm32duino\"", "name = \"unknown-loader\"")
        .replace("0x8002000\"", "0x8003000\"")
        .replace("@Flash/0x08002000/56*001Kg", "@Flash/0x08003000/52*001Kg")
        .replace("STM32duino bootloader v1.0", "Some loader")
        .replace(
            "start = 0x08002000\nsize = 0xE000",
            "start = 0x08003000\nsize = 0xD000",
        );
    let file = dir.path().join("unknown-loader.toml");
    std::fs::write(&file, text).expect("profile file");
    let spec = format!(
        "{},state={}",
        file.display(),
        dir.path().join("state0.json").display()
    );
    let image = corpus::linked_for(0x0800_3000, 5_000, 52);
    std::fs::write(dir.path().join("f.bin"), &image).expect("image");
    let out = std::process::Command::new(harness::dfu_cli())
        .args(["util", "-a", "2", "-D", "f.bin"])
        .current_dir(dir.path())
        .env("DFU_SIM", &spec)
        .output()
        .expect("run dfu util");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("0x08003000"), "{err}");
    assert!(
        state_bytes(dir.path(), 2, 0x0800_3000, image.len()) == image,
        "the image is not at 0x08003000 in the device's flash"
    );
}

#[test]
fn particle_cli_key_commands_write_and_read_the_documented_dct_slot_only() {
    let dir = harness::scratch();
    let spec = format!("photon,state={}", dir.path().join("state0.json").display());
    let dct = harness::pattern(16_384, 58);
    let key = corpus::particle_server_key(59);
    std::fs::write(dir.path().join("dct.bin"), &dct).expect("dct");
    std::fs::write(dir.path().join("server-key.der"), &key).expect("key");
    let seed = [
        "flash",
        "dct.bin",
        "--alt",
        "1",
        "--address",
        "0",
        "--force",
        "--no-leave",
    ];
    let r = harness::dfu_run(&spec, &seed, dir.path());
    assert_eq!(r.code, 0, "{r}");
    let util = |args: &[&str]| {
        std::process::Command::new(harness::dfu_cli())
            .arg("util")
            .args(args)
            .current_dir(dir.path())
            .env("DFU_SIM", &spec)
            .output()
            .expect("run dfu util")
    };
    // particle-cli's exact lines: write the server key, read it back.
    let w = util(&[
        "-d",
        "2b04:d006",
        "-a",
        "1",
        "-i",
        "0",
        "-s",
        "2082",
        "-D",
        "server-key.der",
    ]);
    let err = String::from_utf8_lossy(&w.stderr);
    assert_eq!(w.status.code(), Some(0), "{err}");
    assert!(err.contains("server public key (TCP, RSA)"), "{err}");
    assert!(
        !err.contains("--force") && !err.contains("--address"),
        "{err}"
    );
    // What is printed is true: dfu-util's closing lines and one note. The DCT alt erases
    // nothing (the state check below is the ground truth), so no erase is reported.
    let out = String::from_utf8_lossy(&w.stdout);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).skip(1).collect();
    assert_eq!(
        lines,
        ["Download done.", "File downloaded successfully"],
        "{out}"
    );
    let notes: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(notes[0].starts_with("note: DCT bytes 2082..2594 are the server public key"));
    assert!(
        notes[0].contains("read back, the rest of the DCT kept"),
        "{err}"
    );
    assert!(
        !err.contains("sector") && !out.contains("sector"),
        "{err}{out}"
    );
    let mut want = dct.clone();
    want[2082..2594].copy_from_slice(&key);
    assert!(
        state_bytes(dir.path(), 1, 0, 16_384) == want,
        "the DCT does not hold the key at 2082 with every other byte kept"
    );
    let r = util(&[
        "-d",
        "2b04:d006",
        "-a",
        "1",
        "-s",
        "2082:512",
        "-U",
        "key.der",
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert!(err.contains("server public key (TCP, RSA)"), "{err}");
    assert!(std::fs::read(dir.path().join("key.der")).expect("key.der") == key);
    // Any other DCT area stays refused, and nothing changes.
    let other = util(&[
        "-d",
        "2b04:d006",
        "-a",
        "1",
        "-s",
        "2000",
        "-D",
        "server-key.der",
    ]);
    assert_eq!(other.status.code(), Some(64));
    assert!(
        state_bytes(dir.path(), 1, 0, 16_384) == want,
        "a refused write changed the DCT"
    );
}
