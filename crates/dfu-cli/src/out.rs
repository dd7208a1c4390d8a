//! Standard output and standard error that survive a closed pipe.
//!
//! `println!` panics when its reader has gone away (`dfu list | head -1`). Every command
//! writes through these instead:
//!
//! - [`outln!`](crate::out::outln) / [`out!`](crate::out::out): standard output, like
//!   `println!` / `print!`;
//! - [`errln!`](crate::out::errln): standard error, like `eprintln!`;
//! - [`json`]: one JSON value on one line of standard output.
//!
//! A write to a closed pipe (EPIPE) is dropped and remembered ([`stdout_closed`]); the
//! command carries on to its end and exits with its real status, so an operation on a device
//! never stops half-way because nobody reads its output any more. Other write errors (a full
//! disk behind a redirection) are dropped too: there is nowhere left to report them.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
static RESULT_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Writes `args` and a newline to standard output (see [`outln!`](crate::out::outln)).
pub fn stdout_line(args: fmt::Arguments<'_>) {
    write_to(&mut std::io::stdout().lock(), &STDOUT_CLOSED, args, true);
}

/// Writes `args` to standard output without a newline (see [`out!`](crate::out::out)).
pub fn stdout_text(args: fmt::Arguments<'_>) {
    write_to(&mut std::io::stdout().lock(), &STDOUT_CLOSED, args, false);
}

/// Writes `args` and a newline to standard error (see [`errln!`](crate::out::errln)).
pub fn stderr_line(args: fmt::Arguments<'_>) {
    write_to(&mut std::io::stderr().lock(), &STDERR_CLOSED, args, true);
}

/// Records that standard output's reader has gone (`dfu read -o -` found the pipe closed):
/// nothing more is written there.
pub fn stdout_closed_now() {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
}

/// The version of the JSON described in docs/json.md; every object `dfu` writes carries it
/// as `schema_version`. It changes when a key is removed or changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes one JSON value as one line of standard error (an object gets `schema_version`):
/// the result of `dfu read -o - --json`, whose standard output carries the memory.
pub fn json_to_stderr<T: serde::Serialize + ?Sized>(value: &T) {
    match versioned(value) {
        Ok(v) => stderr_line(format_args!("{v}")),
        Err(e) => stderr_line(format_args!("error: cannot write JSON output: {e}")),
    }
}

fn versioned<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(value).map(|mut v| {
        if let Some(o) = v.as_object_mut() {
            o.insert("schema_version".into(), SCHEMA_VERSION.into());
        }
        v
    })
}

/// Writes one JSON value as one line of standard output (an object gets `schema_version`).
pub fn json<T: serde::Serialize + ?Sized>(value: &T) {
    match versioned(value) {
        Ok(v) => stdout_line(format_args!("{v}")),
        Err(e) => stderr_line(format_args!("error: cannot write JSON output: {e}")),
    }
}

/// Writes a command's JSON result object, failure included, and remembers that it did, so
/// that the failure is not written a second time by
/// [`render::failure`](crate::render::failure).
pub fn json_result<T: serde::Serialize + ?Sized>(value: &T) {
    RESULT_WRITTEN.store(true, Ordering::Relaxed);
    json(value);
}

/// True once [`json_result`] wrote the command's result.
pub fn result_written() -> bool {
    RESULT_WRITTEN.load(Ordering::Relaxed)
}

/// True once a write to standard output found the pipe closed.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

fn write_to(w: &mut dyn Write, closed: &AtomicBool, args: fmt::Arguments<'_>, newline: bool) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let r = w
        .write_fmt(args)
        .and_then(|()| if newline { w.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| w.flush());
    if let Err(e) = r {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            closed.store(true, Ordering::Relaxed);
        }
    }
}

/// `println!` that ignores a closed standard output: `outln!("{} bytes", n)`.
macro_rules! outln {
    () => {
        $crate::out::stdout_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::stdout_line(format_args!($($arg)*))
    };
}

/// `print!` that ignores a closed standard output.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::stdout_text(format_args!($($arg)*))
    };
}

/// `eprintln!` that ignores a closed standard error: `errln!("note: {m}")`.
macro_rules! errln {
    () => {
        $crate::out::stderr_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::stderr_line(format_args!($($arg)*))
    };
}

#[allow(unused_imports)]
pub(crate) use {errln, out, outln};

/// True when standard output is a terminal and `NO_COLOR` is not set: colour is welcome.
/// On Windows the console must also accept ANSI colours: they are switched on for it
/// (virtual terminal processing, Windows 10 and later); where that fails, no colour.
pub fn colour_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && anstyle_query::windows::enable_ansi_colors().unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_remembered_not_fatal() {
        let flag = AtomicBool::new(false);
        write_to(&mut Closed, &flag, format_args!("x"), true);
        assert!(flag.load(Ordering::Relaxed));
        let mut v = Vec::new();
        let open = AtomicBool::new(false);
        write_to(&mut v, &open, format_args!("a{}", 1), true);
        assert_eq!(v, b"a1\n");
        assert!(!open.load(Ordering::Relaxed));
    }
}
