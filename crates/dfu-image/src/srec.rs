//! Motorola S-records: `S<type><count><address><data><checksum>`.
//!
//! Types: S0 header; S1/S2/S3 data with 16/24/32-bit address; S5/S6 count of data
//! records so far (16/24-bit); S7/S8/S9 end with a 32/24/16-bit start address.
//! `count` is the number of bytes after it (address + data + checksum); the
//! checksum is the ones' complement of the low byte of the sum of count, address
//! and data bytes. A file must end with S7, S8 or S9.

use crate::segment::{check_range, SegmentBuilder};
use crate::text::flush_full;
use crate::text::{decode_hex_into, push_hex, LineReader, Parsed};
use crate::{Format, ImageError, Segment};
use std::io::{BufRead, Write};

const F: Format = Format::SRecord;

/// Address length in bytes for a record type, `None` for S4 and non-digits.
fn address_len(kind: u8) -> Option<usize> {
    match kind {
        b'0' | b'1' | b'5' | b'9' => Some(2),
        b'2' | b'6' | b'8' => Some(3),
        b'3' | b'7' => Some(4),
        _ => None,
    }
}

/// Parse S-record text.
#[cfg(test)]
pub(crate) fn parse(data: &[u8]) -> Result<Parsed, ImageError> {
    parse_reader(data, data.len() as u64)
}

/// Parse S-record text from a reader, line by line; `len` is the text's length (for
/// reserving memory).
pub(crate) fn parse_reader(reader: impl BufRead, len: u64) -> Result<Parsed, ImageError> {
    let mut lines = LineReader::new(reader, F);
    let mut state = State {
        builder: SegmentBuilder::for_text(len),
        entry: None,
        end_line: None,
        data_records: 0,
    };
    let mut last_line = 0;
    let mut bytes = Vec::with_capacity(300);
    while let Some((n, line)) = lines.next_line()? {
        last_line = n;
        if let Some(end) = state.end_line {
            return Err(ImageError::line(
                F,
                n,
                format!("data after the termination record of line {end} (two files joined?)"),
            ));
        }
        let record = decode_record(n, line, &mut bytes)?;
        state.apply(n, &record)?;
    }
    let State {
        builder,
        entry,
        end_line,
        ..
    } = state;
    Parsed::finish(F, end_line.is_some(), last_line, builder, entry)
}

/// One record whose type, length and checksum are right.
struct Record<'a> {
    /// The type digit (`b'0'` to `b'9'`, not `b'4'`).
    kind: u8,
    /// The 16-, 24- or 32-bit address field.
    address: u64,
    /// The data bytes.
    payload: &'a [u8],
}

/// Decodes line `n` (`S<type><count><address><data><checksum>`) into `bytes` and checks
/// its type, length and checksum.
fn decode_record<'a>(
    n: usize,
    line: &[u8],
    bytes: &'a mut Vec<u8>,
) -> Result<Record<'a>, ImageError> {
    let [b'S', kind, rest @ ..] = line else {
        return Err(ImageError::line(
            F,
            n,
            "record does not start with 'S' and a type digit",
        ));
    };
    let kind = *kind;
    let Some(alen) = address_len(kind) else {
        return Err(ImageError::line(
            F,
            n,
            format!("unknown record type S{}", char::from(kind)),
        ));
    };
    decode_hex_into(F, n, 3, rest, bytes)?;
    let Some((&count, after)) = bytes.split_first() else {
        return Err(ImageError::line(F, n, "record has no byte count"));
    };
    if after.len() != usize::from(count) {
        return Err(ImageError::line(
            F,
            n,
            format!(
                "record says {count} bytes follow the count but {} do",
                after.len()
            ),
        ));
    }
    if after.len() < alen + 1 {
        return Err(ImageError::line(
            F,
            n,
            format!(
                "S{} record needs at least {} bytes after the count",
                char::from(kind),
                alen + 1
            ),
        ));
    }
    let (body, stored) = bytes.split_at(bytes.len() - 1);
    let computed = !body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    if computed != stored[0] {
        return Err(ImageError::Checksum {
            format: F,
            line: n,
            stored: stored[0],
            computed,
        });
    }
    let after = &body[1..];
    Ok(Record {
        kind,
        address: after[..alen]
            .iter()
            .fold(0u64, |a, b| a << 8 | u64::from(*b)),
        payload: &after[alen..],
    })
}

/// What the records read so far have set.
struct State {
    /// The data, by address.
    builder: SegmentBuilder,
    /// The start address of the termination record.
    entry: Option<u32>,
    /// The line of the termination record.
    end_line: Option<usize>,
    /// S1/S2/S3 records so far (what an S5/S6 record must count).
    data_records: u64,
}

impl State {
    /// Takes the record of line `n`: a header, data, a count or the termination.
    fn apply(&mut self, n: usize, record: &Record<'_>) -> Result<(), ImageError> {
        let (address, payload) = (record.address, record.payload);
        match record.kind {
            b'0' => {}
            b'1'..=b'3' => {
                let at = check_range(F, address, payload.len() as u64, Some(n))?;
                self.builder.push(F, n, at, payload)?;
                self.data_records += 1;
            }
            b'5' | b'6' => {
                if !payload.is_empty() {
                    return Err(ImageError::line(F, n, "count record must not carry data"));
                }
                if address != self.data_records {
                    return Err(ImageError::line(
                        F,
                        n,
                        format!(
                            "count record says {address} data records, the file has {} before it",
                            self.data_records
                        ),
                    ));
                }
            }
            _ => {
                // S7, S8, S9: termination with start address.
                if !payload.is_empty() {
                    return Err(ImageError::line(
                        F,
                        n,
                        "termination record must not carry data",
                    ));
                }
                self.entry = Some(address as u32);
                self.end_line = Some(n);
            }
        }
        Ok(())
    }
}

fn record(out: &mut String, kind: u8, alen: usize, address: u64, data: &[u8]) {
    let mut bytes = Vec::with_capacity(data.len() + alen + 2);
    bytes.push((alen + data.len() + 1) as u8);
    bytes.extend_from_slice(&address.to_be_bytes()[8 - alen..]);
    bytes.extend_from_slice(data);
    bytes.push(!bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)));
    out.push('S');
    out.push(char::from(kind));
    for b in bytes {
        push_hex(out, b);
    }
    out.push('\n');
}

/// Write segments as S-records: an S0 header "dfu-image", data records of 16
/// bytes using the narrowest address width that holds every address (S1, S2 or
/// S3), an S5/S6 count record, and the matching termination record (S9, S8 or S7)
/// carrying `entry` (or 0).
pub(crate) fn write(segments: &[Segment], entry: Option<u32>) -> String {
    let mut out = Vec::new();
    write_to(segments, entry, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// [`write`] into `w` record by record, never holding the whole text.
pub(crate) fn write_to(
    segments: &[Segment],
    entry: Option<u32>,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let max_end = segments.iter().map(Segment::end).max().unwrap_or(0);
    let max_addr = max_end.max(u64::from(entry.unwrap_or(0)) + 1);
    let (data_kind, end_kind, alen) = if max_addr <= 1 << 16 {
        (b'1', b'9', 2)
    } else if max_addr <= 1 << 24 {
        (b'2', b'8', 3)
    } else {
        (b'3', b'7', 4)
    };
    let mut out = String::with_capacity(64 * 1024);
    record(&mut out, b'0', 2, 0, b"dfu-image");
    let mut count: u64 = 0;
    for seg in segments {
        let mut addr = u64::from(seg.address);
        for chunk in seg.data.chunks(16) {
            record(&mut out, data_kind, alen, addr, chunk);
            addr += chunk.len() as u64;
            count += 1;
            flush_full(&mut out, w)?;
        }
    }
    if count <= 0xFFFF {
        record(&mut out, b'5', 2, count, &[]);
    } else if count <= 0xFF_FFFF {
        record(&mut out, b'6', 3, count, &[]);
    }
    record(&mut out, end_kind, alen, u64::from(entry.unwrap_or(0)), &[]);
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_picks_width() {
        for (addr, kind) in [(0x100u32, "S1"), (0x12_3456, "S2"), (0x0800_0000, "S3")] {
            let segs = [Segment::new(addr, (0u8..40).collect::<Vec<_>>())];
            let text = write(&segs, None);
            assert!(text.lines().nth(1).unwrap().starts_with(kind), "{text}");
            assert_eq!(parse(text.as_bytes()).unwrap().segments, segs);
        }
    }

    #[test]
    fn count_mismatch_is_an_error() {
        let text = "S1050000AABB95\nS5030002FA\nS9030000FC\n";
        let err = parse(text.as_bytes()).unwrap_err();
        assert!(matches!(err, ImageError::Line { line: 2, .. }), "{err}");
    }
}
