//! The mass erase dfu-util sends to a Photon, as Particle's bootloader source shows it:
//! device-os `platform/MCU/STM32F2xx/STM32_USB_Device_Driver/src/usbd_dfu_core.c`
//! (`EP0_TxSent`, 2015 and 2022 versions) runs the erase command only with a 4-byte
//! address. The 1-byte mass erase is refused in the status stage of the GETSTATUS that would
//! start it, and the flash keeps what it had.

use crate::harness::{dfu_run, dfu_util_run, file, path_in, pattern, scratch, stats, EX_IOERR};
use std::path::Path;

#[test]
fn a_photon_refuses_dfu_utils_mass_erase_and_keeps_its_image() {
    let dir = scratch();
    let state = path_in(dir.path(), "photon.json");
    let stats_file = path_in(dir.path(), "stats.json");
    let earlier = pattern(8192, 21);
    let old = file(dir.path(), "earlier.bin", &earlier);
    dfu_run(
        &format!("photon,state={state}"),
        &["flash", "-s", "0x080A0000", "--no-leave", &old],
        dir.path(),
    )
    .expect_code(0);

    let img = file(dir.path(), "img", &pattern(4096, 22));
    let spec = format!("photon,state={state},stats={stats_file}");
    let args = [
        "-d",
        "2b04:d006",
        "-a",
        "0",
        "-s",
        "0x080A0000:mass-erase:force",
        "-D",
        &img,
    ];
    dfu_util_run(&spec, &args, dir.path())
        .expect_code(EX_IOERR)
        .expect_out("Performing mass erase, this can take a moment")
        .expect_err("dfu-util: Error during special command \"MASS_ERASE\" get_status");
    let s = stats(Path::new(&stats_file));
    assert_eq!(
        (s["erases"].as_u64(), s["programmed_bytes"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    // No 16 s mass erase, no 5 s host timeout: the refusal is immediate.
    assert!(s["virtual_time_ms"].as_f64().unwrap() < 1000.0, "{s}");

    let back = path_in(dir.path(), "back.bin");
    dfu_run(
        &format!("photon,state={state}"),
        &[
            "read",
            "--address",
            "0x080A0000",
            "--length",
            "8192",
            "-o",
            &back,
        ],
        dir.path(),
    )
    .expect_code(0);
    assert_eq!(
        std::fs::read(&back).unwrap(),
        earlier,
        "the earlier image survives"
    );
}
