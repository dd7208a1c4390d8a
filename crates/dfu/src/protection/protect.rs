//! Option bytes and read protection on the device (ST AN3156): reading and writing the
//! option-byte alt, read-unprotect (DfuSe 0x92), and the refusal a read-protected ROM gives.
//! The ROM resets after an option-byte write and after read-unprotect, so the status after
//! either may be lost; the caller waits for the device to come back.

use crate::code::{Code, Finding};
use crate::device::DfuDevice;
use crate::error::{DfuError, Op, Result};
use crate::events::Sink;
use crate::optbytes::OptionBytesAt;
use dfu_proto::{DfuRequest, DfuseCommand, State, Status};

/// The refusal a read-protected ST ROM gives (errVENDOR), named with its way out.
pub(crate) fn read_protected(op: Op) -> DfuError {
    DfuError::refused(Finding::hard(
        Code::ReadProtected,
        format!("{op}: the device refused it with errVENDOR: it is read-protected (read protection level 1), so it refuses reads, writes and erases"),
        "removing read protection erases the whole flash (DfuSe read-unprotect); the option bytes show the level",
    ))
}

impl DfuDevice {
    /// Where this device's option bytes are (from its profile).
    pub fn option_bytes_at(&self) -> Result<OptionBytesAt> {
        self.profile()
            .and_then(OptionBytesAt::of)
            .ok_or_else(|| DfuError::Unsupported {
                code: Code::NoOptionBytes,
                what: "this device has no option bytes that its profile knows of (no option-bytes region)".into(),
            })
    }

    /// True when an errVENDOR from this device means read protection (ST ROMs).
    pub(crate) fn vendor_means_protected(&self) -> bool {
        self.profile().is_some_and(|p| p.option_bytes.is_some())
    }

    /// Reads the option bytes.
    pub fn read_option_bytes(&mut self, events: Sink) -> Result<(OptionBytesAt, Vec<u8>)> {
        let at = self.option_bytes_at()?;
        self.select_alt(at.alt)?;
        let raw = self.read(at.address, u64::from(at.size), events)?;
        Ok((at, raw))
    }

    /// Writes the option bytes (the whole region). The ROM applies them and resets, so the
    /// status after the write may be lost; that is not an error.
    pub fn write_option_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let at = self.option_bytes_at()?;
        if bytes.len() as u64 != u64::from(at.size) {
            return Err(DfuError::usage(format!(
                "the option bytes are {} bytes at 0x{:08x}; {} given",
                at.size,
                at.address,
                bytes.len()
            )));
        }
        self.select_alt(at.alt)?;
        self.ensure_idle()?;
        self.dfuse_command(DfuseCommand::SetAddress(at.address))?;
        let op = Op::Write {
            address: at.address,
            len: bytes.len(),
        };
        self.out(DfuRequest::Dnload, 2, bytes, op)?;
        self.until_reset(op)
    }

    /// DfuSe read-unprotect (0x92): the ROM erases the whole flash, clears read protection
    /// and resets.
    pub fn read_unprotect(&mut self) -> Result<()> {
        self.ensure_idle()?;
        let cmd = DfuseCommand::ReadUnprotect;
        let op = Op::Dfuse(cmd);
        match self.out(DfuRequest::Dnload, 0, &cmd.encode(), op) {
            Ok(()) => {}
            Err(DfuError::Usb { .. }) => return Ok(()),
            Err(e) => return Err(e),
        }
        self.until_reset(op)
    }

    /// Polls GETSTATUS until the device resets (the status is lost) or reports an error.
    /// The status requests get a timeout sized to the erase; one that still times out (the
    /// device busy, NAKing) is sent again, within the busy bound.
    fn until_reset(&mut self, op: Op) -> Result<()> {
        let before = self.t.timeout();
        self.t
            .set_timeout(self.busy_timeout(op, std::time::Duration::ZERO));
        let r = self.poll_until_reset(op);
        self.t.set_timeout(before);
        r
    }

    fn poll_until_reset(&mut self, op: Op) -> Result<()> {
        let start = self.t.now();
        let limit = self.busy_limit(op);
        for _ in 0..1000 {
            match self.get_status() {
                Err(DfuError::Usb {
                    source: dfu_proto::TransportError::Timeout,
                    ..
                }) if self.t.now().saturating_sub(start) <= limit => self.timeouts += 1,
                Err(DfuError::Usb { .. }) => return Ok(()),
                Err(e) => return Err(e),
                Ok(s) if s.state == State::Error || s.status != Status::Ok => {
                    return Err(if s.status == Status::ErrVendor {
                        read_protected(op)
                    } else {
                        DfuError::Status {
                            op,
                            status: s.status,
                            state: s.state,
                        }
                    });
                }
                Ok(s) if matches!(s.state, State::DfuIdle | State::DnloadIdle) => return Ok(()),
                Ok(s) => self.wait(crate::patience::poll_wait(s.poll_timeout())),
            }
        }
        Err(DfuError::Timeout { op })
    }
}
