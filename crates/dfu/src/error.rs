//! The library's error type: typed operations, kept causes, a stable code for each failure.

use crate::code::{Code, Finding};
use dfu_proto::{DfuseCommand, State, Status, TransportError};
use std::fmt;

/// Broad classes of failure; front ends map each to their own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The request is impossible as asked (bad address, length, alt setting).
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
    /// The caller cancelled the operation (Ctrl-C); it stopped at a safe point.
    Interrupted,
}

impl ErrorKind {
    /// The process exit code for this kind (README, exit codes): what `dfu` exits with, and
    /// what every front end reports as `exit_code`.
    pub const fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage => 2,
            ErrorKind::Input => 3,
            ErrorKind::NoDevice => 4,
            ErrorKind::Refused => 5,
            ErrorKind::Device => 6,
            ErrorKind::Verify => 7,
            ErrorKind::Interrupted => 130,
        }
    }
}

/// What was being done when a device failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Listing the devices on the bus.
    List,
    /// Opening a device.
    Open,
    /// Claiming the DFU interface.
    Claim(u8),
    /// Reading a descriptor (`what` names it).
    Descriptor(&'static str),
    /// Selecting an alternate setting.
    SelectAlt(u8),
    /// GETSTATUS.
    GetStatus,
    /// CLRSTATUS.
    ClearStatus,
    /// ABORT.
    Abort,
    /// Bringing the device to dfuIDLE at connect.
    Connect,
    /// A DfuSe command.
    Dfuse(DfuseCommand),
    /// A DfuSe data DNLOAD of `len` bytes at `address`.
    Write {
        /// Where.
        address: u32,
        /// How many bytes.
        len: usize,
    },
    /// A plain DFU DNLOAD block.
    Block {
        /// Block number.
        block: usize,
        /// Offset of its first byte in the image.
        offset: usize,
        /// How many bytes.
        len: usize,
    },
    /// An UPLOAD of `len` bytes at `address` (plain DFU: offset from the start).
    Read {
        /// Where.
        address: u64,
        /// How many bytes.
        len: usize,
    },
    /// The zero-length DNLOAD that ends a download (plain DFU).
    FinalDownload,
    /// Manifestation after the final DNLOAD.
    Manifest,
    /// Leaving DFU mode (DfuSe zero-length DNLOAD).
    Leave,
    /// The USB reset that starts the application.
    ResetToApp,
    /// DETACH.
    Detach,
    /// The USB reset after DETACH.
    ResetAfterDetach,
    /// Waiting for a device to come back in DFU mode.
    Reappear,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::List => f.write_str("listing USB devices"),
            Op::Open => f.write_str("opening the device"),
            Op::Claim(n) => write!(f, "claiming interface {n}"),
            Op::Descriptor(what) => write!(f, "reading the {what}"),
            Op::SelectAlt(n) => write!(f, "selecting alt setting {n}"),
            Op::GetStatus => f.write_str("GETSTATUS"),
            Op::ClearStatus => f.write_str("CLRSTATUS"),
            Op::Abort => f.write_str("ABORT"),
            Op::Connect => f.write_str("connecting"),
            Op::Dfuse(DfuseCommand::SetAddress(a)) => write!(f, "DfuSe set address 0x{a:08x}"),
            Op::Dfuse(DfuseCommand::ErasePage(a)) => {
                write!(f, "DfuSe erase of the page at 0x{a:08x}")
            }
            Op::Dfuse(DfuseCommand::MassErase) => f.write_str("DfuSe mass erase"),
            Op::Dfuse(DfuseCommand::ReadUnprotect) => f.write_str("DfuSe read unprotect"),
            Op::Dfuse(DfuseCommand::GetCommands) => f.write_str("DfuSe get commands"),
            Op::Write { address, len } => write!(f, "DNLOAD of {len} bytes at 0x{address:08x}"),
            Op::Block { block, offset, len } => {
                write!(f, "DNLOAD block {block} ({len} bytes at offset {offset})")
            }
            Op::Read { address, len } => write!(f, "UPLOAD of {len} bytes at 0x{address:08x}"),
            Op::FinalDownload => f.write_str("final zero-length DNLOAD"),
            Op::Manifest => f.write_str("manifestation"),
            Op::Leave => f.write_str("leave (zero-length DNLOAD)"),
            Op::ResetToApp => f.write_str("USB reset to start the application"),
            Op::Detach => f.write_str("DETACH"),
            Op::ResetAfterDetach => f.write_str("USB reset after DETACH"),
            Op::Reappear => f.write_str("waiting for the device to re-appear in DFU mode"),
        }
    }
}

/// A failure of a DFU operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DfuError {
    /// No device matched the selection.
    #[error("no DFU device found{}", selection_suffix(&.selector.describe()))]
    NoDevice {
        /// The selection.
        selector: crate::Selector,
        /// Other USB devices that were seen.
        seen: Vec<String>,
    },
    /// More than one device matched.
    #[error("{} DFU devices match{}; pick one", .candidates.len(), selection_suffix(&.selector.describe()))]
    Ambiguous {
        /// The selection.
        selector: crate::Selector,
        /// The matching devices.
        candidates: Vec<Candidate>,
    },
    /// A USB transfer failed.
    #[error("{op}: {source}")]
    Usb {
        /// What was being done.
        op: Op,
        /// The USB failure.
        #[source]
        source: TransportError,
    },
    /// The device reported an error status.
    #[error("{op}: the device reported {status} in state {state}")]
    Status {
        /// What was being done.
        op: Op,
        /// The status.
        status: Status,
        /// The state.
        state: State,
    },
    /// The device is in a state the operation cannot continue from.
    #[error("{op}: the device is in state {state}, expected {expected}")]
    UnexpectedState {
        /// What was being done.
        op: Op,
        /// The state found.
        state: State,
        /// The state(s) expected.
        expected: &'static str,
    },
    /// The device answered something impossible.
    #[error("{op}: {what}")]
    Protocol {
        /// What was being done.
        op: Op,
        /// What was wrong with the answer.
        what: String,
    },
    /// The device stayed busy or absent too long.
    #[error("{op}: timed out")]
    Timeout {
        /// What was being done.
        op: Op,
    },
    /// A check refused the operation; nothing was written.
    #[error("refused: {}", .0.message)]
    Refused(Box<Finding>),
    /// A read-back differed from what was written.
    #[error("verify failed at 0x{address:08x}: wrote 0x{expected:02x}, read back 0x{found:02x} ({mismatches} byte(s) differ in 0x{run_start:08x}-0x{:08x})", .run_end - 1)]
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
    /// A file carries its own addresses, and the address given disagrees.
    #[error(
        "{file} says it belongs at 0x{file_start:08x}, but the address given is 0x{given:08x}"
    )]
    AddressConflict {
        /// The file.
        file: String,
        /// Where the file starts.
        file_start: u32,
        /// The address given.
        given: u32,
    },
    /// The request is impossible as asked.
    #[error("{message}")]
    Usage {
        /// Which.
        code: Code,
        /// What is wrong.
        message: String,
    },
    /// A firmware file could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A firmware file is damaged or not a firmware image.
    #[error("{file}: {source}")]
    Input {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: dfu_image::ImageError,
    },
    /// The device cannot do what was asked.
    #[error("{what}")]
    Unsupported {
        /// Which.
        code: Code,
        /// What is missing.
        what: String,
    },
    /// The simulator could not be set up.
    #[error("{0}")]
    Sim(String),
    /// The caller cancelled (the flag given to [`crate::DfuDevice::cancel_on`] was set); the
    /// operation stopped before `op`, with no request in flight.
    #[error("interrupted before the {op}")]
    Interrupted {
        /// The request that was not sent.
        op: Op,
    },
}

/// One of several matching devices, with what tells it apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The device in one line.
    pub summary: String,
    /// Its bus path.
    pub path: String,
    /// Its serial number, when it has one.
    pub serial: Option<String>,
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
            DfuError::Unsupported {
                code: Code::SimSave,
                ..
            } => ErrorKind::Device,
            DfuError::Refused(_) | DfuError::Unsupported { .. } => ErrorKind::Refused,
            DfuError::Verify { .. } => ErrorKind::Verify,
            DfuError::Usage {
                code: Code::InputOverlap,
                ..
            } => ErrorKind::Input,
            DfuError::Usage { .. } | DfuError::AddressConflict { .. } | DfuError::Sim(_) => {
                ErrorKind::Usage
            }
            DfuError::Io { .. } | DfuError::Input { .. } => ErrorKind::Input,
            DfuError::Interrupted { .. } => ErrorKind::Interrupted,
            _ => ErrorKind::Device,
        }
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            DfuError::NoDevice { .. } => Code::NoDevice,
            DfuError::Ambiguous { .. } => Code::Ambiguous,
            DfuError::Usb { .. } => Code::Usb,
            DfuError::Status { .. } => Code::Status,
            DfuError::UnexpectedState { .. } => Code::State,
            DfuError::Protocol { .. } => Code::Protocol,
            DfuError::Timeout { .. } => Code::Timeout,
            DfuError::Refused(f) => f.code,
            DfuError::Verify { .. } => Code::Verify,
            DfuError::AddressConflict { .. } => Code::AddressConflict,
            DfuError::Usage { code, .. } | DfuError::Unsupported { code, .. } => *code,
            DfuError::Io { .. } => Code::InputRead,
            DfuError::Input { .. } => Code::InputParse,
            DfuError::Sim(_) => Code::Sim,
            DfuError::Interrupted { .. } => Code::Interrupted,
        }
    }

    /// Facts that help the user act (a memory map, where applications go); may be empty.
    pub fn detail(&self) -> &str {
        match self {
            DfuError::Refused(f) => &f.detail,
            _ => "",
        }
    }

    /// Wraps a transport error with what was being done.
    pub fn usb(op: Op, source: TransportError) -> Self {
        DfuError::Usb { op, source }
    }

    /// A usage error with the generic code.
    pub fn usage(message: impl Into<String>) -> Self {
        DfuError::Usage {
            code: Code::Usage,
            message: message.into(),
        }
    }

    /// A refusal from a finding.
    pub fn refused(f: Finding) -> Self {
        DfuError::Refused(Box::new(f))
    }
}

/// Result alias.
pub type Result<T, E = DfuError> = std::result::Result<T, E>;
