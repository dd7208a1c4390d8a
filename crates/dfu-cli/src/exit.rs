//! Exit codes and the failure type every command returns.

use dfu::{DfuError, ErrorKind};

/// Success.
pub const OK: i32 = 0;
/// The command line asks for something impossible (clap also exits 2).
pub const USAGE: i32 = ErrorKind::Usage.exit_code();
/// A file could not be read or understood, or an output file exists.
pub const FILE: i32 = ErrorKind::Input.exit_code();
/// No matching device, or more than one.
pub const NO_DEVICE: i32 = ErrorKind::NoDevice.exit_code();
/// A check refused the operation; nothing was written.
pub const REFUSED: i32 = ErrorKind::Refused.exit_code();
/// The device or the USB stack failed.
pub const DEVICE: i32 = ErrorKind::Device.exit_code();
/// What was read back differs from what was written.
pub const VERIFY: i32 = ErrorKind::Verify.exit_code();
/// Interrupted by Ctrl-C (SIGINT) or SIGTERM, at a safe point (the shell's 128 + SIGINT).
pub const INTERRUPTED: i32 = ErrorKind::Interrupted.exit_code();

/// A command's failure: what happened, what to do, and (for writes) what was done.
#[derive(Debug)]
pub struct Failure {
    /// The code to exit with.
    pub code: i32,
    /// One line: what happened.
    pub message: String,
    /// What to do next.
    pub help: String,
    /// What had been written before the failure, one line each ("nothing was written" when
    /// empty and `wrote_anything` is known).
    pub progress: Option<Vec<String>>,
    /// The library's stable code (`dfu::refused::read-only`), when the library failed.
    pub error_code: Option<dfu::Code>,
    /// A refusal that `--force` would override.
    pub overridable: bool,
}

impl Failure {
    /// A failure with a code, message and help.
    pub fn new(code: i32, message: impl Into<String>, help: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            help: help.into(),
            progress: None,
            error_code: default_code(code),
            overridable: false,
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Failure::new(USAGE, message, help)
    }

    /// A file error.
    pub fn file(message: impl Into<String>, help: impl Into<String>) -> Self {
        Failure::new(FILE, message, help)
    }

    /// An output file that exists or cannot be written.
    pub fn output(message: impl Into<String>, help: impl Into<String>) -> Self {
        Failure {
            error_code: Some(dfu::Code::Output),
            ..Failure::new(FILE, message, help)
        }
    }

    /// The same failure with another stable code.
    pub fn with_code(mut self, code: dfu::Code) -> Self {
        self.error_code = Some(code);
        self
    }

    /// The exit code.
    pub fn code(&self) -> i32 {
        self.code
    }
}

/// The stable code of a failure the command line finds itself (the library's errors bring
/// their own).
fn default_code(exit: i32) -> Option<dfu::Code> {
    Some(match exit {
        USAGE => dfu::Code::Usage,
        FILE => dfu::Code::InputRead,
        NO_DEVICE => dfu::Code::NoDevice,
        REFUSED => dfu::Code::NeedsConfirmation,
        DEVICE => dfu::Code::Usb,
        VERIFY => dfu::Code::Verify,
        _ => return None,
    })
}

impl From<DfuError> for Failure {
    fn from(e: DfuError) -> Self {
        Failure::of(&e)
    }
}

impl Failure {
    /// The failure for a library error (message, help, exit code and stable code).
    pub fn of(e: &DfuError) -> Self {
        let message = match e {
            DfuError::AddressConflict {
                file,
                file_start,
                given,
            } => format!(
                "{file} says it belongs at 0x{file_start:08x}, but --address says 0x{given:08x}"
            ),
            DfuError::NoDevice { selector, .. } => {
                let flags = crate::help::selection_flags(selector);
                match flags.is_empty() {
                    true => "no DFU device found".to_string(),
                    false => format!("no DFU device found for {flags}"),
                }
            }
            DfuError::Ambiguous {
                selector,
                candidates,
            } => {
                let flags = crate::help::selection_flags(selector);
                let sel = if flags.is_empty() {
                    String::new()
                } else {
                    format!(" for {flags}")
                };
                format!("{} DFU devices match{sel}; pick one", candidates.len())
            }
            e => e.to_string(),
        };
        let mut f = Failure::new(e.kind().exit_code(), message, crate::help::for_error(e));
        f.error_code = Some(e.code());
        f.overridable = matches!(e, DfuError::Refused(r) if r.overridable);
        if e.kind() == ErrorKind::Refused {
            // Checks run before anything is erased or written.
            f.progress = Some(Vec::new());
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let mut all = vec![OK, USAGE, FILE, NO_DEVICE, REFUSED, DEVICE, VERIFY];
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 7);
    }
}
