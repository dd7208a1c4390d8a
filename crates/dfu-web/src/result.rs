//! What the page shows, in the shapes `dfu` prints with `--json` (docs/json.md): the result
//! of `dfu flash --json`, the error object of any command, the events. The command line's
//! JSON structs live in dfu-cli; these mirror the keys the page needs, and the help lines
//! come from the command line's own help module, so codes and help agree with the CLI.

use dfu::{DfuError, ErrorKind, FlashPlan, FlashReport};
use dfu_proto::num::Addr;
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

/// The command line's exit code for a library error kind (crates/dfu-cli/src/exit.rs).
fn exit_code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Usage => 2,
        ErrorKind::Input => 3,
        ErrorKind::NoDevice => 4,
        ErrorKind::Refused => 5,
        ErrorKind::Device => 6,
        ErrorKind::Verify => 7,
        ErrorKind::Interrupted => 130,
    }
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
            exit_code: exit_code(e.kind()),
            code: Some(e.code().as_str()),
            error,
            help: crate::cli_help::for_error(e),
            written,
            schema_version: SCHEMA_VERSION,
        }
    }
}

/// Adjacent ranges joined.
fn merge(ranges: impl Iterator<Item = (u32, u64)>) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::new();
    for (s, n) in ranges {
        match out.last_mut() {
            Some((ls, ln)) if u64::from(*ls) + *ln == u64::from(s) => *ln += n,
            _ => out.push((s, n)),
        }
    }
    out
}

fn range(start: u32, len: u64) -> String {
    format!(
        "0x{start:08x}-0x{:08x} ({len} bytes)",
        u64::from(start) + len.max(1) - 1
    )
}

/// What a failed flash had erased and written, as the command line's `written` lines.
pub fn written_lines(r: &FlashReport) -> Vec<String> {
    let erased = r.erased.iter().map(|(s, n)| (*s, u64::from(*n)));
    let mut v: Vec<String> = merge(erased)
        .into_iter()
        .map(|(s, n)| format!("erased {}", range(s, n)))
        .collect();
    v.extend(
        merge(r.written.iter().copied())
            .into_iter()
            .map(|(s, n)| format!("wrote {}", range(s, n))),
    );
    v
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
    pub profile_detail: Option<ProfileJson<'a>>,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
}

/// A profile as `dfu info --json` shows it.
#[derive(Serialize)]
pub struct ProfileJson<'a> {
    name: &'a str,
    title: &'a str,
    app_address: Option<Addr>,
    quirks: &'a [dfu_profiles::Quirk],
    regions: Vec<RegionJson<'a>>,
    sources: &'a [String],
}

#[derive(Serialize)]
struct RegionJson<'a> {
    name: &'a str,
    role: dfu_profiles::Role,
    alt: u8,
    start: Addr,
    size: u32,
}

/// The JSON of a profile.
pub fn profile_json(p: &dfu_profiles::Profile) -> ProfileJson<'_> {
    ProfileJson {
        name: &p.name,
        title: &p.title,
        app_address: p.app_address.map(Addr),
        quirks: &p.quirks,
        regions: p
            .regions
            .iter()
            .map(|r| RegionJson {
                name: &r.name,
                role: r.role,
                alt: r.alt,
                start: Addr(r.start),
                size: r.size,
            })
            .collect(),
        sources: &p.sources,
    }
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
    fn written_lines_join_adjacent_runs_as_the_command_line_prints_them() {
        let report = FlashReport {
            erased: vec![(0x0800_0000, 0x4000), (0x0800_4000, 0x4000)],
            written: vec![(0x0800_0000, 0x4000), (0x0800_4000, 100), (0x0801_0000, 1)],
            ..FlashReport::default()
        };
        assert_eq!(
            written_lines(&report),
            [
                "erased 0x08000000-0x08007fff (32768 bytes)",
                "wrote 0x08000000-0x08004063 (16484 bytes)",
                "wrote 0x08010000-0x08010000 (1 bytes)",
            ]
        );
    }

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
