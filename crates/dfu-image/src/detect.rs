//! Which format a file is in: content first, the file name only as a tie-breaker.
//!
//! Rules, in order:
//! 1. the file starts with `DfuSe` -> [`Format::DfuSe`];
//! 2. the file starts with `\x7fELF` -> [`Format::Elf`];
//! 3. the first non-blank line (after an optional UTF-8 BOM) is `:` followed by at
//!    least 10 hex digits and nothing else -> [`Format::IntelHex`];
//! 4. the first non-blank line is `S`, a digit, and at least 6 hex digits ->
//!    [`Format::SRecord`];
//! 5. no content rule matched, but the name's extension names a structured format
//!    (`.hex .ihex .ihx .h86 .hex32` -> Intel HEX; `.srec .s19 .s28 .s37 .mot .mhx
//!    .sx .s1 .s2 .s3` -> S-record; `.elf .axf .out` -> ELF) -> that format, so that a
//!    damaged `app.hex` is reported as a bad hex file instead of being flashed as raw
//!    bytes;
//! 6. otherwise a raw binary: [`Format::Suffixed`] if it ends with a DFU suffix
//!    whose CRC matches, else [`Format::Bin`]. (`.dfu` names both DfuSe and plain
//!    suffixed files, so it decides nothing.)
//!
//! Content always beats the name: an Intel HEX file called `fw.bin` is read as hex.

use crate::text::{is_hex_digits, lines};
use crate::{dfuse, elf, suffix, Format};

/// Detect the format of `bytes`, using `name_hint` (a file name or path) only
/// when the content is not recognisable.
pub fn detect(bytes: &[u8], name_hint: Option<&str>) -> Format {
    if let Some(f) = detect_content(bytes) {
        return f;
    }
    if let Some(f) = name_hint.and_then(format_from_name) {
        if f.has_addresses() && f != Format::DfuSe {
            return f;
        }
    }
    match suffix::read(bytes) {
        Some(Ok(s)) if s.crc_ok => Format::Suffixed,
        _ => Format::Bin,
    }
}

/// The format the content alone shows (rules 1-4), `None` for anything else.
pub fn detect_content(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(dfuse::SIGNATURE) {
        return Some(Format::DfuSe);
    }
    if bytes.starts_with(elf::MAGIC) {
        return Some(Format::Elf);
    }
    let (_, first) = lines(bytes).next()?;
    match first {
        [b':', rest @ ..] if rest.len() >= 10 && is_hex_digits(rest) => Some(Format::IntelHex),
        [b'S', d, rest @ ..] if d.is_ascii_digit() && rest.len() >= 6 && is_hex_digits(rest) => {
            Some(Format::SRecord)
        }
        _ => None,
    }
}

/// The format a file name's extension suggests (case-insensitive), if any.
/// `.dfu` gives [`Format::DfuSe`] although plain DFU files use it too.
pub fn format_from_name(name: &str) -> Option<Format> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (_, ext) = file.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    Some(match ext.as_str() {
        "bin" => Format::Bin,
        "dfu" => Format::DfuSe,
        "hex" | "ihex" | "ihx" | "h86" | "hex32" => Format::IntelHex,
        "srec" | "s19" | "s28" | "s37" | "mot" | "mhx" | "sx" | "s1" | "s2" | "s3" => {
            Format::SRecord
        }
        "elf" | "axf" | "out" => Format::Elf,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_wins() {
        assert_eq!(detect(b":00000001FF\n", Some("x.bin")), Format::IntelHex);
        assert_eq!(detect(b"S9030000FC\n", None), Format::SRecord);
        assert_eq!(detect(b"\x7fELF....", Some("a.hex")), Format::Elf);
        assert_eq!(detect(b"DfuSe\x01", None), Format::DfuSe);
        assert_eq!(detect(b"\x00\x50\x00\x20", Some("a.bin")), Format::Bin);
    }

    #[test]
    fn name_breaks_ties() {
        assert_eq!(detect(b"garbage", Some("dir.v2/app.HEX")), Format::IntelHex);
        assert_eq!(detect(b"garbage", Some("app.s19")), Format::SRecord);
        assert_eq!(detect(b"garbage", Some("app.dfu")), Format::Bin);
        assert_eq!(detect(b"garbage", Some("dir.hex/app")), Format::Bin);
        let suffixed = suffix::add(b"garbage", 1, 2, 3);
        assert_eq!(detect(&suffixed, Some("app.dfu")), Format::Suffixed);
    }
}
