//! Reading and erasing memory.

use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use crate::plan::{plan_dfuse, Run};
use dfu_proto::{DfuseCommand, Sector};

impl DfuDevice {
    /// Reads `len` bytes at `address`. DfuSe: from `address`, checked against the layout.
    /// Plain DFU has no addresses: the device uploads from the start of its memory (its
    /// base, [`DeviceInfo::plain_base`](crate::DeviceInfo::plain_base)), so an address above
    /// the base is reached by reading up to it and discarding what comes before; one below
    /// the base is refused. A plain device ends its upload early with a short block: `len`
    /// may be larger than what it holds (the result is then shorter).
    pub fn read(&mut self, address: u32, len: u64, events: Sink) -> Result<Vec<u8>> {
        for n in self.ensure_idle()? {
            events(&Event::Note { message: n });
        }
        if !self.info.functional.can_upload() {
            return Err(DfuError::Unsupported {
                what: "this device cannot upload (bmAttributes bit 1 is clear)".into(),
                help: "reading is not possible over DFU on this device".into(),
            });
        }
        if !self.info.is_dfuse() {
            return self.plain_read(address, len, events);
        }
        if let Some(l) = &self.layout {
            if let Some(at) = l.first_uncovered(address, len) {
                return Err(DfuError::Usage(format!(
                    "0x{at:08x} is outside the device's memory:\n{l}"
                )));
            }
            if let Some(s) = l
                .sectors_overlapping(address, len)
                .into_iter()
                .find(|s| !s.flags.readable())
            {
                return Err(DfuError::Usage(format!(
                    "0x{:08x} is not readable:\n{l}",
                    s.start
                )));
            }
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
            return Err(DfuError::Usage(format!(
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
            return Err(DfuError::Usage(format!(
                "0x{address:08x} is beyond the end of this plain DFU device's memory: it uploaded {} bytes from 0x{base:08x}",
                data.len()
            )));
        }
        data.drain(..skip as usize);
        Ok(data)
    }

    /// Erases `[address, address + len)` sector by sector, or everything.
    pub fn erase(
        &mut self,
        range: Option<(u32, u64)>,
        force: bool,
        events: Sink,
    ) -> Result<Vec<(u32, u32)>> {
        for n in self.ensure_idle()? {
            events(&Event::Note { message: n });
        }
        if !self.info.is_dfuse() {
            return Err(DfuError::Unsupported {
                what: "plain DFU devices have no erase command (they erase as they write)".into(),
                help: "flash the new image directly".into(),
            });
        }
        let Some((address, len)) = range else {
            self.mass_erase(events)?;
            return Ok(Vec::new());
        };
        let layout = self.layout.clone().ok_or_else(|| DfuError::Unsupported {
            what: "no memory layout for this alt setting".into(),
            help: "give one with --layout".into(),
        })?;
        let plan = plan_dfuse(
            &layout,
            self.info.profile.as_ref(),
            self.alt,
            vec![Run::new(address, vec![0xFF; len as usize])],
            force,
        )?;
        let mut erased = Vec::new();
        self.erase_sectors(&plan.erase, &mut erased, events)?;
        Ok(erased)
    }

    /// Erases the whole device (DfuSe mass erase).
    pub(crate) fn mass_erase(&mut self, events: Sink) -> Result<()> {
        events(&Event::Start {
            phase: Phase::Erase,
            total: 0,
        });
        self.dfuse_command(DfuseCommand::MassErase)?;
        events(&Event::Done {
            phase: Phase::Erase,
        });
        Ok(())
    }

    /// Erases `sectors` one by one (DfuSe), adding each to `erased` as soon as it is done,
    /// so that a failure leaves an exact record.
    pub(crate) fn erase_sectors(
        &mut self,
        sectors: &[Sector],
        erased: &mut Vec<(u32, u32)>,
        events: Sink,
    ) -> Result<()> {
        let total = sectors.iter().map(|s| u64::from(s.size)).sum();
        events(&Event::Start {
            phase: Phase::Erase,
            total,
        });
        let mut done = 0;
        for s in sectors {
            self.dfuse_command(DfuseCommand::ErasePage(s.start))?;
            erased.push((s.start, s.size));
            done += u64::from(s.size);
            events(&Event::Progress {
                phase: Phase::Erase,
                done,
            });
        }
        events(&Event::Done {
            phase: Phase::Erase,
        });
        Ok(())
    }
}
