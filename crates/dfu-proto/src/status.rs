//! DFU device states and status codes (DFU 1.1 section 6.1.2), and the GETSTATUS reply.

use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// The DFU state machine's states (DFU 1.1 table A.2.12), with unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum State {
    /// 0: run-time mode, idle.
    AppIdle,
    /// 1: run-time mode, DETACH received, waiting for a USB reset.
    AppDetach,
    /// 2: DFU mode, waiting for requests.
    DfuIdle,
    /// 3: a block was received, waiting for GETSTATUS.
    DnloadSync,
    /// 4: the device is programming a block.
    DnBusy,
    /// 5: ready for the next DNLOAD block.
    DnloadIdle,
    /// 6: the final (zero-length) DNLOAD was received, waiting for GETSTATUS.
    ManifestSync,
    /// 7: the device is in the manifestation phase.
    Manifest,
    /// 8: manifestation done, waiting for a USB reset (manifestation intolerant devices).
    ManifestWaitReset,
    /// 9: an upload is in progress.
    UploadIdle,
    /// 10: an error occurred; CLRSTATUS is needed.
    Error,
    /// A value outside the specification.
    Other(u8),
}

impl State {
    /// Decodes a bState byte.
    pub fn from_u8(v: u8) -> Self {
        use State::*;
        match v {
            0 => AppIdle,
            1 => AppDetach,
            2 => DfuIdle,
            3 => DnloadSync,
            4 => DnBusy,
            5 => DnloadIdle,
            6 => ManifestSync,
            7 => Manifest,
            8 => ManifestWaitReset,
            9 => UploadIdle,
            10 => Error,
            x => Other(x),
        }
    }

    /// Encodes the state as its bState byte.
    pub fn as_u8(self) -> u8 {
        use State::*;
        match self {
            AppIdle => 0,
            AppDetach => 1,
            DfuIdle => 2,
            DnloadSync => 3,
            DnBusy => 4,
            DnloadIdle => 5,
            ManifestSync => 6,
            Manifest => 7,
            ManifestWaitReset => 8,
            UploadIdle => 9,
            Error => 10,
            Other(x) => x,
        }
    }

    /// The name the DFU specification (and dfu-util) uses for this state.
    pub fn name(self) -> &'static str {
        use State::*;
        match self {
            AppIdle => "appIDLE",
            AppDetach => "appDETACH",
            DfuIdle => "dfuIDLE",
            DnloadSync => "dfuDNLOAD-SYNC",
            DnBusy => "dfuDNBUSY",
            DnloadIdle => "dfuDNLOAD-IDLE",
            ManifestSync => "dfuMANIFEST-SYNC",
            Manifest => "dfuMANIFEST",
            ManifestWaitReset => "dfuMANIFEST-WAIT-RESET",
            UploadIdle => "dfuUPLOAD-IDLE",
            Error => "dfuERROR",
            Other(_) => "unknown state",
        }
    }

    /// True for the two run-time mode states.
    pub fn is_runtime(self) -> bool {
        matches!(self, State::AppIdle | State::AppDetach)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Other(x) => write!(f, "unknown state {x}"),
            s => write!(f, "{} ({})", s.name(), s.as_u8()),
        }
    }
}

/// DFU status codes (DFU 1.1 table A.2.12 bStatus), with unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// 0x00: no error.
    Ok,
    /// 0x01: file is not targeted for this device.
    ErrTarget,
    /// 0x02: file is for this device but fails a vendor-specific check.
    ErrFile,
    /// 0x03: device is unable to write memory.
    ErrWrite,
    /// 0x04: memory erase function failed.
    ErrErase,
    /// 0x05: memory erase check failed.
    ErrCheckErased,
    /// 0x06: program memory function failed.
    ErrProg,
    /// 0x07: programmed memory failed verification.
    ErrVerify,
    /// 0x08: cannot program memory due to received address that is out of range.
    ErrAddress,
    /// 0x09: received DNLOAD with wLength = 0, but the device does not think it has all data.
    ErrNotDone,
    /// 0x0A: device's firmware is corrupt; it cannot return to run-time operations.
    ErrFirmware,
    /// 0x0B: iString indicates a vendor-specific error.
    ErrVendor,
    /// 0x0C: device detected unexpected USB reset signaling.
    ErrUsbr,
    /// 0x0D: device detected unexpected power-on reset.
    ErrPor,
    /// 0x0E: something went wrong, but the device does not know what.
    ErrUnknown,
    /// 0x0F: device stalled an unexpected request.
    ErrStalledPkt,
    /// A value outside the specification.
    Other(u8),
}

impl Status {
    /// Decodes a bStatus byte.
    pub fn from_u8(v: u8) -> Self {
        use Status::*;
        match v {
            0x00 => Ok,
            0x01 => ErrTarget,
            0x02 => ErrFile,
            0x03 => ErrWrite,
            0x04 => ErrErase,
            0x05 => ErrCheckErased,
            0x06 => ErrProg,
            0x07 => ErrVerify,
            0x08 => ErrAddress,
            0x09 => ErrNotDone,
            0x0A => ErrFirmware,
            0x0B => ErrVendor,
            0x0C => ErrUsbr,
            0x0D => ErrPor,
            0x0E => ErrUnknown,
            0x0F => ErrStalledPkt,
            x => Other(x),
        }
    }

    /// Encodes the status as its bStatus byte.
    pub fn as_u8(self) -> u8 {
        use Status::*;
        match self {
            Ok => 0x00,
            ErrTarget => 0x01,
            ErrFile => 0x02,
            ErrWrite => 0x03,
            ErrErase => 0x04,
            ErrCheckErased => 0x05,
            ErrProg => 0x06,
            ErrVerify => 0x07,
            ErrAddress => 0x08,
            ErrNotDone => 0x09,
            ErrFirmware => 0x0A,
            ErrVendor => 0x0B,
            ErrUsbr => 0x0C,
            ErrPor => 0x0D,
            ErrUnknown => 0x0E,
            ErrStalledPkt => 0x0F,
            Other(x) => x,
        }
    }

    /// The specification's name for the status (`OK`, `errTARGET`, ...).
    pub fn name(self) -> &'static str {
        use Status::*;
        match self {
            Ok => "OK",
            ErrTarget => "errTARGET",
            ErrFile => "errFILE",
            ErrWrite => "errWRITE",
            ErrErase => "errERASE",
            ErrCheckErased => "errCHECK_ERASED",
            ErrProg => "errPROG",
            ErrVerify => "errVERIFY",
            ErrAddress => "errADDRESS",
            ErrNotDone => "errNOTDONE",
            ErrFirmware => "errFIRMWARE",
            ErrVendor => "errVENDOR",
            ErrUsbr => "errUSBR",
            ErrPor => "errPOR",
            ErrUnknown => "errUNKNOWN",
            ErrStalledPkt => "errSTALLEDPKT",
            Other(_) => "unknown status",
        }
    }

    /// What the status means, in plain language.
    pub fn meaning(self) -> &'static str {
        use Status::*;
        match self {
            Ok => "no error",
            ErrTarget => "the file is not meant for this device",
            ErrFile => "the file is for this device but failed the device's own check",
            ErrWrite => "the device could not write the memory (write-protected or read-only)",
            ErrErase => "the device could not erase the memory",
            ErrCheckErased => "memory that should have been erased was not blank",
            ErrProg => "programming the memory failed",
            ErrVerify => "the device's own check of the programmed memory failed",
            ErrAddress => "the address is outside the memory the device can program",
            ErrNotDone => "the download ended before the device had all the data it expected",
            ErrFirmware => "the firmware on the device is corrupt; it cannot start it",
            ErrVendor => "a vendor-specific error (the device's iString may say more)",
            ErrUsbr => "the device saw an unexpected USB reset",
            ErrPor => "the device saw an unexpected power-on reset",
            ErrUnknown => "the device failed and does not know why",
            ErrStalledPkt => "the device rejected (stalled) a request it did not expect",
            Other(_) => "a status code the DFU specification does not define",
        }
    }

    /// What the user can do about the status.
    pub fn advice(self) -> &'static str {
        use Status::*;
        match self {
            Ok => "nothing to do",
            ErrTarget | ErrFile => {
                "check that the image was built for this device (platform, address); `dfu image inspect FILE` shows what it was built for"
            }
            ErrWrite => {
                "the target sector is read-only or protected; check the address against `dfu info`, or remove the write protection (option bytes)"
            }
            ErrErase | ErrCheckErased => {
                "erase again; if it keeps failing, the sector may be protected (check the option bytes) or worn out"
            }
            ErrProg | ErrVerify => {
                "the memory did not take the bytes: the page was not blank, is write-protected (`dfu option-bytes` shows it), or is one-time programmable; repeated failures on erasable flash point to failing flash"
            }
            ErrAddress => "use an address inside the device's memory map (`dfu info` shows it)",
            ErrNotDone => "the transfer was cut short: flash again from the start",
            ErrFirmware => "flash a valid application image before leaving DFU mode",
            ErrVendor => "see the device's documentation for its vendor-specific errors",
            ErrUsbr | ErrPor => {
                "the device restarted during the operation: check the cable, the port and the power, then flash again"
            }
            ErrUnknown => "power-cycle the device and flash again",
            ErrStalledPkt => {
                "the device was sent a request it did not expect in its state; `dfu` clears this automatically, flash again"
            }
            Other(_) => "power-cycle the device; if it persists, report the device and the code",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (0x{:02x}): {}",
            self.name(),
            self.as_u8(),
            self.meaning()
        )
    }
}

/// The 6-byte reply to GETSTATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GetStatus {
    /// bStatus.
    pub status: Status,
    /// bwPollTimeout: how long the host waits before the next GETSTATUS.
    pub poll_timeout_ms: u32,
    /// bState.
    pub state: State,
    /// iString: index of a string descriptor describing the status.
    pub string_index: u8,
}

impl GetStatus {
    /// Length of the reply on the wire.
    pub const LEN: usize = 6;

    /// Decodes a reply; `None` when shorter than six bytes.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < Self::LEN {
            return None;
        }
        Some(GetStatus {
            status: Status::from_u8(b[0]),
            poll_timeout_ms: u32::from_le_bytes([b[1], b[2], b[3], 0]),
            state: State::from_u8(b[4]),
            string_index: b[5],
        })
    }

    /// Encodes the reply (the poll timeout is clamped to 24 bits).
    pub fn encode(&self) -> [u8; 6] {
        let p = self.poll_timeout_ms.min(0xFF_FFFF).to_le_bytes();
        [
            self.status.as_u8(),
            p[0],
            p[1],
            p[2],
            self.state.as_u8(),
            self.string_index,
        ]
    }

    /// The poll timeout as a duration.
    pub fn poll_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.poll_timeout_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(State::from_u8(v).as_u8(), v);
            assert_eq!(Status::from_u8(v).as_u8(), v);
        }
        assert_eq!(State::from_u8(11), State::Other(11));
        assert_eq!(Status::from_u8(0x10), Status::Other(0x10));
    }

    #[test]
    fn status_reply_decodes() {
        let s = GetStatus::parse(&[0x0a, 0x32, 0x01, 0x00, 10, 0]).unwrap();
        assert_eq!(s.status, Status::ErrFirmware);
        assert_eq!(s.poll_timeout_ms, 0x132);
        assert_eq!(s.state, State::Error);
        assert_eq!(GetStatus::parse(&s.encode()), Some(s));
        assert_eq!(GetStatus::parse(&[0, 0, 0]), None);
    }

    #[test]
    fn every_defined_status_has_distinct_text() {
        let mut names = std::collections::HashSet::new();
        for v in 0..=0x0f {
            let s = Status::from_u8(v);
            assert!(names.insert(s.name()));
            assert!(!s.meaning().is_empty() && !s.advice().is_empty());
        }
        assert_eq!(State::Error.to_string(), "dfuERROR (10)");
    }
}
