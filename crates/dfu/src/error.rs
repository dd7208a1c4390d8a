//! The library's error type: every failure carries what was happening and what to do.

use dfu_proto::{State, Status, TransportError};
use std::fmt;

/// Broad classes of failure; the CLI maps each to its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The command line asks for something impossible (bad address, length, option).
    Usage,
    /// A file could not be read or understood.
    Input,
    /// No matching device, or more than one.
    NoDevice,
    /// A check refused the operation before anything was written.
    Refused,
    /// The device or the USB stack failed.
    Device,
    /// What was read back differs from what was written.
    Verify,
}

/// A failure of a DFU operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DfuError {
    /// No device matched the selection.
    #[error("no DFU device found{}", selection_suffix(.selection))]
    NoDevice {
        /// The selection, as the user gave it ("" when none).
        selection: String,
        /// Other USB devices that were seen (to help pick the right options).
        seen: Vec<String>,
    },
    /// More than one device matched.
    #[error("{} DFU devices match{}; pick one", .candidates.len(), selection_suffix(.selection))]
    Ambiguous {
        /// The selection, as the user gave it.
        selection: String,
        /// One line per matching device, with the options that select it.
        candidates: Vec<String>,
    },
    /// A USB transfer failed.
    #[error("{op}: {source}")]
    Usb {
        /// What was being done ("DNLOAD block 37 at 0x08012000").
        op: String,
        /// The USB failure.
        source: TransportError,
    },
    /// The device reported an error status.
    #[error("{op}: the device reported {status} in state {state}")]
    Status {
        /// What was being done.
        op: String,
        /// The status.
        status: Status,
        /// The state.
        state: State,
    },
    /// The device is in a state the operation cannot continue from.
    #[error("{op}: the device is in state {state}, expected {expected}")]
    UnexpectedState {
        /// What was being done.
        op: String,
        /// The state found.
        state: State,
        /// The state(s) expected.
        expected: String,
    },
    /// A check refused the operation; nothing was written.
    #[error("refused: {reason}")]
    Refused {
        /// Why.
        reason: String,
        /// What to do.
        help: String,
    },
    /// A read-back differed from what was written.
    #[error("verify failed at 0x{address:08x}: wrote 0x{expected:02x}, read back 0x{found:02x} ({mismatches} bytes differ in 0x{run_start:08x}..0x{run_end:08x})")]
    Verify {
        /// First differing address.
        address: u32,
        /// Byte written.
        expected: u8,
        /// Byte read.
        found: u8,
        /// How many bytes differ in the run.
        mismatches: usize,
        /// The run checked.
        run_start: u32,
        /// One past its end.
        run_end: u64,
    },
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// The device cannot do what was asked (no upload, no layout...).
    #[error("{what}")]
    Unsupported {
        /// What is missing.
        what: String,
        /// What to do.
        help: String,
    },
    /// The device stayed busy or absent too long.
    #[error("{0}: timed out")]
    Timeout(String),
    /// The simulator could not be set up.
    #[error("simulator: {0}")]
    Sim(String),
}

fn selection_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" for {s}")
    }
}

impl DfuError {
    /// The class of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DfuError::NoDevice { .. } | DfuError::Ambiguous { .. } => ErrorKind::NoDevice,
            DfuError::Refused { .. } => ErrorKind::Refused,
            DfuError::Verify { .. } => ErrorKind::Verify,
            DfuError::Usage(_) => ErrorKind::Usage,
            DfuError::Sim(_) => ErrorKind::Usage,
            _ => ErrorKind::Device,
        }
    }

    /// What the user should do next.
    pub fn help(&self) -> String {
        match self {
            DfuError::NoDevice { seen, .. } => {
                let mut h = String::from(
                    "put the device in DFU mode (Particle: hold MODE, tap RESET, release MODE when the LED blinks yellow; STM32: BOOT0 high, then reset), check the cable (some are charge-only), then run `dfu list`; on Linux `dfu doctor` checks permissions",
                );
                if !seen.is_empty() {
                    h.push_str("; devices seen: ");
                    h.push_str(&seen.join(", "));
                }
                h
            }
            DfuError::Ambiguous { candidates, .. } => format!(
                "add --serial or --path to pick one:\n{}",
                candidates
                    .iter()
                    .map(|c| format!("  {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            DfuError::Usb { source, .. } => usb_help(source),
            DfuError::Status { status, .. } => status.advice().to_string(),
            DfuError::UnexpectedState { .. } => {
                "power-cycle the device into DFU mode and try again; `dfu` clears error states at connect".into()
            }
            DfuError::Refused { help, .. } | DfuError::Unsupported { help, .. } => help.clone(),
            DfuError::Verify { .. } => {
                "flash again; if the same bytes differ again, the sector may be protected or worn (check the option bytes), or another program is writing the device".into()
            }
            DfuError::Usage(_) => "see `dfu --help`".into(),
            DfuError::Timeout(_) => {
                "the device stopped answering: reconnect it (USB 2 port, short cable), put it back in DFU mode and try again".into()
            }
            DfuError::Sim(_) => {
                "a simulated device is `PROFILE[,key=value...]`; see `dfu --help` for the profiles and keys".into()
            }
        }
    }

    /// Wraps a transport error with what was being done.
    pub fn usb(op: impl fmt::Display, source: TransportError) -> Self {
        DfuError::Usb {
            op: op.to_string(),
            source,
        }
    }
}

/// Advice for a USB-level failure.
pub fn usb_help(e: &TransportError) -> String {
    match e {
        TransportError::Access(_) => format!(
            "this user may not open the USB device. Linux: {} (`dfu doctor` checks it all). Windows: install the WinUSB driver for the device with Zadig",
            crate::udev::install_help()
        ),
        TransportError::Busy(_) => {
            "another program (dfu-util, a serial monitor, a running flash) or a kernel driver holds the device: close it and try again".into()
        }
        TransportError::Disconnected => {
            "the device left the bus: check the cable and port (prefer a USB 2 port without a hub), put it back in DFU mode and run the command again; `dfu` starts over safely".into()
        }
        TransportError::Stall => {
            "the device rejected the request; it may not support this operation in its state. Run `dfu info` and try again".into()
        }
        _ => "reconnect the device and try again; on USB 3 ports or hubs, try a USB 2 port".into(),
    }
}

/// Result alias.
pub type Result<T, E = DfuError> = std::result::Result<T, E>;
