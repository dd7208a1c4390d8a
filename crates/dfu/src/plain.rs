//! Plain DFU 1.1 operations: sequential blocks, manifestation, upload.

use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
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
            self.out(DfuRequest::Dnload, block, chunk, &op)?;
            let s = self.wait_ready(&op)?;
            if s.state != State::DnloadIdle {
                return Err(DfuError::UnexpectedState {
                    op: op(),
                    state: s.state,
                    expected: "dfuDNLOAD-IDLE".into(),
                });
            }
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
}
