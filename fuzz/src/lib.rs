//! What every format-forced fuzz target checks.

use dfu_image::{suffix, Format, Image, ParseOptions};

/// Parses `data` as `format` (no detection; the first byte decides whether a bad suffix CRC
/// is tolerated) and checks the invariants every parsed image keeps: the format it was asked
/// for, segments sorted, disjoint, non-empty and inside the 4 GiB address space.
pub fn parse_forced(data: &[u8], format: Format) {
    let options = ParseOptions {
        format: Some(format),
        accept_bad_suffix_crc: data.first() == Some(&0),
    };
    if let Ok(image) = Image::parse_with(data, None, &options) {
        assert_eq!(image.format, format);
        for pair in image.segments.windows(2) {
            assert!(
                pair[0].end() <= u64::from(pair[1].address),
                "segments sorted and disjoint"
            );
        }
        assert!(image
            .segments
            .iter()
            .all(|s| !s.data.is_empty() && s.end() <= 1 << 32));
    }
}

/// Whether `data` ends with something that looks like a DFU suffix (the `UFD` signature).
fn has_suffix_signature(data: &[u8]) -> bool {
    data.len() >= suffix::LEN && data[data.len() - 8..data.len() - 5] == suffix::SIGNATURE
}

/// Rewrites the CRC of a DFU suffix at the end of `data` (if it has the signature) so that
/// mutations of the rest reach the parser behind the CRC check. Returns whether it did.
pub fn fix_suffix_crc(data: &mut [u8]) -> bool {
    if !has_suffix_signature(data) {
        return false;
    }
    let n = data.len();
    let crc = suffix::crc(&data[..n - 4]);
    data[n - 4..].copy_from_slice(&crc.to_le_bytes());
    true
}

/// `data` with a DfuSe suffix whose CRC matches: the one it has, fixed, or a new one.
pub fn with_good_suffix(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    if fix_suffix_crc(&mut out) {
        return out;
    }
    suffix::add_with_spec(data, 0x0483, 0xdf11, 0xffff, suffix::BCD_DFUSE)
}

/// Rewrites the checksum of every line of Intel HEX (`:` records) or S-record (`S` + type)
/// text that is otherwise made of hex digit pairs, so that mutations of a record's fields
/// reach the parser instead of stopping at the checksum. Other lines are left alone.
pub fn fix_line_checksums(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        let start = out.len();
        out.extend_from_slice(line);
        let body = &mut out[start..];
        let end = body.len() - body.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        let (skip, ihex) = match body {
            [b':', ..] => (1, true),
            [b'S', d, ..] if d.is_ascii_digit() => (2, false),
            _ => continue,
        };
        if end < skip + 4 || (end - skip) % 2 != 0 {
            continue;
        }
        let hex = &body[skip..end];
        let Some(bytes) = hex
            .chunks_exact(2)
            .map(|p| std::str::from_utf8(p).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
            .collect::<Option<Vec<u8>>>()
        else {
            continue;
        };
        let sum = bytes[..bytes.len() - 1].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        let check = if ihex { sum.wrapping_neg() } else { !sum };
        let digits = format!("{check:02X}");
        body[end - 2..end].copy_from_slice(digits.as_bytes());
    }
    out
}

/// Reads `data` through [`Image::read_from`] (the path files take) and checks it gives
/// exactly what [`Image::parse`] gives for the same bytes, error or image: the streaming
/// reader and the in-memory parser must agree on every input.
pub fn read_agrees_with_parse(data: &[u8], hint: Option<&str>) {
    let options = ParseOptions::default();
    let parsed = Image::parse_with(data, hint, &options);
    let read = Image::read_from(std::io::Cursor::new(data), hint, &options, 1 << 32);
    match (&parsed, &read) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("parse gave {parsed:?}, read_from gave {read:?}"),
    }
}
