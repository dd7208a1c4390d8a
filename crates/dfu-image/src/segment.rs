//! Segments and the helpers that keep a list of them sorted and non-overlapping.

use crate::{Format, ImageError};

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
/// extends the current segment, anything else starts a new one.
#[derive(Debug, Default)]
pub(crate) struct SegmentBuilder {
    done: Vec<Segment>,
    current: Option<Segment>,
}

impl SegmentBuilder {
    /// Add `data` at `address` (the caller has checked the range fits in 32 bits).
    pub(crate) fn push(&mut self, address: u32, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if let Some(cur) = &mut self.current {
            if cur.end() == u64::from(address) {
                cur.data.extend_from_slice(data);
                return;
            }
        }
        if let Some(prev) = self.current.take() {
            self.done.push(prev);
        }
        self.current = Some(Segment::new(address, data));
    }

    /// The segments, sorted, with overlaps refused.
    pub(crate) fn finish(mut self) -> Result<Vec<Segment>, ImageError> {
        if let Some(cur) = self.current.take() {
            self.done.push(cur);
        }
        normalize(self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_merges_contiguous_and_sorts() {
        let mut b = SegmentBuilder::default();
        b.push(0x100, &[1, 2]);
        b.push(0x102, &[3]);
        b.push(0x10, &[9]);
        let s = b.finish().unwrap();
        assert_eq!(
            s,
            vec![Segment::new(0x10, [9]), Segment::new(0x100, [1, 2, 3])]
        );
    }

    #[test]
    fn builder_refuses_overlap() {
        let mut b = SegmentBuilder::default();
        b.push(0x100, &[1, 2]);
        b.push(0x10, &[9]);
        b.push(0x101, &[3]);
        assert!(matches!(
            b.finish(),
            Err(ImageError::Overlap {
                first: 0x100,
                second: 0x101,
                ..
            })
        ));
    }

    #[test]
    fn range_check_at_the_top() {
        assert!(check_range(Format::Elf, 0xFFFF_FFFF, 1, None).is_ok());
        assert!(check_range(Format::Elf, 0xFFFF_FFFF, 2, None).is_err());
        assert!(check_range(Format::Elf, 1 << 32, 0, None).is_err());
        assert!(check_range(Format::Elf, u64::MAX, 2, None).is_err());
    }
}
