//! Reading and erasing memory.

use crate::code::{Code, Finding};
use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use crate::plan::Memory;
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
                code: Code::NoUpload,
                what: "this device cannot upload (bmAttributes bit 1 is clear)".into(),
            });
        }
        if !self.info.is_dfuse() {
            return self.plain_read(address, len, events);
        }
        if let Some(l) = &self.layout {
            if let Some(at) = l.first_uncovered(address, len) {
                return Err(DfuError::usage(format!(
                    "0x{at:08x} is outside the device's memory:\n{l}"
                )));
            }
            if let Some(s) = l
                .sectors_overlapping(address, len)
                .into_iter()
                .find(|s| !s.flags.readable())
            {
                return Err(DfuError::usage(format!(
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

    /// Erases `[address, address + len)` sector by sector, or everything (`None`). Refuses
    /// ranges the memory checks refuse, and a mass erase that would remove the bootloader,
    /// system firmware or settings, unless `force`.
    pub fn erase(
        &mut self,
        range: Option<(u32, u64)>,
        force: bool,
        events: Sink,
    ) -> Result<Vec<(u32, u32)>> {
        if !self.info.is_dfuse() {
            return Err(DfuError::Unsupported {
                code: Code::NoErase,
                what: "plain DFU devices have no erase command (they erase as they write)".into(),
            });
        }
        let Some((address, len)) = range else {
            let lost = crate::pipeline::lost_by_mass_erase(self.info.profile.as_ref());
            if !lost.is_empty() {
                let f = Finding::refusal(
                    Code::MassEraseSystem,
                    format!("a mass erase would also remove {}", lost.join(", ")),
                    "the device may not start, or not enter DFU mode again, until they are restored",
                );
                refuse_unless(f, force)?;
            }
            for n in self.ensure_idle()? {
                events(&Event::Note { message: n });
            }
            self.mass_erase(events)?;
            return Ok(Vec::new());
        };
        let layout = self.layout.clone().ok_or_else(|| {
            DfuError::refused(Finding::hard(
                Code::NoLayout,
                format!("alt setting {} has no usable memory layout", self.alt),
                "give the device's layout (\"@Name/0xADDR/N*SIZEKg\") or a profile file",
            ))
        })?;
        let memory = Memory {
            layout: &layout,
            profile: self.info.profile.as_ref(),
            alt: self.alt,
        };
        let otp = self.info.profile.as_ref().and_then(|p| {
            p.regions.iter().find(|g| {
                g.alt == self.alt && g.role == dfu_profiles::Role::Otp && g.overlaps(address, len)
            })
        });
        if let Some(g) = otp {
            return Err(DfuError::refused(Finding::hard(
                Code::Irreversible,
                format!(
                    "the range overlaps the {} (0x{:08x}-0x{:08x}): one-time programmable memory is never erased",
                    g.name,
                    g.start,
                    g.end() - 1
                ),
                "OTP bits once programmed stay programmed; nothing can erase them",
            )));
        }
        let (sectors, findings) = memory.sectors(&[(address, len)], "the range");
        for f in findings {
            refuse_unless(f, force)?;
        }
        for n in self.ensure_idle()? {
            events(&Event::Note { message: n });
        }
        let mut erased = Vec::new();
        self.erase_sectors(&sectors, &mut erased, events)?;
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
            let r = self.dfuse_command(DfuseCommand::ErasePage(s.start));
            if self.settled(&r, (s.start, u64::from(s.size))) {
                erased.push((s.start, s.size));
            }
            r?;
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

fn refuse_unless(f: Finding, force: bool) -> Result<()> {
    let f = f.forced(force);
    if f.refuses() {
        Err(DfuError::refused(f))
    } else {
        Ok(())
    }
}
