//! Reading memory (planned by [`crate::readerase`]), block by block into a writer.

use crate::code::Code;
use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use std::io::Write;

/// The error of a read whose writer failed: code [`Code::Output`], the writer's message.
pub(crate) fn sink_failed(e: &std::io::Error) -> DfuError {
    DfuError::Usage {
        code: Code::Output,
        message: format!("cannot write what was read: {e}"),
    }
}

/// A writer that drops the first `skip` bytes given to it (a plain DFU device uploads from
/// the start of its memory, and the bytes below the address asked for are not wanted).
struct Skip<'a> {
    skip: u64,
    out: &'a mut dyn Write,
    written: u64,
}

impl Write for Skip<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let dropped = usize::try_from(self.skip)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        self.skip -= dropped as u64;
        if dropped == buf.len() {
            return Ok(buf.len());
        }
        let n = self.out.write(&buf[dropped..])?;
        self.written += n as u64;
        Ok(dropped + n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl DfuDevice {
    /// Reads `len` bytes at `address` into memory: [`read_into`](Self::read_into) a `Vec`.
    pub fn read(&mut self, address: u32, len: u64, events: Sink) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        self.read_into(address, len, &mut data, events)?;
        Ok(data)
    }

    /// Reads `len` bytes at `address` (the range is checked by [`crate::readerase::plan_read`])
    /// into `out`, each block as it arrives, so that memory holds one block however much is
    /// read; returns the number of bytes written to `out`. A failure of `out` stops the read
    /// (the device is taken out of its upload) with an error of code [`Code::Output`].
    /// DfuSe: from `address`.
    /// Plain DFU has no addresses: the device uploads from the start of its memory (its
    /// base, [`DeviceInfo::plain_base`](crate::DeviceInfo::plain_base)), so an address above
    /// the base is reached by reading up to it and discarding what comes before; one below
    /// the base is refused. A plain device ends its upload early with a short block: `len`
    /// may be larger than what it holds (fewer bytes are then written).
    pub fn read_into(
        &mut self,
        address: u32,
        len: u64,
        out: &mut dyn Write,
        events: Sink,
    ) -> Result<u64> {
        let r = self.read_from_idle(address, len, out, events);
        if let Err(DfuError::Interrupted { .. }) = &r {
            // Between two requests: back to dfuIDLE, so that the next run starts clean.
            let _ = self.end_upload().and_then(|()| self.abort());
        }
        r
    }

    fn read_from_idle(
        &mut self,
        address: u32,
        len: u64,
        out: &mut dyn Write,
        events: Sink,
    ) -> Result<u64> {
        for n in self.ensure_idle()? {
            events(&n.into());
        }
        if !self.info.functional.can_upload() {
            return Err(DfuError::Unsupported {
                code: Code::NoUpload,
                what: "this device cannot upload (bmAttributes bit 1 is clear)".into(),
            });
        }
        if !self.info.is_dfuse() {
            return self.plain_read(address, len, out, events);
        }
        events(&Event::Start {
            phase: Phase::Read,
            total: len,
        });
        let mut done = 0;
        self.dfuse_read_into(address, len, Phase::Read, &mut done, events, out)?;
        self.end_upload()?;
        events(&Event::Done { phase: Phase::Read });
        Ok(done)
    }

    /// [`read_into`](Self::read_into) on a plain DFU device: upload from the base, discard
    /// up to `address`.
    fn plain_read(
        &mut self,
        address: u32,
        len: u64,
        out: &mut dyn Write,
        events: Sink,
    ) -> Result<u64> {
        let base = self.info.plain_base(self.alt);
        let Some(skip) = address.checked_sub(base).map(u64::from) else {
            return Err(DfuError::usage(format!(
                "0x{address:08x} is below the start of this plain DFU device's memory (0x{base:08x}): it uploads from 0x{base:08x} on"
            )));
        };
        let want = skip.saturating_add(len);
        events(&Event::Start {
            phase: Phase::Read,
            total: if want >= dfu_proto::num::MAX_LEN {
                0
            } else {
                want
            },
        });
        let mut done = 0;
        let mut out = Skip {
            skip,
            out,
            written: 0,
        };
        let got = self.plain_upload_into(want, Phase::Read, &mut done, events, &mut out)?;
        events(&Event::Done { phase: Phase::Read });
        if got <= skip {
            return Err(DfuError::usage(format!(
                "0x{address:08x} is beyond the end of this plain DFU device's memory: it uploaded {got} bytes from 0x{base:08x}"
            )));
        }
        Ok(out.written)
    }
}

#[cfg(test)]
mod tests {
    use super::Skip;
    use std::io::Write;

    #[test]
    fn skip_drops_the_first_bytes_across_writes() {
        let mut v = Vec::new();
        let mut s = Skip {
            skip: 5,
            out: &mut v,
            written: 0,
        };
        s.write_all(&[1, 2, 3]).unwrap();
        s.write_all(&[4, 5, 6, 7]).unwrap();
        s.write_all(&[8]).unwrap();
        assert_eq!(s.written, 3);
        assert_eq!(v, [6, 7, 8]);
    }
}
