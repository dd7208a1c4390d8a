//! DfuSe operations: commands, writes with one set-address per run, reads, leave.

use crate::device::DfuDevice;
use crate::error::{DfuError, Op, Result};
use crate::events::{Event, Phase, Sink};
use dfu_proto::{DfuRequest, DfuseCommand, State};
use std::io::Write;

/// The most data blocks one set-address can cover (block numbers 2..=65535).
const MAX_BLOCKS_PER_RUN: u64 = 65_534;

/// Where a streamed read can continue: a read that starts where the previous one ended (on
/// a block boundary) goes on with the next UPLOAD block, with no new set-address.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// (next address, next block number), while the device sits in dfuUPLOAD-IDLE.
    cursor: Option<(u64, u16)>,
    /// True while the device is in dfuUPLOAD-IDLE after a read.
    uploading: bool,
}

/// How a DfuSe leave ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum LeaveOutcome {
    /// The device acknowledged and is starting the application.
    Acknowledged,
    /// The device reset before it answered the final status request.
    StatusLost {
        /// The USB error seen.
        error: String,
    },
}

impl DfuDevice {
    /// Sends a DfuSe command and waits until the device has carried it out.
    pub fn dfuse_command(&mut self, cmd: DfuseCommand) -> Result<()> {
        self.started = false;
        self.end_upload()?;
        self.dnload_ready(0, &cmd.encode(), Op::Dfuse(cmd))
    }

    /// Writes `data` at `address` (already erased), one set-address per run of at most
    /// 65534 blocks. `done` is added to for progress events.
    pub fn dfuse_write(
        &mut self,
        address: u32,
        data: &[u8],
        done: &mut u64,
        events: Sink,
    ) -> Result<()> {
        let xfer = usize::from(self.transfer_size);
        let run_bytes = (MAX_BLOCKS_PER_RUN as usize) * xfer;
        for (r, run) in data.chunks(run_bytes).enumerate() {
            let run_addr = address + (r * run_bytes) as u32;
            self.dfuse_command(DfuseCommand::SetAddress(run_addr))?;
            for (i, block) in run.chunks(xfer).enumerate() {
                let at = run_addr + (i * xfer) as u32;
                let op = Op::Write {
                    address: at,
                    len: block.len(),
                };
                let r = self.dnload_ready((i + 2) as u16, block, op);
                if self.settled(&r, (at, block.len() as u64)) {
                    *done += block.len() as u64;
                }
                r?;
                events(&Event::Progress {
                    phase: Phase::Write,
                    done: *done,
                });
            }
        }
        Ok(())
    }

    /// Reads `len` bytes from `address`. Consecutive reads stream: a read that starts where
    /// the previous one ended (on a block boundary) continues with the next UPLOAD block, with
    /// no new set-address; the device stays in dfuUPLOAD-IDLE until another request needs
    /// [`DfuDevice::end_upload`].
    pub fn dfuse_read(
        &mut self,
        address: u32,
        len: u64,
        phase: Phase,
        done: &mut u64,
        events: Sink,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(len as usize);
        self.dfuse_read_into(address, len, phase, done, events, &mut out)?;
        Ok(out)
    }

    /// [`dfuse_read`](Self::dfuse_read) into `out`, each block as it arrives: nothing is held
    /// but the block. A failure of `out` ends the upload and is returned as
    /// an error with the code [`Code::Output`](crate::Code::Output).
    pub fn dfuse_read_into(
        &mut self,
        address: u32,
        len: u64,
        phase: Phase,
        done: &mut u64,
        events: Sink,
        out: &mut dyn Write,
    ) -> Result<()> {
        let xfer = u64::from(self.transfer_size);
        let mut pos = 0u64;
        while pos < len {
            let at = u64::from(address) + pos;
            let mut block = match self.stream.cursor.take() {
                Some((next, block)) if next == at && u64::from(block) < MAX_BLOCKS_PER_RUN + 2 => {
                    block
                }
                _ => {
                    let run_addr = u32::try_from(at)
                        .map_err(|_| DfuError::usage("read past the 4 GiB address space"))?;
                    self.dfuse_command(DfuseCommand::SetAddress(run_addr))?;
                    self.abort()?;
                    self.stream.uploading = true;
                    2u16
                }
            };
            while pos < len && u64::from(block) < MAX_BLOCKS_PER_RUN + 2 {
                let want = (len - pos).min(xfer) as u16;
                let at = u64::from(address) + pos;
                let op = Op::Read {
                    address: at,
                    len: usize::from(want),
                };
                self.check_cancel(op)?;
                let b = self.input(DfuRequest::Upload, block, want, op)?;
                if b.is_empty() {
                    return Err(DfuError::Protocol {
                        op,
                        what: "the device returned no data (the address may be outside its readable memory, or it is read-protected)".into(),
                    });
                }
                let n = b.len().min(usize::from(want));
                if let Err(e) = out.write_all(&b[..n]) {
                    // Best effort: the sink's failure is the one to report.
                    let _ = self.end_upload();
                    return Err(crate::session::ops::sink_failed(&e));
                }
                pos += n as u64;
                *done += n as u64;
                events(&Event::Progress { phase, done: *done });
                block += 1;
                if (n as u64) < xfer {
                    // A partial block ends the stream: the next block would not follow on.
                    self.end_upload()?;
                    break;
                }
                if pos == len {
                    self.stream.cursor = Some((u64::from(address) + pos, block));
                }
            }
        }
        Ok(())
    }

    /// Leaves dfuUPLOAD-IDLE (ABORT) if a streamed read left the device there.
    pub fn end_upload(&mut self) -> Result<()> {
        self.stream.cursor = None;
        if std::mem::take(&mut self.stream.uploading) {
            self.abort()?;
        }
        Ok(())
    }

    /// Sets the address pointer to `address` (where the application starts) and sends the
    /// final zero-length DNLOAD. A lost status is reported, not turned into an error: the
    /// caller knows whether the device is expected to do that.
    pub fn dfuse_leave(&mut self, address: u32) -> Result<LeaveOutcome> {
        self.dfuse_command(DfuseCommand::SetAddress(address))?;
        // A device that resets as soon as it has the request may fail the request itself.
        match self.out(DfuRequest::Dnload, 2, &[], Op::Leave) {
            Ok(()) => {}
            Err(DfuError::Usb { source, .. }) => {
                return Ok(LeaveOutcome::StatusLost {
                    error: source.to_string(),
                })
            }
            Err(e) => return Err(e),
        }
        match self.get_status() {
            Ok(s) if s.state == State::Error => Err(DfuError::Status {
                op: Op::Leave,
                status: s.status,
                state: s.state,
            }),
            Ok(_) => Ok(LeaveOutcome::Acknowledged),
            Err(DfuError::Usb { source, .. }) => Ok(LeaveOutcome::StatusLost {
                error: source.to_string(),
            }),
            Err(e) => Err(e),
        }
    }
}
