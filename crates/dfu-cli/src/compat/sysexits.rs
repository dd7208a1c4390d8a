//! dfu-util's exit codes (BSD sysexits) and the mapping from `dfu`'s own failures onto
//! them, so scripts that test dfu-util's codes read `dfu`'s outcomes correctly.

use crate::exit::{self, Failure};

/// Success.
pub const EX_OK: i32 = 0;
/// Bad command line, or a request the device cannot take (a page that is not writeable).
pub const EX_USAGE: i32 = 64;
/// The input file is not what it must be (bad suffix, bad DfuSe file).
pub const EX_DATAERR: i32 = 65;
/// The input file cannot be opened.
pub const EX_NOINPUT: i32 = 66;
/// The output file cannot be created (dfu-util never overwrites an upload file).
pub const EX_CANTCREAT: i32 = 73;
/// USB or I/O error, no device, several devices. (dfu-util's 76, a protocol error, is
/// not produced: `dfu` recovers from the states dfu-util gives up on, and reports the rest
/// as device errors, 74.)
pub const EX_IOERR: i32 = 74;

/// The dfu-util exit code for one of `dfu`'s failures.
///
/// - usage (2) and refused by a check (5): 64, the code dfu-util uses for a request the
///   device cannot take ("Page at ... is not writeable"); nothing was written.
/// - file (3): 66 when the file cannot be opened, 73 when an output file exists or
///   cannot be created, else 65 (the content is wrong).
/// - no device or several (4): 74, as dfu-util ("No DFU capable USB device available",
///   "More than one DFU capable USB device found").
/// - device (6): 74, dfu-util's code for every USB error.
/// - verify (7): 74. dfu-util never verifies, so it has no code of its own for this; the
///   bytes did not arrive intact, which is an I/O failure to the caller, and scripts that
///   retry on 74 (Arduino's maple_upload) retry the right thing.
pub fn for_failure(f: &Failure) -> i32 {
    match f.code {
        exit::OK => EX_OK,
        exit::USAGE | exit::REFUSED => EX_USAGE,
        exit::FILE => file_code(f.error_code),
        // Ctrl-C: what a shell reports for dfu-util killed by SIGINT.
        exit::INTERRUPTED => exit::INTERRUPTED,
        _ => EX_IOERR,
    }
}

fn file_code(code: Option<dfu::Code>) -> i32 {
    match code {
        Some(dfu::Code::Output) => EX_CANTCREAT,
        Some(dfu::Code::InputRead) => EX_NOINPUT,
        _ => EX_DATAERR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dfu_code_maps_to_dfu_utils() {
        let f = |code, msg: &str| for_failure(&Failure::new(code, msg, "help"));
        let file = |c: dfu::Code| for_failure(&Failure::new(exit::FILE, "m", "h").with_code(c));
        assert_eq!(f(exit::OK, ""), 0);
        assert_eq!(f(exit::USAGE, "bad option"), 64);
        assert_eq!(f(exit::REFUSED, "0x08005000 is the bootloader"), 64);
        assert_eq!(file(dfu::Code::InputRead), 66);
        assert_eq!(file(dfu::Code::Output), 73);
        assert_eq!(file(dfu::Code::InputParse), 65);
        assert_eq!(file(dfu::Code::InputOverlap), 65);
        assert_eq!(f(exit::NO_DEVICE, "no device"), 74);
        assert_eq!(f(exit::DEVICE, "USB error"), 74);
        assert_eq!(f(exit::VERIFY, "mismatch"), 74);
    }
}
