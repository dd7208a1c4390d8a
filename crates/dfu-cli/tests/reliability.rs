//! Long operations and interruptions through the real binary: a mass erase longer than
//! the host's 5 s transfer timeout, and Ctrl-C (SIGINT) or SIGTERM in the middle of a
//! flash. The simulator raises the signal in the `dfu` process when a chosen request
//! arrives (`fault=interrupt@dnload:N`), so the point is exact and nothing sleeps.

mod common;
use common::*;

fn stats(s: &Scratch) -> serde_json::Value {
    serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap()
}

fn count(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Bytes in the report's `erased A-B (N bytes)` / `wrote A-B (N bytes)` lines.
fn reported(r: &Run, verb: &str) -> u64 {
    r.stderr
        .lines()
        .filter(|l| l.starts_with(verb))
        .filter_map(|l| {
            l.rsplit_once('(')?
                .1
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[test]
fn erase_all_on_an_f405_outlasts_the_5_s_transfer_timeout() {
    let s = Scratch::new();
    let sim = format!(
        "stm32f405,state={},stats={}",
        s.state("f4.json"),
        s.state("stats.json")
    );
    let img = s.file("a.bin", &pattern(4096, 1));
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &img,
        "--address",
        "0x08000000",
        "--no-leave",
    ])
    .ok();
    dfu(&["--sim", &sim, "erase", "--all"])
        .ok()
        .says("Mass erase done.");
    let st = stats(&s);
    assert_eq!(
        (count(&st, "erases"), count(&st, "timeouts")),
        (1, 0),
        "{st}"
    );
    assert!(st["blocked_ms"].as_f64().unwrap() > 5000.0, "{st}");
    assert_eq!(
        read_back(&sim, &s, "blank.bin", 0x0800_0000, 4096),
        vec![0xff; 4096]
    );
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &img,
        "--address",
        "0x08000000",
        "--mass-erase",
        "--force",
    ])
    .ok()
    .says("verified by reading back");
    let st = stats(&s);
    assert_eq!(
        (count(&st, "erases"), count(&st, "timeouts")),
        (1, 0),
        "{st}"
    );
    assert_eq!(
        read_back(&sim, &s, "back.bin", 0x0800_0000, 4096),
        pattern(4096, 1)
    );
}

/// Flashes `old`, then `new` with a signal raised at DNLOAD `n` (on the F405 the first 7
/// are the compare's set-addresses, the erases and the write's set-address): checks exit
/// 130, that the report names exactly what the simulator erased and programmed, and that
/// the next run finishes and verifies.
#[cfg(unix)]
fn interrupted_then_recovered(profile: &str, address: u32, signal: &str, n: u32) {
    let s = Scratch::new();
    let state = s.state("dev.json");
    let stats_file = s.state("stats.json");
    let sim = format!("{profile},state={state},stats={stats_file}");
    let at = format!("0x{address:08x}");
    let old = s.file("old.bin", &pattern(40_000, 1));
    let new = pattern(40_000, 2);
    let new_file = s.file("new.bin", &new);
    dfu(&["--sim", &sim, "flash", &old, "--address", &at, "--no-leave"]).ok();
    let faulty = format!("{sim},fault={signal}@dnload:{n}");
    let r = dfu(&[
        "--sim",
        &faulty,
        "flash",
        &new_file,
        "--address",
        &at,
        "--no-leave",
    ]);
    r.code(130)
        .says("error: interrupted before the")
        .says("code: dfu::interrupted")
        .says("help: the device is back in dfuIDLE");
    let st = stats(&s);
    let written = reported(&r, "wrote");
    assert!(written < new.len() as u64, "{}", r.stderr);
    assert_eq!(written > 0, n > 7 || profile == "dapboot", "{}", r.stderr);
    assert_eq!(
        written,
        count(&st, "programmed_bytes"),
        "{}\n{st}",
        r.stderr
    );
    if profile != "dapboot" {
        // Plain DFU devices erase as they write: the report names what was written.
        let erased = reported(&r, "erased");
        assert_eq!(erased, count(&st, "erased_bytes"), "{}\n{st}", r.stderr);
    }
    let again = dfu(&[
        "--sim",
        &sim,
        "flash",
        &new_file,
        "--address",
        &at,
        "--no-leave",
    ]);
    again.ok().says("verified by reading back");
    assert!(!again.stderr.contains("dfuERROR"), "{}", again.stderr);
    assert_eq!(read_back(&sim, &s, "back.bin", address, new.len()), new);
}

// Unix by nature: the simulator raises a signal in the process.
#[cfg(unix)]
#[test]
fn ctrl_c_mid_write_on_dfuse_stops_after_the_block() {
    // DNLOADs: set address x3 (compare), erase x3 (16 KiB sectors), set address, 2 KiB
    // blocks.
    interrupted_then_recovered("stm32f405", 0x0800_0000, "interrupt", 12);
}

// Unix by nature: the simulator raises a signal in the process.
#[cfg(unix)]
#[test]
fn ctrl_c_mid_erase_on_dfuse_stops_after_the_sector() {
    interrupted_then_recovered("stm32f405", 0x0800_0000, "interrupt", 5);
}

// Unix by nature: the simulator raises a signal in the process.
#[cfg(unix)]
#[test]
fn sigterm_mid_download_on_plain_dfu_stops_and_the_next_run_recovers() {
    interrupted_then_recovered("dapboot", 0x0800_2000, "terminate", 7);
}

/// A sample of the fault matrix (crates/dfu/tests/pipeline/matrix.rs) through the binary:
/// flashes `old`, then `new` with `fault`; checks the exit code, the stable code, the
/// report against the simulator's ground truth, and that the next run verifies.
fn faulted_then_recovered(profile: &str, address: u32, fault: &str, code: &str) {
    let s = Scratch::new();
    let sim = format!(
        "{profile},state={},stats={}",
        s.state("dev.json"),
        s.state("stats.json")
    );
    let at = format!("0x{address:08x}");
    let old = s.file("old.bin", &pattern(6000, 1));
    let new = pattern(6000, 2);
    let new_file = s.file("new.bin", &new);
    dfu(&["--sim", &sim, "flash", &old, "--address", &at, "--no-leave"]).ok();
    let faulty = format!("{sim},fault={fault}");
    let r = dfu(&["--sim", &faulty, "flash", &new_file, "--address", &at]);
    r.code(6).says(&format!("code: {code}")).says("help: ");
    let st = stats(&s);
    assert!(count(&st, "programmed_bytes") > 0, "{}", r.stderr);
    assert_eq!(
        reported(&r, "wrote"),
        count(&st, "programmed_bytes"),
        "{}\n{st}",
        r.stderr
    );
    if profile == "photon" {
        assert_eq!(
            reported(&r, "erased"),
            count(&st, "erased_bytes"),
            "{}",
            r.stderr
        );
    }
    dfu(&["--sim", &sim, "flash", &new_file, "--address", &at])
        .ok()
        .says("verified by reading back");
    assert_eq!(read_back(&sim, &s, "back.bin", address, new.len()), new);
}

#[test]
fn matrix_sample_disconnect_mid_write_on_dfuse() {
    // DNLOADs: set addresses (modules, compare), erase (7), set address, block 1, block 2
    // (10): the second block is lost, the first is reported and on the device.
    faulted_then_recovered(
        "photon",
        0x080A_0000,
        "disconnect@dnload:10",
        "dfu::device::usb",
    );
}

#[test]
fn matrix_sample_error_status_mid_write_on_plain_dfu() {
    faulted_then_recovered(
        "tinyusb",
        0,
        "status=errPROG@dnload:40",
        "dfu::device::status",
    );
}

#[test]
fn matrix_sample_stall_mid_verify_on_intolerant_plain_dfu() {
    faulted_then_recovered("dapboot", 0x0800_2000, "stall@upload:3", "dfu::device::usb");
}

/// A 1 KiB image in the middle of a 16 KiB sector full of other data.
#[test]
fn preserve_keeps_every_byte_outside_the_image_in_an_erased_sector() {
    let s = Scratch::new();
    let sim = format!(
        "stm32f405,state={},stats={}",
        s.state("f4.json"),
        s.state("stats.json")
    );
    let old = pattern(16 * 1024, 5);
    let new = pattern(1024, 6);
    let old_file = s.file("old.bin", &old);
    let new_file = s.file("new.bin", &new);
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &old_file,
        "--address",
        "0x08004000",
        "--no-leave",
    ])
    .ok();
    dfu(&[
        "--sim", &sim, "flash", &new_file, "--address", "0x08004400", "--no-leave", "--preserve",
    ])
    .ok()
    .says("kept 15360 byte(s) next to the image in the erased sectors (0x08004000-0x080043ff, 0x08004800-0x08007fff)")
    .says("verified by reading back");
    let st = stats(&s);
    assert_eq!(count(&st, "erased_bytes"), 16 * 1024, "{st}");
    let mut expected = old.clone();
    expected[0x400..0x800].copy_from_slice(&new);
    assert_eq!(
        read_back(&sim, &s, "kept.bin", 0x0800_4000, 16 * 1024),
        expected
    );
    // The sectors around it are untouched.
    assert_eq!(
        read_back(&sim, &s, "before.bin", 0x0800_0000, 16 * 1024),
        vec![0xff; 16 * 1024]
    );

    // Without --preserve the note names what is lost, and it is lost.
    let other = s.file("other.bin", &pattern(1024, 7));
    dfu(&["--sim", &sim, "flash", &other, "--address", "0x08004400", "--no-leave"])
        .ok()
        .says("erasing whole sectors also clears 15360 byte(s) next to the image: 0x08004000-0x080043ff, 0x08004800-0x08007fff");
    let back = read_back(&sim, &s, "lost.bin", 0x0800_4000, 16 * 1024);
    assert_eq!(back[..0x400], [0xff; 0x400]);
    assert_eq!(back[0x400..0x800], pattern(1024, 7)[..]);
    assert_eq!(back[0x800..], vec![0xff; 16 * 1024 - 0x800][..]);
}

/// `dfu reset` resets the device (the simulator counts it) and changes nothing in memory.
#[test]
fn reset_resets_the_device_and_writes_nothing() {
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32f405", 0x0800_0000, 2048);
    dfu(&["--sim", &sim, "reset"])
        .ok()
        .says("0483:df11 was reset");
    let st = stats(&s);
    assert_eq!(count(&st, "resets"), 1, "{st}");
    assert_untouched(&sim, &s, 0x0800_0000, 2048);
    dfu(&["--sim", "dapboot", "--device", "0483:df11", "reset"]).code(4);
}

/// Under dfu-util's command line (`dfu util`, the drop-in) Ctrl-C also stops at a safe point
/// and exits 130, what a shell reports for dfu-util killed by SIGINT.
// Unix by nature: the simulator raises a signal in the process.
#[cfg(unix)]
#[test]
fn ctrl_c_under_the_dfu_util_command_line_exits_130() {
    let s = Scratch::new();
    let img = s.file("a.bin", &pattern(20_000, 3));
    let spec = format!(
        "stm32f405,state={},fault=interrupt@dnload:6",
        s.state("f4.json")
    );
    let r: Run = std::process::Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["util", "-a", "0", "-s", "0x08000000", "-D", &img])
        .env("DFU_SIM", &spec)
        .output()
        .unwrap()
        .into();
    r.code(130).says("interrupted before the");
}

/// Two `dfu` processes on the same device: the second fails clearly while the first holds
/// it, and the first is not disturbed. The first is held mid-flash by its own output: its
/// JSON events fill a pipe nobody reads yet.
#[test]
fn a_second_process_on_the_same_device_is_refused_while_the_first_flashes() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let s = Scratch::new();
    let state = s.state("f4.json");
    let sim = format!("stm32f405,state={state}");
    let image = pattern(1 << 20, 8);
    let img = s.file("a.bin", &image);
    let mut first = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args([
            "--sim",
            &sim,
            "flash",
            &img,
            "--address",
            "0x08000000",
            "--json",
        ])
        .env_remove("DFU_SIM")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = s.path("f4.json.lock");
    for _ in 0..3000 {
        if lock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(lock.exists(), "the first process claims the device");
    dfu(&["--sim", &sim, "flash", &img, "--address", "0x08000000"])
        .code(6)
        .says("in use by another program")
        .says("help: another program");
    let mut events = String::new();
    first
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut events)
        .unwrap();
    assert!(
        first.wait().unwrap().success(),
        "{}",
        &events[events.len() - 300..]
    );
    assert!(!lock.exists(), "the claim ends with the process");
    assert_eq!(read_back(&sim, &s, "back.bin", 0x0800_0000, 1 << 20), image);
}

/// The SimTrace's alt 1 is its bootloader partition (plain DFU): `dfu-util -a 1 -D` through
/// the drop-in is refused like `dfu flash --alt 1`, and the simulator saw no erase and no
/// programmed byte. `dfu flash --alt 1 --force` writes it.
#[test]
fn the_simtrace_bootloader_partition_is_refused_through_the_drop_in_too() {
    let s = Scratch::new();
    let sim = format!(
        "simtrace,state={},stats={}",
        s.state("st.json"),
        s.state("stats.json")
    );
    let img = s.file("small.bin", &pattern(1000, 5));
    let r: Run = std::process::Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["util", "-a", "1", "-D", &img])
        .env("DFU_SIM", &sim)
        .output()
        .unwrap()
        .into();
    assert_ne!(r.code, 0, "{}", r.stderr);
    r.says("overlaps the bootloader")
        .says("code: dfu::refused::protected-region");
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    assert_eq!(st["erases"], 0, "{st}");
    assert_eq!(st["programmed_bytes"], 0, "{st}");
    dfu(&["--sim", &sim, "flash", &img, "--alt", "1"])
        .code(5)
        .says("nothing was written to the device");
    dfu(&["--sim", &sim, "flash", &img, "--alt", "1", "--force"]).ok();
}
