//! `dfu schema` is the contract of `--json`: the real output of every command, against
//! simulated devices, validates against it. (tests/schema_rejects.rs: a changed output does
//! not; tests/schema_docs.rs: docs/json.md agrees with it, key for key and type for type.
//! The schema closes every object and requires every key that is always there, so together
//! these say each real output is what docs/json.md describes.)

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

mod common;
#[path = "support/contract.rs"]
mod contract;
use common::*;
use contract::Contract;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-image/tests/fixtures");

#[test]
fn every_command_output_validates_against_dfu_schema() {
    let c = Contract::new();
    let s = Scratch::new();
    let app = s.file("a.bin", &pattern(5000, 1));
    let state = format!("stm32f405,state={}", s.state("f.json"));
    let fw = format!("{FIXTURES}/fw.bin");
    let two = format!("{FIXTURES}/fw-2alt.dfu");
    let particle = s.file(
        "user.bin",
        &dfu_image::particle::build_module(
            6,
            dfu_image::ModuleFunction::UserPart,
            1,
            2,
            0x080A_0000,
            &[],
            100,
        ),
    );
    let x = s.file("x.bin", &pattern(300, 2));
    let out = |n: &str| s.path(n).display().to_string();
    let (read_out, hex_out, log) = (out("r.bin"), out("c.hex"), out("line.log"));
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "list",
            vec![
                "--sim",
                "stm32f405;dapboot;photon,mode=runtime",
                "list",
                "--json",
            ],
        ),
        (
            "info",
            vec!["--sim", "photon,system-version=1", "info", "--json"],
        ),
        (
            "info",
            vec![
                "--sim",
                "dapboot",
                "--layout",
                "@F/0x08000000/4*1Kg",
                "info",
                "--json",
            ],
        ),
        ("flash", vec!["--sim", &state, "flash", &app, "--json"]),
        (
            "flash",
            vec![
                "--sim",
                "photon,bootloader=0.4.4",
                "flash",
                &particle,
                "--json",
            ],
        ),
        (
            "flash",
            vec![
                "--sim",
                "stm32f405",
                "flash",
                &fw,
                "--address",
                "0x08004000",
                "--force",
                "--dry-run",
                "--json",
            ],
        ),
        ("flash", vec!["--sim", "dapboot", "flash", &app, "--json"]),
        (
            "flash-all",
            vec![
                "--sim",
                "stm32f405*2;stm32f405,serial=BAD,fault=disconnect@dnload:3",
                "flash",
                &app,
                "--all",
                "--json",
            ],
        ),
        (
            "flash-watch",
            vec![
                "--sim",
                "stm32f405,serial=W",
                "flash",
                &app,
                "--watch",
                "--count",
                "1",
                "--log",
                &log,
                "--json",
            ],
        ),
        (
            "flash-watch",
            vec![
                "--sim",
                "stm32f405,serial=F,fault=disconnect@dnload:3",
                "flash",
                &app,
                "--watch",
                "--count",
                "1",
                "--log",
                &log,
                "--json",
            ],
        ),
        (
            "flash",
            vec![
                "--sim",
                "stm32f405",
                "flash",
                &fw,
                "--address",
                "0x08000000",
                "--mass-erase",
                "--force",
                "--dry-run",
                "--json",
            ],
        ),
        (
            "erase",
            vec!["--sim", &state, "erase", "--all", "--force", "--json"],
        ),
        (
            "flash",
            vec![
                "--sim",
                "stm32f405,appear-after=300",
                "--wait",
                "flash",
                &app,
                "--address",
                "0x08000000",
                "--json",
            ],
        ),
        (
            "option-bytes",
            vec![
                "--sim",
                &state,
                "option-bytes",
                "write",
                "e0 aa ff ff ff ff ff ff ff 0f ff ff ff ff ff ff",
                "--json",
            ],
        ),
        (
            "read",
            vec![
                "--sim",
                &state,
                "read",
                "--address",
                "0x08000000",
                "--length",
                "16",
                "-o",
                &read_out,
                "--json",
            ],
        ),
        (
            "erase",
            vec![
                "--sim",
                &state,
                "erase",
                "--address",
                "0x08000000",
                "--length",
                "16",
                "--json",
            ],
        ),
        (
            "detach",
            vec!["--sim", "photon,mode=runtime", "detach", "--json"],
        ),
        ("detach", vec!["--sim", "stm32f405", "reset", "--json"]),
        (
            "image-inspect",
            vec!["image", "inspect", &particle, "--json"],
        ),
        ("image-inspect", vec!["image", "inspect", &two, "--json"]),
        (
            "image-convert",
            vec![
                "image",
                "convert",
                &app,
                "-o",
                &hex_out,
                "--to",
                "hex",
                "--address",
                "0x08000000",
                "--json",
            ],
        ),
        (
            "image-convert",
            vec![
                "suffix", "add", &x, "--vid", "0483", "--pid", "df11", "--json",
            ],
        ),
        ("image-convert", vec!["suffix", "check", &x, "--json"]),
        ("image-convert", vec!["suffix", "remove", &x, "--json"]),
        ("doctor", vec!["doctor", "--json"]),
        ("sim-profiles", vec!["sim", "profiles", "--json"]),
        (
            "option-bytes",
            vec!["--sim", "stm32f405", "option-bytes", "--json"],
        ),
        (
            "option-bytes",
            vec!["--sim", "stm32f405,rdp=1", "unprotect", "--force", "--json"],
        ),
        (
            "error",
            vec!["--sim", "stm32f405", "flash", "missing.bin", "--json"],
        ),
        ("error", vec!["--sim", "stm32f405", "unprotect", "--json"]),
        (
            "error",
            vec![
                "--sim",
                "stm32f405",
                "flash",
                &app,
                "--address",
                "0x1",
                "--json",
            ],
        ),
        (
            "error",
            vec![
                "--sim",
                "stm32f405",
                "read",
                "--address",
                "0x30000000",
                "--length",
                "16",
                "-o",
                &read_out,
                "--json",
            ],
        ),
        ("error", vec!["--sim", "nonsense", "list", "--json"]),
        (
            "error",
            vec![
                "--sim",
                "stm32f405,fault=disconnect@dnload:3",
                "flash",
                &app,
                "--json",
            ],
        ),
    ];
    let mut events = std::collections::BTreeSet::new();
    for (name, args) in &cases {
        let what = args.join(" ");
        for l in c.run(&dfu(args), name, &what) {
            events.extend(l["event"].as_str().map(str::to_string));
        }
    }
    // Every kind of event line was among them.
    let kinds = [
        "start",
        "progress",
        "done",
        "note",
        "plan",
        "wait",
        "plugged-in",
        "device-result",
    ];
    for k in kinds {
        assert!(
            events.contains(k),
            "no `{k}` event was validated: {events:?}"
        );
    }
    // The --log FILE lines of the watch above.
    let text = std::fs::read_to_string(&log).expect("--log wrote its file");
    assert_eq!(
        text.lines().count(),
        2,
        "--log: one line per device: {text}"
    );
    for l in text.lines() {
        c.valid(
            "log-record",
            &serde_json::from_str(l).unwrap(),
            "--log line",
        );
    }
    // `read -o - --json`: the result goes to standard error.
    let r = dfu(&[
        "--sim",
        &state,
        "read",
        "--address",
        "0x08000000",
        "--length",
        "16",
        "-o",
        "-",
        "--json",
    ]);
    r.ok();
    let last = r.stderr.lines().last().expect("a result on standard error");
    c.valid("read", &serde_json::from_str(last).unwrap(), "read -o -");
}
