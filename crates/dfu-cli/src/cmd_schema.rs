//! `dfu schema`: the JSON Schema of every `--json` output, generated from the types that
//! print them, so that the contract is written once.
//!
//! The document's `$defs` hold one entry per kind of line, by name (`flash`, `event`,
//! `error`, ...), beside the types they are made of. Its root accepts any line `dfu` writes.
//! Objects are closed: a key that the types do not print is not in the schema, and a
//! validator rejects it.

use crate::exit::Failure;
use crate::out::{self, SCHEMA_VERSION};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// One kind of JSON line: its name in `$defs`, what writes it, and its type's schema.
struct Line {
    name: &'static str,
    what: &'static str,
    schema: Value,
    /// The object carries `schema_version` (every object written but the error-free log line
    /// type, which has its own field for it).
    versioned: bool,
}

fn line<T: JsonSchema>(g: &mut SchemaGenerator, name: &'static str, what: &'static str) -> Line {
    Line {
        name,
        what,
        schema: g.subschema_for::<T>().to_value(),
        versioned: true,
    }
}

/// Every kind of line `dfu` writes with `--json`, in the order docs/json.md gives them.
fn lines(g: &mut SchemaGenerator) -> Vec<Line> {
    use crate::{cmd_device, cmd_flash, cmd_image, cmd_info, cmd_inspect, cmd_many, cmd_protect};
    use crate::{cmd_read, cmd_watch, doctor, render, render_many};
    vec![
        line::<render::ErrorJson<'static>>(g, "error", "any command, when it fails"),
        line::<cmd_device::ListJson<'static>>(g, "list", "`dfu list --json`"),
        line::<cmd_info::InfoJson<'static>>(g, "info", "`dfu info --json`"),
        line::<cmd_flash::FlashJson<'static>>(g, "flash", "`dfu flash --json`: the result"),
        line::<render_many::EventLine<'static>>(
            g,
            "event",
            "`flash`, `read`, `erase --json`: an event before the result (with `device` for `--all` and `--watch`)",
        ),
        line::<cmd_many::ManyJson<'static>>(g, "flash-all", "`dfu flash --all --json`: the result"),
        line::<cmd_watch::WatchJson>(g, "flash-watch", "`dfu flash --watch --json`: the result"),
        line::<cmd_watch::PluggedIn<'static>>(
            g,
            "plugged-in",
            "`dfu flash --watch --json`: a device arrived",
        ),
        line::<cmd_watch::RecordEvent<'static>>(
            g,
            "device-result",
            "`dfu flash --watch --json`: one device's result",
        ),
        Line {
            versioned: false,
            ..line::<cmd_watch::Record>(g, "log-record", "`dfu flash --watch --log FILE`: a line of FILE")
        },
        line::<cmd_read::ReadJson<'static>>(g, "read", "`dfu read --json`"),
        line::<cmd_flash::EraseJson>(g, "erase", "`dfu erase --json`"),
        line::<cmd_device::DeviceResult>(g, "detach", "`dfu detach --json`, `dfu reset --json`"),
        line::<cmd_inspect::InspectJson<'static>>(g, "image-inspect", "`dfu image inspect --json`"),
        line::<cmd_image::FileResult<'static>>(
            g,
            "image-convert",
            "`dfu image convert --json`, `dfu suffix add|check|remove --json`",
        ),
        line::<doctor::DoctorJson<'static>>(g, "doctor", "`dfu doctor --json`"),
        line::<cmd_device::Profiles<'static>>(g, "sim-profiles", "`dfu sim profiles --json`"),
        line::<cmd_protect::ObJson>(
            g,
            "option-bytes",
            "`dfu option-bytes --json`, `dfu unprotect --force --json`",
        ),
        line::<cmd_protect::Unprotected>(
            g,
            "unprotected",
            "`dfu unprotect --force --json` when the option bytes cannot be read afterwards",
        ),
    ]
}

/// The schema document that `dfu schema` prints.
pub fn document() -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let lines = lines(&mut g);
    let mut defs = g.take_definitions(true);
    for l in &lines {
        if l.versioned {
            add_schema_version(&mut defs, &l.schema);
        }
    }
    for d in defs.values_mut() {
        close(d, false);
    }
    let mut any = Vec::new();
    for l in &lines {
        let mut s = l.schema.clone();
        s["description"] = Value::String(l.what.to_string());
        any.push(json!({ "$ref": format!("#/$defs/{}", l.name) }));
        if defs.insert(l.name.to_string(), s).is_some() {
            unreachable!("a line named like a type: {}", l.name);
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dfu --json",
        "description": format!(
            "Every line `dfu` writes with --json (schema_version {SCHEMA_VERSION}). \
             `$defs` names each kind of line; see docs/json.md."
        ),
        "anyOf": any,
        "$defs": defs,
    })
}

/// The object a `$ref` schema names gets the `schema_version` that [`out::json`] adds.
fn add_schema_version(defs: &mut Map<String, Value>, schema: &Value) {
    let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    else {
        return;
    };
    let Some(def) = defs.get_mut(name) else {
        return;
    };
    def["properties"]["schema_version"] = json!({
        "description": "The version of this contract (docs/json.md).",
        "const": SCHEMA_VERSION,
    });
    let required = def
        .as_object_mut()
        .map(|o| o.entry("required").or_insert_with(|| json!([])));
    if let Some(Value::Array(r)) = required {
        if !r.contains(&json!("schema_version")) {
            r.push(json!("schema_version"));
        }
    }
}

/// Closes every object schema under `s`: keys not listed are refused. An object whose keys
/// are spread over `oneOf`/`anyOf`/`allOf` (a flattened enum) refuses what none of them
/// lists (`unevaluatedProperties`), and its alternatives stay open.
fn close(s: &mut Value, in_alternative: bool) {
    let Value::Object(o) = s else {
        return;
    };
    let combined = ["oneOf", "anyOf", "allOf"]
        .iter()
        .any(|k| o.contains_key(*k));
    if o.contains_key("properties") && !in_alternative {
        let key = if combined {
            "unevaluatedProperties"
        } else {
            "additionalProperties"
        };
        o.entry(key).or_insert(Value::Bool(false));
    }
    let has_properties = o.contains_key("properties");
    for (k, v) in o.iter_mut() {
        match (k.as_str(), v) {
            ("properties" | "$defs", Value::Object(p)) => {
                p.values_mut().for_each(|x| close(x, false));
            }
            ("oneOf" | "anyOf" | "allOf", Value::Array(a)) => {
                a.iter_mut().for_each(|x| close(x, has_properties));
            }
            ("items" | "additionalProperties", x) => close(x, false),
            _ => {}
        }
    }
}

/// `dfu schema`: prints the document.
pub fn run() -> Result<(), Failure> {
    out::stdout_line(format_args!("{:#}", document()));
    Ok(())
}
