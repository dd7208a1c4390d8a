//! DFU file prefixes, as `dfu-prefix` (dfu-util 0.11) reads and writes them: TI
//! Stellaris (8 bytes: 0x01 0x00, address / 1024, payload length) and NXP LPC unencrypted
//! (16 bytes: 0x1A 0x3F, length in 512-byte blocks), and the file model `dfu-suffix` and
//! `dfu-prefix` share: optional prefix, payload, optional suffix.

use crate::suffix;

/// Length of a TI Stellaris prefix.
pub const STELLARIS_LEN: usize = 8;
/// Length of an NXP LPC prefix.
pub const LPC_LEN: usize = 16;

/// Which prefix a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TI Stellaris: flash address and payload length.
    Stellaris,
    /// NXP LPC, unencrypted.
    Lpc,
}

/// A firmware file split the way dfu-suffix and dfu-prefix see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfuFile {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// The valid suffix (CRC and length checked), if any.
    pub suffix: Option<suffix::Suffix>,
    /// Why there is no valid suffix (when there is none).
    pub no_suffix_reason: &'static str,
    /// The prefix kind recognised at the start, if any.
    pub prefix: Option<Kind>,
    /// Prefix length counted (may be set although the file is too short for it).
    pub prefix_len: usize,
    /// False when a prefix was looked for and is inconsistent (dfu-prefix -D refuses).
    pub prefix_ok: bool,
    /// Stellaris address from the prefix.
    pub stellaris_address: u32,
}

/// Why a suffix that looks valid cannot be used (bLength out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSuffixLength(pub u8);

impl DfuFile {
    /// Splits `bytes`: suffix first (signature, CRC, bLength), then the prefix.
    pub fn parse(bytes: Vec<u8>) -> Result<DfuFile, BadSuffixLength> {
        let (suffix, reason) = if bytes.len() < suffix::LEN {
            (None, "the file is too short for a DFU suffix")
        } else {
            let s = &bytes[bytes.len() - suffix::LEN..];
            if s[8..11] != suffix::SIGNATURE {
                (None, "the file has no DFU suffix signature")
            } else if suffix::crc(&bytes[..bytes.len() - 4]).to_le_bytes() != s[12..16] {
                (None, "the DFU suffix CRC does not match")
            } else {
                match suffix::read(&bytes) {
                    Some(Ok(x)) => (Some(x), ""),
                    _ => return Err(BadSuffixLength(s[11])),
                }
            }
        };
        let mut f = DfuFile {
            bytes,
            suffix,
            no_suffix_reason: reason,
            prefix: None,
            prefix_len: 0,
            prefix_ok: true,
            stellaris_address: 0,
        };
        f.probe_prefix();
        Ok(f)
    }

    /// Bytes of the suffix counted at the end.
    pub fn suffix_len(&self) -> usize {
        self.suffix.map_or(0, |s| usize::from(s.length))
    }

    fn probe_prefix(&mut self) {
        let b = &self.bytes;
        if b.len() < STELLARIS_LEN {
            self.prefix_ok = false;
            return;
        }
        if b[0] == 0x01 && b[1] == 0x00 {
            let payload = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            let expected = b.len().wrapping_sub(STELLARIS_LEN + self.suffix_len()) as u32;
            if payload != expected {
                self.prefix_ok = false;
                return;
            }
            self.prefix = Some(Kind::Stellaris);
            self.prefix_len = STELLARIS_LEN;
            self.stellaris_address = 1024 * u32::from(u16::from_le_bytes([b[2], b[3]]));
        } else if b[0] & 0x3f == 0x1a && b[1] & 0x3f == 0x3f {
            self.prefix = Some(Kind::Lpc);
            self.prefix_len = LPC_LEN;
        }
        if self.prefix_len + self.suffix_len() > b.len() {
            self.prefix_ok = false;
        }
    }

    /// The payload: the file without prefix and suffix.
    pub fn payload(&self) -> &[u8] {
        let end = self.bytes.len().saturating_sub(self.suffix_len());
        self.bytes
            .get(self.prefix_len.min(end)..end)
            .unwrap_or_default()
    }

    /// The file as dfu-util's writer produces it: the prefix of `prefix` (computed from
    /// this file's sizes), the payload, and a 16-byte suffix with these fields.
    pub fn store(&self, prefix: Option<(Kind, u32)>, suffix: Option<suffix::Suffix>) -> Vec<u8> {
        let total = self.bytes.len();
        let mut out = Vec::with_capacity(total + LPC_LEN + suffix::LEN);
        match prefix {
            Some((Kind::Stellaris, address)) => {
                let len = (total - self.prefix_len - self.suffix_len()) as u32;
                out.extend_from_slice(&[0x01, 0x00]);
                out.extend_from_slice(&((address / 1024) as u16).to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
            }
            Some((Kind::Lpc, _)) => {
                let blocks = (total - self.suffix_len()).div_ceil(512) as u16;
                let mut p = [0u8; LPC_LEN];
                p[0] = 0x1a;
                p[1] = 0x3f;
                p[2..4].copy_from_slice(&blocks.to_le_bytes());
                p[12..].fill(0xff);
                out.extend_from_slice(&p);
            }
            None => {}
        }
        out.extend_from_slice(self.payload());
        match suffix {
            Some(s) => suffix::add_with_spec(&out, s.vendor, s.product, s.bcd_device, s.bcd_dfu),
            None => out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stellaris_prefix_round_trip() {
        let f = DfuFile::parse(vec![7u8; 100]).unwrap();
        assert_eq!(f.prefix, None);
        let with = f.store(Some((Kind::Stellaris, 0x2800)), None);
        assert_eq!(&with[..8], &[1, 0, 10, 0, 100, 0, 0, 0]);
        let g = DfuFile::parse(with).unwrap();
        assert_eq!(
            (g.prefix, g.stellaris_address),
            (Some(Kind::Stellaris), 0x2800)
        );
        assert_eq!(g.payload(), &[7u8; 100][..]);
        assert_eq!(g.store(None, None), vec![7u8; 100]);
    }

    #[test]
    fn lpc_prefix_counts_blocks_of_the_file() {
        let f = DfuFile::parse(vec![0u8; 513]).unwrap();
        let with = f.store(Some((Kind::Lpc, 0)), None);
        assert_eq!(&with[..4], &[0x1a, 0x3f, 2, 0]);
        assert_eq!(&with[12..16], &[0xff; 4]);
        assert_eq!(with.len(), 513 + 16);
    }

    #[test]
    fn suffix_is_found_and_kept() {
        let data = suffix::add(&[1, 2, 3], 0x0483, 0xdf11, 0xffff);
        let f = DfuFile::parse(data.clone()).unwrap();
        assert_eq!(f.suffix.map(|s| s.vendor), Some(0x0483));
        assert_eq!(f.payload(), &[1, 2, 3]);
        assert_eq!(f.store(None, f.suffix), data);
        let mut bad = data;
        bad[0] ^= 1;
        assert_eq!(DfuFile::parse(bad).unwrap().suffix, None);
    }
}
