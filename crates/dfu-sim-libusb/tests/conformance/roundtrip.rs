//! dfu-util downloads to and uploads from every DfuSe and plain DFU profile: what it
//! uploads is byte for byte what it downloaded, and the flash contents persist in the
//! state file from one dfu-util run to the next.

use crate::harness::{
    dfu_util_run, dfu_util_upload, file, path_in, pattern, scratch, stats, EX_IOERR,
};
use crate::PROFILES;
use dfu_profiles::{Profile, Role};

/// Where a test image goes on alt 0: the application region, else the app address.
fn app_address(profile: &Profile) -> u32 {
    profile
        .regions
        .iter()
        .find(|r| r.role == Role::App && r.alt == 0)
        .map(|r| r.start)
        .or(profile.app_address)
        .unwrap_or_else(|| panic!("{}: no application address", profile.name))
}

fn is_dfuse(profile: &Profile) -> bool {
    profile.dfu.dfu_version == 0x011a
}

/// Downloads `image` at `address` with `-s`, uploads it back, compares.
fn dfuse_round_trip(name: &str, address: u32, image: &[u8]) {
    let dir = scratch();
    let spec = format!("{name},state={}", path_in(dir.path(), "state.json"));
    let input = file(dir.path(), "in.bin", image);
    let s = format!("0x{address:08X}");
    let down = dfu_util_run(&spec, &["-a", "0", "-s", &s, "-D", &input], dir.path());
    down.expect_code(0).expect_out_sequence(&[
        &format!(
            "Downloading element to address = 0x{address:08x}, size = {}",
            image.len()
        ),
        "Erase    done.",
        "Download done.",
        "File downloaded successfully",
    ]);
    let (back, up) = dfu_util_upload(&spec, address, image.len(), dir.path());
    assert!(
        back == image,
        "{name}: upload differs from download\n{down}\n{up}"
    );
}

#[test]
fn dfu_util_round_trips_on_every_dfuse_profile() {
    let mut tested = 0;
    for name in PROFILES {
        let profile = Profile::builtin(name).expect("built-in profile");
        if !is_dfuse(&profile) {
            continue;
        }
        // Three full blocks and a short one: the short last block must land right.
        let len = 3 * usize::from(profile.dfu.transfer_size) + 123;
        dfuse_round_trip(name, app_address(&profile), &pattern(len, tested));
        tested += 1;
    }
    assert_eq!(tested, 31, "DfuSe profiles tested");
}

#[test]
fn a_download_across_sectors_of_different_sizes_round_trips() {
    // 16 KiB sectors, then the 64 KiB one: 70 KB touches five sectors.
    dfuse_round_trip("stm32f405", 0x0800_0000, &pattern(70_000, 7));
}

#[test]
fn dapboot_round_trips_and_resets_during_manifestation() {
    let dir = scratch();
    let spec = format!("dapboot,state={}", path_in(dir.path(), "state.json"));
    let image = pattern(5000, 11);
    let input = file(dir.path(), "in.bin", &image);
    let down = dfu_util_run(&spec, &["-a", "0", "-D", &input], dir.path());
    // dapboot is not manifestation tolerant and resets itself in dfuMANIFEST: the
    // status dfu-util asks for after its 1 s manifestation wait never comes.
    down.expect_code(EX_IOERR)
        .expect_out_sequence(&[
            "Copying data from PC to DFU device",
            "Download done.",
            "DFU state(7) = dfuMANIFEST, status(0) = No error condition is present",
        ])
        .expect_err(
            "dfu-util: unable to read DFU status after completion (LIBUSB_ERROR_NO_DEVICE)",
        );
    plain_upload_matches(&spec, dir.path(), "0", &image);
}

#[test]
fn tinyusb_round_trips_on_both_alt_settings() {
    let dir = scratch();
    let spec = format!("tinyusb,state={}", path_in(dir.path(), "state.json"));
    for (alt, len) in [("0", 5000), ("1", 3000)] {
        let image = pattern(len, len as u32);
        let input = file(dir.path(), &format!("in{alt}.bin"), &image);
        let down = dfu_util_run(&spec, &["-a", alt, "-D", &input], dir.path());
        down.expect_code(0).expect_out_sequence(&[
            "Copying data from PC to DFU device",
            "Download done.",
            "DFU state(7) = dfuMANIFEST, status(0) = No error condition is present",
            "DFU state(2) = dfuIDLE, status(0) = No error condition is present",
            "Done!",
        ]);
        plain_upload_matches(&spec, dir.path(), alt, &image);
    }
}

#[test]
fn simtrace_round_trips_and_waits_for_the_reset_after_manifestation() {
    // DFU 1.0, neither manifestation tolerant nor willDetach (bmAttributes 0x03): after the
    // download the device waits in dfuMANIFEST-WAIT-RESET until dfu-util resets it. The
    // reset makes the device leave the bus; dfu-util 0.11 prints "Done!" but returns the
    // reset's LIBUSB_ERROR_NOT_FOUND, so it exits 74 after a good download.
    let dir = scratch();
    let spec = format!("simtrace,state={}", path_in(dir.path(), "state.json"));
    let image = pattern(5000, 13);
    let input = file(dir.path(), "in.bin", &image);
    let down = dfu_util_run(&spec, &["-a", "0", "-D", &input], dir.path());
    down.expect_code(EX_IOERR).expect_out_sequence(&[
        "Device returned transfer size 256",
        "Download done.",
        "DFU state(7) = dfuMANIFEST, status(0) = No error condition is present",
        "DFU state(8) = dfuMANIFEST-WAIT-RESET, status(0) = No error condition is present",
        "Resetting USB to switch back to runtime mode",
        "Done!",
    ]);
    assert!(!down.stderr.contains("error resetting"), "{down}");
    plain_upload_matches(&spec, dir.path(), "0", &image);
}

#[test]
fn tinyusb_eeprom_refuses_an_image_larger_than_it() {
    let dir = scratch();
    let input = file(dir.path(), "big.bin", &pattern(5000, 3));
    let run = dfu_util_run("tinyusb", &["-a", "1", "-D", &input], dir.path());
    run.expect_out(
        "DFU state(10) = dfuERROR, status(8) = Cannot program memory due to received address that is out of range",
    );
    assert_ne!(run.code, 0, "{run}");
}

/// A plain DFU upload returns the whole memory: the image, then erased bytes.
fn plain_upload_matches(spec: &str, dir: &std::path::Path, alt: &str, image: &[u8]) {
    let out = format!("out{alt}.bin");
    let up = dfu_util_run(spec, &["-a", alt, "-U", &out], dir);
    up.expect_code(0).expect_out("Upload done.");
    let back = std::fs::read(dir.join(&out)).expect("uploaded file");
    assert!(back.len() >= image.len(), "short upload\n{up}");
    assert!(
        back[..image.len()] == *image,
        "upload differs from download\n{up}"
    );
    assert!(
        back[image.len()..].iter().all(|&b| b == 0xFF),
        "not erased after the image"
    );
}

#[test]
fn a_one_mib_download_costs_virtual_time_not_real_time() {
    let dir = scratch();
    let stats_file = path_in(dir.path(), "stats.json");
    let spec = format!("stm32f405,stats={stats_file}");
    let input = file(dir.path(), "1m.bin", &pattern(1 << 20, 5));
    let run = dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x08000000", "-D", &input],
        dir.path(),
    );
    run.expect_code(0)
        .expect_out("File downloaded successfully");
    let s = stats(std::path::Path::new(&stats_file));
    // Every sector erased (1 MiB = the whole flash) and every byte programmed.
    assert_eq!(s["programmed_bytes"], 1 << 20, "{s}");
    assert_eq!(s["erases"], 12, "{s}");
    // dfu-util's waits (poll timeouts through nanosleep) are on the virtual clock.
    let waited = s["host_wait_ms"].as_f64().expect("host_wait_ms");
    let total = s["virtual_time_ms"].as_f64().expect("virtual_time_ms");
    assert!(waited > 0.0 && total > waited, "{s}");
}

#[test]
fn gd32vf103_layout_is_fixed_from_its_utf8_serial_and_its_leave_is_tolerated() {
    let dir = scratch();
    let stats_file = path_in(dir.path(), "stats.json");
    let spec = format!("gd32vf103,stats={stats_file}");
    let input = file(dir.path(), "app.bin", &pattern(10_123, 41));
    let args = ["-a", "0", "-s", "0x08000000:leave", "-D", &input];
    let run = dfu_util_run(&spec, &args, dir.path());
    // The serial "3CBJ" comes as UTF-8 bytes; dfu-util reads it with its GD32 quirk and
    // fixes the layout (512 x 2K announced, 128 x 1K real), and ignores a lost status
    // after the leave request (its QUIRK_DFUSE_LEAVE for 28e9:0189).
    run.expect_code(0).expect_out_sequence(&[
        "Found GD32VF103, which reports a bad page size and count for its internal memory.",
        "Fixed layout based on part number: page size 1024, count 128.",
        "File downloaded successfully",
        "Submitting leave request...",
    ]);
    let s = stats(std::path::Path::new(&stats_file));
    assert_eq!(
        s["erased_bytes"].as_u64(),
        Some(10 * 1024),
        "1K pages erased: {s}"
    );
}
