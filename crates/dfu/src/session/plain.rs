//! Plain DFU 1.1 operations: sequential blocks, manifestation, upload.

use crate::code::{Code, Note};
use crate::compare::compare_bytes;
use crate::device::DfuDevice;
use crate::dfuse::LeaveOutcome;
use crate::error::{DfuError, Op, Result};
use crate::events::{Event, Phase, Sink};
use crate::flash::{announce, note, FlashReport};
use crate::pipeline::FlashPlan;
use crate::sectors::{Run, Step};
use dfu_proto::{DfuRequest, State};
use std::io::Write;

impl DfuDevice {
    /// Downloads `data` as blocks 0, 1, 2... (the device places them itself).
    pub fn plain_download(&mut self, data: &[u8], done: &mut u64, events: Sink) -> Result<u16> {
        let xfer = usize::from(self.transfer_size);
        let mut block: u16 = 0;
        for (i, chunk) in data.chunks(xfer).enumerate() {
            let op = Op::Block {
                block: i,
                offset: i * xfer,
                len: chunk.len(),
            };
            let r = self.dnload_ready(block, chunk, op);
            let at = self.info.plain_base(self.alt) + (i * xfer) as u32;
            if self.settled(&r, (at, chunk.len() as u64)) {
                *done += chunk.len() as u64;
            }
            r?;
            block = block.wrapping_add(1);
            events(&Event::Progress {
                phase: Phase::Write,
                done: *done,
            });
        }
        Ok(block)
    }

    /// Sends the final zero-length DNLOAD and waits through manifestation. Returns true when
    /// the device is back in dfuIDLE (manifestation tolerant), false when it waits for a
    /// reset or has already left the bus.
    pub fn plain_manifest(&mut self, block: u16) -> Result<bool> {
        self.out(DfuRequest::Dnload, block, &[], Op::FinalDownload)?;
        let start = self.t.now();
        loop {
            let s = match self.get_status() {
                Ok(s) => s,
                Err(DfuError::Usb { .. }) if !self.info.functional.manifestation_tolerant() => {
                    return Ok(false)
                }
                // Still manifesting (NAKing): ask again, within the bound.
                Err(DfuError::Usb {
                    source: dfu_proto::TransportError::Timeout,
                    ..
                }) if self.t.now().saturating_sub(start) <= crate::device::BUSY_LIMIT => {
                    self.timeouts += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match s.state {
                State::DfuIdle => return Ok(true),
                State::ManifestWaitReset => return Ok(false),
                State::Error => {
                    return Err(DfuError::Status {
                        op: Op::Manifest,
                        status: s.status,
                        state: s.state,
                    })
                }
                _ => {
                    if self.t.now().saturating_sub(start) > crate::device::BUSY_LIMIT {
                        return Err(DfuError::Timeout { op: Op::Manifest });
                    }
                    self.wait(crate::patience::poll_wait(s.poll_timeout()));
                }
            }
        }
    }

    /// Reads up to `len` bytes from the start of the device's memory (a short block ends it).
    pub fn plain_upload(
        &mut self,
        len: u64,
        phase: Phase,
        done: &mut u64,
        events: Sink,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.plain_upload_into(len, phase, done, events, &mut out)?;
        Ok(out)
    }

    /// [`plain_upload`](Self::plain_upload) into `out`, each block as it arrives; returns
    /// the number of bytes uploaded. A failure of `out` aborts the upload and is returned as
    /// an error with the code [`Code::Output`](crate::Code::Output).
    pub fn plain_upload_into(
        &mut self,
        len: u64,
        phase: Phase,
        done: &mut u64,
        events: Sink,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let xfer = u64::from(self.transfer_size);
        let mut got = 0u64;
        let mut block: u16 = 0;
        while got < len {
            let want = xfer as u16;
            let op = Op::Read {
                address: got,
                len: usize::from(want),
            };
            self.check_cancel(op)?;
            let b = self.input(DfuRequest::Upload, block, want, op)?;
            let short = b.len() < usize::from(want);
            let take = b.len().min((len - got) as usize);
            if let Err(e) = out.write_all(&b[..take]) {
                // Best effort: the sink's failure is the one to report.
                let _ = self.abort();
                return Err(crate::session::ops::sink_failed(&e));
            }
            got += take as u64;
            *done += take as u64;
            events(&Event::Progress { phase, done: *done });
            block = block.wrapping_add(1);
            if short {
                return Ok(got);
            }
        }
        self.abort()?;
        Ok(got)
    }

    /// Runs a flash plan on a plain DFU device: one run, downloaded from block 0, then
    /// manifestation (or a read-back first on a device that restarts), verify and leave.
    pub(crate) fn run_plain(
        &mut self,
        plan: &FlashPlan,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        for n in self.ensure_idle()? {
            note(report, events, n);
        }
        let opts = &plan.options;
        let mut steps = plan.steps.clone();
        self.before_erase(&mut steps, plan, events, report)?;
        announce(&steps, false, events);
        report.steps = steps;
        if opts.dry_run {
            return Ok(());
        }
        let step = report.steps.first().cloned();
        let Some(step) = step else {
            return Ok(());
        };
        let [run] = step.writes.as_slice() else {
            return Ok(());
        };
        let block = self.plain_write(&step, run, events, report)?;
        let can_verify = opts.verify && self.info.functional.can_upload();
        let idle = self.plain_finish_download(block, can_verify, events, report)?;
        if opts.verify {
            self.plain_verify(run, can_verify && idle, events, report)?;
        }
        if opts.leave {
            self.plain_leave(idle, events, report)?;
        }
        Ok(())
    }

    /// Downloads the step's one run and records what it wrote and erased, also when the
    /// download fails part way. Returns the next block number.
    fn plain_write(
        &mut self,
        step: &Step,
        run: &Run,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<u16> {
        let mut done = 0;
        events(&Event::Start {
            phase: Phase::Write,
            total: run.data.len() as u64,
        });
        let block = self.plain_download(&run.data, &mut done, events);
        // A block the device had started erased its page(s) first.
        let unsure: Vec<(u32, u64)> = step
            .erase
            .iter()
            .filter(|p| {
                self.unsure
                    .iter()
                    .any(|&(a, n)| u64::from(a) < p.end() && u64::from(a) + n > u64::from(p.start))
            })
            .map(|p| (p.start, u64::from(p.size)))
            .collect();
        self.unsure.extend(unsure);
        if done > 0 {
            report.written.push((run.address, done));
            // The device erased each page as the download reached it.
            let end = u64::from(run.address) + done;
            report.erased.extend(
                step.erase
                    .iter()
                    .filter(|p| u64::from(p.start) < end)
                    .map(|p| (p.start, p.size)),
            );
        }
        let block = block?;
        events(&Event::Done {
            phase: Phase::Write,
        });
        Ok(block)
    }

    /// Ends the download: manifestation, except on an intolerant device that will be read
    /// back (`can_verify`), which is aborted instead since manifestation restarts it. True
    /// when the device is in dfuIDLE afterwards.
    fn plain_finish_download(
        &mut self,
        block: u16,
        can_verify: bool,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<bool> {
        if self.info.functional.manifestation_tolerant() || !can_verify {
            return self.plain_manifest(block);
        }
        self.abort()?;
        note(
            report,
            events,
            Note::new(
                Code::VerifiedEarly,
                "read back before manifestation (the device restarts after it)",
            ),
        );
        Ok(true)
    }

    /// Reads the run back and compares it when `possible`, else notes why it was not.
    fn plain_verify(
        &mut self,
        run: &Run,
        possible: bool,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        if !possible {
            let why = if self.info.functional.can_upload() {
                "not verified: the device cannot upload after manifestation"
            } else {
                "not verified: the device cannot upload (bmAttributes bit 1 clear)"
            };
            note(report, events, Note::new(Code::NotVerified, why));
            return Ok(());
        }
        events(&Event::Start {
            phase: Phase::Verify,
            total: run.data.len() as u64,
        });
        let mut vd = 0;
        let back = self.plain_upload(run.data.len() as u64, Phase::Verify, &mut vd, events)?;
        compare_bytes(run.address, &run.data, &back)?;
        events(&Event::Done {
            phase: Phase::Verify,
        });
        report.verified = true;
        Ok(())
    }

    /// Leaves DFU mode: a USB reset when the device is still in dfuIDLE (one that waits for
    /// a reset or has left the bus restarts by itself).
    fn plain_leave(&mut self, idle: bool, events: Sink, report: &mut FlashReport) -> Result<()> {
        events(&Event::Start {
            phase: Phase::Leave,
            total: 0,
        });
        if idle {
            match self.t.reset() {
                Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
                Err(e) => return Err(DfuError::usb(Op::ResetToApp, e)),
            }
        }
        report.leave = Some(LeaveOutcome::Acknowledged);
        events(&Event::Done {
            phase: Phase::Leave,
        });
        Ok(())
    }
}
