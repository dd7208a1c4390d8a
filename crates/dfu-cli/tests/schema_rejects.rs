//! A validation that cannot fail proves nothing: outputs of `dfu` changed in the ways a
//! broken contract would change them are rejected by the schema `dfu schema` prints.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

mod common;
#[path = "support/contract.rs"]
mod contract;
use common::*;
use contract::Contract;
use serde_json::{json, Value};

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
