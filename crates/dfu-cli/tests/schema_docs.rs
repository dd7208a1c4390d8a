//! docs/json.md agrees with `dfu schema`: every key path its tables list is in the schema
//! with the same types (and may be absent exactly when the schema lets it be), and every
//! property in the schema is in a table.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const DOC: &str = include_str!("../../../docs/json.md");

/// Each table of docs/json.md and the lines of the schema it describes.
const SECTIONS: &[(&str, &[&str])] = &[
    ("error", &["error"]),
    ("list", &["list"]),
    ("device", &["DeviceInfo", "info"]),
    ("flash", &["flash"]),
    ("event", &["event", "plugged-in"]),
    ("flash --all", &["flash-all"]),
    ("flash --watch", &["flash-watch"]),
    ("device-result", &["device-result", "log-record"]),
    ("read", &["read"]),
    ("erase", &["erase"]),
    ("detach", &["detach"]),
    ("image inspect", &["image-inspect"]),
    ("image convert", &["image-convert"]),
    ("suffix", &["image-convert"]),
    ("doctor", &["doctor"]),
    ("sim profiles", &["sim-profiles"]),
    ("option-bytes", &["option-bytes", "unprotected"]),
];

/// One row of a table: a key path (`a[].b`) and the types it may have.
struct Row {
    path: String,
    types: BTreeSet<String>,
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

/// An object (or not) a value may be: its properties, the ones it always has, its types.
#[derive(Clone, Default)]
struct Alt {
    properties: serde_json::Map<String, Value>,
    required: BTreeSet<String>,
    items: Vec<Value>,
    types: BTreeSet<String>,
}

/// What the schema says about one key path.
struct Schema<'a> {
    doc: &'a Value,
}

impl Schema<'_> {
    /// The alternatives of `s`: `$ref`s followed, `oneOf`/`anyOf` spread, a flattened
    /// enum's keys merged into each of its variants.
    fn alts(&self, s: &Value) -> Vec<Alt> {
        if let Some(r) = s["$ref"].as_str() {
            let name = r.strip_prefix("#/$defs/").expect("a local $ref");
            return self.alts(&self.doc["$defs"][name]);
        }
        let mut own = Alt::default();
        if let Some(p) = s["properties"].as_object() {
            own.properties = p.clone();
        }
        if let Some(r) = s["required"].as_array() {
            own.required = r.iter().map(|x| x.as_str().unwrap().to_string()).collect();
        }
        if let Some(i) = s.get("items") {
            own.items.push(i.clone());
        }
        own.types = match (&s["type"], &s["const"]) {
            (Value::String(t), _) => [t.clone()].into(),
            (Value::Array(t), _) => t.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            (_, Value::Null) => BTreeSet::new(),
            (_, c) => [kind(c).to_string()].into(),
        };
        let choices: Vec<&Value> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| s[*k].as_array())
            .flatten()
            .collect();
        if choices.is_empty() {
            if own.types.is_empty() && !own.properties.is_empty() {
                own.types.insert("object".into());
            }
            return vec![own];
        }
        let mut out = Vec::new();
        for c in choices {
            for mut a in self.alts(c) {
                a.properties.extend(own.properties.clone());
                a.required.extend(own.required.iter().cloned());
                out.push(a);
            }
        }
        out
    }

    /// The schemas at `path` under the lines `roots`, and whether the key may be absent.
    fn at(&self, roots: &[Value], path: &str) -> (Vec<Value>, bool) {
        let mut at = roots.to_vec();
        let mut absent = false;
        for t in tokens(path) {
            let mut next = Vec::new();
            absent = false;
            for s in &at {
                for a in self.alts(s) {
                    if t == "[]" {
                        next.extend(a.items.iter().cloned());
                    } else if let Some(p) = a.properties.get(t) {
                        next.push(p.clone());
                        absent |= !a.required.contains(t);
                    } else if a.types.contains("object") && !a.properties.is_empty() {
                        absent = true;
                    }
                }
            }
            at = next;
        }
        (at, absent)
    }

    /// The JSON types of the schemas (`integer` is a number).
    fn types(&self, schemas: &[Value]) -> BTreeSet<String> {
        let mut t = BTreeSet::new();
        for s in schemas {
            for a in self.alts(s) {
                if a.types.is_empty() {
                    t.insert("any".to_string());
                }
                t.extend(a.types.into_iter().map(|x| match x.as_str() {
                    "integer" => "number".to_string(),
                    _ => x,
                }));
            }
        }
        t
    }

    /// Every key path under `s`, as the tables write them, with its schemas.
    fn paths(&self, s: &Value, path: &str, out: &mut Vec<String>) {
        for a in self.alts(s) {
            for (k, v) in &a.properties {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if !out.contains(&p) {
                    out.push(p.clone());
                    self.paths(v, &p, out);
                }
            }
            for i in &a.items {
                let p = format!("{path}[]");
                let scalar = !self.types(std::slice::from_ref(i)).contains("object");
                if scalar && !out.contains(&p) {
                    out.push(p.clone());
                }
                self.paths(i, &p, out);
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
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

/// The disagreements between a table and the lines it describes.
fn disagreements(schema: &Value, name: &str, lines: &[&str]) -> Vec<String> {
    let s = Schema { doc: schema };
    let roots: Vec<Value> = lines
        .iter()
        .map(|l| json!({ "$ref": format!("#/$defs/{l}") }))
        .collect();
    let rows = section(name);
    let mut bad = Vec::new();
    for r in rows.iter().filter(|r| !r.path.ends_with(".*")) {
        let (at, absent) = s.at(&roots, &r.path);
        if at.is_empty() {
            bad.push(format!("{name}: `{}` is not in the schema", r.path));
            continue;
        }
        let mut doc = r.types.clone();
        let doc_absent = doc.remove("absent");
        if !doc.contains("any") && doc != s.types(&at) {
            bad.push(format!(
                "{name}: `{}` is {:?} in the docs, {:?} in the schema",
                r.path,
                doc,
                s.types(&at)
            ));
        }
        if doc_absent != absent {
            bad.push(format!(
                "{name}: `{}` may be absent: docs say {doc_absent}, the schema says {absent}",
                r.path
            ));
        }
    }
    let open = |p: &str| {
        rows.iter().any(|r| {
            p.starts_with(&format!("{}.", r.path.trim_end_matches(".*")))
                && (r.path.ends_with(".*") || r.types.contains("any"))
                || p.starts_with(&format!("{}[]", r.path)) && r.types.contains("any")
        })
    };
    let mut paths = Vec::new();
    for root in &roots {
        s.paths(root, "", &mut paths);
    }
    for p in paths {
        if !open(&p) && !rows.iter().any(|r| r.path == p) {
            bad.push(format!("{name}: `{p}` is in the schema, not in the docs"));
        }
    }
    bad
}

#[test]
fn docs_json_md_agrees_with_dfu_schema() {
    let r = dfu(&["schema"]);
    r.ok();
    let schema: Value = serde_json::from_str(&r.stdout).unwrap();
    let bad: Vec<String> = SECTIONS
        .iter()
        .flat_map(|(name, lines)| disagreements(&schema, name, lines))
        .collect();
    assert!(
        bad.is_empty(),
        "docs/json.md and dfu schema disagree:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_comparison_finds_a_missing_or_mistyped_key() {
    let r = dfu(&["schema"]);
    let mut schema: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(disagreements(&schema, "erase", &["erase"]).is_empty());
    let erase = schema["$defs"]["EraseJson"].clone();
    schema["$defs"]["EraseJson"]["properties"]["surprise"] = json!({"type": "string"});
    let bad = disagreements(&schema, "erase", &["erase"]);
    assert!(
        bad.iter()
            .any(|b| b.contains("`surprise` is in the schema")),
        "{bad:?}"
    );
    schema["$defs"]["EraseJson"] = erase.clone();
    schema["$defs"]["EraseJson"]["properties"]["mass_erase"] = json!({"type": "string"});
    let bad = disagreements(&schema, "erase", &["erase"]);
    assert!(bad.iter().any(|b| b.contains("`mass_erase` is")), "{bad:?}");
    schema["$defs"]["EraseJson"] = erase;
    schema["$defs"]["EraseJson"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("erased");
    let bad = disagreements(&schema, "erase", &["erase"]);
    assert!(
        bad.iter()
            .any(|b| b.contains("`erased` is not in the schema")),
        "{bad:?}"
    );
}
