//! Raw binaries: bytes without addresses, in and out.

use crate::{Format, Image, ImageError, Segment, MAX_BIN_LEN, MAX_GAP};

/// An unplaced image of raw bytes (one segment at the placeholder address 0).
pub(crate) fn raw(format: Format, data: &[u8]) -> Image {
    Image {
        format,
        segments: if data.is_empty() {
            Vec::new()
        } else {
            vec![Segment::new(0, data)]
        },
        needs_address: true,
        ..Image::default()
    }
}

/// Sorted, non-overlapping segments as one contiguous run from the first
/// address, gaps filled with `fill`. Refuses gaps over [`MAX_GAP`] and results
/// over [`MAX_BIN_LEN`]. No segments: address 0 and no bytes.
pub(crate) fn flatten(segments: &[Segment], fill: u8) -> Result<(u32, Vec<u8>), ImageError> {
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Ok((0, Vec::new()));
    };
    for pair in segments.windows(2) {
        if let [a, b] = pair {
            let (from, to) = (a.end(), u64::from(b.address));
            if to < from {
                return Err(ImageError::Overlap {
                    first: a.address,
                    first_end: a.end(),
                    second: b.address,
                    second_end: b.end(),
                });
            }
            if to - from > MAX_GAP {
                return Err(ImageError::Gap {
                    from,
                    to,
                    limit: MAX_GAP,
                });
            }
        }
    }
    let base = u64::from(first.address);
    let end = segments
        .iter()
        .map(Segment::end)
        .max()
        .unwrap_or(last.end());
    if end - base > MAX_BIN_LEN {
        return Err(ImageError::TooLarge {
            start: first.address,
            end,
            limit: MAX_BIN_LEN,
        });
    }
    let mut out = vec![fill; (end - base) as usize];
    for s in segments {
        let at = (u64::from(s.address) - base) as usize;
        out[at..at + s.data.len()].copy_from_slice(&s.data);
    }
    Ok((first.address, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_gaps() {
        let segs = [Segment::new(0x10, [1, 2]), Segment::new(0x14, [3])];
        assert_eq!(
            flatten(&segs, 0xFF).unwrap(),
            (0x10, vec![1, 2, 0xFF, 0xFF, 3])
        );
        assert_eq!(flatten(&[], 0).unwrap(), (0, vec![]));
    }

    #[test]
    fn refuses_huge_gaps() {
        let segs = [
            Segment::new(0x0800_0000, [1]),
            Segment::new(0x9000_0000, [2]),
        ];
        assert!(matches!(flatten(&segs, 0), Err(ImageError::Gap { .. })));
        let mut many = Vec::new();
        for i in 0..20u32 {
            many.push(Segment::new(i * 0x0100_0000, [0]));
        }
        assert!(matches!(
            flatten(&many, 0),
            Err(ImageError::TooLarge { .. })
        ));
    }
}
