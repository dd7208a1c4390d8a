//! Writing an [`Image`] out: flat binary, Intel HEX, S-record, DfuSe, suffixed binary.

use crate::{bin, dfuse, ihex, srec, suffix, DfuseTarget, Image, ImageError};

impl Image {
    /// The image as one contiguous binary: `(start address, bytes)`, gaps filled
    /// with `fill` (0xFF is erased flash). Refuses gaps larger than
    /// [`crate::MAX_GAP`] (16 MiB) and results larger than [`crate::MAX_BIN_LEN`].
    /// An empty image gives `(0, [])`.
    pub fn to_bin(&self, fill: u8) -> Result<(u32, Vec<u8>), ImageError> {
        bin::flatten(&self.segments, fill)
    }

    /// [`Image::to_bin`] followed by a DFU suffix (bcdDFU 0x0100) for `vid`:`pid`,
    /// device release `did` (0xFFFF = any): what `dfu-suffix -a` would make of the
    /// flat binary.
    pub fn to_suffixed(
        &self,
        fill: u8,
        vid: u16,
        pid: u16,
        did: u16,
    ) -> Result<(u32, Vec<u8>), ImageError> {
        let (start, data) = self.to_bin(fill)?;
        Ok((start, suffix::add(&data, vid, pid, did)))
    }

    /// The image as Intel HEX text (16 data bytes per record, extended linear
    /// address records, a start linear address record if the image has an entry
    /// point, end-of-file record). An unplaced raw image is written at address 0.
    pub fn to_ihex(&self) -> String {
        ihex::write(&self.segments, self.entry)
    }

    /// The image as S-record text (S0 header, S1/S2/S3 data by the widest address,
    /// S5/S6 count, S9/S8/S7 termination with the entry point or 0).
    pub fn to_srec(&self) -> String {
        srec::write(&self.segments, self.entry)
    }

    /// The image as a DfuSe file with one target for alternate setting `alt`
    /// named `target_name` (one element per segment) and a DFU suffix with bcdDFU
    /// 0x011A for `vid`:`pid`, device release `did`. For several targets use
    /// [`crate::dfuse::write`].
    pub fn to_dfuse(&self, vid: u16, pid: u16, did: u16, alt: u8, target_name: &str) -> Vec<u8> {
        let target = DfuseTarget {
            alt,
            name: Some(target_name.to_owned()),
            segments: self.segments.clone(),
        };
        dfuse::write(std::slice::from_ref(&target), vid, pid, did)
    }
}
