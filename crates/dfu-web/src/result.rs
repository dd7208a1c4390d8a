//! What the page shows, in the shapes `dfu` prints with `--json` (docs/json.md): the result
//! of `dfu flash --json`, the error object of any command, the events. The command line's
//! JSON structs live in dfu-cli; the shapes both print (the profile, the exit code of an
//! error, the account of a failed write) come from the library, and the help lines from the
//! command line's own help module, so codes and help agree with the CLI.

use dfu::{DfuError, FlashPlan, FlashReport};
use serde::Serialize;

/// `schema_version` of every JSON object (docs/json.md).
pub const SCHEMA_VERSION: u32 = 1;

/// The result object of `dfu flash --json`.
#[derive(Serialize)]
pub struct FlashJson<'a> {
    /// `"ok"`.
    pub result: &'static str,
    /// What was decided before anything was written.
    pub plan: &'a FlashPlan,
    /// What was done.
    pub report: &'a FlashReport,
    /// Time the flash took (virtual time in sim mode).
    pub seconds: f64,
    /// `"usb"` or `"sim"`.
    pub backend: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
}

/// The error object every `dfu` command prints with `--json` when it fails.
#[derive(Serialize)]
pub struct ErrorJson {
    /// `"error"`.
    pub result: &'static str,
    /// The exit code the command line would exit with.
    pub exit_code: i32,
    /// The stable code.
    pub code: Option<&'static str>,
    /// What happened.
    pub error: String,
    /// What to do next (the command line's help line).
    pub help: String,
    /// For writes: what had been erased and written, one line each (empty: nothing).
    pub written: Option<Vec<String>>,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
}

impl ErrorJson {
    /// The error object for `e`; `written` as the command line reports it for a write
    /// (`Some(vec![])`: nothing was written), `None` for commands that do not write.
    pub fn of(e: &DfuError, written: Option<Vec<String>>) -> Self {
        let error = match e {
            DfuError::NoDevice { .. } => "no DFU device found".to_string(),
            DfuError::Ambiguous { candidates, .. } => {
                format!("{} DFU devices match; pick one", candidates.len())
            }
            e => e.to_string(),
        };
        ErrorJson {
            result: "error",
            exit_code: e.kind().exit_code(),
            code: Some(e.code().as_str()),
            error,
            help: crate::cli_help::for_error(e),
            written,
            schema_version: SCHEMA_VERSION,
        }
    }
}

/// The device card: the device as `dfu info --json` shows it, with its profile's regions.
#[derive(Serialize)]
pub struct DeviceJson<'a> {
    /// `"ok"`.
    pub result: &'static str,
    /// The device (ids, mode, alts and layouts, profile and why).
    #[serde(flatten)]
    pub device: &'a dfu::DeviceInfo,
    /// The profile's data.
    pub profile_detail: Option<dfu::ProfileJson<'a>>,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
}

/// The result of a read: where, how much, and the request's file name.
#[derive(Serialize)]
pub struct ReadJson {
    /// `"ok"`.
    pub result: &'static str,
    /// The alt setting read.
    pub alt: u8,
    /// First address.
    #[serde(serialize_with = "dfu::json::hex32")]
    pub address: u32,
    /// Bytes read.
    pub length: u64,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
}

/// Serializes `v` to JSON (objects made of plain data always serialize).
pub fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|e| {
        format!("{{\"result\":\"error\",\"error\":{:?}}}", e.to_string()).into_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfu::{Code, Finding};
    use dfu_proto::TransportError;

    #[test]
    fn errors_carry_the_command_lines_exit_code_stable_code_and_help() {
        let refused =
            DfuError::Refused(Box::new(Finding::refusal(Code::Platform, "m", "build it")));
        let j = ErrorJson::of(&refused, Some(Vec::new()));
        assert_eq!((j.result, j.exit_code), ("error", 5));
        assert_eq!(j.code, Some("dfu::refused::platform"));
        assert!(j.help.ends_with("(--force writes it anyway)"), "{}", j.help);
        let gone = DfuError::usb(dfu::Op::Open, TransportError::Disconnected);
        let j = ErrorJson::of(&gone, None);
        assert_eq!((j.exit_code, j.code), (6, Some("dfu::device::usb")));
        assert!(j.help.contains("the device left the bus"), "{}", j.help);
        let v = serde_json::to_value(&j).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert!(v["written"].is_null());
    }
}
