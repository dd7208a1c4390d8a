//! Ctrl-C during a flash: the first SIGINT or SIGTERM sets a flag that the library checks
//! between requests, so the flash stops after the current block or sector, says what was
//! written and exits with [`crate::exit::INTERRUPTED`]. A second one ends the process at
//! once, with the same code.
//!
//! On Windows, signal-hook registers through the C runtime's `signal()`, which the console
//! raises as SIGINT on Ctrl-C (and Ctrl-Break is not caught): the same flag, the same stop.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Installs the handlers and returns the flag they set. Where signals cannot be handled,
/// the flag is never set (and the default behaviour, ending the process, stays).
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
