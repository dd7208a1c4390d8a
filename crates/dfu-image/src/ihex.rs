//! Intel HEX: `:LLAAAATT<data>CC` records.
//!
//! Record types: 00 data, 01 end of file, 02 extended segment address (base =
//! value * 16), 03 start segment address (CS:IP), 04 extended linear address
//! (base = value << 16), 05 start linear address. The checksum is the two's
//! complement of the sum of all other bytes of the record.
//!
//! Data is taken at `base + offset` linearly: a record that runs past a 64 KiB
//! boundary continues at the next address (what objcopy and srec_cat do), and
//! data past 4 GiB is an error rather than wrapping around.

use crate::segment::{check_range, SegmentBuilder};
use crate::text::flush_full;
use crate::text::{decode_hex_into, push_hex, LineReader, Parsed};
use crate::{Format, ImageError, Segment};
use std::io::{BufRead, Write};

const F: Format = Format::IntelHex;

/// Parse Intel HEX text.
#[cfg(test)]
pub(crate) fn parse(data: &[u8]) -> Result<Parsed, ImageError> {
    parse_reader(data, data.len() as u64)
}

/// Parse Intel HEX text from a reader, line by line; `len` is the text's length (for
/// reserving memory).
pub(crate) fn parse_reader(reader: impl BufRead, len: u64) -> Result<Parsed, ImageError> {
    let mut lines = LineReader::new(reader, F);
    let mut state = State {
        builder: SegmentBuilder::for_text(len),
        base: 0,
        entry: None,
        eof_line: None,
    };
    let mut last_line = 0;
    let mut bytes = Vec::with_capacity(300);
    while let Some((n, line)) = lines.next_line()? {
        last_line = n;
        if let Some(eof) = state.eof_line {
            return Err(ImageError::line(
                F,
                n,
                format!("data after the end-of-file record of line {eof} (two files joined?)"),
            ));
        }
        let record = decode_record(n, line, &mut bytes)?;
        state.apply(n, &record)?;
    }
    let State {
        builder,
        entry,
        eof_line,
        ..
    } = state;
    Parsed::finish(F, eof_line.is_some(), last_line, builder, entry)
}

/// One record whose length and checksum are right.
struct Record<'a> {
    /// The record type (00 to 05 are known).
    kind: u8,
    /// The 16-bit address field.
    offset: u64,
    /// The data bytes.
    payload: &'a [u8],
}

/// Decodes line `n` (`:LLAAAATT<data>CC`) into `bytes` and checks its length and checksum.
fn decode_record<'a>(
    n: usize,
    line: &[u8],
    bytes: &'a mut Vec<u8>,
) -> Result<Record<'a>, ImageError> {
    let Some(rest) = line.strip_prefix(b":") else {
        return Err(ImageError::line(F, n, "record does not start with ':'"));
    };
    decode_hex_into(F, n, 2, rest, bytes)?;
    if bytes.len() < 5 {
        return Err(ImageError::line(F, n, "record is shorter than 5 bytes"));
    }
    let count = usize::from(bytes[0]);
    if bytes.len() != count + 5 {
        return Err(ImageError::line(
            F,
            n,
            format!("record says {count} data bytes but has {}", bytes.len() - 5),
        ));
    }
    let (body, stored) = bytes.split_at(bytes.len() - 1);
    let computed = checksum(body);
    if computed != stored[0] {
        return Err(ImageError::Checksum {
            format: F,
            line: n,
            stored: stored[0],
            computed,
        });
    }
    Ok(Record {
        kind: body[3],
        offset: u64::from(u16::from_be_bytes([body[1], body[2]])),
        payload: &body[4..],
    })
}

/// What the records read so far have set.
struct State {
    /// The data, by address.
    builder: SegmentBuilder,
    /// The address base of an 02 or 04 record.
    base: u64,
    /// The start address of an 03 or 05 record.
    entry: Option<u32>,
    /// The line of the end-of-file record.
    eof_line: Option<usize>,
}

impl State {
    /// Takes the record of line `n`: data, end of file, an address base or a start address.
    fn apply(&mut self, n: usize, record: &Record<'_>) -> Result<(), ImageError> {
        let payload = record.payload;
        let expect_len = |len: usize, what: &str| {
            if payload.len() == len {
                Ok(())
            } else {
                Err(ImageError::line(
                    F,
                    n,
                    format!(
                        "{what} record must have {len} data bytes, has {}",
                        payload.len()
                    ),
                ))
            }
        };
        let u16_at = |i: usize| u16::from_be_bytes([payload[i], payload[i + 1]]);
        match record.kind {
            0x00 => {
                let at = self.base + record.offset;
                let address = check_range(F, at, payload.len() as u64, Some(n))?;
                self.builder.push(F, n, address, payload)?;
            }
            0x01 => {
                expect_len(0, "end-of-file")?;
                self.eof_line = Some(n);
            }
            0x02 => {
                expect_len(2, "extended segment address")?;
                self.base = u64::from(u16_at(0)) << 4;
            }
            0x03 => {
                expect_len(4, "start segment address")?;
                self.entry = Some((u32::from(u16_at(0)) << 4) + u32::from(u16_at(2)));
            }
            0x04 => {
                expect_len(2, "extended linear address")?;
                self.base = u64::from(u16_at(0)) << 16;
            }
            0x05 => {
                expect_len(4, "start linear address")?;
                self.entry = Some((u32::from(u16_at(0)) << 16) | u32::from(u16_at(2)));
            }
            t => {
                return Err(ImageError::line(
                    F,
                    n,
                    format!("unknown record type {t:02X}"),
                ))
            }
        }
        Ok(())
    }
}

/// Two's complement of the byte sum.
fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg()
}

fn record(out: &mut String, kind: u8, offset: u16, data: &[u8]) {
    let mut bytes = Vec::with_capacity(data.len() + 5);
    bytes.push(data.len() as u8);
    bytes.extend_from_slice(&offset.to_be_bytes());
    bytes.push(kind);
    bytes.extend_from_slice(data);
    bytes.push(checksum(&bytes));
    out.push(':');
    for b in bytes {
        push_hex(out, b);
    }
    out.push('\n');
}

/// Write segments as Intel HEX: 16 data bytes per record, an extended linear
/// address record (04) whenever the upper 16 address bits change, no record
/// crossing a 64 KiB boundary, a start linear address (05) if `entry` is given,
/// then the end-of-file record.
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
    let mut out = String::with_capacity(64 * 1024);
    let mut upper: u64 = 0;
    for seg in segments {
        let mut addr = u64::from(seg.address);
        let mut rest = seg.data.as_slice();
        while !rest.is_empty() {
            if addr >> 16 != upper {
                upper = addr >> 16;
                record(&mut out, 0x04, 0, &(upper as u16).to_be_bytes());
            }
            let room = 0x1_0000 - (addr & 0xFFFF);
            let n = rest.len().min(16).min(room as usize);
            let (chunk, tail) = rest.split_at(n);
            record(&mut out, 0x00, (addr & 0xFFFF) as u16, chunk);
            addr += n as u64;
            rest = tail;
            flush_full(&mut out, w)?;
        }
    }
    if let Some(e) = entry {
        record(&mut out, 0x05, 0, &e.to_be_bytes());
    }
    out.push_str(":00000001FF\n");
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_linear_address_records() {
        let segs = [Segment::new(0x0800_FFF8, (0u8..20).collect::<Vec<_>>())];
        let text = write(&segs, Some(0x0800_0101));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], ":020000040800F2");
        assert!(lines[1].starts_with(":08FFF800"));
        assert_eq!(lines[2], ":020000040801F1");
        assert!(lines[3].starts_with(":0C000000"));
        assert_eq!(lines[4], ":0400000508000101ED");
        assert_eq!(lines[5], ":00000001FF");
        let back = parse(text.as_bytes()).unwrap();
        assert_eq!(back.segments, segs);
        assert_eq!(back.entry, Some(0x0800_0101));
    }

    #[test]
    fn data_past_4gib_is_refused() {
        let text = ":02000004FFFFFC\n:10FFF800000102030405060708090A0B0C0D0E0F81\n:00000001FF\n";
        let err = parse(text.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ImageError::AddressOverflow { line: Some(2), .. }),
            "{err}"
        );
    }
}
