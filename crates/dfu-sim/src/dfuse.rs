//! ST DfuSe (DFU 1.1a): DNLOAD block 0 carries commands (set address pointer, erase
//! page, mass erase, read unprotect), data blocks 2.. land at
//! `pointer + (block - 2) * wTransferSize`, UPLOAD block 0 lists the commands and blocks
//! 2.. read `pointer + (block - 2) * wLength`. A zero-length DNLOAD is "leave".

use crate::device::{Device, Op};
use crate::error::UsbError;
use crate::spec::BootloaderVersion;
use crate::timing::erase_time;
use dfu_profiles::Quirk;
use dfu_proto::{DfuseCommand, Setup, State, Status};
use std::time::Duration;

/// The reply to UPLOAD block 0: the commands the device supports.
const COMMANDS: [u8; 4] = [
    DfuseCommand::GET_COMMANDS,
    DfuseCommand::SET_ADDRESS,
    DfuseCommand::ERASE,
    DfuseCommand::READ_UNPROTECT,
];

/// What a DfuSe device does on leave (the zero-length DNLOAD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leave {
    /// Resets as soon as the DNLOAD is received; the GETSTATUS after it fails
    /// (quirk `reset-on-leave`; Particle bootloaders before `leave.fixed_in`).
    ResetAtOnce,
    /// Answers the GETSTATUS with dfuDNLOAD-IDLE, status OK, poll 0, and resets this
    /// much later (Particle bootloaders from `leave.fixed_in`).
    AnswerThenReset(Duration),
    /// Answers the GETSTATUS with dfuMANIFEST, then jumps to the application (ST ROM).
    ManifestThenJump,
}

/// Whether Particle's bootloader runs this command block (device-os
/// `platform/MCU/STM32F2xx/STM32_USB_Device_Driver/src/usbd_dfu_core.c`, `EP0_TxSent`:
/// `CMD_GETCOMMANDS` with `wlength == 1`, `CMD_SETADDRESSPOINTER` and `CMD_ERASE` with
/// `wlength == 5`; the same in the 2015 and 2022 versions of the file).
fn particle_runs(data: &[u8]) -> bool {
    matches!(
        (data.first().copied(), data.len()),
        (Some(DfuseCommand::GET_COMMANDS), 1)
            | (Some(DfuseCommand::SET_ADDRESS | DfuseCommand::ERASE), 5)
    )
}

impl Device {
    /// Whether the device runs only Particle's three DfuSe commands.
    pub(crate) fn particle_commands(&self) -> bool {
        self.spec.profile.has_quirk(Quirk::ParticleDfuseCommands)
    }

    /// The selected alt writes in place (the profile's `in_place`: a Particle Gen 2 DCT
    /// alt, whose erase is a no-op and whose writes go through `dct_write_app_data`, a
    /// read-modify-write that keeps the rest of the DCT).
    pub(crate) fn dct_alt(&self) -> bool {
        self.spec
            .profile
            .alts
            .get(usize::from(self.core.alt))
            .is_some_and(|a| a.in_place)
    }

    /// The GETSTATUS that would start a command block the device does not run: Particle's
    /// `EP0_TxSent` sends the status, then calls `USBD_CtlError` (the status stage
    /// STALLs, so the host sees the request fail), clears the block and moves to
    /// dfuDNLOAD-SYNC. Nothing is erased; the next GETSTATUS reports dfuDNLOAD-IDLE.
    pub(crate) fn refuse_command(&mut self) -> Result<Vec<u8>, UsbError> {
        self.core.pending = None;
        self.core.outcome = None;
        self.core.state = State::DnloadSync;
        Err(UsbError::Stall)
    }

    /// How this device leaves DFU mode.
    pub(crate) fn leave_behaviour(&self) -> Leave {
        let p = &self.spec.profile;
        if p.has_quirk(Quirk::ResetOnLeave) {
            return Leave::ResetAtOnce;
        }
        let Some(leave) = &p.leave else {
            return Leave::ManifestThenJump;
        };
        let fixed = BootloaderVersion::parse(&leave.fixed_in);
        match (self.spec.effective_bootloader(), fixed) {
            (Some(have), Some(fixed)) if have < fixed => Leave::ResetAtOnce,
            _ => Leave::AnswerThenReset(Duration::from_millis(u64::from(leave.reset_delay_ms))),
        }
    }

    /// DfuSe DNLOAD.
    pub(crate) fn dfuse_dnload(
        &mut self,
        now: Duration,
        setup: Setup,
        data: &[u8],
        forced: Option<Status>,
    ) -> Result<Vec<u8>, UsbError> {
        let xfer = self.spec.profile.dfu.transfer_size;
        if !matches!(self.core.state, State::DfuIdle | State::DnloadIdle) || setup.length > xfer {
            return self.stall();
        }
        if data.is_empty() {
            return match self.leave_behaviour() {
                Leave::ResetAtOnce => {
                    self.run_app(now);
                    Ok(Vec::new())
                }
                _ => {
                    self.core.state = State::ManifestSync;
                    self.core.leaving = true;
                    Ok(Vec::new())
                }
            };
        }
        let op = match setup.value {
            0 if self.particle_commands() && !particle_runs(data) => Op::Unsupported,
            0 => match DfuseCommand::parse(data) {
                Ok(DfuseCommand::GetCommands) if !self.particle_commands() => return self.stall(),
                Err(_) => return self.stall(),
                Ok(c) => Op::Command(c),
            },
            1 => return self.stall(),
            block => {
                let Some(address) = DfuseCommand::block_address(self.core.pointer, block, xfer)
                else {
                    return self.stall();
                };
                Op::Data {
                    address: u64::from(address),
                    data: data.to_vec(),
                }
            }
        };
        self.core.pending = Some((op, forced));
        self.core.state = State::DnloadSync;
        Ok(Vec::new())
    }

    /// DfuSe UPLOAD, allowed in dfuIDLE and dfuUPLOAD-IDLE only (hosts ABORT first, as
    /// real devices require).
    pub(crate) fn dfuse_upload(&mut self, setup: Setup) -> Result<Vec<u8>, UsbError> {
        let xfer = self.spec.profile.dfu.transfer_size;
        if !matches!(self.core.state, State::DfuIdle | State::UploadIdle) || setup.length > xfer {
            return self.stall();
        }
        match setup.value {
            0 if self.spec.profile.has_quirk(Quirk::StallsOptionalRequests) => self.stall(),
            0 => {
                self.core.state = State::UploadIdle;
                let n = if self.particle_commands() {
                    3
                } else {
                    COMMANDS.len()
                };
                Ok(COMMANDS[..n].to_vec())
            }
            1 => self.stall(),
            _ if self.rdp() > 0 => {
                self.core.state = State::Error;
                self.core.status = Status::ErrVendor;
                Err(UsbError::Stall)
            }
            block => {
                let want = usize::from(setup.length);
                let address = u64::from(self.core.pointer)
                    + u64::from(block - DfuseCommand::FIRST_DATA_BLOCK) * u64::from(xfer);
                let Some(flash) = self.flash.get(usize::from(self.core.alt)) else {
                    return self.stall();
                };
                match flash.readable_len(address, want) {
                    Ok(n) => {
                        let out = flash.read(address, n);
                        Ok(self.uploaded(out, want))
                    }
                    Err(status) => {
                        self.core.state = State::Error;
                        self.core.status = status;
                        Err(UsbError::Stall)
                    }
                }
            }
        }
    }

    /// Executes a DfuSe command; returns the busy time and the outcome. Error codes for
    /// refused commands are assumed: errADDRESS outside memory, errTARGET for a sector
    /// that cannot be erased.
    pub(crate) fn dfuse_command(&mut self, cmd: DfuseCommand) -> (Duration, Status) {
        if cmd == DfuseCommand::ReadUnprotect {
            return self.read_unprotect();
        }
        if self.rdp() > 0 {
            return (Duration::ZERO, Status::ErrVendor);
        }
        if let DfuseCommand::ErasePage(a) = cmd {
            if let Some(s) = self.refused_by_write_protection(Some(cmd), u64::from(a)) {
                return (Duration::ZERO, s);
            }
        }
        if matches!(cmd, DfuseCommand::ErasePage(_)) && self.dct_alt() {
            return (Duration::from_millis(1), Status::Ok);
        }
        let timing = self.spec.profile.timing.clone();
        let Some(flash) = self.flash.get_mut(usize::from(self.core.alt)) else {
            return (Duration::ZERO, Status::ErrAddress);
        };
        let mass = Duration::from_millis(u64::from(timing.mass_erase_ms));
        match cmd {
            DfuseCommand::SetAddress(a) => {
                self.core.pointer = a;
                (Duration::ZERO, Status::Ok)
            }
            DfuseCommand::ErasePage(a) => match flash.sector_at(u64::from(a)) {
                None => (Duration::ZERO, Status::ErrAddress),
                Some(s) if !s.flags.erasable() => (Duration::ZERO, Status::ErrTarget),
                Some(s) => {
                    flash.erase(s);
                    self.counters.erases += 1;
                    self.counters.erased_bytes += u64::from(s.size);
                    (erase_time(&timing, s.size), Status::Ok)
                }
            },
            DfuseCommand::MassErase | DfuseCommand::ReadUnprotect => {
                self.counters.erased_bytes += flash.erase_all();
                self.counters.erases += 1;
                (mass, Status::Ok)
            }
            DfuseCommand::GetCommands => (Duration::ZERO, Status::Ok),
        }
    }

    /// The GETSTATUS after a leave request.
    pub(crate) fn dfuse_leave_status(&mut self, now: Duration) -> Vec<u8> {
        self.core.leaving = false;
        match self.leave_behaviour() {
            Leave::AnswerThenReset(delay) => {
                self.core.state = State::DnloadIdle;
                self.scheduled_reset = Some(now + delay);
                self.status_reply(0)
            }
            Leave::ManifestThenJump | Leave::ResetAtOnce => {
                self.core.state = State::Manifest;
                let reply = self.status_reply(self.spec.profile.timing.poll_command_ms);
                self.run_app(now);
                reply
            }
        }
    }
}
