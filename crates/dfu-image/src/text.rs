//! Shared pieces of the text formats (Intel HEX, S-record).

use crate::segment::SegmentBuilder;
use crate::{Format, ImageError, Segment};
use std::io::{BufRead, Read};

/// The longest line the text parsers accept, blanks included. The longest record of
/// either format is about 520 characters (255 data bytes as hex); this leaves room for
/// padding while a file without line breaks (a binary read as text) is refused at once.
pub(crate) const MAX_LINE: usize = 4096;

/// Non-blank lines of a reader, read one at a time into one buffer: the whole text is
/// never held. Lines are trimmed of whitespace (CR LF and trailing blanks are fine); a
/// UTF-8 byte order mark at the start is skipped.
pub(crate) struct LineReader<R> {
    reader: R,
    format: Format,
    buf: Vec<u8>,
    number: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `reader`, a file of `format` (for messages).
    pub(crate) fn new(reader: R, format: Format) -> Self {
        LineReader {
            reader,
            format,
            buf: Vec::with_capacity(MAX_LINE + 1),
            number: 0,
        }
    }

    /// The next non-blank line and its 1-based number; `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, &[u8])>, ImageError> {
        loop {
            self.buf.clear();
            self.number += 1;
            let limit = (MAX_LINE + 1) as u64;
            let n = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| ImageError::Read {
                    line: Some(self.number),
                    message: e.to_string(),
                })?;
            if n == 0 {
                return Ok(None);
            }
            if self.buf.len() > MAX_LINE {
                return Err(ImageError::LineTooLong {
                    format: self.format,
                    line: self.number,
                    limit: MAX_LINE,
                });
            }
            let mut line = self.buf.trim_ascii();
            if self.number == 1 {
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            if !line.is_empty() {
                let (start, len) = (
                    line.as_ptr() as usize - self.buf.as_ptr() as usize,
                    line.len(),
                );
                return Ok(Some((self.number, &self.buf[start..start + len])));
            }
        }
    }
}

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
            segments: builder.finish(),
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

/// The value of each ASCII hex digit; 0xFF for every other byte.
const NIBBLE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

fn nibble(c: u8) -> Option<u8> {
    Some(NIBBLE[usize::from(c)]).filter(|v| *v != 0xFF)
}

/// Decode pairs of hex digits into `out` (cleared first); `column0` is the 1-based column
/// of `hex[0]` for messages.
pub(crate) fn decode_hex_into(
    format: Format,
    line: usize,
    column0: usize,
    hex: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ImageError> {
    out.clear();
    if hex.len() % 2 != 0 {
        return Err(ImageError::line(
            format,
            line,
            format!("odd number of hex digits ({})", hex.len()),
        ));
    }
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let (h, l) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
        if h > 15 || l > 15 {
            let bad = usize::from(h <= 15);
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
        out.push(h << 4 | l);
    }
    Ok(())
}

/// Decode pairs of hex digits; `column0` is the 1-based column of `hex[0]` for messages.
#[cfg(test)]
pub(crate) fn decode_hex(
    format: Format,
    line: usize,
    column0: usize,
    hex: &[u8],
) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    decode_hex_into(format, line, column0, hex, &mut out)?;
    Ok(out)
}

/// Writes `out` to `w` and empties it once it holds 60 KiB or more (text writers fill a
/// buffer record by record and hand it over in pieces).
pub(crate) fn flush_full(out: &mut String, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    if out.len() >= 60 * 1024 {
        w.write_all(out.as_bytes())?;
        out.clear();
    }
    Ok(())
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
        let mut r = LineReader::new(&b"\xEF\xBB\xBFa\r\n\n  b \r\nc"[..], Format::IntelHex);
        let mut got = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            got.push((n, l.to_vec()));
        }
        assert_eq!(
            got,
            vec![(1, b"a".to_vec()), (3, b"b".to_vec()), (4, b"c".to_vec())]
        );
    }

    #[test]
    fn a_line_without_end_is_refused_after_the_limit() {
        let long = vec![b'0'; MAX_LINE * 3];
        let mut r = LineReader::new(&long[..], Format::SRecord);
        let e = r.next_line().unwrap_err();
        assert!(matches!(e, ImageError::LineTooLong { line: 1, .. }), "{e}");
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
