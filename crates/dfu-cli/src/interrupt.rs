//! Ctrl-C during a flash: the first Ctrl-C (SIGINT, or SIGTERM) sets a flag that the library
//! checks between requests, so the flash stops after the current block or sector, says what
//! was written and exits with [`crate::exit::INTERRUPTED`]. A second one ends the process at
//! once, with the same code.
//!
//! On Unix the handlers are signal handlers (signal-hook). On Windows they are a console
//! control handler (the `ctrlc` crate, `SetConsoleCtrlHandler`): Ctrl-C, Ctrl-Break and
//! closing the console window. The C runtime's `signal()` is not used there: under Wine 8.0,
//! a SIGINT delivered through it crashed the process (docs/desks.md).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Installs the handlers and returns the flag they set. Where they cannot be installed,
/// the flag is never set (and the default behaviour, ending the process, stays).
#[cfg(unix)]
pub fn install() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Order matters: the conditional exit sees the flag as the earlier signal left it.
        let _ = signal_hook::flag::register_conditional_shutdown(
            signal,
            crate::exit::INTERRUPTED,
            Arc::clone(&flag),
        );
        let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
    }
    flag
}

/// Installs the handlers and returns the flag they set. Where they cannot be installed,
/// the flag is never set (and the default behaviour, ending the process, stays).
#[cfg(not(unix))]
pub fn install() -> Arc<AtomicBool> {
    use std::sync::atomic::Ordering;
    use std::sync::OnceLock;
    // One console handler per process, on its own thread: every caller gets its flag.
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                std::process::exit(crate::exit::INTERRUPTED);
            }
        });
        flag
    }))
}
