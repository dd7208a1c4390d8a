//! Sizes are checked against the device before a file is read: a raw binary larger than
//! the device's largest memory is refused from its length by `dfu flash` and by the
//! dfu-util drop-in's `-D`, with the device left as it was. Run in 100 MB of address space,
//! where reading the 3 GiB (sparse) file would abort instead of refusing.

mod common;
use common::*;

const BASE: u32 = 0x0800_0000;
const FILLED: usize = 64 * 1024;

/// `dfu ARGS` with at most 100 MB of address space (`ulimit -v`).
#[cfg(unix)]
fn in_100_mb(args: &str, sim: Option<&str>) -> Run {
    let bin = env!("CARGO_BIN_EXE_dfu");
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v 100000 && exec {bin} {args}"))
        .env_remove("DFU_SIM");
    if let Some(s) = sim {
        c.env("DFU_SIM", s);
    }
    c.output().unwrap().into()
}

#[cfg(unix)]
#[test]
fn a_file_larger_than_the_device_is_refused_before_it_is_read() {
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32h743", BASE, FILLED);
    let big = s.state("disk.img");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(3 << 30)
        .unwrap(); // sparse: no disk used
    in_100_mb(
        &format!("--sim {sim} flash {big} --address 0x08000000"),
        None,
    )
    .code(5)
    .says("disk.img is 3221225472 bytes: larger than the device's largest memory (alt setting 0, Internal Flash, 2097152 bytes)")
    .says("nothing was written to the device.")
    .says("code: dfu::refused::outside-memory");
    assert_untouched(&sim, &s, BASE, FILLED);
    // The drop-in: refused the same way (dfu-util's exit code for a refusal).
    let run = in_100_mb(
        &format!("util -a 0 -s 0x08000000:leave -D {big}"),
        Some(&sim),
    );
    run.says("larger than the device's largest memory")
        .says("code: dfu::refused::outside-memory");
    assert_ne!(run.code, 0);
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    assert_eq!(
        (st["erases"].as_u64(), st["programmed_bytes"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        read_back(&sim, &s, "after.bin", BASE, FILLED),
        prefill_data(FILLED)
    );
    // A file that fits is flashed as before.
    let app = s.file("app.bin", &pattern(4096, 8));
    dfu(&["--sim", &sim, "flash", &app, "--address", "0x08000000"]).ok();
    assert_eq!(
        read_back(&sim, &s, "back.bin", BASE, 4096),
        pattern(4096, 8)
    );
}

#[test]
fn a_missing_file_is_reported_before_the_device_is_looked_for() {
    let s = Scratch::new();
    let stats = s.state("stats.json");
    dfu(&[
        "--sim",
        &format!("stm32h743,stats={stats}"),
        "flash",
        &s.state("missing.bin"),
        "--address",
        "0x08000000",
    ])
    .code(3)
    .says("cannot read")
    .says("code: dfu::input::read");
    assert!(
        !s.path("stats.json").exists(),
        "the device was set up before the file was checked"
    );
}
