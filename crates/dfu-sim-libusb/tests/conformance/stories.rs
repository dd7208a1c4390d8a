//! The user stories (seeds/000-004) reproduced with dfu-util 0.11's exact messages.

use crate::harness::{
    dfu_util_run, dfu_util_upload, file, path_in, pattern, scratch, stats, EX_IOERR, EX_USAGE,
};
use std::path::Path;

/// A Spark Core application image (78172 bytes, built for 0x08005000): a Cortex-M
/// vector table (initial stack pointer, reset handler in the image), then code.
fn core_image() -> Vec<u8> {
    let mut image = pattern(78_172, 1);
    image[..4].copy_from_slice(&0x2000_5000u32.to_le_bytes());
    image[4..8].copy_from_slice(&0x0800_5131u32.to_le_bytes());
    image
}

#[test]
fn story_000_a_core_image_at_0x08005000_on_a_photon_is_not_writeable() {
    let dir = scratch();
    let stats_file = path_in(dir.path(), "stats.json");
    let spec = format!("photon,stats={stats_file}");
    let input = file(dir.path(), "core-firmware.bin", &core_image());
    let run = dfu_util_run(
        &spec,
        &[
            "-d",
            "2b04:d006",
            "-a",
            "0",
            "-s",
            "0x08005000",
            "-D",
            &input,
        ],
        dir.path(),
    );
    run.expect_code(EX_USAGE)
        .expect_out_sequence(&[
            "Device ID 2b04:d006",
            "DFU state(2) = dfuIDLE, status(0) = No error condition is present",
            "DFU mode device DFU version 011a",
            "Device returned transfer size 4096",
            "DfuSe interface name: \"Internal Flash   \"",
            "Downloading element to address = 0x08005000, size = 78172",
        ])
        .expect_err("dfu-util: Page at 0x08005000 is not writeable");
    // dfu-util checks the layout before touching the device: nothing was erased.
    let s = stats(Path::new(&stats_file));
    assert_eq!(
        (s["erases"].as_u64(), s["programmed_bytes"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
}

/// `dfu-util -d 2b04:d006 -a 0 -s 0x080A0000:leave -D user-part.bin` on a Photon with
/// the given bootloader; returns the run and the state file.
fn photon_leave(bootloader: &str, dir: &Path) -> (crate::harness::Run, String) {
    let state = path_in(dir, "photon.json");
    let spec = format!("photon,bootloader={bootloader},state={state}");
    let input = file(dir, "user-part.bin", &pattern(4084, 2));
    let args = [
        "-d",
        "2b04:d006",
        "-a",
        "0",
        "-s",
        "0x080A0000:leave",
        "-D",
        &input,
    ];
    (dfu_util_run(&spec, &args, dir), spec)
}

#[test]
fn story_001_bootloader_0_4_4_loses_the_status_after_leave_but_the_image_is_written() {
    let dir = scratch();
    let (run, _) = photon_leave("0.4.4", dir.path());
    run.expect_code(EX_IOERR)
        .expect_out_sequence(&[
            "Downloading element to address = 0x080a0000, size = 4084",
            "Download done.",
            "File downloaded successfully",
            "Submitting leave request...",
        ])
        .expect_err("dfu-util: Error during download get_status");
    let last = run.err_lines().last().copied();
    assert_eq!(
        last,
        Some("dfu-util: Error during download get_status"),
        "{run}"
    );
    // dfu-util left through exit(74) without libusb_exit: the state was still saved,
    // and the next run reads back what was written.
    let spec = format!("photon,state={}", path_in(dir.path(), "photon.json"));
    let (back, up) = dfu_util_upload(&spec, 0x080A_0000, 4084, dir.path());
    assert!(back == pattern(4084, 2), "the image was not written\n{up}");
}

#[test]
fn story_001_bootloader_0_4_5_answers_before_resetting() {
    let dir = scratch();
    let (run, _) = photon_leave("0.4.5", dir.path());
    run.expect_code(0).expect_out_sequence(&[
        "Download done.",
        "File downloaded successfully",
        "Submitting leave request...",
    ]);
    assert!(
        !run.stderr.contains("Error during download get_status"),
        "{run}"
    );
}

#[test]
fn story_003_an_empty_image_is_downloaded_as_size_0() {
    let dir = scratch();
    let stats_file = path_in(dir.path(), "stats.json");
    let spec = format!("core,stats={stats_file}");
    let input = file(dir.path(), "core-firmware.bin", &[]);
    let args = [
        "-d",
        "1d50:607f",
        "-a",
        "0",
        "-s",
        "0x0800A000:leave",
        "-D",
        &input,
    ];
    let run = dfu_util_run(&spec, &args, dir.path());
    run.expect_out_sequence(&[
        "Device returned transfer size 1024",
        // Two spaces after the Core's name, as in seed 003.
        "DfuSe interface name: \"Internal Flash  \"",
        "Downloading element to address = 0x0800a000, size = 0",
        // Nothing to erase or write: the message follows the empty progress bar.
        "Erase   \t[                         ]   0%            0 bytesFile downloaded successfully",
        "Submitting leave request...",
    ]);
    // The Core resets at once on leave, as in the thread: the leave status is lost.
    run.expect_code(EX_IOERR)
        .expect_err("dfu-util: Error during download get_status");
    let s = stats(Path::new(&stats_file));
    assert_eq!(s["programmed_bytes"].as_u64(), Some(0), "{s}");
}

#[test]
fn story_004_garbage_in_the_alt_name_fails_to_parse_the_memory_layout() {
    let dir = scratch();
    let input = file(dir.path(), "klipper.bin", &pattern(30_064, 4));
    let spec = "stm32f446,alt-name=garbage";
    let args = [
        "-d",
        ",0483:df11",
        "-a",
        "0",
        "-s",
        "0x8008000:leave",
        "-D",
        &input,
    ];
    let run = dfu_util_run(spec, &args, dir.path());
    run.expect_code(EX_IOERR)
        .expect_out("Device returned transfer size 2048")
        .expect_err("dfu-util: Could not read name, sscanf returned 0")
        .expect_err("dfu-util: Failed to parse memory layout for alternate interface 0");
    // Reading with an address goes through the other parser call, with the short message.
    let args = ["-a", "0", "-s", "0x08008000:1024", "-U", "out.bin"];
    let up = dfu_util_run(spec, &args, dir.path());
    up.expect_code(EX_IOERR)
        .expect_err("dfu-util: Could not read name, sscanf returned 0")
        .expect_err("dfu-util: Failed to parse memory layout");
}

#[test]
fn story_004_an_unreadable_alt_name_fails_the_same_way() {
    let dir = scratch();
    let input = file(dir.path(), "klipper.bin", &pattern(1000, 5));
    let args = ["-a", "0", "-s", "0x08008000", "-D", &input];
    let run = dfu_util_run("stm32f446,alt-name=unreadable", &args, dir.path());
    run.expect_code(EX_IOERR)
        .expect_err("dfu-util: Could not read name, sscanf returned 0")
        .expect_err("dfu-util: Failed to parse memory layout for alternate interface 0");
}

#[test]
fn story_004_a_device_found_in_dfu_error_is_cleared_and_then_flashes() {
    let dir = scratch();
    let state = path_in(dir.path(), "octopus.json");
    let spec = format!("stm32f446,start-state=error,state={state}");
    let image = pattern(30_064, 6);
    let input = file(dir.path(), "klipper.bin", &image);
    let args = [
        "-d",
        ",0483:df11",
        "-a",
        "0",
        "-s",
        "0x8008000:leave",
        "-D",
        &input,
    ];
    let run = dfu_util_run(&spec, &args, dir.path());
    // dfu-util 0.11 wording for a DFU-mode device; 0.9 (in the thread) printed
    // "Determining device status: state = dfuERROR, status = 10" / "dfuERROR, clearing
    // status", which 0.11 prints only for a device still in run-time mode.
    run.expect_code(0).expect_out_sequence(&[
        "Determining device status...",
        "DFU state(10) = dfuERROR, status(10) = Device's firmware is corrupt. It cannot return to run-time (non-DFU) operations",
        "Clearing status",
        "Determining device status...",
        "DFU state(2) = dfuIDLE, status(0) = No error condition is present",
        "Downloading element to address = 0x08008000, size = 30064",
        "Download done.",
        "File downloaded successfully",
        "Submitting leave request...",
        "Transitioning to dfuMANIFEST state",
    ]);
    let spec = format!("stm32f446,state={state}");
    let (back, up) = dfu_util_upload(&spec, 0x0800_8000, 30064, dir.path());
    assert!(back == image, "{up}");
}

#[test]
fn story_004_a_stray_reset_flag_cannot_detach_but_resets() {
    let dir = scratch();
    let input = file(dir.path(), "klipper.bin", &pattern(2048, 8));
    let args = ["-a", "0", "-s", "0x08008000", "-D", &input, "-R"];
    let run = dfu_util_run("stm32f446", &args, dir.path());
    // DETACH in DFU mode is refused; the USB reset that follows re-enumerates the
    // device (libusb_reset_device answers LIBUSB_ERROR_NOT_FOUND, which dfu-util accepts).
    run.expect_code(0)
        .expect_out_sequence(&[
            "File downloaded successfully",
            "Resetting USB to switch back to Run-Time mode",
        ])
        .expect_err("dfu-util: can't detach");
}
