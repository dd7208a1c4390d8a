//! Reading memory (planned by [`crate::readerase`]).

use crate::code::Code;
use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};

impl DfuDevice {
    /// Reads `len` bytes at `address` (the range is checked by [`crate::readerase::plan_read`]).
    /// DfuSe: from `address`.
    /// Plain DFU has no addresses: the device uploads from the start of its memory (its
    /// base, [`DeviceInfo::plain_base`](crate::DeviceInfo::plain_base)), so an address above
    /// the base is reached by reading up to it and discarding what comes before; one below
    /// the base is refused. A plain device ends its upload early with a short block: `len`
    /// may be larger than what it holds (the result is then shorter).
    pub fn read(&mut self, address: u32, len: u64, events: Sink) -> Result<Vec<u8>> {
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
            return self.plain_read(address, len, events);
        }
        events(&Event::Start {
            phase: Phase::Read,
            total: len,
        });
        let mut done = 0;
        let data = self.dfuse_read(address, len, Phase::Read, &mut done, events)?;
        self.end_upload()?;
        events(&Event::Done { phase: Phase::Read });
        Ok(data)
    }

    /// [`read`](Self::read) on a plain DFU device: upload from the base, discard up to
    /// `address`.
    fn plain_read(&mut self, address: u32, len: u64, events: Sink) -> Result<Vec<u8>> {
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
        let mut data = self.plain_upload(want, Phase::Read, &mut done, events)?;
        events(&Event::Done { phase: Phase::Read });
        if (data.len() as u64) <= skip {
            return Err(DfuError::usage(format!(
                "0x{address:08x} is beyond the end of this plain DFU device's memory: it uploaded {} bytes from 0x{base:08x}",
                data.len()
            )));
        }
        data.drain(..skip as usize);
        Ok(data)
    }
}
