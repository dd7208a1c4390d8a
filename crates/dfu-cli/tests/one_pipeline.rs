//! One pipeline, proved on the wire: the same job sends the same USB requests from every
//! front end. Each front end runs on its own copy of one simulated STM32F405 that already
//! holds another image, with every USB request traced (`-v`; the library's `Tracing`
//! backend for `dfu::flash`); the traces must be equal request for request, and every copy
//! must end holding the new image.

mod common;
use common::*;
use dfu::backend::sim::SimBackend;
use dfu::backend::trace::Tracing;
use std::process::Command;
use std::sync::{Arc, Mutex};

const ADDRESS: u32 = 0x0800_0000;
const LEN: usize = 20_000;

/// The `usb:` lines of a run of `dfu` with these arguments and `DFU_SIM=spec`.
fn traced(args: &[&str], spec: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(args)
        .env("DFU_SIM", spec)
        .output()
        .expect("dfu runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed:\n{stderr}");
    let lines: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("usb: "))
        .map(str::to_string)
        .collect();
    assert!(lines.len() > 20, "{args:?} traced only {lines:?}");
    lines
}

/// A copy of the pre-filled state, as a spec.
fn copy(s: &Scratch, from: &str, name: &str) -> String {
    std::fs::copy(s.path(from), s.path(name)).unwrap();
    format!("stm32f405,state={}", s.state(name))
}

/// `dfu::flash` in the library, traced by the library's `Tracing` backend.
fn library_flash(spec: &str, image: &[u8]) -> Vec<String> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink_lines = Arc::clone(&lines);
    let sink: dfu::backend::trace::TraceSink =
        Arc::new(move |l: &str| sink_lines.lock().unwrap().push(l.to_string()));
    let sim = SimBackend::new(spec).unwrap();
    let mut backend = Tracing::new(Box::new(sim), sink);
    let fw = dfu::Firmware::parse("img.bin", image).unwrap();
    let opts = dfu::FlashOptions {
        address: Some(ADDRESS),
        ..dfu::FlashOptions::default()
    };
    let report = dfu::flash(
        &mut backend,
        &dfu::Selector::default(),
        vec![fw],
        &opts,
        &mut |_| {},
    )
    .unwrap();
    assert!(report.verified);
    dfu::Backend::finish(&mut backend).unwrap();
    let trace = lines.lock().unwrap().clone();
    trace
}

#[test]
fn five_flash_front_ends_send_the_same_requests() {
    let s = Scratch::new();
    let old = pattern(LEN, 1);
    let new = pattern(LEN, 2);
    s.file("old.bin", &old);
    let img = s.file("new.bin", &new);
    dfu(&[
        "--sim",
        &format!("stm32f405,state={}", s.state("base.json")),
        "flash",
        &s.state("old.bin"),
        "--address",
        "0x08000000",
    ])
    .ok();
    let addr = format!("0x{ADDRESS:08x}");
    let dropin_s = format!("{addr}:leave");
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("dfu flash", vec!["-v", "flash", &img, "--address", &addr]),
        (
            "flash --all",
            vec!["-v", "flash", &img, "--address", &addr, "--all"],
        ),
        (
            "flash --watch --count 1",
            vec![
                "-v",
                "flash",
                &img,
                "--address",
                &addr,
                "--watch",
                "--count",
                "1",
            ],
        ),
        (
            "dfu-util -D",
            vec!["util", "-v", "-a", "0", "-s", &dropin_s, "-D", &img],
        ),
    ];
    let mut traces = Vec::new();
    for (i, (name, args)) in runs.iter().enumerate() {
        let state = format!("f{i}.json");
        let spec = copy(&s, "base.json", &state);
        traces.push((*name, traced(args, &spec)));
        let back = read_back(&spec, &s, &format!("back{i}.bin"), ADDRESS, LEN);
        assert_eq!(back, new, "{name} left the device without the new image");
    }
    let spec = copy(&s, "base.json", "lib.json");
    traces.push(("dfu::flash", library_flash(&spec, &new)));
    assert_eq!(read_back(&spec, &s, "lib.bin", ADDRESS, LEN), new);
    let (first, reference) = &traces[0];
    for (name, trace) in &traces[1..] {
        assert_eq!(trace, reference, "{name} sends other requests than {first}");
    }
    // The device is described once: one device-descriptor request per run.
    let described = reference
        .iter()
        .filter(|l| l.starts_with("GET_DESCRIPTOR wValue=256 "))
        .count();
    assert_eq!(described, 1, "{reference:#?}");
}

#[test]
fn read_and_dfu_util_upload_send_the_same_requests() {
    let s = Scratch::new();
    let data = pattern(0x4000, 3);
    let img = s.file("img.bin", &data);
    let base = format!("stm32f405,state={}", s.state("base.json"));
    dfu(&["--sim", &base, "flash", &img, "--address", "0x08000000"]).ok();
    let a = copy(&s, "base.json", "a.json");
    let b = copy(&s, "base.json", "b.json");
    let out_a = s.state("a.bin");
    let out_b = s.state("b.bin");
    let read = traced(
        &[
            "-v",
            "read",
            "--address",
            "0x08000000",
            "--length",
            "0x4000",
            "-o",
            &out_a,
        ],
        &a,
    );
    let upload = traced(
        &[
            "util",
            "-v",
            "-a",
            "0",
            "-s",
            "0x08000000:0x4000",
            "-U",
            &out_b,
        ],
        &b,
    );
    assert_eq!(read, upload);
    assert_eq!(read_file(&s.path("a.bin")), data);
    assert_eq!(read_file(&s.path("b.bin")), data);
}

/// Callers grep dfu-util's output: particle-cli's `writeDfu` (src/lib/dfu.js) looks for
/// "File downloaded successfully".
#[test]
fn the_drop_in_prints_the_lines_callers_look_for() {
    let s = Scratch::new();
    let img = s.file("img.bin", &pattern(4096, 4));
    let spec = format!("stm32f405,state={}", s.state("d.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["util", "-a", "0", "-s", "0x08000000:leave", "-D", &img])
        .env("DFU_SIM", &spec)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Download done.\nFile downloaded successfully\n"),
        "{stdout}"
    );
}
