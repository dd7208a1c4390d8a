//! docs/json.md is the contract of `--json`: every command's real output, against simulated
//! devices, is checked against its tables both ways (every key described is there with its
//! type; every key there is described).

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

mod common;
use common::*;
use serde_json::Value;

const DOC: &str = include_str!("../../../docs/json.md");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-image/tests/fixtures");

/// One row of a table: a key path (`a[].b`) and the types it may have.
struct Row {
    path: String,
    types: Vec<String>,
}

/// The rows of the table under `## name`.
fn section(name: &str) -> Vec<Row> {
    let head = format!("## {name}\n");
    let start = DOC
        .find(&head)
        .unwrap_or_else(|| panic!("docs/json.md has no section {name}"));
    let body = &DOC[start + head.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let path = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let types = cells.get(2)?.split(" or ").map(|t| t.trim().to_string());
            Some(Row {
                path: path.to_string(),
                types: types.collect(),
            })
        })
        .collect()
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `a[].b` as tokens `a`, `[]`, `b`.
fn tokens(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in path.split('.') {
        match part.strip_suffix("[]") {
            Some(k) => {
                if !k.is_empty() {
                    out.push(k);
                }
                out.push("[]");
            }
            None => out.push(part),
        }
    }
    out
}

/// The values reached by following `toks` from `v` (arrays expand at `[]`).
fn reach<'a>(v: &'a Value, toks: &[&str]) -> Vec<&'a Value> {
    let mut at = vec![v];
    for t in toks {
        at = at
            .into_iter()
            .flat_map(|x| match (*t, x) {
                ("[]", Value::Array(a)) => a.iter().collect::<Vec<_>>(),
                (k, Value::Object(o)) => o.get(k).into_iter().collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    at
}

/// Every key described is there (unless `absent`) with one of its types.
fn described_keys_are_there(v: &Value, rows: &[Row], what: &str) {
    for r in rows.iter().filter(|r| !r.path.ends_with(".*")) {
        let toks = tokens(&r.path);
        let (last, parents) = toks.split_last().unwrap();
        let any = r.types.iter().any(|t| t == "any");
        for p in reach(v, parents) {
            let values: Vec<&Value> = match (*last, p) {
                ("[]", Value::Array(a)) => a.iter().collect(),
                (k, Value::Object(o)) => match o.get(k) {
                    Some(x) => vec![x],
                    None => {
                        assert!(
                            r.types.iter().any(|t| t == "absent"),
                            "{what}: `{}` is described but missing in {p}",
                            r.path
                        );
                        continue;
                    }
                },
                _ => continue,
            };
            for x in values {
                assert!(
                    any || r.types.iter().any(|t| t == type_of(x)),
                    "{what}: `{}` is {} ({x}), described as {:?}",
                    r.path,
                    type_of(x),
                    r.types
                );
            }
        }
    }
}

/// Every key there is described.
fn keys_there_are_described(v: &Value, path: &str, rows: &[Row], what: &str) {
    let described = |p: &str| rows.iter().find(|r| r.path == p);
    let open = |p: &str| {
        rows.iter().any(|r| {
            r.path == format!("{p}.*") || (r.path == p && r.types.iter().any(|t| t == "any"))
        })
    };
    if !path.is_empty() && open(path) {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                assert!(
                    described(&p).is_some(),
                    "{what}: `{p}` is not described in docs/json.md"
                );
                keys_there_are_described(x, &p, rows, what);
            }
        }
        Value::Array(a) => {
            for x in a {
                keys_there_are_described(x, &format!("{path}[]"), rows, what);
            }
        }
        _ => {}
    }
}

fn check(v: &Value, name: &str, what: &str) {
    let rows = section(name);
    described_keys_are_there(v, &rows, what);
    keys_there_are_described(v, "", &rows, what);
}

/// Checks every line of a run: events against their sections, the last line against `name`.
fn check_run(r: &Run, name: &str, what: &str) {
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}")))
        .collect();
    let (last, events) = lines
        .split_last()
        .unwrap_or_else(|| panic!("{what}: no output"));
    for e in events {
        match e["event"].as_str() {
            Some("device-result") => check(e, "device-result", what),
            Some(_) => check(e, "event", what),
            None => panic!("{what}: a line before the result that is not an event: {e}"),
        }
        assert_eq!(e["schema_version"], 1, "{what}");
    }
    assert_eq!(last["schema_version"], 1, "{what}");
    check(last, name, what);
    if name == "list" {
        for d in last["devices"].as_array().unwrap() {
            check(d, "device", what);
        }
    }
}

#[test]
fn every_json_output_matches_docs_json_md() {
    let s = Scratch::new();
    let app = s.file("a.bin", &pattern(5000, 1));
    let state = format!("stm32f405,state={}", s.state("f.json"));
    let fw = format!("{FIXTURES}/fw.bin");
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
    let (read_out, hex_out) = (out("r.bin"), out("c.hex"));
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
            "device",
            vec!["--sim", "photon,system-version=1", "info", "--json"],
        ),
        (
            "device",
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
            "flash --all",
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
            "flash --watch",
            vec![
                "--sim",
                "stm32f405,serial=W",
                "flash",
                &app,
                "--watch",
                "--count",
                "1",
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
            "image inspect",
            vec!["image", "inspect", &particle, "--json"],
        ),
        (
            "image inspect",
            vec![
                "image",
                "inspect",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../dfu-image/tests/fixtures/fw-2alt.dfu"
                ),
                "--json",
            ],
        ),
        (
            "image convert",
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
            "suffix",
            vec![
                "suffix", "add", &x, "--vid", "0483", "--pid", "df11", "--json",
            ],
        ),
        ("suffix", vec!["suffix", "check", &x, "--json"]),
        ("suffix", vec!["suffix", "remove", &x, "--json"]),
        ("doctor", vec!["doctor", "--json"]),
        ("sim profiles", vec!["sim", "profiles", "--json"]),
        (
            "option-bytes",
            vec!["--sim", "stm32f405", "option-bytes", "--json"],
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
    ];
    for (name, args) in cases {
        let what = args.join(" ");
        let r = dfu(&args);
        check_run(&r, name, &what);
    }
}

#[test]
fn the_checker_catches_an_undescribed_or_mistyped_key() {
    let ok: Value =
        serde_json::json!({"schema_version": 1, "result": "ok", "mass_erase": false, "erased": []});
    check(&ok, "erase", "good");
    let extra = serde_json::json!({"schema_version": 1, "result": "ok", "mass_erase": false, "erased": [], "surprise": 1});
    assert!(std::panic::catch_unwind(|| check(&extra, "erase", "extra")).is_err());
    let mistyped =
        serde_json::json!({"schema_version": 1, "result": "ok", "mass_erase": "no", "erased": []});
    assert!(std::panic::catch_unwind(|| check(&mistyped, "erase", "mistyped")).is_err());
    let missing = serde_json::json!({"schema_version": 1, "result": "ok", "erased": []});
    assert!(std::panic::catch_unwind(|| check(&missing, "erase", "missing")).is_err());
}
