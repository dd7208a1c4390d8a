//! ST DfuSe files (UM0391): a prefix, targets with addressed elements, a DFU suffix.
//!
//! ```text
//! prefix   "DfuSe" | bVersion=1 | DFUImageSize u32 | bTargets u8            (11 bytes)
//! target   "Target" | bAlternateSetting u8 | bTargetNamed u32 | szTargetName[255]
//!          | dwTargetSize u32 | dwNbElements u32                            (274 bytes)
//! element  dwElementAddress u32 | dwElementSize u32 | data                  (8 + size)
//! suffix   16 bytes, bcdDFU 0x011A
//! ```
//! All integers little-endian. dwTargetSize is the sum of the target's elements
//! including their 8-byte headers.
//!
//! DFUImageSize: UM0391 calls it "the total DFU file length"; ST's tools and most
//! readers store the length *without* the suffix, dfu-util's `dfuse-pack` stores
//! it *with* the suffix. Both are accepted; this crate writes the former. Every
//! other size and count must agree with the bytes, or the file is refused.

use crate::segment::{check_range, normalize};
use crate::{suffix, Format, ImageError, Segment};

const F: Format = Format::DfuSe;
/// The file signature.
pub const SIGNATURE: &[u8; 5] = b"DfuSe";
/// Length of the file prefix.
pub const PREFIX_LEN: usize = 11;
/// Length of a target prefix.
pub const TARGET_PREFIX_LEN: usize = 274;
/// Length of an element header (address and size).
pub const ELEMENT_HEADER_LEN: usize = 8;
const NAME_LEN: usize = 255;

/// One target of a DfuSe file: what goes to one alternate setting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DfuseTarget {
    /// bAlternateSetting: the DFU interface alternate setting (memory) it is for.
    pub alt: u8,
    /// szTargetName, if bTargetNamed is set (e.g. "ST..." or "Internal Flash").
    pub name: Option<String>,
    /// The target's elements, sorted by address; empty elements are dropped.
    pub segments: Vec<Segment>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ImageError> {
        let available = self.data.len() - self.pos;
        if n > available {
            return Err(ImageError::Truncated {
                format: F,
                what,
                offset: self.pos as u64,
                needed: n as u64,
                available: available as u64,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, ImageError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, ImageError> {
        Ok(self.take(1, what)?[0])
    }
}

/// Parse a DfuSe file. `content` is the file without its suffix, `file_len` the
/// whole file's length (for the DFUImageSize check).
pub(crate) fn parse(content: &[u8], file_len: usize) -> Result<Vec<DfuseTarget>, ImageError> {
    let mut r = Reader {
        data: content,
        pos: 0,
    };
    let n_targets = read_prefix(&mut r, file_len)?;
    let targets = (0..n_targets)
        .map(|t| read_target(&mut r, t))
        .collect::<Result<Vec<_>, _>>()?;
    if r.pos != content.len() {
        return Err(ImageError::malformed(
            F,
            r.pos as u64,
            format!(
                "{} bytes follow the last of {n_targets} targets",
                content.len() - r.pos
            ),
        ));
    }
    Ok(targets)
}

/// The file prefix: signature, version 1, a DFUImageSize that matches the file (with or
/// without its suffix). Returns the target count.
fn read_prefix(r: &mut Reader<'_>, file_len: usize) -> Result<u8, ImageError> {
    if r.take(5, "prefix signature")? != SIGNATURE {
        return Err(ImageError::malformed(
            F,
            0,
            "the file does not start with \"DfuSe\"",
        ));
    }
    let version = r.u8("prefix version")?;
    if version != 1 {
        return Err(ImageError::malformed(
            F,
            5,
            format!("prefix version is {version}, only version 1 exists"),
        ));
    }
    let image_size = r.u32("prefix image size")?;
    let content_len = r.data.len();
    if image_size as usize != content_len && image_size as usize != file_len {
        return Err(ImageError::malformed(
            F,
            6,
            format!(
                "DFUImageSize says {image_size} bytes, the file has {content_len} (without suffix) / {file_len} (with)"
            ),
        ));
    }
    r.u8("prefix target count")
}

/// Target number `t`: its prefix, then its elements, whose total must match dwTargetSize.
fn read_target(r: &mut Reader<'_>, t: u8) -> Result<DfuseTarget, ImageError> {
    let at = r.pos as u64;
    if r.take(6, "target signature")? != b"Target" {
        return Err(ImageError::malformed(
            F,
            at,
            format!(
                "target {t} does not start with \"Target\" (the target count or a size is wrong)"
            ),
        ));
    }
    let alt = r.u8("target alternate setting")?;
    let named = r.u32("target name flag")?;
    let raw_name = r.take(NAME_LEN, "target name")?;
    let size_at = r.pos as u64;
    let target_size = u64::from(r.u32("target size")?);
    let n_elements = r.u32("target element count")?;
    let start = r.pos;
    let segments = (0..n_elements)
        .map(|_| read_element(r))
        .collect::<Result<Vec<_>, _>>()?;
    let used = (r.pos - start) as u64;
    if used != target_size {
        return Err(ImageError::malformed(
            F,
            size_at,
            format!(
                "target {t} size says {target_size} bytes, its {n_elements} elements take {used}"
            ),
        ));
    }
    Ok(DfuseTarget {
        alt,
        name: (named != 0).then(|| target_name(raw_name)),
        segments: normalize(segments)?,
    })
}

/// One element: address, size and data, which must end below 4 GiB.
fn read_element(r: &mut Reader<'_>) -> Result<Segment, ImageError> {
    let e_at = r.pos as u64;
    let address = r.u32("element address")?;
    let size = r.u32("element size")?;
    let data = r.take(size as usize, "element data")?;
    check_range(F, u64::from(address), u64::from(size), None).map_err(|_| {
        ImageError::malformed(
            F,
            e_at,
            format!("element at {address:#x} with {size} bytes goes past 4 GiB"),
        )
    })?;
    Ok(Segment::new(address, data))
}

/// szTargetName: up to the first NUL, invalid UTF-8 replaced.
fn target_name(raw: &[u8]) -> String {
    let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Write a DfuSe file of these targets with a DFU suffix (bcdDFU 0x011A) for
/// `vid`:`pid`, device release `did` (0xFFFF = any). Target names longer than 254
/// bytes are cut; an empty name writes bTargetNamed = 0.
pub fn write(targets: &[DfuseTarget], vid: u16, pid: u16, did: u16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(SIGNATURE);
    out.push(1);
    out.extend_from_slice(&[0; 4]); // DFUImageSize, patched below
    out.push(targets.len().min(255) as u8);
    for t in targets.iter().take(255) {
        let name = t.name.as_deref().unwrap_or("").as_bytes();
        let name = &name[..name.len().min(NAME_LEN - 1)];
        let size: usize = t
            .segments
            .iter()
            .map(|s| ELEMENT_HEADER_LEN + s.data.len())
            .sum();
        out.extend_from_slice(b"Target");
        out.push(t.alt);
        out.extend_from_slice(&u32::from(!name.is_empty()).to_le_bytes());
        out.extend_from_slice(name);
        out.resize(out.len() + NAME_LEN - name.len(), 0);
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&(t.segments.len() as u32).to_le_bytes());
        for s in &t.segments {
            out.extend_from_slice(&s.address.to_le_bytes());
            out.extend_from_slice(&(s.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&s.data);
        }
    }
    let len = out.len() as u32;
    out[6..10].copy_from_slice(&len.to_le_bytes());
    suffix::add_with_spec(&out, vid, pid, did, suffix::BCD_DFUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse() {
        let t = DfuseTarget {
            alt: 1,
            name: Some("SPI Flash".into()),
            segments: vec![Segment::new(0, [1, 2, 3]), Segment::new(0x1000, [4])],
        };
        let file = write(std::slice::from_ref(&t), 0x2b04, 0xd006, 0xffff);
        assert_eq!(
            file.len(),
            PREFIX_LEN + TARGET_PREFIX_LEN + 8 + 3 + 8 + 1 + 16
        );
        let (content, s) = suffix::split(&file, false).unwrap();
        assert_eq!(s.unwrap().bcd_dfu, 0x011a);
        assert_eq!(parse(content, file.len()).unwrap(), vec![t]);
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut file = write(&[], 0xffff, 0xffff, 0xffff);
        file.truncate(file.len() - 16);
        file.push(0);
        file[6..10].copy_from_slice(&12u32.to_le_bytes());
        assert!(matches!(
            parse(&file, file.len()),
            Err(ImageError::Malformed { offset: 11, .. })
        ));
    }
}
