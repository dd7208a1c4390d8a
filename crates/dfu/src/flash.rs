//! Whole operations: flash (plan, compare, erase, write, verify, leave), read, erase.

use crate::compare::compare_bytes;
use crate::device::DfuDevice;
use crate::dfuse::LeaveOutcome;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use crate::plan::{plan_dfuse, Plan, Run};
use dfu_profiles::Quirk;
use dfu_proto::Sector;
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

/// Records a note in the report and emits it as an event.
pub(crate) fn note(report: &mut FlashReport, events: Sink, message: String) {
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
            self.mass_erase(events)?;
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
            self.erase_sectors(&plan.erase, &mut report.erased, events)?;
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
