//! Segments and the helpers that keep a list of them sorted and non-overlapping.

use crate::{Format, ImageError};
use std::collections::BTreeMap;

/// A run of bytes at an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Segment {
    /// Address of `data[0]`.
    pub address: u32,
    /// The bytes.
    pub data: Vec<u8>,
}

impl Segment {
    /// A segment of `data` at `address`.
    pub fn new(address: u32, data: impl Into<Vec<u8>>) -> Self {
        Segment {
            address,
            data: data.into(),
        }
    }

    /// Address one past the last byte (may be 2^32 for a segment ending at the top).
    pub fn end(&self) -> u64 {
        u64::from(self.address) + self.data.len() as u64
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the segment has no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// `address + len` must not pass 2^32.
pub(crate) fn check_range(
    format: Format,
    address: u64,
    len: u64,
    line: Option<usize>,
) -> Result<u32, ImageError> {
    match address.checked_add(len) {
        Some(end) if end <= 1 << 32 && address < 1 << 32 => Ok(address as u32),
        // An empty record exactly at 4 GiB is harmless but still has no 32-bit address.
        _ => Err(ImageError::AddressOverflow {
            format,
            address,
            len,
            line,
        }),
    }
}

/// Sort, drop empty segments, and refuse overlaps. Adjacent segments stay separate.
pub(crate) fn normalize(mut segments: Vec<Segment>) -> Result<Vec<Segment>, ImageError> {
    segments.retain(|s| !s.data.is_empty());
    segments.sort_by_key(|s| s.address);
    check_overlaps(&segments)?;
    Ok(segments)
}

/// Error on the first overlap of a sorted list.
pub(crate) fn check_overlaps(segments: &[Segment]) -> Result<(), ImageError> {
    for pair in segments.windows(2) {
        if let [a, b] = pair {
            if u64::from(b.address) < a.end() {
                return Err(ImageError::Overlap {
                    first: a.address,
                    first_end: a.end(),
                    second: b.address,
                    second_end: b.end(),
                });
            }
        }
    }
    Ok(())
}

/// Whether any two segments of a sorted list overlap.
pub(crate) fn overlaps(segments: &[Segment]) -> bool {
    check_overlaps(segments).is_err()
}

/// Collects records of a text format: data that continues the previous record
/// extends the current segment, anything else starts a new one. Overlaps are refused
/// as they arrive (naming both lines), so a file that repeats itself cannot grow
/// memory beyond the 4 GiB address space it describes.
#[derive(Debug, Default)]
pub(crate) struct SegmentBuilder {
    /// Finished segments by start address, with the lines they came from.
    done: BTreeMap<u32, Run>,
    /// The segment records are being added to.
    current: Option<Run>,
    /// Where the current segment must stop: the start of the next finished one.
    room_end: u64,
    /// Bytes to reserve for the first segment (most files have one): growing a large
    /// buffer by doubling could copy it and briefly need twice its memory.
    reserve: usize,
}

/// A segment and the first and last line of the records that gave it.
#[derive(Debug)]
struct Run {
    segment: Segment,
    lines: (usize, usize),
}

impl SegmentBuilder {
    /// A builder for a text file of `text_len` bytes: each data byte takes at least two
    /// characters, so half of that (at most 256 MiB) is reserved for the first segment.
    /// The reservation is address space, not memory, until it is written.
    pub(crate) fn for_text(text_len: u64) -> Self {
        SegmentBuilder {
            reserve: (text_len / 2).min(256 << 20) as usize,
            ..SegmentBuilder::default()
        }
    }

    /// Add `data` at `address`, from `line` of a `format` file (the caller has checked
    /// the range fits in 32 bits). Data on bytes an earlier record gave is an error.
    pub(crate) fn push(
        &mut self,
        format: Format,
        line: usize,
        address: u32,
        data: &[u8],
    ) -> Result<(), ImageError> {
        if data.is_empty() {
            return Ok(());
        }
        let end = u64::from(address) + data.len() as u64;
        if let Some(cur) = &mut self.current {
            if cur.segment.end() == u64::from(address) && end <= self.room_end {
                cur.segment.data.extend_from_slice(data);
                cur.lines.1 = line;
                return Ok(());
            }
        }
        if let Some(prev) = self.current.take() {
            self.done.insert(prev.segment.address, prev);
        }
        let below = self.done.range(..=address).next_back().map(|(_, r)| r);
        let above = self.done.range(address..).next().map(|(_, r)| r);
        let above = above.filter(|r| u64::from(r.segment.address) < end);
        if let Some(r) = below
            .filter(|r| r.segment.end() > u64::from(address))
            .or(above)
        {
            return Err(ImageError::Duplicate {
                format,
                line,
                address,
                len: data.len() as u64,
                earlier: r.lines,
                earlier_start: r.segment.address,
                earlier_end: r.segment.end(),
            });
        }
        self.room_end = self
            .done
            .range(address..)
            .next()
            .map_or(1 << 32, |(a, _)| u64::from(*a));
        let mut bytes = Vec::with_capacity(std::mem::take(&mut self.reserve).max(data.len()));
        bytes.extend_from_slice(data);
        self.current = Some(Run {
            segment: Segment::new(address, bytes),
            lines: (line, line),
        });
        Ok(())
    }

    /// The segments, sorted by address.
    pub(crate) fn finish(mut self) -> Vec<Segment> {
        if let Some(cur) = self.current.take() {
            self.done.insert(cur.segment.address, cur);
        }
        self.done.into_values().map(|r| r.segment).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_merges_contiguous_and_sorts() {
        let f = Format::IntelHex;
        let mut b = SegmentBuilder::default();
        b.push(f, 1, 0x100, &[1, 2]).unwrap();
        b.push(f, 2, 0x102, &[3]).unwrap();
        b.push(f, 3, 0x10, &[9]).unwrap();
        assert_eq!(
            b.finish(),
            vec![Segment::new(0x10, [9]), Segment::new(0x100, [1, 2, 3])]
        );
    }

    #[test]
    fn builder_refuses_overlap_naming_both_lines() {
        let f = Format::IntelHex;
        let mut b = SegmentBuilder::default();
        b.push(f, 1, 0x100, &[1, 2]).unwrap();
        b.push(f, 2, 0x102, &[1, 2]).unwrap();
        b.push(f, 3, 0x10, &[9]).unwrap();
        let e = b.push(f, 7, 0x101, &[3]).unwrap_err();
        assert!(
            matches!(
                e,
                ImageError::Duplicate {
                    line: 7,
                    earlier: (1, 2),
                    earlier_start: 0x100,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn builder_refuses_growing_into_the_next_segment() {
        let f = Format::SRecord;
        let mut b = SegmentBuilder::default();
        b.push(f, 1, 0x104, &[1, 2]).unwrap();
        b.push(f, 2, 0x100, &[1, 2, 3, 4]).unwrap();
        let e = b.push(f, 3, 0x104, &[5]).unwrap_err();
        assert!(
            matches!(
                e,
                ImageError::Duplicate {
                    line: 3,
                    earlier: (1, 1),
                    ..
                }
            ),
            "{e:?}"
        );
        let e = b.push(f, 4, 0x0ff, &[5, 6]).unwrap_err();
        assert!(matches!(e, ImageError::Duplicate { line: 4, .. }), "{e:?}");
    }

    #[test]
    fn range_check_at_the_top() {
        assert!(check_range(Format::Elf, 0xFFFF_FFFF, 1, None).is_ok());
        assert!(check_range(Format::Elf, 0xFFFF_FFFF, 2, None).is_err());
        assert!(check_range(Format::Elf, 1 << 32, 0, None).is_err());
        assert!(check_range(Format::Elf, u64::MAX, 2, None).is_err());
    }
}
