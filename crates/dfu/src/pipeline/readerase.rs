//! Reads and erases, planned like flashes: [`plan_read`] and [`plan_erase`] decide the
//! range, the alt setting and the findings (with the same codes as a flash: an address
//! outside the memory is `dfu::refused::outside-memory` whatever the command) from the
//! survey, without touching the device; [`DfuDevice::read_planned`] and
//! [`DfuDevice::erase_planned`] carry them out.

use crate::code::{Code, Finding};
use crate::device::DfuDevice;
use crate::error::Result;
use crate::events::{Event, Phase, Sink};
use crate::sectors::{describe_map, Memory};
use crate::survey::DeviceView;
use dfu_profiles::{Quirk, Role};
use dfu_proto::num::MAX_LEN;
use dfu_proto::{DfuseCommand, MemoryLayout, Sector};
use serde::Serialize;

/// A read, decided.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReadPlan {
    /// The alt setting read.
    pub alt: u8,
    /// First address.
    #[serde(serialize_with = "crate::json::hex32")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Addr"))]
    pub address: u32,
    /// Bytes to read; on a plain DFU device an upper bound (it ends the upload itself).
    pub length: u64,
    /// Every finding; a refusal stops the read before it starts.
    pub findings: Vec<Finding>,
}

/// An erase, decided.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErasePlan {
    /// The alt setting erased.
    pub alt: u8,
    /// True for a mass erase (the whole device).
    pub mass_erase: bool,
    /// The sectors to erase, in address order (empty for a mass erase).
    #[serde(serialize_with = "crate::json::sectors")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub sectors: Vec<Sector>,
    /// Every finding; a refusal stops the erase before it starts.
    pub findings: Vec<Finding>,
}

/// Plans a read of `length` bytes at `address` on the surveyed alt setting (defaults: the
/// whole alt, as dfu-util's `-U`). Plain DFU has no addresses: the device uploads from the
/// start of its memory, so an address above it is reached by reading up to it.
pub fn plan_read(view: &DeviceView, address: Option<u32>, length: Option<u64>) -> ReadPlan {
    let alt = view.alt;
    let mut findings = Vec::new();
    if !view.info.functional.can_upload() {
        findings.push(Finding::hard(
            Code::NoUpload,
            "this device cannot upload (bmAttributes bit 1 is clear)",
            "its bootloader does not send its memory back over DFU, so it cannot be read",
        ));
    }
    let (address, length) = if view.info.is_dfuse() {
        dfuse_span(view, address, length, &mut findings)
    } else {
        let base = view.info.plain_base(alt);
        let address = address.unwrap_or(base);
        if address < base {
            findings.push(Finding::hard(
                Code::OutsideMemory,
                format!("0x{address:08x} is below the start of this plain DFU device's memory (0x{base:08x}): it uploads from 0x{base:08x} on"),
                format!("it uploads its memory from 0x{base:08x} on"),
            ));
        }
        (address, length.unwrap_or(MAX_LEN))
    };
    ReadPlan {
        alt,
        address,
        length,
        findings,
    }
}

fn dfuse_span(
    view: &DeviceView,
    address: Option<u32>,
    length: Option<u64>,
    findings: &mut Vec<Finding>,
) -> (u32, u64) {
    let Some(layout) = view.layout(view.alt) else {
        if let (Some(s), Some(n)) = (address, length) {
            return (s, n);
        }
        findings.push(Finding::hard(
            Code::NoLayout,
            format!(
                "alt setting {} has no usable memory layout, so the range to read is not known",
                view.alt
            ),
            "give the address and the length, or the device's layout (\"@Name/0xADDR/N*SIZEKg\")",
        ));
        return (address.unwrap_or(0), length.unwrap_or(0));
    };
    let address = address.unwrap_or_else(|| layout.segments.first().map_or(0, |s| s.start));
    let length = match length {
        Some(n) => n,
        None if layout.sector_at(address).is_some() => {
            contiguous_end(layout, address) - u64::from(address)
        }
        None => 1,
    };
    if let Some(at) = layout.first_uncovered(address, length) {
        findings.push(outside(view, layout, at, address, length));
    } else if let Some(s) = layout
        .sectors_overlapping(address, length)
        .into_iter()
        .find(|s| !s.flags.readable())
    {
        findings.push(Finding::hard(
            Code::NoUpload,
            format!("0x{:08x} is not readable ({})", s.start, s.flags.describe()),
            describe_map(layout, view.info.profile.as_ref(), view.alt),
        ));
    }
    (address, length)
}

/// `at` is outside the selected alt's memory: the finding names the alt that holds it.
fn outside(view: &DeviceView, layout: &MemoryLayout, at: u64, start: u32, len: u64) -> Finding {
    let last = u64::from(start) + len.max(1) - 1;
    let mut detail = describe_map(layout, view.info.profile.as_ref(), view.alt);
    let holder = view
        .layouts
        .iter()
        .find(|(a, l)| *a != view.alt && u32::try_from(at).is_ok_and(|x| l.sector_at(x).is_some()));
    if let Some((a, _)) = holder {
        let name = view
            .info
            .alts
            .iter()
            .find(|x| x.alt == *a)
            .map(|x| x.display_name())
            .unwrap_or_default();
        detail.push_str(&format!("alt setting {a} {name:?} holds 0x{at:08x}\n"));
    }
    Finding::hard(
        Code::OutsideMemory,
        format!(
            "0x{at:08x} is outside the memory of alt setting {} (the range is 0x{start:08x}-0x{last:08x})",
            view.alt
        ),
        detail,
    )
}

/// One past the last byte of the readable memory that runs on without a gap from `address`.
fn contiguous_end(layout: &MemoryLayout, address: u32) -> u64 {
    let mut segments = layout.segments.clone();
    segments.sort_by_key(|s| s.start);
    let mut end = u64::from(address);
    for s in segments.iter().filter(|s| s.end() > u64::from(address)) {
        if u64::from(s.start) > end || !s.flags.readable() {
            break;
        }
        end = s.end();
    }
    end.max(u64::from(address) + 1)
}

/// Plans an erase of `range` (widened to whole sectors), or of the whole device (`None`).
/// Refuses what the memory checks refuse, OTP memory, ranges with no erasable sector, and a
/// mass erase that would remove the bootloader, system firmware or settings, unless
/// `force` (for what may be overridden).
pub fn plan_erase(view: &DeviceView, range: Option<(u32, u64)>, force: bool) -> ErasePlan {
    let alt = view.alt;
    let mut findings = Vec::new();
    let mut sectors = Vec::new();
    if !view.info.is_dfuse() {
        findings.push(Finding::hard(
            Code::NoErase,
            "plain DFU devices have no erase command (they erase as they write)",
            "flash the new image directly: the device erases what it writes",
        ));
    } else if let Some((address, len)) = range {
        sectors = erase_sectors(view, address, len, &mut findings);
    } else {
        let lost = crate::pipeline::lost_by_mass_erase(view.info.profile.as_ref());
        if !lost.is_empty() {
            findings.push(Finding::refusal(
                Code::MassEraseSystem,
                format!("a mass erase would also remove {}", lost.join(", ")),
                "the device may not start, or not enter DFU mode again, until they are restored",
            ));
        }
    }
    ErasePlan {
        alt,
        mass_erase: range.is_none(),
        sectors,
        findings: findings.into_iter().map(|f| f.forced(force)).collect(),
    }
}

fn erase_sectors(
    view: &DeviceView,
    address: u32,
    len: u64,
    findings: &mut Vec<Finding>,
) -> Vec<Sector> {
    let profile = view.info.profile.as_ref();
    let Some(layout) = view.layout(view.alt) else {
        findings.push(Finding::hard(
            Code::NoLayout,
            format!("alt setting {} has no usable memory layout", view.alt),
            "give the device's layout (\"@Name/0xADDR/N*SIZEKg\") or a profile file",
        ));
        return Vec::new();
    };
    let otp = profile.and_then(|p| {
        p.regions
            .iter()
            .find(|g| g.alt == view.alt && g.role == Role::Otp && g.overlaps(address, len))
    });
    if let Some(g) = otp {
        findings.push(Finding::hard(
            Code::NoErase,
            format!(
                "the range overlaps the {} (0x{:08x}-0x{:08x}): one-time programmable memory is never erased",
                g.name,
                g.start,
                g.end() - 1
            ),
            "OTP bits once programmed stay programmed; nothing can erase them",
        ));
        return Vec::new();
    }
    let memory = Memory {
        layout,
        profile,
        alt: view.alt,
    };
    let (sectors, found) = memory.sectors(&[(address, len)], "the range");
    let refused = found.iter().any(Finding::refuses);
    findings.extend(found);
    if sectors.is_empty() && !refused {
        findings.push(Finding::hard(
            Code::NoErase,
            format!(
                "0x{address:08x}-0x{:08x} holds no erasable sector",
                u64::from(address) + len.max(1) - 1
            ),
            describe_map(layout, profile, view.alt),
        ));
    }
    sectors
}

impl DfuDevice {
    /// Carries out a read plan (checked by the caller) into memory.
    pub fn read_planned(&mut self, plan: &ReadPlan, events: Sink) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        self.read_planned_into(plan, &mut data, events)?;
        Ok(data)
    }

    /// Carries out a read plan (checked by the caller) into `out`, block by block (see
    /// [`DfuDevice::read_into`]); returns the number of bytes written to `out`.
    pub fn read_planned_into(
        &mut self,
        plan: &ReadPlan,
        out: &mut dyn std::io::Write,
        events: Sink,
    ) -> Result<u64> {
        self.select_alt(plan.alt)?;
        self.read_into(plan.address, plan.length, out, events)
    }

    /// Carries out an erase plan (checked by the caller), adding each sector to `erased` as
    /// soon as it is done, so that a failure leaves an exact record.
    pub fn erase_planned(
        &mut self,
        plan: &ErasePlan,
        erased: &mut Vec<(u32, u32)>,
        events: Sink,
    ) -> Result<()> {
        self.select_alt(plan.alt)?;
        for n in self.ensure_idle()? {
            events(&n.into());
        }
        if plan.mass_erase {
            return self.mass_erase(events);
        }
        self.erase_sectors(&plan.sectors, erased, events)
    }

    /// Erases the whole device (DfuSe mass erase). A bootloader that runs no mass erase
    /// (Particle's: [`Quirk::ParticleDfuseCommands`]) gets every erasable sector of the
    /// selected alt setting erased one by one instead, with a note.
    pub(crate) fn mass_erase(&mut self, events: Sink) -> Result<()> {
        let by_sector = self
            .profile()
            .is_some_and(|p| p.has_quirk(Quirk::ParticleDfuseCommands));
        if let (true, Some(layout)) = (by_sector, self.layout.clone()) {
            events(&Event::Note {
                code: Code::SectorErase,
                message: "this bootloader runs no mass erase: erasing every sector one by one"
                    .into(),
            });
            let sectors: Vec<Sector> = layout.sectors().filter(|s| s.flags.erasable()).collect();
            return self.erase_sectors(&sectors, &mut Vec::new(), events);
        }
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

    /// Erases `sectors` one by one (DfuSe), adding each to `erased` as soon as it is done.
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
