//! Whole operations: flash (plan, compare, erase, write, verify, leave), read, erase.

use crate::device::DfuDevice;
use crate::dfuse::LeaveOutcome;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use crate::plan::{plan_dfuse, Plan, Run};
use dfu_profiles::Quirk;
use dfu_proto::{DfuseCommand, Sector};
use serde::Serialize;

/// How to flash.
#[derive(Debug, Clone)]
pub struct FlashOptions {
    /// Read back and compare what was written (default on).
    pub verify: bool,
    /// Leave DFU mode and start the application at the end (default on).
    pub leave: bool,
    /// Read sectors first and skip those that already hold the image (default on).
    pub skip_unchanged: bool,
    /// Mass-erase instead of erasing the touched sectors.
    pub mass_erase: bool,
    /// Allow writes into bootloader and settings regions.
    pub force: bool,
    /// Plan and check only.
    pub dry_run: bool,
    /// Where the application starts (for the DfuSe leave); default: the lowest address.
    pub leave_address: Option<u32>,
}

impl Default for FlashOptions {
    fn default() -> Self {
        FlashOptions {
            verify: true,
            leave: true,
            skip_unchanged: true,
            mass_erase: false,
            force: false,
            dry_run: false,
            leave_address: None,
        }
    }
}

/// What a flash did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlashReport {
    /// Notes for the user.
    pub notes: Vec<String>,
    /// Sectors erased (start, size).
    pub erased: Vec<(u32, u32)>,
    /// Runs written (start, length).
    pub written: Vec<(u32, u64)>,
    /// Sectors skipped because they already held the image (start, size).
    pub skipped: Vec<(u32, u32)>,
    /// True when every written byte was read back and matched.
    pub verified: bool,
    /// How leaving DFU mode went (None: not asked, or not applicable).
    pub leave: Option<LeaveOutcome>,
    /// The plans (sectors, runs; one per file or group of files sharing sectors), for
    /// --dry-run and JSON.
    pub plans: Vec<Plan>,
}

/// A failed flash: the error and exactly what had been done before it.
#[derive(Debug)]
pub struct FlashFailure {
    /// What went wrong.
    pub error: DfuError,
    /// What was done before.
    pub done: Box<FlashReport>,
}

impl From<DfuError> for FlashFailure {
    fn from(error: DfuError) -> Self {
        FlashFailure {
            error,
            done: Box::default(),
        }
    }
}

fn sector_runs(runs: &[Run], s: &Sector) -> Vec<(u32, Vec<u8>)> {
    runs.iter()
        .filter_map(|r| {
            let a = u64::from(r.address).max(u64::from(s.start));
            let b = r.end().min(s.end());
            (a < b).then(|| {
                let off = (a - u64::from(r.address)) as usize;
                (a as u32, r.data[off..off + (b - a) as usize].to_vec())
            })
        })
        .collect()
}

/// Records a note in the report and emits it as an event.
fn note(report: &mut FlashReport, events: Sink, message: String) {
    events(&Event::Note {
        message: message.clone(),
    });
    report.notes.push(message);
}

impl DfuDevice {
    /// Flashes `groups` of runs (addresses resolved, no overlaps), one group after the other
    /// in the given order (each file is one group: its sectors are erased just before it is
    /// written, so an interruption leaves earlier files complete).
    pub fn flash(
        &mut self,
        groups: Vec<Vec<Run>>,
        opts: &FlashOptions,
        events: Sink,
    ) -> Result<FlashReport, FlashFailure> {
        let mut report = FlashReport::default();
        match self.ensure_idle() {
            Ok(notes) => {
                for n in notes {
                    note(&mut report, events, n);
                }
            }
            Err(error) => {
                return Err(FlashFailure {
                    error,
                    done: Box::new(report),
                })
            }
        }
        let r = if self.info.is_dfuse() {
            self.flash_dfuse(groups, opts, events, &mut report)
        } else {
            self.flash_plain(
                groups.into_iter().flatten().collect(),
                opts,
                events,
                &mut report,
            )
        };
        match r {
            Ok(()) => Ok(report),
            Err(error) => Err(FlashFailure {
                error,
                done: Box::new(report),
            }),
        }
    }

    fn flash_dfuse(
        &mut self,
        groups: Vec<Vec<Run>>,
        opts: &FlashOptions,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let layout = self.layout.clone().ok_or_else(|| DfuError::Unsupported {
            what: format!("alt {} has no usable memory layout, so addresses cannot be checked", self.alt),
            help: "give the device's layout with --layout \"@Name/0xADDR/N*SIZEKg\" or a profile with --profile FILE".into(),
        })?;
        let profile = self.info.profile.clone();
        let plan_of =
            |runs: Vec<Run>| plan_dfuse(&layout, profile.as_ref(), self.alt, runs, opts.force);
        let groups: Vec<Vec<Run>> = groups.into_iter().filter(|g| !g.is_empty()).collect();
        if groups.iter().all(|g| g.iter().all(|r| r.data.is_empty())) {
            plan_of(Vec::new())?;
        }
        let mut plans = groups
            .into_iter()
            .map(&plan_of)
            .collect::<Result<Vec<Plan>>>()?;
        // Files that share a sector must be erased and written together.
        while let Some((i, j)) = shared_sector(&plans) {
            let b = plans.remove(j);
            let mut runs = std::mem::take(&mut plans[i].writes);
            runs.extend(b.writes);
            runs.sort_by_key(|r| r.address);
            plans[i] = plan_of(runs)?;
        }
        for p in &plans {
            for n in &p.notes {
                note(report, events, n.clone());
            }
        }
        let leave_at = opts
            .leave_address
            .or_else(|| {
                plans
                    .iter()
                    .flat_map(|p| &p.writes)
                    .map(|r| r.address)
                    .min()
            })
            .unwrap_or(0);
        if opts.dry_run {
            report.plans = plans;
            return Ok(());
        }
        let can_read = self.info.functional.can_upload();
        if opts.mass_erase {
            events(&Event::Start {
                phase: Phase::Erase,
                total: 0,
            });
            self.dfuse_command(DfuseCommand::MassErase)?;
            events(&Event::Done {
                phase: Phase::Erase,
            });
            for p in &mut plans {
                p.erase.clear();
            }
            note(report, events, "mass-erased the device".into());
        }
        for p in &mut plans {
            if opts.skip_unchanged && can_read && !opts.mass_erase {
                self.compare(p, events, report)?;
            }
            self.erase_and_write(p, events, report)?;
        }
        if opts.verify {
            if can_read {
                let runs: Vec<Run> = plans
                    .iter()
                    .flat_map(|p| p.writes.iter().cloned())
                    .collect();
                self.verify_runs(&runs, events)?;
                report.verified = true;
            } else {
                note(
                    report,
                    events,
                    "not verified: the device cannot upload (bmAttributes bit 1 clear)".into(),
                );
            }
        }
        report.plans = plans;
        self.end_upload()?;
        if opts.leave {
            events(&Event::Start {
                phase: Phase::Leave,
                total: 0,
            });
            let outcome = self.dfuse_leave(leave_at)?;
            self.judge_leave(&outcome, report, events)?;
            report.leave = Some(outcome);
            events(&Event::Done {
                phase: Phase::Leave,
            });
        }
        Ok(())
    }

    fn erase_and_write(
        &mut self,
        plan: &Plan,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let erase_total: u64 = plan.erase.iter().map(|s| u64::from(s.size)).sum();
        let covered: u64 = plan
            .writes
            .iter()
            .map(|r| plan.erase.iter().map(|s| overlap(r, s)).sum::<u64>())
            .sum();
        let outside = erase_total.saturating_sub(covered);
        if outside > 0 {
            note(
                report,
                events,
                format!("erasing whole sectors also clears {outside} byte(s) next to the image"),
            );
        }
        if !plan.erase.is_empty() {
            events(&Event::Start {
                phase: Phase::Erase,
                total: erase_total,
            });
            let mut done = 0;
            for s in &plan.erase {
                self.dfuse_command(DfuseCommand::ErasePage(s.start))?;
                report.erased.push((s.start, s.size));
                done += u64::from(s.size);
                events(&Event::Progress {
                    phase: Phase::Erase,
                    done,
                });
            }
            events(&Event::Done {
                phase: Phase::Erase,
            });
        }
        let total = plan.write_bytes();
        if total == 0 {
            return Ok(());
        }
        events(&Event::Start {
            phase: Phase::Write,
            total,
        });
        let mut done = 0;
        for r in &plan.writes {
            let before = done;
            let res = self.dfuse_write(r.address, &r.data, &mut done, events);
            if done > before {
                report.written.push((r.address, done - before));
            }
            res?;
        }
        events(&Event::Done {
            phase: Phase::Write,
        });
        Ok(())
    }

    /// Reads the touched sectors and drops from the plan the ones that already hold the
    /// image; a blank sector is written without an erase. Reads stream across sectors, and a
    /// sector's reading stops at the first block that proves it must be erased.
    fn compare(&mut self, plan: &mut Plan, events: Sink, report: &mut FlashReport) -> Result<()> {
        let total = plan.write_bytes();
        events(&Event::Start {
            phase: Phase::Compare,
            total,
        });
        let mut done = 0;
        let mut keep_erase = Vec::new();
        let mut skip_ranges: Vec<(u32, u32)> = Vec::new();
        let mut blank_sectors = 0;
        for s in plan.erase.clone() {
            let parts = sector_runs(&plan.writes, &s);
            let (same, blank) = self.compare_parts(&parts, &mut done, events)?;
            if same {
                skip_ranges.push((s.start, s.size));
            } else if blank && self.rest_is_blank(&s, &parts)? {
                blank_sectors += 1;
            } else {
                keep_erase.push(s);
            }
        }
        self.end_upload()?;
        events(&Event::Done {
            phase: Phase::Compare,
        });
        if blank_sectors > 0 {
            note(
                report,
                events,
                format!("{blank_sectors} sector(s) were already blank: written without erasing"),
            );
        }
        if !skip_ranges.is_empty() {
            note(
                report,
                events,
                format!(
                    "{} sector(s) already held the image: skipped",
                    skip_ranges.len()
                ),
            );
            let mut writes = Vec::new();
            for r in plan.writes.drain(..) {
                writes.extend(cut_out(r, &skip_ranges));
            }
            plan.writes = writes;
            report.skipped = skip_ranges;
        }
        plan.erase = keep_erase;
        Ok(())
    }

    /// Compares the image's bytes in one sector with the device, block by block. Returns
    /// (identical, blank where the image goes); stops early once it is neither.
    fn compare_parts(
        &mut self,
        parts: &[(u32, Vec<u8>)],
        done: &mut u64,
        events: Sink,
    ) -> Result<(bool, bool)> {
        let xfer = usize::from(self.transfer_size);
        let (mut same, mut blank) = (true, true);
        for (a, data) in parts {
            for (i, chunk) in data.chunks(xfer).enumerate() {
                let at = a + (i * xfer) as u32;
                let cur = self.dfuse_read(at, chunk.len() as u64, Phase::Compare, done, events)?;
                same &= cur == chunk;
                blank &= cur.iter().all(|b| *b == 0xFF);
                if !same && !blank {
                    return Ok((false, false));
                }
            }
        }
        Ok((same, blank))
    }

    /// True when the bytes of sector `s` outside the image are all 0xFF.
    fn rest_is_blank(&mut self, s: &Sector, parts: &[(u32, Vec<u8>)]) -> Result<bool> {
        let xfer = u64::from(self.transfer_size);
        let mut pos = u64::from(s.start);
        let mut gaps = Vec::new();
        for (a, data) in parts {
            if u64::from(*a) > pos {
                gaps.push((pos, u64::from(*a) - pos));
            }
            pos = u64::from(*a) + data.len() as u64;
        }
        if s.end() > pos {
            gaps.push((pos, s.end() - pos));
        }
        for (start, len) in gaps {
            let mut off = 0;
            while off < len {
                let n = (len - off).min(xfer);
                let mut ignore = 0;
                let cur = self.dfuse_read(
                    (start + off) as u32,
                    n,
                    Phase::Compare,
                    &mut ignore,
                    &mut |_| {},
                )?;
                if cur.iter().any(|b| *b != 0xFF) {
                    return Ok(false);
                }
                off += n;
            }
        }
        Ok(true)
    }

    fn verify_runs(&mut self, runs: &[Run], events: Sink) -> Result<()> {
        let total: u64 = runs.iter().map(|r| r.data.len() as u64).sum();
        events(&Event::Start {
            phase: Phase::Verify,
            total,
        });
        let mut done = 0;
        for r in runs {
            let back = self.dfuse_read(
                r.address,
                r.data.len() as u64,
                Phase::Verify,
                &mut done,
                events,
            )?;
            compare_bytes(r.address, &r.data, &back)?;
        }
        events(&Event::Done {
            phase: Phase::Verify,
        });
        Ok(())
    }

    /// Decides whether a lost status after leave is expected for this device.
    fn judge_leave(
        &self,
        outcome: &LeaveOutcome,
        report: &mut FlashReport,
        events: Sink,
    ) -> Result<()> {
        let LeaveOutcome::StatusLost { error } = outcome else {
            return Ok(());
        };
        let profile = self.info.profile.as_ref();
        let bootloader = self
            .modules
            .iter()
            .find(|m| m.function == dfu_image::ModuleFunction::Bootloader)
            .map(|m| m.version);
        // Devices that always reset, and Particle bootloaders older than the fix (or whose
        // version could not be read) lose the status; a fixed one must answer.
        let expected = profile.is_some_and(|p| {
            p.has_quirk(Quirk::ResetOnLeave)
                || p.leave
                    .as_ref()
                    .is_some_and(|l| bootloader.is_none_or(|v| v < l.fixed_in_module))
        });
        let verified = if report.verified {
            "verified before leaving"
        } else {
            "written"
        };
        if expected {
            let p = profile.map(|p| p.name.as_str()).unwrap_or_default();
            let why = match (profile.and_then(|p| p.leave.as_ref()), bootloader) {
                (Some(l), Some(v)) => format!(
                    "this {p} has bootloader module version {v}; bootloaders before {} (module version {}) reset without answering",
                    l.fixed_in, l.fixed_in_module
                ),
                (Some(l), None) => format!(
                    "{p} bootloaders before {} reset without answering; this one's version could not be read",
                    l.fixed_in
                ),
                (None, _) => format!("the {p} bootloader resets without answering"),
            };
            note(
                report,
                events,
                format!("the device restarted before answering the last status request ({why}); the image was {verified}, so this is harmless"),
            );
            Ok(())
        } else {
            Err(DfuError::Unsupported {
                what: format!(
                    "the image was {verified}, but the device did not answer after the leave request ({error})"
                ),
                help: format!(
                    "the device should have answered{}; it may not have started the application: reset or power-cycle it; if it comes back in DFU mode, the application did not start",
                    bootloader.map(|v| format!(" (its bootloader, module version {v}, is one that answers)")).unwrap_or_default()
                ),
            })
        }
    }

    fn flash_plain(
        &mut self,
        runs: Vec<Run>,
        opts: &FlashOptions,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let base = self
            .info
            .profile
            .as_ref()
            .and_then(|p| p.alts.get(usize::from(self.alt)))
            .and_then(|a| a.real_layout())
            .map(|l| l.segments[0].start);
        let [run] = runs.as_slice() else {
            return Err(DfuError::Refused {
                reason: format!(
                    "the image has {} separate runs; a plain DFU device takes one contiguous image",
                    runs.len()
                ),
                help: "convert it to one binary (`dfu image convert IN -o OUT.bin --to bin`)"
                    .into(),
            });
        };
        if run.data.is_empty() {
            return Err(DfuError::Refused {
                reason: "the image is empty (0 bytes): there is nothing to write".into(),
                help: "the build probably failed without saying so: rebuild and check the size of the output file".into(),
            });
        }
        if let Some(b) = base {
            if run.address != b {
                return Err(DfuError::Refused {
                    reason: format!(
                        "the image starts at 0x{:08x}, but this plain DFU device writes from 0x{b:08x}",
                        run.address
                    ),
                    help: format!("plain DFU has no addresses: build the image for 0x{b:08x}, or pass a raw binary"),
                });
            }
        }
        if opts.dry_run {
            report.plans.push(Plan {
                erase: Vec::new(),
                writes: runs.clone(),
                notes: vec!["plain DFU: the device erases and places the blocks itself".into()],
            });
            return Ok(());
        }
        let mut done = 0;
        events(&Event::Start {
            phase: Phase::Write,
            total: run.data.len() as u64,
        });
        let block = self.plain_download(&run.data, &mut done, events);
        if done > 0 {
            report.written.push((run.address, done));
        }
        let block = block?;
        events(&Event::Done {
            phase: Phase::Write,
        });
        let tolerant = self.info.functional.manifestation_tolerant();
        let can_verify = opts.verify && self.info.functional.can_upload();
        let idle = if tolerant || !can_verify {
            self.plain_manifest(block)?
        } else {
            // Manifestation would restart an intolerant device: read back first.
            self.abort()?;
            note(
                report,
                events,
                "read back before manifestation (the device restarts after it)".into(),
            );
            true
        };
        if opts.verify {
            if can_verify && idle {
                events(&Event::Start {
                    phase: Phase::Verify,
                    total: run.data.len() as u64,
                });
                let mut vd = 0;
                let back =
                    self.plain_upload(run.data.len() as u64, Phase::Verify, &mut vd, events)?;
                compare_bytes(run.address, &run.data, &back)?;
                events(&Event::Done {
                    phase: Phase::Verify,
                });
                report.verified = true;
            } else {
                note(
                    report,
                    events,
                    "not verified: the device cannot upload after manifestation".into(),
                );
            }
        }
        if opts.leave {
            events(&Event::Start {
                phase: Phase::Leave,
                total: 0,
            });
            if idle {
                match self.t.reset() {
                    Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
                    Err(e) => return Err(DfuError::usb("USB reset to start the application", e)),
                }
            }
            report.leave = Some(LeaveOutcome::Acknowledged);
            events(&Event::Done {
                phase: Phase::Leave,
            });
        }
        Ok(())
    }

    /// Reads `len` bytes at `address` (DfuSe), or the first `len` bytes (plain DFU).
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
        events(&Event::Start {
            phase: Phase::Read,
            total: len,
        });
        let mut done = 0;
        let data = if self.info.is_dfuse() {
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
            let data = self.dfuse_read(address, len, Phase::Read, &mut done, events)?;
            self.end_upload()?;
            data
        } else {
            self.plain_upload(len, Phase::Read, &mut done, events)?
        };
        events(&Event::Done { phase: Phase::Read });
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
            events(&Event::Start {
                phase: Phase::Erase,
                total: 0,
            });
            self.dfuse_command(DfuseCommand::MassErase)?;
            events(&Event::Done {
                phase: Phase::Erase,
            });
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
        let total = plan.erase.iter().map(|s| u64::from(s.size)).sum();
        events(&Event::Start {
            phase: Phase::Erase,
            total,
        });
        let mut done = 0;
        let mut erased = Vec::new();
        for s in plan.erase {
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
        Ok(erased)
    }
}

/// The first pair of plans that erase a common sector.
fn shared_sector(plans: &[Plan]) -> Option<(usize, usize)> {
    for i in 0..plans.len() {
        for j in i + 1..plans.len() {
            if plans[i].erase.iter().any(|s| plans[j].erase.contains(s)) {
                return Some((i, j));
            }
        }
    }
    None
}

fn overlap(r: &Run, s: &Sector) -> u64 {
    let a = u64::from(r.address).max(u64::from(s.start));
    r.end().min(s.end()).saturating_sub(a)
}

fn cut_out(r: Run, holes: &[(u32, u32)]) -> Vec<Run> {
    let mut out = vec![r];
    for &(start, size) in holes {
        let hs = u64::from(start);
        let he = hs + u64::from(size);
        let mut next = Vec::new();
        for r in out {
            if r.end() <= hs || u64::from(r.address) >= he {
                next.push(r);
                continue;
            }
            if u64::from(r.address) < hs {
                let n = (hs - u64::from(r.address)) as usize;
                next.push(Run::new(r.address, r.data[..n].to_vec()));
            }
            if r.end() > he {
                let n = (he - u64::from(r.address)) as usize;
                next.push(Run::new(he as u32, r.data[n..].to_vec()));
            }
        }
        out = next;
    }
    out
}

fn compare_bytes(address: u32, want: &[u8], got: &[u8]) -> Result<()> {
    let mismatches =
        want.iter().zip(got).filter(|(a, b)| a != b).count() + want.len().saturating_sub(got.len());
    if mismatches == 0 {
        return Ok(());
    }
    let i = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len());
    Err(DfuError::Verify {
        address: address + i as u32,
        expected: want[i],
        found: got.get(i).copied().unwrap_or(0),
        mismatches,
        run_start: address,
        run_end: u64::from(address) + want.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_skipped_sectors_out_of_runs() {
        let r = Run::new(0x1000, (0..0x3000u32).map(|i| i as u8).collect());
        let parts = cut_out(r, &[(0x2000, 0x1000)]);
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].address, parts[0].data.len()), (0x1000, 0x1000));
        assert_eq!((parts[1].address, parts[1].data.len()), (0x3000, 0x1000));
        assert_eq!(parts[1].data[0], 0x00);
    }

    #[test]
    fn byte_comparison_names_the_first_difference() {
        assert!(compare_bytes(0x100, &[1, 2, 3], &[1, 2, 3]).is_ok());
        let e = compare_bytes(0x100, &[1, 2, 3], &[1, 9, 3]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("verify failed at 0x00000101: wrote 0x02, read back 0x09"),
            "{e}"
        );
        assert!(compare_bytes(0x100, &[1, 2, 3], &[1, 2]).is_err());
    }
}
