//! Cross-tool: what dfu-util writes, `dfu` reads back identically, and the other way
//! round. Both tools share the simulated device through its state file.
//!
//! The `dfu` contract used here: `dfu --sim SPEC read --address A --length N -o FILE`
//! and `dfu --sim SPEC flash FILE --address A`.

use crate::harness::{dfu_run, dfu_util_run, dfu_util_upload, file, path_in, pattern, scratch};

/// dfu-util downloads `image` at `address` (alt 0), then `dfu read` returns it.
fn dfu_util_writes_dfu_reads(profile: &str, address: u32, image: &[u8]) {
    let dir = scratch();
    let spec = format!("{profile},state={}", path_in(dir.path(), "state.json"));
    let input = file(dir.path(), "in.bin", image);
    let s = format!("0x{address:08X}");
    let down = dfu_util_run(&spec, &["-a", "0", "-s", &s, "-D", &input], dir.path());
    down.expect_code(0)
        .expect_out("File downloaded successfully");
    let a = format!("0x{address:08X}");
    let n = image.len().to_string();
    let read = dfu_run(
        &spec,
        &["read", "--address", &a, "--length", &n, "-o", "back.bin"],
        dir.path(),
    );
    read.expect_code(0);
    let back = std::fs::read(dir.path().join("back.bin")).expect("file read by dfu");
    assert!(
        back == image,
        "{profile}: dfu read differs from what dfu-util wrote\n{down}\n{read}"
    );
}

/// `dfu flash` writes `image` at `address`, then dfu-util uploads it.
fn dfu_writes_dfu_util_reads(profile: &str, address: u32, image: &[u8]) {
    let dir = scratch();
    let spec = format!("{profile},state={}", path_in(dir.path(), "state.json"));
    let input = file(dir.path(), "in.bin", image);
    let a = format!("0x{address:08X}");
    let flash = dfu_run(&spec, &["flash", &input, "--address", &a], dir.path());
    flash.expect_code(0);
    let (back, up) = dfu_util_upload(&spec, address, image.len(), dir.path());
    assert!(
        back == image,
        "{profile}: dfu-util upload differs from what dfu wrote\n{flash}\n{up}"
    );
}

#[test]
fn dfu_reads_what_dfu_util_wrote_on_an_stm32f405() {
    dfu_util_writes_dfu_reads("stm32f405", 0x0800_0000, &pattern(70_000, 31));
}

#[test]
fn dfu_reads_what_dfu_util_wrote_on_a_photon_user_part() {
    dfu_util_writes_dfu_reads("photon", 0x080A_0000, &pattern(4084, 32));
}

#[test]
fn dfu_reads_what_dfu_util_wrote_on_a_core() {
    dfu_util_writes_dfu_reads("core", 0x0800_5000, &pattern(10_123, 33));
}

#[test]
fn dfu_util_reads_what_dfu_wrote_on_an_stm32f405() {
    // An odd length: dfu pads to the programming unit; dfu-util reads the image length.
    dfu_writes_dfu_util_reads("stm32f405", 0x0800_0000, &pattern(10_123, 34));
}

#[test]
fn dfu_util_reads_what_dfu_wrote_on_an_stm32h743() {
    dfu_writes_dfu_util_reads("stm32h743", 0x0800_0000, &pattern(200_000, 35));
}

#[test]
fn both_tools_see_one_device_across_alternating_writes() {
    // dfu-util writes the first half, dfu the second: each reads the whole back.
    let dir = scratch();
    let spec = format!("stm32f446,state={}", path_in(dir.path(), "state.json"));
    let first = pattern(16_384, 36);
    let second = pattern(16_384, 37);
    let f1 = file(dir.path(), "first.bin", &first);
    let f2 = file(dir.path(), "second.bin", &second);
    dfu_util_run(
        &spec,
        &["-a", "0", "-s", "0x08008000", "-D", &f1],
        dir.path(),
    )
    .expect_code(0);
    dfu_run(
        &spec,
        &["flash", &f2, "--address", "0x0800C000"],
        dir.path(),
    )
    .expect_code(0);
    let whole: Vec<u8> = first.iter().chain(&second).copied().collect();
    let read = dfu_run(
        &spec,
        &[
            "read",
            "--address",
            "0x08008000",
            "--length",
            "32768",
            "-o",
            "dfu.bin",
        ],
        dir.path(),
    );
    read.expect_code(0);
    let (by_dfu_util, up) = dfu_util_upload(&spec, 0x0800_8000, 32768, dir.path());
    let by_dfu = std::fs::read(dir.path().join("dfu.bin")).expect("dfu.bin");
    assert!(by_dfu == whole, "dfu read\n{read}");
    assert!(by_dfu_util == whole, "dfu-util upload\n{up}");
}
