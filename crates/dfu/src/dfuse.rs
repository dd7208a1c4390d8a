//! DfuSe operations: commands, writes with one set-address per run, reads, leave.

use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use dfu_proto::{DfuRequest, DfuseCommand, State};

/// The most data blocks one set-address can cover (block numbers 2..=65535).
const MAX_BLOCKS_PER_RUN: u64 = 65_534;

/// How a DfuSe leave ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
        self.end_upload()?;
        let describe = move || match cmd {
            DfuseCommand::SetAddress(a) => format!("DfuSe set address 0x{a:08x}"),
            DfuseCommand::ErasePage(a) => format!("DfuSe erase of the page at 0x{a:08x}"),
            DfuseCommand::MassErase => "DfuSe mass erase".to_string(),
            DfuseCommand::ReadUnprotect => "DfuSe read unprotect".to_string(),
            DfuseCommand::GetCommands => "DfuSe get commands".to_string(),
        };
        self.dnload_ready(0, &cmd.encode(), &describe)
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
                let op = move || format!("DNLOAD of {} bytes at 0x{at:08x}", block.len());
                self.dnload_ready((i + 2) as u16, block, &op)?;
                *done += block.len() as u64;
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
        let xfer = u64::from(self.transfer_size);
        let mut out = Vec::with_capacity(len as usize);
        let mut pos = 0u64;
        while pos < len {
            let at = u64::from(address) + pos;
            let mut block = match self.upload_cursor.take() {
                Some((next, block)) if next == at && u64::from(block) < MAX_BLOCKS_PER_RUN + 2 => {
                    block
                }
                _ => {
                    let run_addr = u32::try_from(at)
                        .map_err(|_| DfuError::Usage("read past the 4 GiB address space".into()))?;
                    self.dfuse_command(DfuseCommand::SetAddress(run_addr))?;
                    self.abort()?;
                    self.uploading = true;
                    2u16
                }
            };
            while pos < len && u64::from(block) < MAX_BLOCKS_PER_RUN + 2 {
                let want = (len - pos).min(xfer) as u16;
                let at = u64::from(address) + pos;
                let op = move || format!("UPLOAD of {want} bytes at 0x{at:08x}");
                let b = self.input(DfuRequest::Upload, block, want, &op)?;
                if b.is_empty() {
                    return Err(DfuError::Unsupported {
                        what: format!("the device returned no data at 0x{at:08x}"),
                        help: "the address may be outside the readable memory (`dfu info` shows the map), or the device is read-protected".into(),
                    });
                }
                let n = b.len().min(usize::from(want));
                pos += n as u64;
                out.extend_from_slice(&b[..n]);
                *done += n as u64;
                events(&Event::Progress { phase, done: *done });
                block += 1;
                if (n as u64) < xfer {
                    // A partial block ends the stream: the next block would not follow on.
                    self.end_upload()?;
                    break;
                }
                if pos == len {
                    self.upload_cursor = Some((u64::from(address) + pos, block));
                }
            }
        }
        Ok(out)
    }

    /// Leaves dfuUPLOAD-IDLE (ABORT) if a streamed read left the device there.
    pub fn end_upload(&mut self) -> Result<()> {
        self.upload_cursor = None;
        if std::mem::take(&mut self.uploading) {
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
        match self.out(DfuRequest::Dnload, 2, &[], &|| {
            "leave (zero-length DNLOAD)".into()
        }) {
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
                op: "leave".into(),
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
