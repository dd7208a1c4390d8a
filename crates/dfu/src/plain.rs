//! Plain DFU 1.1 operations: sequential blocks, manifestation, upload.

use crate::compare::compare_bytes;
use crate::device::DfuDevice;
use crate::dfuse::LeaveOutcome;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use crate::flash::{note, FlashOptions, FlashReport};
use crate::plan::{Plan, Run};
use dfu_proto::{DfuRequest, State};
use std::time::Duration;

impl DfuDevice {
    /// Downloads `data` as blocks 0, 1, 2... (the device places them itself).
    pub fn plain_download(&mut self, data: &[u8], done: &mut u64, events: Sink) -> Result<u16> {
        let xfer = usize::from(self.transfer_size);
        let mut block: u16 = 0;
        for (i, chunk) in data.chunks(xfer).enumerate() {
            let offset = i * xfer;
            let op = move || {
                format!(
                    "DNLOAD block {i} ({} bytes at offset {offset})",
                    chunk.len()
                )
            };
            self.dnload_ready(block, chunk, &op)?;
            block = block.wrapping_add(1);
            *done += chunk.len() as u64;
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
        self.out(DfuRequest::Dnload, block, &[], &|| {
            "final zero-length DNLOAD".into()
        })?;
        let start = self.t.now();
        loop {
            let s = match self.get_status() {
                Ok(s) => s,
                Err(DfuError::Usb { .. }) if !self.info.functional.manifestation_tolerant() => {
                    return Ok(false)
                }
                Err(e) => return Err(e),
            };
            match s.state {
                State::DfuIdle => return Ok(true),
                State::ManifestWaitReset => return Ok(false),
                State::Error => {
                    return Err(DfuError::Status {
                        op: "manifestation".into(),
                        status: s.status,
                        state: s.state,
                    })
                }
                _ => {
                    if self.t.now().saturating_sub(start) > crate::device::BUSY_LIMIT {
                        return Err(DfuError::Timeout("manifestation".into()));
                    }
                    self.wait(s.poll_timeout().max(Duration::from_millis(1)));
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
        let xfer = u64::from(self.transfer_size);
        let mut out = Vec::new();
        let mut block: u16 = 0;
        while (out.len() as u64) < len {
            let want = xfer as u16;
            let at = out.len();
            let b = self.input(DfuRequest::Upload, block, want, &move || {
                format!("UPLOAD block {block} (offset {at})")
            })?;
            let short = b.len() < usize::from(want);
            let take = b.len().min((len - out.len() as u64) as usize);
            out.extend_from_slice(&b[..take]);
            *done += take as u64;
            events(&Event::Progress { phase, done: *done });
            block = block.wrapping_add(1);
            if short {
                return Ok(out);
            }
        }
        self.abort()?;
        Ok(out)
    }

    pub(crate) fn flash_plain(
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
}
