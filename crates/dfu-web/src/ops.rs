//! The page's operations, each one call into the library: describe the connected device,
//! prepare (connect, read the device, plan), execute the prepared plan, read memory.
//! Nothing is decided here: every check, placement and step comes from the library.

use crate::abi;
use crate::result::{self, DeviceJson, ErrorJson, FlashJson, ReadJson, SCHEMA_VERSION};
use crate::webusb::WebUsb;
use dfu::{
    AltChoice, Backend, DeviceRequest, DfuError, Firmware, FlashOptions, FlashPlan, Operation,
    Prepared, Selector,
};
use serde::Deserialize;
use std::cell::RefCell;

/// Result kinds handed to the page (see [`abi::emit`]).
const EVENT: u32 = 1;
const RESULT: u32 = 2;
const DATA: u32 = 3;
const FINDING: u32 = 4;
const PLAN: u32 = 5;

/// What the page asks for: the device (by serial number when it has one) and the options
/// of `dfu flash` / `dfu read`, by their long names.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Request {
    serial: Option<String>,
    alt: Option<String>,
    address: Option<String>,
    length: Option<String>,
    no_verify: bool,
    no_leave: bool,
    no_skip: bool,
    mass_erase: bool,
    force: bool,
    dry_run: bool,
    preserve: bool,
}

#[derive(Default)]
struct State {
    files: Vec<(String, Vec<u8>)>,
    prepared: Option<Prepared>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Adds a file for the next prepare.
pub fn add_file(name: &str, bytes: Vec<u8>) {
    STATE.with(|s| s.borrow_mut().files.push((name.to_string(), bytes)));
}

/// Forgets the files, and any prepared plan.
pub fn clear_files() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.files.clear();
        s.prepared = None;
    });
}

fn emit_json<T: serde::Serialize>(kind: u32, v: &T) {
    abi::send(kind, &result::to_json(v));
}

/// Emits the error object; returns the exit code.
fn fail(e: &DfuError, written: Option<Vec<String>>) -> i32 {
    let j = ErrorJson::of(e, written);
    emit_json(RESULT, &j);
    j.exit_code
}

fn parse_request(bytes: &[u8]) -> Result<Request, DfuError> {
    serde_json::from_slice(bytes).map_err(|e| DfuError::usage(format!("page request: {e}")))
}

/// The device part of the library's request.
fn device(r: &Request) -> Result<DeviceRequest, DfuError> {
    Ok(DeviceRequest {
        selector: Selector {
            serial: r.serial.clone(),
            ..Selector::default()
        },
        alt: AltChoice::from_option(r.alt.as_deref())?,
        ..DeviceRequest::default()
    })
}

/// Events go to the page as JSON lines, as `dfu flash --json` prints them.
fn event(e: &dfu::Event) {
    emit_json(EVENT, &Versioned(e));
}

fn number(text: &Option<String>, what: &str) -> Result<Option<u64>, DfuError> {
    text.as_deref()
        .map(|t| dfu_proto::num::parse_len(t).map_err(|e| DfuError::usage(format!("{what}: {e}"))))
        .transpose()
}

fn address(r: &Request) -> Result<Option<u32>, DfuError> {
    r.address
        .as_deref()
        .map(|t| dfu_proto::num::parse_u32(t).map_err(|e| DfuError::usage(format!("address: {e}"))))
        .transpose()
}

/// The device the page connected, as `dfu info --json` shows it.
pub fn describe(request: &[u8]) -> i32 {
    let r = match parse_request(request) {
        Ok(r) => r,
        Err(e) => return fail(&e, None),
    };
    let mut backend = WebUsb;
    let found = device(&r).and_then(|d| dfu::prepare::find_one(&mut backend, &d, &mut event));
    match found {
        Ok(info) => {
            emit_json(
                RESULT,
                &DeviceJson {
                    result: "ok",
                    device: &info,
                    profile_detail: info.profile.as_ref().map(dfu::ProfileJson::of),
                    schema_version: SCHEMA_VERSION,
                },
            );
            0
        }
        Err(e) => fail(&e, None),
    }
}

/// Connects, reads the device and plans the flash of the added files, as `dfu flash` does
/// before it writes; emits the plan (or the failure, with nothing written).
pub fn prepare(request: &[u8]) -> i32 {
    STATE.with(|s| s.borrow_mut().prepared = None);
    let files = STATE.with(|s| s.borrow().files.clone());
    let outcome = plan_files(request, files).and_then(|p| {
        // The plan is shown whatever it says; a refusal in it ends the flash here, with
        // the error `dfu flash` reports when it executes such a plan.
        let plan = flash_plan(&p)?;
        let j = PlanJson {
            result: "ok",
            plan,
            schema_version: SCHEMA_VERSION,
        };
        emit_json(PLAN, &j);
        p.plan.check().map(|()| p)
    });
    match outcome {
        Ok(p) => {
            let Ok(plan) = flash_plan(&p) else {
                return fail(&DfuError::usage("not a flash request"), Some(Vec::new()));
            };
            let j = PlanJson {
                result: "ok",
                plan,
                schema_version: SCHEMA_VERSION,
            };
            emit_json(RESULT, &j);
            STATE.with(|s| s.borrow_mut().prepared = Some(p));
            0
        }
        Err(e) => {
            // The page asks about a refusal that may be overridden.
            if let DfuError::Refused(f) = &e {
                emit_json(FINDING, f);
            }
            // Checks run before anything is erased or written.
            fail(&e, Some(Vec::new()))
        }
    }
}

/// The plan, before anything is written.
#[derive(serde::Serialize)]
struct PlanJson<'a> {
    result: &'static str,
    plan: &'a FlashPlan,
    schema_version: u32,
}

/// The flash plan of a prepared flash request.
fn flash_plan(p: &Prepared) -> Result<&FlashPlan, DfuError> {
    p.plan
        .as_flash()
        .ok_or_else(|| DfuError::usage("not a flash request"))
}

/// The page's one call into the library for a flash, up to the plan: `dfu::prepare`.
fn plan_files(request: &[u8], files: Vec<(String, Vec<u8>)>) -> Result<Prepared, DfuError> {
    let r = parse_request(request)?;
    let files = files
        .iter()
        .map(|(name, bytes)| Firmware::parse(name.clone(), bytes))
        .collect::<Result<Vec<_>, _>>()?;
    let options = FlashOptions {
        address: address(&r)?,
        alt: None,
        verify: !r.no_verify,
        leave: !r.no_leave,
        skip_unchanged: !r.no_skip,
        mass_erase: r.mass_erase,
        force: r.force,
        dry_run: r.dry_run,
        preserve: r.preserve,
        irreversible: false,
    };
    let request = dfu::Request {
        device: device(&r)?,
        op: Operation::Flash { files, options },
    };
    dfu::prepare(&mut WebUsb, &request, &mut event)
}

/// An object with `schema_version` added.
#[derive(serde::Serialize)]
struct Versioned<'a, T: serde::Serialize>(#[serde(serialize_with = "versioned")] &'a T);

fn versioned<T: serde::Serialize, S: serde::Serializer>(v: &&T, s: S) -> Result<S::Ok, S::Error> {
    let mut value = serde_json::to_value(v).map_err(serde::ser::Error::custom)?;
    if let Some(o) = value.as_object_mut() {
        o.insert("schema_version".into(), SCHEMA_VERSION.into());
    }
    serde::Serialize::serialize(&value, s)
}

/// Executes the prepared plan; emits the events, then the result as `dfu flash --json`
/// prints it last.
pub fn execute() -> i32 {
    let Some(mut prepared) = STATE.with(|s| s.borrow_mut().prepared.take()) else {
        let e = DfuError::usage("nothing to flash: pick files and let the plan be made first");
        return fail(&e, Some(Vec::new()));
    };
    let backend = WebUsb;
    let start = backend.now();
    // The library's entry point for a flash: execute the plan.
    let outcome = prepared.flash(&mut event);
    let seconds = backend.now().saturating_sub(start).as_secs_f64();
    let Ok(plan) = flash_plan(&prepared) else {
        return fail(&DfuError::usage("not a flash request"), Some(Vec::new()));
    };
    match outcome {
        Ok(report) => {
            emit_json(
                RESULT,
                &FlashJson {
                    result: "ok",
                    plan,
                    report: &report,
                    seconds,
                    backend: backend.name(),
                    schema_version: SCHEMA_VERSION,
                },
            );
            0
        }
        Err(f) => fail(&f.error, Some(f.done.account())),
    }
}

/// Reads memory: emits the bytes, then the result.
pub fn read(request: &[u8]) -> i32 {
    match read_region(request) {
        Ok((j, bytes)) => {
            abi::send(DATA, &bytes);
            emit_json(RESULT, &j);
            0
        }
        Err(e) => fail(&e, None),
    }
}

/// The page's one call into the library for a read: `dfu::prepare`, then execute.
fn read_region(request: &[u8]) -> Result<(ReadJson, Vec<u8>), DfuError> {
    let r = parse_request(request)?;
    let length =
        number(&r.length, "length")?.ok_or_else(|| DfuError::usage("give the length to read"))?;
    let request = dfu::Request {
        device: device(&r)?,
        op: Operation::Read {
            address: address(&r)?,
            length: Some(length),
        },
    };
    let mut prepared = dfu::prepare(&mut WebUsb, &request, &mut event)?;
    let (alt, start) = match &prepared.plan {
        dfu::Plan::Read(p) => (p.alt, p.address),
        _ => return Err(DfuError::usage("not a read request")),
    };
    let bytes = prepared.read(&mut event).map_err(|f| f.error)?;
    let j = ReadJson {
        result: "ok",
        alt,
        address: start,
        length: bytes.len() as u64,
        schema_version: SCHEMA_VERSION,
    };
    Ok((j, bytes))
}
