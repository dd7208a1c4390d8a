//! Writing an [`Image`] out: flat binary, Intel HEX, S-record, DfuSe, suffixed binary.

use crate::{bin, dfuse, ihex, srec, suffix, DfuseTarget, Image, ImageError};
use std::io::Write;

/// A writer that keeps the CRC-32 of what passes through it (for a DFU suffix).
struct CrcWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: crc32fast::Hasher,
}

impl Write for CrcWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Image {
    /// The image as one contiguous binary: `(start address, bytes)`, gaps filled
    /// with `fill` (0xFF is erased flash). Refuses gaps larger than
    /// [`crate::MAX_GAP`] (16 MiB) and results larger than [`crate::MAX_BIN_LEN`].
    /// An empty image gives `(0, [])`.
    pub fn to_bin(&self, fill: u8) -> Result<(u32, Vec<u8>), ImageError> {
        bin::flatten(&self.segments, fill)
    }

    /// Where [`Image::to_bin`]'s binary would start and how many bytes it would have, with
    /// the same checks, without building it.
    pub fn bin_span(&self) -> Result<(u32, u64), ImageError> {
        bin::span(&self.segments)
    }

    /// [`Image::to_bin`] written to `w` as it goes, never holding the flat binary: memory
    /// stays at the image. With `suffix` = `Some((vid, pid, did))`, a DFU suffix follows
    /// (as [`Image::to_suffixed`]). Check [`Image::bin_span`] first: an image it refuses
    /// gives an `InvalidInput` error here, before anything is written.
    pub fn write_bin(
        &self,
        fill: u8,
        suffix: Option<(u16, u16, u16)>,
        w: &mut dyn Write,
    ) -> std::io::Result<()> {
        self.bin_span()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let Some((vid, pid, did)) = suffix else {
            return bin::write_flat(&self.segments, fill, w);
        };
        let mut crc = CrcWriter {
            inner: w,
            hasher: crc32fast::Hasher::new(),
        };
        bin::write_flat(&self.segments, fill, &mut crc)?;
        let tail = suffix::add(&[], vid, pid, did);
        crc.write_all(&tail[..suffix::LEN - 4])?;
        let CrcWriter { inner, hasher } = crc;
        inner.write_all(&(!hasher.finalize()).to_le_bytes())
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

    /// [`Image::to_ihex`] written to `w` record by record, never holding the whole text.
    pub fn write_ihex(&self, w: &mut dyn Write) -> std::io::Result<()> {
        ihex::write_to(&self.segments, self.entry, w)
    }

    /// [`Image::to_srec`] written to `w` record by record, never holding the whole text.
    pub fn write_srec(&self, w: &mut dyn Write) -> std::io::Result<()> {
        srec::write_to(&self.segments, self.entry, w)
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
