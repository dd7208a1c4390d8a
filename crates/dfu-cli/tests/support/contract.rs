//! Validating `dfu` output against the schema `dfu schema` prints (shared by the schema
//! tests).

#![allow(dead_code)] // each test file uses part of it

use crate::common::{dfu, Run};
use serde_json::{json, Value};

/// The document `dfu schema` prints.
pub fn schema() -> Value {
    let r = dfu(&["schema"]);
    r.ok();
    serde_json::from_str(&r.stdout).expect("dfu schema prints JSON")
}

/// Validates against one named line of the schema (`None`: the root, any line).
pub struct Contract {
    schema: Value,
}

impl Contract {
    pub fn new() -> Self {
        Contract { schema: schema() }
    }

    pub fn errors(&self, name: Option<&str>, v: &Value) -> Vec<String> {
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

    pub fn valid(&self, name: &str, v: &Value, what: &str) {
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

    pub fn invalid(&self, name: &str, v: &Value, what: &str) {
        assert!(
            !self.errors(Some(name), v).is_empty(),
            "{what}: the schema accepts a changed `{name}`: {v}"
        );
    }

    /// Every line of a run: events by their `event`, the last line as `name`.
    pub fn run(&self, r: &Run, name: &str, what: &str) -> Vec<Value> {
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
