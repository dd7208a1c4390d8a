//! Executing a [`FlashPlan`]: compare, announce, erase and write, verify, leave. A dry run
//! makes the same reads and stops before the first erase or write.

use crate::code::{Code, Note};
use crate::compare::compare_bytes;
use crate::device::DfuDevice;
use crate::dfuse::LeaveOutcome;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink, StepSummary};
use crate::pipeline::FlashPlan;
use crate::sectors::Step;
use serde::Serialize;

/// What a flash did (or, for a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlashReport {
    /// Notes for the user.
    #[serde(flatten, serialize_with = "crate::json::notes")]
    #[cfg_attr(feature = "schema", schemars(flatten, with = "crate::json::Notes"))]
    pub notes: Vec<Note>,
    /// True when the whole device was mass-erased.
    pub mass_erased: bool,
    /// Sectors erased (start, size).
    #[serde(serialize_with = "crate::json::ranges")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub erased: Vec<(u32, u32)>,
    /// Runs written (start, length).
    #[serde(serialize_with = "crate::json::ranges")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub written: Vec<(u32, u64)>,
    /// Ranges whose erase or write was under way when the run failed (the device had
    /// started it): they hold the old bytes, the new ones, or some of each.
    #[serde(serialize_with = "crate::json::ranges")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub unsure: Vec<(u32, u64)>,
    /// Sectors skipped because they already held the image (start, size).
    #[serde(serialize_with = "crate::json::ranges")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub skipped: Vec<(u32, u32)>,
    /// True when every written byte, but those in [`FlashReport::unverified`], was read back
    /// and matched.
    pub verified: bool,
    /// Runs written that cannot be read back (option bytes: the device resets to apply
    /// them).
    #[serde(serialize_with = "crate::json::ranges")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub unverified: Vec<(u32, u64)>,
    /// How leaving DFU mode went (None: not asked, or not applicable).
    pub leave: Option<LeaveOutcome>,
    /// The steps after the compare: what was (or, in a dry run, would be) erased and written.
    pub steps: Vec<Step>,
    /// True for a dry run: nothing was erased or written.
    pub dry_run: bool,
}

/// A failed flash: the error and exactly what had been done before it.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct FlashFailure {
    /// What went wrong.
    #[source]
    pub error: DfuError,
    /// What was done before.
    pub done: Box<FlashReport>,
}

impl FlashReport {
    /// The ranges that were erased and not written afterwards, merged, in address order:
    /// after a failure, what the device held there is gone until the image is written.
    pub fn erased_not_written(&self) -> Vec<(u32, u64)> {
        let mut erased: Vec<(u64, u64)> = self
            .erased
            .iter()
            .map(|&(s, n)| (u64::from(s), u64::from(s) + u64::from(n)))
            .collect();
        erased.sort_unstable();
        let mut written: Vec<(u64, u64)> = self
            .written
            .iter()
            .map(|&(s, n)| (u64::from(s), u64::from(s) + n))
            .collect();
        written.sort_unstable();
        let mut out: Vec<(u32, u64)> = Vec::new();
        for (start, end) in erased {
            let mut at = start;
            for &(ws, we) in written.iter().filter(|w| w.1 > start && w.0 < end) {
                if ws > at {
                    push_merged(&mut out, at, ws);
                }
                at = at.max(we);
            }
            if at < end {
                push_merged(&mut out, at, end);
            }
        }
        out
    }
}

fn push_merged(out: &mut Vec<(u32, u64)>, start: u64, end: u64) {
    match out.last_mut() {
        Some((s, n)) if u64::from(*s) + *n >= start => *n = (*n).max(end - u64::from(*s)),
        _ => out.push((start as u32, end - start)),
    }
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
pub(crate) fn note(report: &mut FlashReport, events: Sink, note: Note) {
    events(&note.clone().into());
    report.notes.push(note);
}

impl DfuDevice {
    /// Runs `plan` (made by [`crate::plan()`] from this device's [`DfuDevice::survey`]).
    /// Refuses a plan with refusals. On failure, the report says exactly what had been
    /// erased and written.
    pub fn execute(&mut self, plan: &FlashPlan, events: Sink) -> Result<FlashReport, FlashFailure> {
        plan.check()?;
        let mut report = FlashReport {
            dry_run: plan.options.dry_run,
            ..FlashReport::default()
        };
        self.unsure.clear();
        let r = if plan.dfuse {
            self.run_dfuse(plan, events, &mut report)
        } else {
            self.run_plain(plan, events, &mut report)
        };
        if let Err(DfuError::Interrupted { .. }) = &r {
            // Between two requests: back to dfuIDLE, so that nothing is manifested and the
            // next run starts clean.
            let _ = self.end_upload().and_then(|()| self.abort());
        }
        report.unsure = std::mem::take(&mut self.unsure);
        match r {
            Ok(()) => Ok(report),
            Err(error) => Err(FlashFailure {
                error,
                done: Box::new(report),
            }),
        }
    }

    fn run_dfuse(
        &mut self,
        plan: &FlashPlan,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let opts = &plan.options;
        for n in self.ensure_idle()? {
            note(report, events, n);
        }
        let can_read = self.info.functional.can_upload();
        let mut steps = plan.steps.clone();
        if opts.skip_unchanged && can_read && !opts.mass_erase {
            for s in &mut steps {
                self.select_alt(s.alt)?;
                self.compare(s, events, report)?;
            }
        }
        if opts.mass_erase {
            steps.iter_mut().for_each(|s| s.erase.clear());
        }
        self.before_erase(&mut steps, plan, events, report)?;
        announce(&steps, opts.mass_erase, events);
        report.steps = steps;
        if opts.dry_run {
            return Ok(());
        }
        if opts.mass_erase {
            self.select_alt(plan.steps.first().map_or(self.alt, |s| s.alt))?;
            let r = self.mass_erase(events);
            report.mass_erased = r.is_ok();
            // The whole memory of the alt is blank now: recorded like erased sectors, so
            // that a failure after this point reports it (or unsure, when it failed after
            // the device had started it).
            let sectors: Vec<(u32, u32)> = self.layout.as_ref().map_or(Vec::new(), |l| {
                l.sectors()
                    .filter(|s| s.flags.erasable())
                    .map(|s| (s.start, s.size))
                    .collect()
            });
            if r.is_ok() {
                report.erased.extend(sectors);
            } else if self.started {
                self.unsure
                    .extend(sectors.iter().map(|&(a, n)| (a, u64::from(n))));
            }
            r?;
        }
        // The ROM resets after an option-byte write: those go last, unverified, and replace
        // the leave.
        let profile = self.info.profile.clone();
        let (ob_steps, steps): (Vec<Step>, Vec<Step>) = report
            .steps
            .clone()
            .into_iter()
            .partition(|s| crate::optbytes::writes_option_bytes(profile.as_ref(), s));
        for s in &steps {
            self.select_alt(s.alt)?;
            self.erase_and_write(s, events, report)?;
        }
        if opts.verify {
            self.verify_steps(&steps, can_read, events, report)?;
        }
        self.end_upload()?;
        if let Some(s) = ob_steps.iter().find(|s| !s.writes.is_empty()) {
            let run = &s.writes[0];
            self.write_option_bytes(&run.data)?;
            report.written.push((run.address, run.data.len() as u64));
            report.unverified.push((run.address, run.data.len() as u64));
            note(
                report,
                events,
                Note::new(Code::OptionBytes, "wrote the option bytes; the device resets to apply them (it does not leave DFU mode for the application)"),
            );
            return Ok(());
        }
        if let Some(at) = plan.leave {
            self.select_alt(at.alt)?;
            events(&Event::Start {
                phase: Phase::Leave,
                total: 0,
            });
            let outcome = self.dfuse_leave(at.address)?;
            self.judge_leave(&outcome, plan.bootloader_version, report, events)?;
            report.leave = Some(outcome);
            events(&Event::Done {
                phase: Phase::Leave,
            });
        }
        Ok(())
    }

    fn erase_and_write(
        &mut self,
        step: &Step,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        if !step.erase.is_empty() {
            self.erase_sectors(&step.erase, &mut report.erased, events)?;
        }
        let total = step.write_bytes();
        if total == 0 {
            return Ok(());
        }
        events(&Event::Start {
            phase: Phase::Write,
            total,
        });
        let mut done = 0;
        for r in &step.writes {
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

    fn verify_steps(
        &mut self,
        steps: &[Step],
        can_read: bool,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        if !can_read {
            note(
                report,
                events,
                Note::new(
                    Code::NotVerified,
                    "not verified: the device cannot upload (bmAttributes bit 1 clear)",
                ),
            );
            return Ok(());
        }
        let total: u64 = steps.iter().map(Step::write_bytes).sum();
        events(&Event::Start {
            phase: Phase::Verify,
            total,
        });
        let mut done = 0;
        for s in steps {
            self.select_alt(s.alt)?;
            for r in &s.writes {
                let back = self.dfuse_read(
                    r.address,
                    r.data.len() as u64,
                    Phase::Verify,
                    &mut done,
                    events,
                )?;
                compare_bytes(r.address, &r.data, &back)?;
            }
        }
        events(&Event::Done {
            phase: Phase::Verify,
        });
        report.verified = true;
        Ok(())
    }
}

/// Announces what the run will do.
pub(crate) fn announce(steps: &[Step], mass_erase: bool, events: Sink) {
    events(&Event::Plan {
        steps: steps.iter().map(StepSummary::from).collect(),
        mass_erase,
    });
}
