//! The DFU 1.1 state machine (DFU mode and run-time mode), with plain DFU download and
//! upload. DfuSe's different DNLOAD/UPLOAD addressing and its leave live in `dfuse.rs`.
//!
//! A request the current state does not allow STALLs and puts the device in dfuERROR
//! with errSTALLEDPKT, as the specification says (a STALL in dfuERROR keeps the status).

use crate::device::{AfterBusy, Device, Op};
use crate::error::UsbError;
use crate::timing::{erase_time, poll_program_ms, program_time};
use dfu_profiles::Quirk;
use dfu_proto::{DfuRequest, DfuseCommand, FunctionalDescriptor, Setup, State, Status};
use std::time::Duration;

impl Device {
    /// STALL a DFU request: dfuERROR / errSTALLEDPKT.
    pub(crate) fn stall(&mut self) -> Result<Vec<u8>, UsbError> {
        if self.core.state != State::Error {
            self.core.state = State::Error;
            self.core.status = Status::ErrStalledPkt;
        }
        Err(UsbError::Stall)
    }

    fn functional(&self) -> FunctionalDescriptor {
        self.spec.profile.dfu.descriptor()
    }

    /// A DFU class request in DFU mode.
    pub(crate) fn dfu_request(
        &mut self,
        now: Duration,
        req: DfuRequest,
        setup: Setup,
        data: &[u8],
        forced: Option<Status>,
    ) -> Result<Vec<u8>, UsbError> {
        let wants_in = matches!(
            req,
            DfuRequest::Upload | DfuRequest::GetStatus | DfuRequest::GetState
        );
        if self.core.state == State::ManifestWaitReset {
            // Waiting for a USB reset: only GETSTATUS is answered (assumed).
            return match req {
                DfuRequest::GetStatus if setup.is_in() => {
                    let reply = self.status_reply(0);
                    if self.spec.profile.has_quirk(Quirk::WaitResetThenRestart) {
                        self.run_app(now);
                    }
                    Ok(reply)
                }
                _ => Err(UsbError::Stall),
            };
        }
        if wants_in != setup.is_in() {
            return self.stall();
        }
        if let Some(s) = forced.filter(|_| req != DfuRequest::Dnload) {
            self.core.state = State::Error;
            self.core.status = s;
            return match req {
                DfuRequest::GetStatus => Ok(self.status_reply(0)),
                _ => Err(UsbError::Stall),
            };
        }
        let quirky = self.spec.profile.has_quirk(Quirk::StallsOptionalRequests);
        match req {
            DfuRequest::Dnload if self.spec.profile.is_dfuse() => {
                self.dfuse_dnload(now, setup, data, forced)
            }
            DfuRequest::Dnload => self.plain_dnload(setup, data, forced),
            DfuRequest::Upload if self.spec.profile.is_dfuse() => self.dfuse_upload(setup),
            DfuRequest::Upload => self.plain_upload(setup),
            DfuRequest::GetStatus
                if self.core.state == State::DnloadSync
                    && matches!(self.core.pending, Some((Op::Unsupported, _))) =>
            {
                self.refuse_command()
            }
            DfuRequest::GetStatus => Ok(self.get_status(now)),
            DfuRequest::ClrStatus if self.core.state == State::Error => {
                self.core.state = State::DfuIdle;
                self.core.status = Status::Ok;
                Ok(Vec::new())
            }
            DfuRequest::GetState if !quirky => Ok(vec![self.core.state.as_u8()]),
            DfuRequest::Abort
                if matches!(
                    self.core.state,
                    State::DfuIdle
                        | State::DnloadSync
                        | State::DnloadIdle
                        | State::ManifestSync
                        | State::UploadIdle
                ) =>
            {
                self.core.pending = None;
                self.core.outcome = None;
                self.core.leaving = false;
                self.core.manifest_done = false;
                self.core.state = State::DfuIdle;
                Ok(Vec::new())
            }
            _ => self.stall(),
        }
    }

    /// A DFU class request in run-time mode: GETSTATUS, GETSTATE and DETACH are
    /// answered, anything else STALLs without changing the state.
    pub(crate) fn runtime_request(
        &mut self,
        now: Duration,
        req: DfuRequest,
        setup: Setup,
    ) -> Result<Vec<u8>, UsbError> {
        let Some(rt) = self.spec.profile.runtime.clone() else {
            return Err(UsbError::Stall);
        };
        match req {
            DfuRequest::GetStatus if setup.is_in() => Ok(self.status_reply(0)),
            DfuRequest::GetState if setup.is_in() => Ok(vec![self.core.state.as_u8()]),
            DfuRequest::Detach if !setup.is_in() => {
                self.core.state = State::AppDetach;
                if rt.attributes & FunctionalDescriptor::WILL_DETACH != 0 {
                    // The device detaches by itself and comes back in DFU mode.
                    self.reboot_to_dfu(now);
                } else {
                    let wait = setup.value.min(rt.detach_timeout_ms);
                    self.core.detach_deadline = Some(now + Duration::from_millis(wait.into()));
                }
                Ok(Vec::new())
            }
            _ => Err(UsbError::Stall),
        }
    }

    /// Plain DFU DNLOAD: block N lands at base + N * wTransferSize; a zero-length block
    /// in dfuDNLOAD-IDLE starts manifestation.
    fn plain_dnload(
        &mut self,
        setup: Setup,
        data: &[u8],
        forced: Option<Status>,
    ) -> Result<Vec<u8>, UsbError> {
        let xfer = self.functional().transfer_size;
        match self.core.state {
            State::DnloadIdle if data.is_empty() => {
                self.core.state = State::ManifestSync;
                self.core.manifest_done = false;
                Ok(Vec::new())
            }
            State::DfuIdle | State::DnloadIdle if !data.is_empty() && setup.length <= xfer => {
                if self.core.state == State::DfuIdle {
                    self.core.erased.clear();
                }
                let base = self
                    .flash
                    .get(usize::from(self.core.alt))
                    .map_or(0, |f| f.base());
                let address = u64::from(base) + u64::from(setup.value) * u64::from(xfer);
                self.core.pending = Some((
                    Op::Data {
                        address,
                        data: data.to_vec(),
                    },
                    forced,
                ));
                self.core.state = State::DnloadSync;
                Ok(Vec::new())
            }
            _ => self.stall(),
        }
    }

    /// Plain DFU UPLOAD: block N reads base + N * wLength; a short block (the end of
    /// memory) ends the upload and returns to dfuIDLE.
    fn plain_upload(&mut self, setup: Setup) -> Result<Vec<u8>, UsbError> {
        let xfer = self.functional().transfer_size;
        if !matches!(self.core.state, State::DfuIdle | State::UploadIdle) || setup.length > xfer {
            return self.stall();
        }
        let Some(flash) = self.flash.get(usize::from(self.core.alt)) else {
            return self.stall();
        };
        let want = usize::from(setup.length);
        let address = u64::from(flash.base()) + u64::from(setup.value) * want as u64;
        let n = flash.readable_len(address, want).unwrap_or(0);
        let out = flash.read(address, n);
        Ok(self.uploaded(out, want))
    }

    /// Ends an UPLOAD block of `out` when `want` bytes were asked for: a short block ends
    /// the upload (dfuIDLE), a full one leaves it open (dfuUPLOAD-IDLE).
    pub(crate) fn uploaded(&mut self, out: Vec<u8>, want: usize) -> Vec<u8> {
        self.core.state = if out.len() < want {
            State::DfuIdle
        } else {
            State::UploadIdle
        };
        self.counters.bytes_up += out.len() as u64;
        out
    }

    /// GETSTATUS in DFU mode: starts queued operations and reports their outcome.
    fn get_status(&mut self, now: Duration) -> Vec<u8> {
        match self.core.state {
            State::DnloadSync => match self.core.pending.take() {
                Some((op, forced)) => {
                    self.core.after_busy = AfterBusy::ToSync;
                    let (busy, poll) = self.execute(op, forced);
                    self.core.state = State::DnBusy;
                    self.core.busy_until = Some(now + busy);
                    self.counters.device_busy += busy;
                    self.status_reply(poll)
                }
                None => {
                    match self.core.outcome.take().unwrap_or(Status::Ok) {
                        Status::Ok => self.core.state = State::DnloadIdle,
                        s => {
                            self.core.state = State::Error;
                            self.core.status = s;
                        }
                    }
                    self.status_reply(0)
                }
            },
            State::ManifestSync if self.core.leaving => self.dfuse_leave_status(now),
            State::ManifestSync if self.core.manifest_done => {
                self.core.manifest_done = false;
                self.core.state = State::DfuIdle;
                self.status_reply(0)
            }
            State::ManifestSync => {
                let t = self.spec.profile.timing.poll_command_ms;
                let busy = Duration::from_millis(u64::from(t));
                self.core.state = State::Manifest;
                self.core.after_busy = AfterBusy::ManifestEnd;
                self.core.busy_until = Some(now + busy);
                self.counters.device_busy += busy;
                self.status_reply(t)
            }
            _ => self.status_reply(0),
        }
    }

    /// Manifestation is over: a tolerant device waits in dfuMANIFEST-SYNC for the
    /// GETSTATUS that returns it to dfuIDLE; an intolerant one with bitWillDetach resets
    /// into its application by itself (dapboot does so right after reporting
    /// dfuMANIFEST: devanlai/dapboot src/dfu.c); otherwise it waits for a USB reset.
    pub(crate) fn manifest_end(&mut self, at: Duration) {
        let f = self.functional();
        if f.manifestation_tolerant() {
            self.core.state = State::ManifestSync;
            self.core.manifest_done = true;
        } else if f.will_detach() && !self.spec.profile.has_quirk(Quirk::WaitResetThenRestart) {
            self.run_app(at);
        } else {
            self.core.state = State::ManifestWaitReset;
        }
    }

    /// Runs a queued operation: changes memory and counters, returns how long the
    /// device is busy and the bwPollTimeout it reports. The outcome is kept for the
    /// GETSTATUS after the busy period.
    fn execute(&mut self, op: Op, forced: Option<Status>) -> (Duration, u32) {
        let timing = self.spec.profile.timing.clone();
        let alt = self.core.alt;
        let poll = match &op {
            Op::Data { .. } => poll_program_ms(&self.spec.profile, alt),
            Op::Command(DfuseCommand::SetAddress(_)) => timing.poll_command_ms,
            Op::Command(_) | Op::Unsupported => timing.poll_erase_ms,
        };
        if let Some(s) = forced {
            self.core.outcome = Some(s);
            return (Duration::ZERO, poll);
        }
        let (busy, outcome) = match op {
            Op::Data { address, data } => self.write_block(address, &data),
            Op::Command(c) => self.dfuse_command(c),
            // Refused before it runs (see `refuse_command`).
            Op::Unsupported => (Duration::ZERO, Status::Ok),
        };
        self.core.outcome = Some(outcome);
        (busy, poll)
    }

    /// Writes one block. Plain DFU devices erase each sector the first time a download
    /// touches it; DfuSe devices expect the host to have erased.
    fn write_block(&mut self, address: u64, data: &[u8]) -> (Duration, Status) {
        let timing = self.spec.profile.timing.clone();
        let dfuse = self.spec.profile.is_dfuse();
        let alt = self.core.alt;
        if dfuse && self.rdp() > 0 {
            return (Duration::ZERO, Status::ErrVendor);
        }
        if let Some(done) = self.option_byte_write(address, data) {
            return done;
        }
        if let Some(s) = self.refused_by_write_protection(None, address) {
            return (Duration::ZERO, s);
        }
        let dct = dfuse && self.dct_alt();
        let Some(flash) = self.flash.get_mut(usize::from(alt)) else {
            return (Duration::ZERO, Status::ErrAddress);
        };
        if let Err(s) = flash.check_writable(address, data.len() as u64) {
            return (Duration::ZERO, s);
        }
        if dct {
            // Read-modify-write of the DCT: the bytes replace what was there.
            flash.store(address, data);
            self.counters.programmed_bytes += data.len() as u64;
            return (
                program_time(&timing, address, data.len() as u64),
                Status::Ok,
            );
        }
        let mut busy = Duration::ZERO;
        if !dfuse {
            let sectors = u32::try_from(address)
                .map(|a| flash.layout.sectors_overlapping(a, data.len() as u64))
                .unwrap_or_default();
            for s in sectors {
                if s.flags.erasable() && self.core.erased.insert(s.start) {
                    flash.erase(s);
                    busy += erase_time(&timing, s.size);
                    self.counters.erases += 1;
                    self.counters.erased_bytes += u64::from(s.size);
                }
            }
        }
        let (done, result) = flash.program(address, data, timing.program_unit);
        busy += program_time(&timing, address, done.bytes.max(1).min(data.len() as u64));
        self.counters.programmed_bytes += done.bytes;
        for s in done.sectors {
            self.counters.sectors.insert((alt, s));
        }
        (busy, result.err().unwrap_or(Status::Ok))
    }
}
