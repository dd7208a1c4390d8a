//! Numbers as users type them, and as JSON shows them: one parser and one rule for every
//! front end.
//!
//! The rule:
//! - `0x` or `0X` starts a hex number; anything else is decimal;
//! - a decimal number of more than one digit does not start with `0` (`08000000` is an
//!   error that suggests `0x08000000`, instead of silently meaning 8 000 000);
//! - `_` may separate digits (`0x0800_0000`);
//! - lengths take a `K`, `M` or `G` suffix (powers of 1024) and go up to 4 GiB;
//! - USB ids (`VID:PID`, `--vid`) are hex without a prefix, as `lsusb` prints them, with an
//!   optional `0x`.
//!
//! In JSON, addresses are lower-case strings of 8 hex digits (`"0x08000000"`) and sizes are
//! decimal numbers: use the [`Addr`] newtype.

use serde::{Serialize, Serializer};
use std::fmt;

/// The largest length a 32-bit address space holds (4 GiB).
pub const MAX_LEN: u64 = 1 << 32;

/// A number that does not follow the rule; the message says what would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NumError(pub String);

/// Why a text is not a number by the rule.
enum Bad {
    /// Not digits at all.
    NotNumber,
    /// Decimal digits with a leading zero: the error says how to write it.
    LeadingZero(NumError),
}

/// Parses a number by the rule (hex with `0x`, else decimal without a leading zero, `_`
/// allowed) into a `u64`.
pub fn parse_u64(text: &str) -> Result<u64, NumError> {
    digits(text).map_err(|b| explain(b, text, "a number (use 0x08000000 or 134217728)"))
}

fn digits(text: &str) -> Result<u64, Bad> {
    let t = text.trim().replace('_', "");
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Bad::NotNumber);
        }
        return u64::from_str_radix(hex, 16).map_err(|_| Bad::NotNumber);
    }
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(Bad::NotNumber);
    }
    if t.len() > 1 && t.starts_with('0') {
        return Err(Bad::LeadingZero(NumError(format!(
            "{text:?} starts with 0 but has no 0x: write 0x{t} for hex, or {} for decimal",
            t.trim_start_matches('0')
        ))));
    }
    t.parse().map_err(|_| Bad::NotNumber)
}

/// The error for `text`, which is not `what`.
fn explain(b: Bad, text: &str, what: &str) -> NumError {
    match b {
        Bad::NotNumber => NumError(format!("{text:?} is not {what}")),
        Bad::LeadingZero(e) => e,
    }
}

/// Parses a 32-bit number (an address): `0x08000000`, `0x0800_0000`, `134217728`.
pub fn parse_u32(text: &str) -> Result<u32, NumError> {
    let n = digits(text).map_err(|b| explain(b, text, "a 32-bit number"))?;
    u32::try_from(n).map_err(|_| {
        NumError(format!(
            "{text:?} is not a 32-bit number: it is larger than 0xffffffff"
        ))
    })
}

/// Parses a length: `4096`, `0x1000`, `128K`, `1M`, `4G`; at least 1 byte, at most 4 GiB.
pub fn parse_len(text: &str) -> Result<u64, NumError> {
    let t = text.trim();
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n =
        digits(num).map_err(|b| explain(b, text, "a length (use 4096, 0x1000, 128K, 1M or 4G)"))?;
    let n = n
        .checked_mul(mult)
        .filter(|n| *n <= MAX_LEN)
        .ok_or_else(|| NumError(format!("{text:?} is larger than the 4 GiB address space")))?;
    if n == 0 {
        return Err(NumError("the length must be at least 1 byte".into()));
    }
    Ok(n)
}

/// Parses a USB id (vendor, product, bcdDevice): hex, with or without `0x` (`0483`,
/// `0x0483`, `DF11`).
pub fn parse_usb_id(text: &str) -> Result<u16, NumError> {
    let t = text.trim();
    let digits = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(NumError(format!(
            "{text:?} is not a 16-bit hex number (USB ids are hex, e.g. 0483 or 0x0483)"
        )));
    }
    u16::from_str_radix(digits, 16).map_err(|_| NumError(format!("{text:?} is not a USB id")))
}

/// An alt setting as typed: `Some(n)` when the text is a number by the rule (`1`, `0x1`),
/// `None` when it is to be matched as a name. A number above 255 is an error.
pub fn parse_alt(text: &str) -> Result<Option<u8>, NumError> {
    match parse_u64(text) {
        Ok(n) => u8::try_from(n).map(Some).map_err(|_| {
            NumError(format!(
                "alt setting {text:?} is out of range (alt settings are 0-255)"
            ))
        }),
        Err(_) => Ok(None),
    }
}

/// An address as JSON and text show it: `0x08000000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub u32);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `#[serde(serialize_with = "dfu_proto::num::serialize_hex16")]`: a USB id or BCD value
/// as `"0x0483"`.
pub fn serialize_hex16<S: Serializer>(v: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("0x{v:04x}"))
}

/// JSON Schemas of the hex strings above, for `#[schemars(with = ...)]` (feature `schema`).
#[cfg(feature = "schema")]
mod schema {
    use super::Addr;
    use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
    use std::borrow::Cow;

    impl JsonSchema for Addr {
        fn schema_name() -> Cow<'static, str> {
            "Addr".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": "^0x[0-9a-f]{8}$",
                "description": "A 32-bit address: 8 lower-case hex digits, `\"0x08000000\"`."
            })
        }
    }

    /// The schema of [`serialize_hex16`](super::serialize_hex16)'s output: `"0x0483"`.
    pub struct Hex16;

    impl JsonSchema for Hex16 {
        fn schema_name() -> Cow<'static, str> {
            "Hex16".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": "^0x[0-9a-f]{4}$",
                "description": "A USB id or other 16-bit value: 4 lower-case hex digits, `\"0x0483\"`."
            })
        }
    }
}
#[cfg(feature = "schema")]
pub use schema::Hex16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        assert_eq!(parse_u32("0x08000000"), Ok(0x0800_0000));
        assert_eq!(parse_u32("0X0800_5000"), Ok(0x0800_5000));
        assert_eq!(parse_u32("134217728"), Ok(0x0800_0000));
        assert_eq!(parse_u32("0"), Ok(0));
        let e = parse_u32("08000000").unwrap_err().0;
        assert!(e.contains("0x08000000"), "{e}");
        assert!(parse_u32("0x1_0000_0000").unwrap_err().0.contains("32-bit"));
        assert!(parse_u32("zz")
            .unwrap_err()
            .0
            .contains("not a 32-bit number"));
        assert!(parse_u32("+5").is_err());
        assert!(parse_u32("0x").is_err());
        assert!(parse_u32("").is_err());
    }

    #[test]
    fn lengths() {
        assert_eq!(parse_len("128K"), Ok(128 << 10));
        assert_eq!(parse_len("1M"), Ok(1 << 20));
        assert_eq!(parse_len("4G"), Ok(MAX_LEN));
        assert_eq!(parse_len("0x100000000"), Ok(MAX_LEN));
        assert_eq!(parse_len("4194304K"), Ok(MAX_LEN));
        assert!(parse_len("4194305K").unwrap_err().0.contains("4 GiB"));
        assert!(parse_len("5G").is_err());
        assert!(parse_len("0x100000001").is_err());
        assert!(parse_len("0").unwrap_err().0.contains("at least 1 byte"));
        assert!(parse_len("012K").unwrap_err().0.contains("0x012"));
        assert!(parse_len("lots").unwrap_err().0.contains("not a length"));
    }

    #[test]
    fn usb_ids_and_alts() {
        assert_eq!(parse_usb_id("2B04"), Ok(0x2b04));
        assert_eq!(parse_usb_id("0x0483"), Ok(0x0483));
        assert_eq!(parse_usb_id("0483"), Ok(0x0483));
        assert!(parse_usb_id("12345").is_err());
        assert!(parse_usb_id("").is_err());
        assert_eq!(parse_alt("1"), Ok(Some(1)));
        assert_eq!(parse_alt("0x1"), Ok(Some(1)));
        assert_eq!(parse_alt("Flash"), Ok(None));
        assert_eq!(parse_alt("01"), Ok(None));
        assert!(parse_alt("300").is_err());
    }

    #[test]
    fn addresses_show_as_eight_hex_digits() {
        assert_eq!(Addr(0x0800_C000).to_string(), "0x0800c000");
        assert_eq!(Addr(0).to_string(), "0x00000000");
    }
}
