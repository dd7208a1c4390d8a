//! One address format in JSON: addresses are lower-case hex strings (`"0x08000000"`), sizes
//! are numbers, and a range is `{"address": "0x...", "length": N}`.

use dfu_proto::Sector;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

/// A 32-bit address as `"0x08000000"`.
pub fn hex32<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("0x{v:08x}"))
}

/// An optional address, as [`hex32`] or `null`.
pub fn hex32_opt<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => hex32(v, s),
        None => s.serialize_none(),
    }
}

/// A range of memory in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Range {
    /// First address.
    #[serde(serialize_with = "hex32")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Addr"))]
    pub address: u32,
    /// Bytes.
    pub length: u64,
}

/// Sectors as ranges.
pub fn sectors<S: Serializer>(v: &[Sector], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&Range {
            address: x.start,
            length: u64::from(x.size),
        })?;
    }
    seq.end()
}

/// (start, length) pairs as ranges.
pub fn ranges<S: Serializer, N: Copy + Into<u64>>(v: &[(u32, N)], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for (a, n) in v {
        seq.serialize_element(&Range {
            address: *a,
            length: (*n).into(),
        })?;
    }
    seq.end()
}

/// Notes in JSON, flattened into the object that holds them: `notes` (the lines) and
/// `note_codes` (the code of each line, in the same order).
pub fn notes<S: Serializer>(v: &[crate::Note], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(2))?;
    m.serialize_entry("notes", &v.iter().map(|n| &n.message).collect::<Vec<_>>())?;
    m.serialize_entry("note_codes", &v.iter().map(|n| n.code).collect::<Vec<_>>())?;
    m.end()
}

/// The JSON shape [`notes`] writes.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[allow(dead_code, reason = "describes the JSON only")]
pub struct Notes {
    /// Notes for the user, one line each.
    notes: Vec<String>,
    /// The stable code of each note, in the same order.
    note_codes: Vec<crate::Code>,
}
