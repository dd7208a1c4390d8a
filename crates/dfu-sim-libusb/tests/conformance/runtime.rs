//! Bus events. Run-time devices: dfu-util detaches them, waits, and finds them again in
//! DFU mode under a new address, as on a real bus; its waits are virtual time. Injected
//! faults: dfu-util sees them as the libusb errors a real bus gives.

use crate::harness::{
    dfu_util_run, dfu_util_upload, file, path_in, pattern, scratch, stats, EX_IOERR,
};
use std::path::Path;

#[test]
fn a_run_time_photon_detaches_re_enumerates_and_flashes() {
    let dir = scratch();
    let state = path_in(dir.path(), "photon.json");
    let stats_file = path_in(dir.path(), "stats.json");
    let spec = format!("photon,mode=runtime,state={state},stats={stats_file}");
    let image = pattern(5000, 21);
    let input = file(dir.path(), "app.bin", &image);
    let run = dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x080A0000", "-D", &input],
        dir.path(),
    );
    run.expect_code(0).expect_out_sequence(&[
        "Device ID 2b04:c006",
        "Claiming USB DFU (Run-Time) Interface...",
        "DFU state(0) = appIDLE, status(0) = No error condition is present",
        "Device really in Run-Time Mode, send DFU detach request...",
        "Device will detach and reattach...",
        "Opening DFU USB Device...",
        "Claiming USB DFU Interface...",
        "DFU state(2) = dfuIDLE, status(0) = No error condition is present",
        "DFU mode device DFU version 011a",
        "File downloaded successfully",
    ]);
    // dfu-util sleeps 5 s after the detach (its default --detach-delay): on the virtual
    // clock, counted as host wait.
    let s = stats(Path::new(&stats_file));
    let waited = s["host_wait_ms"].as_f64().expect("host_wait_ms");
    assert!(waited >= 5000.0, "{s}");
    let spec = format!("photon,state={state}");
    let (back, up) = dfu_util_upload(&spec, 0x080A_0000, 5000, dir.path());
    assert!(back == image, "{up}");
}

#[test]
fn the_device_comes_back_under_a_new_address() {
    let dir = scratch();
    let listed = dfu_util_run("photon,mode=runtime", &["-l"], dir.path());
    let devnum = listed
        .stdout
        .split("devnum=")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .expect("devnum in the listing")
        .to_string();
    // `-n` matches the device number in both probes: after the detach the device has
    // another address, so dfu-util loses it, as it would on a real bus.
    let input = file(dir.path(), "app.bin", &pattern(100, 22));
    let args = ["-n", &devnum, "-a", "0", "-s", "0x080A0000", "-D", &input];
    let run = dfu_util_run("photon,mode=runtime", &args, dir.path());
    run.expect_code(EX_IOERR)
        .expect_out("Device will detach and reattach...")
        .expect_err("dfu-util: Lost device after RESET?");
}

#[test]
fn a_device_that_does_not_detach_itself_is_reset_by_dfu_util() {
    let dir = scratch();
    // The Photon profile with bitWillDetach cleared in its run-time descriptor: dfu-util
    // resets the device after DETACH (libusb_reset_device answers NOT_FOUND, as the
    // device re-enumerates in DFU mode with other descriptors).
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dfu-profiles/profiles/photon.toml"
    ))
    .expect("photon profile");
    assert!(
        text.contains("\nattributes = 0x09\n"),
        "the run-time attributes moved"
    );
    let profile = file(
        dir.path(),
        "photon-no-detach.toml",
        text.replace("\nattributes = 0x09\n", "\nattributes = 0x01\n")
            .as_bytes(),
    );
    let spec = format!("{},mode=runtime", path_in(dir.path(), &profile));
    let input = file(dir.path(), "app.bin", &pattern(3000, 23));
    let run = dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x080A0000", "-D", &input],
        dir.path(),
    );
    run.expect_code(0).expect_out_sequence(&[
        "Device really in Run-Time Mode, send DFU detach request...",
        "Resetting USB...",
        "Opening DFU USB Device...",
        "DFU state(2) = dfuIDLE, status(0) = No error condition is present",
        "File downloaded successfully",
    ]);
}

#[test]
fn a_device_unplugged_mid_download_is_libusb_error_no_device() {
    let dir = scratch();
    let input = file(dir.path(), "app.bin", &pattern(10_000, 24));
    let spec = "stm32f405,fault=disconnect@dnload:5";
    let run = dfu_util_run(
        spec,
        &["-a", "0", "-s", "0x08000000", "-D", &input],
        dir.path(),
    );
    run.expect_code(EX_IOERR)
        .expect_err("dfu-util: dfuse_download: libusb_control_transfer returned -4 (LIBUSB_ERROR_NO_DEVICE)")
        .expect_err("dfu-util: Error during download");
}

#[test]
fn a_stalled_upload_is_libusb_error_pipe() {
    let dir = scratch();
    let args = ["-a", "0", "-s", "0x08000000:5000", "-U", "out.bin"];
    let run = dfu_util_run("stm32f405,fault=stall@upload:2", &args, dir.path());
    run.expect_code(EX_IOERR).expect_err(
        "dfu-util: dfuse_upload: libusb_control_transfer returned -9 (LIBUSB_ERROR_PIPE)",
    );
}

#[test]
fn a_device_that_stops_answering_costs_the_host_its_timeout() {
    let dir = scratch();
    let stats_file = path_in(dir.path(), "stats.json");
    let spec = format!("stm32f405,fault=timeout@getstatus:3,stats={stats_file}");
    let input = file(dir.path(), "app.bin", &pattern(3000, 25));
    let run = dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x08000000", "-D", &input],
        dir.path(),
    );
    run.expect_code(EX_IOERR)
        .expect_err("dfu-util: Error during special command \"ERASE_PAGE\" get_status");
    let s = stats(Path::new(&stats_file));
    assert!(
        s["virtual_time_ms"].as_f64().expect("virtual time") >= 5000.0,
        "{s}"
    );
}
