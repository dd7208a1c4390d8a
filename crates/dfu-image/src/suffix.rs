//! The DFU suffix: 16 bytes at the end of a DFU file (DFU 1.1 spec, appendix B).
//!
//! | offset from the suffix start | size | field |
//! |---|---|---|
//! | 0 | 2 | bcdDevice (LE), 0xFFFF = any |
//! | 2 | 2 | idProduct (LE), 0xFFFF = any |
//! | 4 | 2 | idVendor (LE), 0xFFFF = any |
//! | 6 | 2 | bcdDFU (LE): 0x0100 plain, 0x011A DfuSe |
//! | 8 | 3 | bytes `'U' 'F' 'D'` in file order ("DFU" reversed) |
//! | 11 | 1 | bLength = 16 |
//! | 12 | 4 | dwCRC (LE) |
//!
//! dwCRC is CRC-32 (reflected polynomial 0xEDB88320, init 0xFFFFFFFF, **no** final
//! xor) over the whole file except the CRC itself. The bytes this module writes are
//! identical to those of dfu-util's `dfu-suffix` (checked by an integration test
//! against `/usr/bin/dfu-suffix`), including its defaults: vendor, product and
//! device 0xFFFF, bcdDFU 0x0100.

use crate::ImageError;

/// Length of the suffix this crate writes (and the minimum bLength it accepts).
pub const LEN: usize = 16;
/// The signature as it appears in the file.
pub const SIGNATURE: [u8; 3] = *b"UFD";
/// bcdDFU for plain DFU 1.0/1.1 files (what `dfu-suffix` writes by default).
pub const BCD_DFU: u16 = 0x0100;
/// bcdDFU for DfuSe files (ST UM0391).
pub const BCD_DFUSE: u16 = 0x011A;
/// "Any" for bcdDevice, idProduct and idVendor: the file does not name a device.
pub const ANY: u16 = 0xFFFF;

/// A parsed DFU suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Suffix {
    /// bcdDevice: firmware/device release the file is for, 0xFFFF = any.
    pub bcd_device: u16,
    /// idProduct the file is for, 0xFFFF = any.
    pub product: u16,
    /// idVendor the file is for, 0xFFFF = any.
    pub vendor: u16,
    /// bcdDFU: 0x0100 (plain DFU) or 0x011A (DfuSe).
    pub bcd_dfu: u16,
    /// bLength: size of the suffix in bytes (16 as written by every known tool).
    pub length: u8,
    /// dwCRC as stored.
    pub crc: u32,
    /// Whether `crc` matches the file.
    pub crc_ok: bool,
}

impl Suffix {
    /// Whether the suffix allows a device with this vendor and product ID
    /// (0xFFFF in the suffix matches any).
    pub fn matches(&self, vendor: u16, product: u16) -> bool {
        (self.vendor == ANY || self.vendor == vendor)
            && (self.product == ANY || self.product == product)
    }
}

/// The DFU suffix CRC of `data`: CRC-32, reflected, init 0xFFFFFFFF, no final xor
/// (that is, the bitwise NOT of the usual zlib/IEEE CRC-32).
pub fn crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

/// `data` followed by a DFU suffix for this vendor, product and device release,
/// with bcdDFU 0x0100, exactly as `dfu-suffix -v VID -p PID -d DID -a` writes it.
///
/// An existing suffix is not replaced: [`remove`] it first if there is one.
pub fn add(data: &[u8], vid: u16, pid: u16, did: u16) -> Vec<u8> {
    add_with_spec(data, vid, pid, did, BCD_DFU)
}

/// Like [`add`] with an explicit bcdDFU (e.g. [`BCD_DFUSE`] for DfuSe files, as `dfu-suffix -S`).
pub fn add_with_spec(data: &[u8], vid: u16, pid: u16, did: u16, bcd_dfu: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + LEN);
    out.extend_from_slice(data);
    out.extend_from_slice(&did.to_le_bytes());
    out.extend_from_slice(&pid.to_le_bytes());
    out.extend_from_slice(&vid.to_le_bytes());
    out.extend_from_slice(&bcd_dfu.to_le_bytes());
    out.extend_from_slice(&SIGNATURE);
    out.push(LEN as u8);
    let c = crc(&out);
    out.extend_from_slice(&c.to_le_bytes());
    out
}

/// Read the suffix at the end of `data`.
///
/// `None`: no suffix (file shorter than 16 bytes, or no `UFD` signature).
/// `Some(Ok(s))`: a suffix; `s.crc_ok` says whether its CRC matches.
/// `Some(Err(_))`: a suffix with a matching CRC but an impossible bLength.
pub fn read(data: &[u8]) -> Option<Result<Suffix, ImageError>> {
    let start = data.len().checked_sub(LEN)?;
    let s: &[u8; LEN] = data.get(start..)?.try_into().ok()?;
    if s[8..11] != SIGNATURE {
        return None;
    }
    let suffix = from_tail(s, crc(&data[..data.len() - 4]));
    if suffix.crc_ok && !length_ok(suffix.length, data.len()) {
        return Some(Err(ImageError::SuffixLength {
            length: suffix.length,
            file_len: data.len() as u64,
        }));
    }
    Some(Ok(suffix))
}

/// The suffix in the last 16 bytes of a file, given the CRC of the file's bytes before its
/// last 4 (the caller has checked the signature).
pub(crate) fn from_tail(s: &[u8; LEN], computed: u32) -> Suffix {
    let u16_at = |i: usize| u16::from_le_bytes([s[i], s[i + 1]]);
    let stored = u32::from_le_bytes([s[12], s[13], s[14], s[15]]);
    Suffix {
        bcd_device: u16_at(0),
        product: u16_at(2),
        vendor: u16_at(4),
        bcd_dfu: u16_at(6),
        length: s[11],
        crc: stored,
        crc_ok: stored == computed,
    }
}

fn length_ok(length: u8, file_len: usize) -> bool {
    usize::from(length) >= LEN && usize::from(length) <= file_len
}

/// `data` without its suffix, as `dfu-suffix -D` does. Refuses a file without a
/// suffix or with a CRC mismatch (as `dfu-suffix` does: "Valid DFU suffix needed").
pub fn remove(data: &[u8]) -> Result<Vec<u8>, ImageError> {
    match read(data) {
        None => Err(ImageError::NoSuffix {
            reason: "the file does not end with the 'UFD' signature",
        }),
        Some(Err(e)) => Err(e),
        Some(Ok(s)) if !s.crc_ok => Err(ImageError::SuffixCrc {
            stored: s.crc,
            computed: crc(&data[..data.len() - 4]),
        }),
        Some(Ok(s)) => Ok(data[..data.len() - usize::from(s.length)].to_vec()),
    }
}

/// Split `data` into content and suffix. A suffix with a bad CRC is an error
/// unless `accept_bad_crc`; then it is stripped anyway (bLength bytes when that is
/// plausible, else 16) and reported with `crc_ok == false`.
pub(crate) fn split(
    data: &[u8],
    accept_bad_crc: bool,
) -> Result<(&[u8], Option<Suffix>), ImageError> {
    match read(data) {
        None => Ok((data, None)),
        Some(Err(e)) => Err(e),
        Some(Ok(s)) if !s.crc_ok && !accept_bad_crc => Err(ImageError::SuffixCrc {
            stored: s.crc,
            computed: crc(&data[..data.len() - 4]),
        }),
        Some(Ok(s)) => {
            let strip = if length_ok(s.length, data.len()) {
                usize::from(s.length)
            } else {
                LEN
            };
            Ok((&data[..data.len() - strip], Some(s)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes written by `dfu-suffix -v 1234 -p 5678 -d 0x0200 -a` on "hello world 0123".
    const DFU_SUFFIX_OUTPUT: [u8; 16] = [
        0x00, 0x02, 0x78, 0x56, 0x34, 0x12, 0x00, 0x01, 0x55, 0x46, 0x44, 0x10, 0xc7, 0xd5, 0xe5,
        0x01,
    ];

    #[test]
    fn matches_dfu_suffix_bytes() {
        let out = add(b"hello world 0123", 0x1234, 0x5678, 0x0200);
        assert_eq!(&out[16..], &DFU_SUFFIX_OUTPUT);
        let s = read(&out).unwrap().unwrap();
        assert!(s.crc_ok);
        assert_eq!(
            (s.vendor, s.product, s.bcd_device, s.bcd_dfu),
            (0x1234, 0x5678, 0x0200, 0x0100)
        );
        assert_eq!(remove(&out).unwrap(), b"hello world 0123");
    }

    #[test]
    fn short_or_unsigned_is_none() {
        assert!(read(b"").is_none());
        assert!(read(&[0u8; 15]).is_none());
        assert!(read(&[0u8; 16]).is_none());
        assert!(matches!(remove(b"abc"), Err(ImageError::NoSuffix { .. })));
    }

    #[test]
    fn bad_crc_and_bad_length() {
        let mut out = add(b"data", ANY, ANY, ANY);
        out[0] ^= 1;
        assert!(!read(&out).unwrap().unwrap().crc_ok);
        assert!(matches!(remove(&out), Err(ImageError::SuffixCrc { .. })));
        assert!(matches!(
            split(&out, false),
            Err(ImageError::SuffixCrc { .. })
        ));
        let (content, suffix) = split(&out, true).unwrap();
        assert_eq!(content, [b'd' ^ 1, b'a', b't', b'a']);
        assert!(!suffix.unwrap().crc_ok);
        // bLength 200 on a 20-byte file, with a correct CRC.
        let mut long = add(b"data", ANY, ANY, ANY);
        long[4 + 11] = 200;
        let c = crc(&long[..long.len() - 4]);
        let n = long.len();
        long[n - 4..].copy_from_slice(&c.to_le_bytes());
        assert!(matches!(
            read(&long),
            Some(Err(ImageError::SuffixLength { length: 200, .. }))
        ));
    }
}
