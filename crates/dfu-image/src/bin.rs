//! Raw binaries: bytes without addresses, in and out.

use crate::{Format, Image, ImageError, Segment, MAX_BIN_LEN, MAX_GAP};
use std::io::Write;

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
    let (start, len) = span(segments)?;
    let mut out = vec![fill; len as usize];
    for s in segments {
        let at = (u64::from(s.address) - u64::from(start)) as usize;
        out[at..at + s.data.len()].copy_from_slice(&s.data);
    }
    Ok((start, out))
}

/// Where a flat binary of sorted segments starts and how long it is, with the checks of
/// [`flatten`]. No segments: `(0, 0)`.
pub(crate) fn span(segments: &[Segment]) -> Result<(u32, u64), ImageError> {
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Ok((0, 0));
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
    Ok((first.address, end - base))
}

/// Writes the flat binary of [`flatten`] to `w` piece by piece (the caller has checked the
/// [`span`]): each segment, and `fill` in the gaps.
pub(crate) fn write_flat(segments: &[Segment], fill: u8, w: &mut dyn Write) -> std::io::Result<()> {
    let filler = [fill; 4096];
    let mut at = segments.first().map_or(0, |s| u64::from(s.address));
    for s in segments {
        let mut gap = u64::from(s.address).saturating_sub(at);
        while gap > 0 {
            let n = gap.min(filler.len() as u64) as usize;
            w.write_all(&filler[..n])?;
            gap -= n as u64;
        }
        w.write_all(&s.data)?;
        at = s.end();
    }
    Ok(())
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
    fn written_flat_equals_flattened() {
        let segs = [
            Segment::new(0x10, [1, 2]),
            Segment::new(0x14, [3]),
            Segment::new(0x2000, vec![7; 5000]),
        ];
        let mut out = Vec::new();
        write_flat(&segs, 0xA5, &mut out).unwrap();
        assert_eq!(out, flatten(&segs, 0xA5).unwrap().1);
        assert_eq!(span(&segs).unwrap(), (0x10, out.len() as u64));
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
