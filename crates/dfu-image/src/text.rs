//! Shared pieces of the text formats (Intel HEX, S-record).

use crate::segment::SegmentBuilder;
use crate::{Format, ImageError, Segment};

/// What a text or ELF parser found.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) segments: Vec<Segment>,
    pub(crate) entry: Option<u32>,
}

impl Parsed {
    /// The end of a text parse: a file whose end record never came is cut short
    /// (`last_line` is its last non-blank line); otherwise the segments built so far.
    pub(crate) fn finish(
        format: Format,
        end_seen: bool,
        last_line: usize,
        builder: SegmentBuilder,
        entry: Option<u32>,
    ) -> Result<Parsed, ImageError> {
        if !end_seen {
            return Err(ImageError::MissingEnd {
                format,
                lines: last_line,
            });
        }
        Ok(Parsed {
            segments: builder.finish()?,
            entry,
        })
    }
}

/// Non-blank lines with their 1-based numbers, trimmed of whitespace (so CR LF
/// and trailing blanks are fine); a UTF-8 byte order mark at the start is skipped.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_ascii()))
        .filter(|(_, l)| !l.is_empty())
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decode pairs of hex digits; `column0` is the 1-based column of `hex[0]` for messages.
pub(crate) fn decode_hex(
    format: Format,
    line: usize,
    column0: usize,
    hex: &[u8],
) -> Result<Vec<u8>, ImageError> {
    if hex.len() % 2 != 0 {
        return Err(ImageError::line(
            format,
            line,
            format!("odd number of hex digits ({})", hex.len()),
        ));
    }
    let mut out = Vec::with_capacity(hex.len() / 2);
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => {
                let bad = if nibble(pair[0]).is_none() { 0 } else { 1 };
                return Err(ImageError::line(
                    format,
                    line,
                    format!(
                        "{:?} at column {} is not a hex digit",
                        char::from(pair[bad]),
                        column0 + 2 * i + bad
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Decode the hex digits after the one-character record mark.
pub(crate) fn decode_hex_line(
    format: Format,
    line: usize,
    hex: &[u8],
) -> Result<Vec<u8>, ImageError> {
    decode_hex(format, line, 2, hex)
}

/// Append `b` as two upper-case hex digits.
pub(crate) fn push_hex(out: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.push(char::from(DIGITS[usize::from(b >> 4)]));
    out.push(char::from(DIGITS[usize::from(b & 15)]));
}

/// Whether `line` is a record mark followed only by hex digits (for detection).
pub(crate) fn is_hex_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|c| nibble(*c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blank_and_bom() {
        let v: Vec<_> = lines(b"\xEF\xBB\xBFa\r\n\n  b \r\n").collect();
        assert_eq!(v, vec![(1, &b"a"[..]), (3, &b"b"[..])]);
    }

    #[test]
    fn bad_digit_reports_column() {
        let e = decode_hex(Format::IntelHex, 7, 2, b"00zz").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Intel HEX line 7: 'z' at column 4 is not a hex digit"
        );
    }
}
