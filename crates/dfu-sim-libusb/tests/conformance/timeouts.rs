//! Long operations with the host's transfer timeouts enforced: the simulator fails a
//! request that a busy device holds longer than the timeout dfu-util passes to
//! `libusb_control_transfer`. What dfu-util 0.11 does, measured here, and what `dfu` does
//! on the same device (docs/reliability.md).

use crate::harness::{dfu_run, dfu_util_run, file, path_in, pattern, scratch, stats, EX_IOERR};
use std::path::Path;

fn counts(stats_file: &str) -> (u64, u64, u64) {
    let s = stats(Path::new(stats_file));
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} in {s}"));
    (n("erases"), n("programmed_bytes"), n("timeouts"))
}

/// dfu-util gives a mass erase 35 s ("Setting timeout to 35 seconds"): the F405's 16 s
/// erase fits.
#[test]
fn dfu_util_mass_erases_an_f405_within_its_35_s_timeout() {
    let dir = scratch();
    let st = path_in(dir.path(), "stats.json");
    let spec = format!("stm32f405,stats={st}");
    let input = file(dir.path(), "a.bin", &pattern(1024, 3));
    let run = dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x08000000:mass-erase:force", "-D", &input],
        dir.path(),
    );
    run.expect_code(0)
        .expect_out("Setting timeout to 35 seconds")
        .expect_out("File downloaded successfully");
    assert_eq!(counts(&st), (1, 1024, 0));
}

/// A sector erase is one GETSTATUS with dfu-util's fixed 5 s: an H7 sector at the
/// profile's 1.5 s, or three times that, passes; four times that (6 s) fails with
/// "Error during special command "ERASE_PAGE" get_status", exit 74, nothing written.
#[test]
fn dfu_util_fails_a_sector_erase_longer_than_5_s() {
    for (factor, code) in [(1, 0), (3, 0), (4, EX_IOERR)] {
        let dir = scratch();
        let st = path_in(dir.path(), "stats.json");
        let spec = format!("stm32h743,stats={st},erase-factor={factor}");
        let input = file(dir.path(), "a.bin", &pattern(1024, 4));
        let run = dfu_util_run(
            &spec,
            &["-a", "0", "-s", "0x08000000", "-D", &input],
            dir.path(),
        );
        run.expect_code(code);
        if code == 0 {
            assert_eq!(counts(&st), (1, 1024, 0), "erase-factor={factor}");
        } else {
            run.expect_err("dfu-util: Error during special command \"ERASE_PAGE\" get_status");
            assert_eq!(counts(&st), (1, 0, 1), "erase-factor={factor}");
        }
    }
}

/// `dfu` on the device dfu-util fails on: it asks again after the timeout and finishes.
#[test]
fn dfu_survives_the_sector_erase_dfu_util_fails_on() {
    let dir = scratch();
    let st = path_in(dir.path(), "stats.json");
    let state = path_in(dir.path(), "state.json");
    let spec = format!("stm32h743,stats={st},state={state},erase-factor=4");
    // A first image, so that the second one needs the sector erased.
    for seed in [4, 5] {
        let input = file(dir.path(), "a.bin", &pattern(1024, seed));
        let run = dfu_run(
            &spec,
            &["flash", &input, "--address", "0x08000000", "--no-leave"],
            dir.path(),
        );
        run.expect_code(0);
    }
    let (erases, programmed, timeouts) = counts(&st);
    assert_eq!((erases, programmed), (1, 1024));
    assert_eq!(
        timeouts, 1,
        "one 5 s status request timed out and was sent again"
    );
}

/// With `time-scale=` the bus runs in real time and the simulator itself sleeps. Those
/// sleeps reach the drop-in's own `clock_nanosleep` and must really sleep there, not wait
/// for the simulation they are part of: the download ends, and the poll waits are real.
#[test]
fn dfu_util_downloads_on_a_bus_paced_in_real_time() {
    let dir = scratch();
    let st = path_in(dir.path(), "stats.json");
    let state = path_in(dir.path(), "state.json");
    let spec = format!("stm32f405,time-scale=20,state={state},stats={st}");
    let image = pattern(8192, 4);
    let input = file(dir.path(), "a.bin", &image);
    let started = std::time::Instant::now();
    let run = dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x08000000", "-D", &input],
        dir.path(),
    );
    run.expect_code(0)
        .expect_out("File downloaded successfully");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{run}"
    );
    let (erases, programmed, _) = counts(&st);
    assert_eq!((erases, programmed), (1, 8192));
    let back = path_in(dir.path(), "back.bin");
    dfu_run(
        &format!("stm32f405,state={state}"),
        &[
            "read",
            "--address",
            "0x08000000",
            "--length",
            "8192",
            "-o",
            &back,
        ],
        dir.path(),
    )
    .expect_code(0);
    assert_eq!(std::fs::read(&back).unwrap(), image);
}
