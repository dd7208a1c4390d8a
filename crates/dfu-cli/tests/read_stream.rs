//! `dfu read` streams: the memory goes to the output block by block as the device sends it,
//! and a file is still written whole or not at all. Proved on a pre-filled simulated
//! STM32H743 (2 MiB of flash), with the simulator's statistics as ground truth.

mod common;
use common::*;
use std::io::Read;
use std::process::{Command, Stdio};

const BASE: u32 = 0x0800_0000;
const FILLED: usize = 256 * 1024;
const WHOLE: u64 = 2 << 20;

/// What the simulator says the last run uploaded.
fn bytes_up(s: &Scratch) -> u64 {
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    st["bytes_up"].as_u64().unwrap()
}

#[test]
fn standard_output_gets_the_memory_as_it_is_read_and_a_closed_pipe_stops_the_read() {
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32h743", BASE, FILLED);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["--sim", &sim, "read", "-o", "-"])
        .env_remove("DFU_SIM")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0; 16 * 1024];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(first, prefill_data(FILLED)[..first.len()]);
    // The reader goes away long before the 2 MiB are read: with the memory held until the
    // end, the whole alt would have been uploaded first.
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("note: standard output was closed after"),
        "{stderr}"
    );
    let up = bytes_up(&s);
    assert!(up >= first.len() as u64 && up < WHOLE / 4, "uploaded {up}");
    // Read to the end, it is the whole alt, byte for byte.
    let all = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["--sim", &sim, "read", "-o", "-"])
        .env_remove("DFU_SIM")
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(0));
    assert_eq!(all.stdout.len() as u64, WHOLE);
    assert_eq!(all.stdout[..FILLED], prefill_data(FILLED)[..]);
    assert!(all.stdout[FILLED..].iter().all(|b| *b == 0xFF));
    assert_eq!(bytes_up(&s), WHOLE);
}

#[test]
fn a_read_that_fails_half_way_leaves_no_file_and_says_so() {
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32h743", BASE, FILLED);
    // The device leaves the bus a quarter of a second into the run (simulated time).
    let unplugged = format!("{sim},unplug-after=250");
    let out = s.state("backup.bin");
    dfu(&["--sim", &unplugged, "read", "-o", &out])
        .code(6)
        .says("the device disconnected; nothing was saved to")
        .says("code: dfu::device::usb");
    let up = bytes_up(&s);
    assert!(up > 0 && up < WHOLE, "uploaded {up}");
    let left: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dfu-") || n == "backup.bin")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Over an existing file (--force), the old contents stay.
    let kept = s.file("backup.bin", b"the backup of yesterday");
    dfu(&["--sim", &unplugged, "read", "-o", &kept, "--force"])
        .code(6)
        .says("nothing was saved to");
    assert_eq!(read_file(&s.path("backup.bin")), b"the backup of yesterday");
    // To standard output, what had gone out is counted.
    dfu(&["--sim", &unplugged, "read", "-o", "-"])
        .code(6)
        .says("bytes read before it were written to standard output");
}

#[test]
fn an_output_that_cannot_take_the_data_stops_the_read() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32h743", BASE, FILLED);
    dfu(&["--sim", &sim, "read", "-o", "/dev/full", "--force"])
        .code(3)
        .says("writing /dev/full: No space left on device")
        .says("code: dfu::output::file");
    // The first buffer that could not be written ended the read.
    let up = bytes_up(&s);
    assert!(up < WHOLE / 4, "uploaded {up}");
}
