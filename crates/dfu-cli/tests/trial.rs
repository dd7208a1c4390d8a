//! What a new user meets first: output into a closed pipe, numbers as people type them,
//! `--layout`, messages, `detach` on a device already in DFU mode, `read` without
//! `--length` or into standard output, and `--json` on every command.

mod common;
use common::*;
use std::process::Command;

/// A spec of `n` simulated STM32F405s: enough output to fill a pipe's buffer, so that the
/// writer still has output to write when the reader goes away.
fn many_devices(n: usize) -> String {
    vec!["stm32f405"; n].join(";")
}

/// An Intel HEX file of `n` separate 4-byte segments.
fn many_segments(n: u16) -> String {
    let mut text = String::new();
    for i in 0..n {
        let at = i * 8;
        let rec = [4, (at >> 8) as u8, at as u8, 0, 1, 2, 3, 4];
        let sum = rec
            .iter()
            .fold(0u8, |a, b| a.wrapping_add(*b))
            .wrapping_neg();
        text.push(':');
        for b in rec.iter().chain([&sum]) {
            text.push_str(&format!("{b:02X}"));
        }
        text.push('\n');
    }
    text.push_str(":00000001FF\n");
    text
}

#[test]
fn a_closed_output_pipe_ends_quietly_with_the_real_status() {
    let spec = many_devices(300);
    for (args, keep) in [
        (vec!["--sim", &spec, "list"], 40),
        (vec!["--sim", &spec, "list", "--json"], 10),
    ] {
        let (code, stderr) = with_closed_pipe(&args, keep);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    let s = Scratch::new();
    let hex = s.file("many.hex", many_segments(6000).as_bytes());
    for json in [false, true] {
        let mut args = vec!["image", "inspect", &hex];
        if json {
            args.push("--json");
        }
        let (code, stderr) = with_closed_pipe(&args, 10);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(code, 0, "{stderr}");
    }
}

#[test]
fn numbers_follow_one_rule() {
    let s = Scratch::new();
    let out = s.state("o.bin");
    let read = |extra: &[&str]| {
        let mut a = vec!["--sim", "stm32f405", "read", "-o", &out, "--force"];
        a.extend_from_slice(extra);
        dfu(&a)
    };
    read(&["--address", "08000000", "--length", "16"])
        .code(2)
        .says("0x08000000");
    // 4G is a length (the device then refuses it as larger than its memory).
    let r = read(&["--address", "0x08000000", "--length", "4G"]);
    r.code(5)
        .says("outside the memory of alt setting 0")
        .says("code: dfu::refused::outside-memory");
    assert!(!r.stderr.contains("not a length"), "{}", r.stderr);
    read(&["--address", "0x08000000", "--length", "0x100000001"])
        .code(2)
        .says("4 GiB");
    read(&["--alt", "0x1"]).ok().says("from 0x1fffc000 (alt 1)");
    // The option bytes alt is one 16-byte sector.
    assert_eq!(read_file(&s.path("o.bin")).len(), 16);
    dfu(&["--sim", "stm32f405", "--device", "0x0483:DF11", "list"])
        .ok()
        .says("0483:df11");
}

#[test]
fn a_layout_is_applied_or_refused() {
    dfu(&["--sim", "stm32f405", "info", "--layout", "garbage"])
        .code(2)
        .says("--layout")
        .says("@Name/0xADDR/");
    dfu(&["--sim", "dapboot", "read", "-o", "x", "--layout", "@x"]).code(2);
    let given = "@Flash/0x08002000/56*001Kg";
    // A plain DFU device has no layout: the library does not use one, and `info` says so.
    dfu(&["--sim", "dapboot", "info", "--layout", given])
        .ok()
        .says("alt 0 is a plain DFU alt setting: a memory layout does not apply");
    dfu(&["--sim", "stm32f405", "info", "--layout", given])
        .ok()
        .says("alt 0 announces a valid layout")
        .says("the layout given was not used");
}

#[test]
fn messages_point_to_what_works() {
    let r = dfu(&["--sim", "nosuchboard", "list"]);
    r.code(2).says("`dfu sim profiles`");
    assert!(!r.stderr.contains("simulator: simulator"), "{}", r.stderr);
    dfu(&["--sim", "photon,stats=/nonexistent/dir/s.json", "list"])
        .code(2)
        .says("the directory /nonexistent/dir does not exist");
    // A stats file that cannot be written at the end (its path is a directory): one error.
    let s = Scratch::new();
    std::fs::create_dir(s.path("taken")).unwrap();
    let r = dfu(&[
        "--sim",
        &format!("photon,stats={}", s.state("taken")),
        "list",
    ]);
    assert_ne!(r.code, 0);
    assert_eq!(r.stderr.matches("stats file").count(), 1, "{}", r.stderr);

    let s = Scratch::new();
    let f = s.file("fw.bin", &pattern(100, 3));
    dfu(&["suffix", "add", &f, "--vid", "0483", "--pid", "df11"]).ok();
    let mut bytes = read_file(&s.path("fw.bin"));
    bytes[0] ^= 0xff;
    std::fs::write(s.path("fw.bin"), &bytes).unwrap();
    dfu(&["suffix", "check", &f])
        .code(3)
        .says("dfu suffix remove");
    dfu(&["suffix", "remove", &f])
        .ok()
        .says("CRC did not match");
    assert_eq!(read_file(&s.path("fw.bin")).len(), 100);
    dfu(&["suffix", "add", &f, "--vid", "0483", "--pid", "df11"]).ok();
    dfu(&["suffix", "check", &f]).ok().says("vendor 0483");
}

#[test]
fn detach_of_a_device_already_in_dfu_mode_is_no_error() {
    dfu(&["--sim", "photon", "detach"])
        .ok()
        .says("already in DFU mode");
    let r = dfu(&["--sim", "photon", "detach", "--json"]);
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["already_in_dfu_mode"], true);
    let r = dfu(&["--sim", "photon,mode=runtime", "detach", "--json"]);
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["already_in_dfu_mode"], false);
    assert_eq!(v["result"], "ok");
}

#[test]
fn read_checks_its_output_first_and_reads_the_whole_alt() {
    let s = Scratch::new();
    let stats = s.state("stats.json");
    let sim = format!("stm32f405,stats={stats}");
    dfu(&["--sim", &sim, "read", "-o", "/nonexistent/dir/x.bin"])
        .code(3)
        .says("cannot create /nonexistent/dir/x.bin");
    assert!(
        !s.path("stats.json").exists(),
        "the device was set up before the output was checked"
    );
    let out = s.state("all.bin");
    dfu(&["--sim", "stm32f405", "read", "-o", &out])
        .ok()
        .says("Read 1048576 bytes from 0x08000000 (alt 0)");
    assert_eq!(read_file(&s.path("all.bin")).len(), 1 << 20);
    dfu(&[
        "--sim",
        "stm32f405",
        "read",
        "--address",
        "0x1FFFC000",
        "--length",
        "16",
        "-o",
        &s.state("ob.bin"),
    ])
    .code(5)
    .says("code: dfu::refused::outside-memory")
    .says("alt setting 1 \"@Option Bytes");
    assert!(!s.path("ob.bin").exists(), "a failed read leaves no file");
}

#[test]
fn plain_dfu_reads_report_and_return_the_real_address() {
    let s = Scratch::new();
    let img = pattern(8 * 1024, 21);
    let f = s.file("app.bin", &img);
    let sim = format!("dapboot,state={}", s.state("d.json"));
    dfu(&["--sim", &sim, "flash", &f]).ok();
    let out = s.state("at.bin");
    dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x08003000",
        "--length",
        "16",
        "-o",
        &out,
    ])
    .ok()
    .says("Read 16 bytes from 0x08003000");
    assert_eq!(read_file(&s.path("at.bin")), &img[0x1000..0x1010]);
    let whole = s.state("whole.bin");
    dfu(&["--sim", &sim, "read", "-o", &whole])
        .ok()
        .says("from 0x08002000");
    let back = read_file(&s.path("whole.bin"));
    assert_eq!(&back[..img.len()], &img[..]);
    dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x08000000",
        "--length",
        "16",
        "-o",
        &s.state("below.bin"),
    ])
    .code(5)
    .says("below the start")
    .says("code: dfu::refused::outside-memory");
    // -o - writes the bytes, and only them, to standard output.
    let o = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["--sim", &sim, "read", "--length", "4K", "-o", "-"])
        .env_remove("DFU_SIM")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, &img[..4096]);
    // With --json as well, the result goes to standard error.
    let o = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["--sim", &sim, "read", "--length", "4K", "-o", "-", "--json"])
        .env_remove("DFU_SIM")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, &img[..4096]);
    let err = String::from_utf8_lossy(&o.stderr);
    let v: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    assert_eq!(
        (v["result"].as_str(), v["length"].as_u64()),
        (Some("ok"), Some(4096))
    );
}

fn json_of(r: &Run) -> serde_json::Value {
    r.ok();
    assert_eq!(r.stdout.lines().count(), 1, "one JSON object: {}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["result"], "ok", "{v}");
    v
}

#[test]
fn every_command_speaks_json_with_one_address_format() {
    let s = Scratch::new();
    let v = json_of(&dfu(&[
        "--sim",
        "stm32f405",
        "read",
        "--address",
        "0x08000000",
        "--length",
        "1K",
        "-o",
        &s.state("r.bin"),
        "--json",
    ]));
    assert_eq!(v["address"], "0x08000000");
    assert_eq!(v["length"], 1024);
    json_of(&dfu(&["--sim", "photon", "reset", "--json"]));
    let v = json_of(&dfu(&["sim", "profiles", "--json"]));
    assert_eq!(v["profiles"][0]["vendor_id"].as_str().unwrap().len(), 6);
    let f = s.file("fw.bin", &pattern(64, 5));
    let v = json_of(&dfu(&["suffix", "add", &f, "--json"]));
    assert_eq!(v["suffix"]["vendor"], "0xffff");
    json_of(&dfu(&["suffix", "check", &f, "--json"]));
    json_of(&dfu(&["suffix", "remove", &f, "--json"]));
    let hex = s.state("fw.hex");
    let v = json_of(&dfu(&[
        "image",
        "convert",
        &f,
        "-o",
        &hex,
        "--to",
        "hex",
        "--address",
        "0x08004000",
        "--json",
    ]));
    assert_eq!(v["start"], "0x08004000");
    let v = json_of(&dfu(&["image", "inspect", &hex, "--json"]));
    assert_eq!(v["segments"][0]["address"], "0x08004000");
    assert_eq!(v["segments"][0]["length"], 64);
    let v = json_of(&dfu(&["--sim", "stm32f405", "list", "--json"]));
    let d = &v["devices"][0];
    assert_eq!(d["vendor_id"], "0x0483");
    assert_eq!(d["alts"][0]["layout"]["segments"][0]["start"], "0x08000000");
    let v = json_of(&dfu(&["--sim", "photon", "info", "--json"]));
    assert_eq!(v["profile_detail"]["app_address"], "0x080a0000");
    assert_eq!(v["profile_detail"]["regions"][0]["start"], "0x08000000");
    // erase's flag exists; its output belongs to the erase command itself.
    dfu(&[
        "--sim",
        "stm32f405",
        "erase",
        "--address",
        "0x08000000",
        "--length",
        "16K",
        "--json",
    ])
    .ok();
    // doctor: one object whatever this machine has, and its exit code in it.
    let r = dfu(&["doctor", "--json"]);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["exit_code"], r.code);
}
