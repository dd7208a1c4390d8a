//! `dfu schema` is the contract of `--json`: the real output of every command, against
//! simulated devices, validates against it (and a changed output does not), and
//! docs/json.md describes exactly what it holds.

mod common;
use common::*;
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-image/tests/fixtures");

/// The document `dfu schema` prints.
fn schema() -> Value {
    let r = dfu(&["schema"]);
    r.ok();
    serde_json::from_str(&r.stdout).expect("dfu schema prints JSON")
}

/// Validates against one named line of the schema (`None`: the root, any line).
struct Contract {
    schema: Value,
}

impl Contract {
    fn new() -> Self {
        Contract { schema: schema() }
    }

    fn errors(&self, name: Option<&str>, v: &Value) -> Vec<String> {
        let mut s = self.schema.clone();
        if let Some(name) = name {
            assert!(s["$defs"].get(name).is_some(), "the schema has no `{name}`");
            s.as_object_mut().unwrap().remove("anyOf");
            s["$ref"] = json!(format!("#/$defs/{name}"));
        }
        let v8r = jsonschema::draft202012::new(&s).expect("the schema is valid JSON Schema");
        v8r.iter_errors(v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    fn valid(&self, name: &str, v: &Value, what: &str) {
        let errors = self.errors(Some(name), v);
        assert!(
            errors.is_empty(),
            "{what}: {v}\nis not a valid `{name}`: {errors:#?}"
        );
        assert!(
            self.errors(None, v).is_empty(),
            "{what}: {v} is not a line the root accepts"
        );
    }

    fn invalid(&self, name: &str, v: &Value, what: &str) {
        assert!(
            !self.errors(Some(name), v).is_empty(),
            "{what}: the schema accepts a changed `{name}`: {v}"
        );
    }

    /// Every line of a run: events by their `event`, the last line as `name`.
    fn run(&self, r: &Run, name: &str, what: &str) -> Vec<Value> {
        let lines: Vec<Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}")))
            .collect();
        let (last, events) = lines
            .split_last()
            .unwrap_or_else(|| panic!("{what}: no output"));
        for e in events {
            let kind = match e["event"].as_str() {
                Some("device-result") => "device-result",
                Some("plugged-in") => "plugged-in",
                Some(_) => "event",
                None => panic!("{what}: a line before the result that is not an event: {e}"),
            };
            self.valid(kind, e, what);
        }
        self.valid(name, last, what);
        lines
    }
}

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
    for (name, args) in &cases {
        let what = args.join(" ");
        c.run(&dfu(args), name, &what);
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

#[test]
fn a_changed_output_is_rejected() {
    let c = Contract::new();
    let s = Scratch::new();
    let app = s.file("a.bin", &pattern(5000, 1));
    let state = format!("stm32f405,state={}", s.state("f.json"));
    let lines = c.run(
        &dfu(&["--sim", &state, "flash", &app, "--json"]),
        "flash",
        "flash",
    );
    let good = lines.last().unwrap().clone();
    let change = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let changed = [
        (
            "a key the types do not print",
            change(&|v| v["surprise"] = json!(1)),
        ),
        (
            "a nested unknown key",
            change(&|v| v["report"]["extra"] = json!(true)),
        ),
        (
            "a number as a string",
            change(&|v| v["seconds"] = json!("1.5")),
        ),
        (
            "an address in decimal",
            change(&|v| v["report"]["written"][0]["address"] = json!(134217728)),
        ),
        (
            "an address without its zeros",
            change(&|v| v["report"]["written"][0]["address"] = json!("0x8000000")),
        ),
        (
            "a missing key",
            change(&|v| {
                v["plan"].as_object_mut().unwrap().remove("findings");
            }),
        ),
        (
            "a result an ok line never has",
            change(&|v| v["result"] = json!("error")),
        ),
        (
            "another schema_version",
            change(&|v| v["schema_version"] = json!(2)),
        ),
        (
            "an unknown severity",
            change(
                &|v| v["plan"]["findings"] = json!([{"severity": "warning", "code": "dfu::note::padded", "message": "m", "detail": "d", "overridable": false}]),
            ),
        ),
        (
            "an unknown code",
            change(
                &|v| v["plan"]["findings"] = json!([{"severity": "note", "code": "dfu::note::made-up", "message": "m", "detail": "d", "overridable": false}]),
            ),
        ),
    ];
    for (what, v) in &changed {
        c.invalid("flash", v, what);
    }
    let event = lines
        .iter()
        .find(|l| l["event"] == "progress")
        .expect("a progress event");
    let mut e = event.clone();
    e["event"] = json!("finished");
    c.invalid("event", &e, "an unknown event");
    let mut e = event.clone();
    e["message"] = json!("not a key of progress");
    c.invalid("event", &e, "a key of another event");
    let r = dfu(&["--sim", "stm32f405", "flash", "missing.bin", "--json"]);
    let error = c.run(&r, "error", "error").pop().unwrap();
    let mut e = error.clone();
    e["exit_code"] = json!("3");
    c.invalid("error", &e, "an exit code as a string");
    let mut e = error.clone();
    e.as_object_mut().unwrap().remove("help");
    c.invalid("error", &e, "an error without help");
    c.invalid("flash", &error, "an error is not a flash result");
}
