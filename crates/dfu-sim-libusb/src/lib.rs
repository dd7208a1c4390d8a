//! A libusb-1.0 drop-in over the `dfu-sim` simulated devices.
//!
//! Built as `libdfu_sim_libusb.so` and loaded with `LD_PRELOAD`, it replaces the
//! libusb-1.0 functions an unmodified program such as dfu-util 0.11 calls, and serves the
//! devices named by `DFU_SIM` (the same spec as the `dfu --sim` option, the same state
//! files):
//!
//! ```text
//! LD_PRELOAD=target/debug/libdfu_sim_libusb.so DFU_SIM='photon,state=/tmp/p' dfu-util -l
//! ```
//!
//! It also replaces `nanosleep` and `usleep`: the program's waits advance the simulator's
//! virtual clock instead of sleeping, so a 1 MiB download takes milliseconds and the
//! statistics count the client's waits. The simulation is saved (state and stats files)
//! at the last `libusb_exit` and, for programs that leave through `exit()` on an error,
//! by an `atexit` handler.
//!
//! This is the only crate of the workspace that may use `unsafe`: C hands it raw
//! pointers. Objects given to C are tokens, not Rust memory (see [`ffi`]), so the unsafe
//! code is limited to reading and writing the caller's buffers and out-parameters.

pub mod clock;
pub mod config;
pub mod devices;
pub mod events;
pub mod extra;
pub mod ffi;
pub mod handles;
pub mod kernel;
pub mod shim;
pub mod time;
pub mod transfer;
pub mod unsupported;

#[cfg(test)]
mod api_more_tests;
#[cfg(test)]
mod api_tests;

use ffi::{libusb_version, LIBUSB_ERROR_OTHER, LIBUSB_SUCCESS};
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The opaque `libusb_context` (only ever seen through a pointer).
pub type Context = c_void;

/// Runs `f`, turning a panic into `fallback`: unwinding into C is undefined behaviour.
pub(crate) fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        eprintln!("dfu-sim-libusb: internal error (panic); see the message above");
        fallback
    })
}

/// Stores `value` through a C out-parameter; `false` if the pointer is NULL.
///
/// # Safety
/// `out` must be NULL or valid for writing a `T` (any alignment is accepted).
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> bool {
    if out.is_null() {
        return false;
    }
    // SAFETY: non-NULL, and the caller promises it is valid for writes of a T.
    unsafe { out.write_unaligned(value) };
    true
}

/// `int libusb_init(libusb_context **ctx)`: starts the simulation from `DFU_SIM` (the
/// first time) and hands out a context. Fails with `LIBUSB_ERROR_OTHER`, after a message
/// on stderr, when `DFU_SIM` is unset or invalid.
///
/// # Safety
/// `ctx` must be NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn libusb_init(ctx: *mut *mut Context) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let token = shim::with_or_init(|s| {
            s.contexts += 1;
            s.token()
        });
        match token {
            Some(token) => {
                // SAFETY: the caller's promise about `ctx`.
                unsafe { write_out(ctx, ffi::token_to_ptr(token)) };
                LIBUSB_SUCCESS
            }
            None => LIBUSB_ERROR_OTHER,
        }
    })
}

/// `void libusb_exit(libusb_context *ctx)`: the last exit saves the simulation and
/// releases everything.
#[no_mangle]
pub extern "C" fn libusb_exit(_ctx: *mut Context) {
    guard((), || {
        let last = shim::with(|s| {
            s.contexts = s.contexts.saturating_sub(1);
            s.contexts == 0
        });
        if last == Some(true) {
            shim::teardown();
        }
    })
}

/// `int libusb_set_option(libusb_context *ctx, enum libusb_option option, ...)`.
///
/// In C this is variadic. Rust can only define variadic functions on nightly
/// (`c_variadic`), so it is exported with one explicit `int` argument instead. That is
/// ABI-compatible for the calls libusb programs make (dfu-util 0.11 calls it only as
/// `libusb_set_option(ctx, LIBUSB_OPTION_LOG_LEVEL, LIBUSB_LOG_LEVEL_DEBUG)`, with `-v -v
/// -v`): on x86_64 System V and on Linux aarch64 a variadic integer argument travels in
/// the same register as a named one (the third integer register), and the callee may
/// ignore `%al`, which only counts vector registers. Options taking no argument simply
/// leave the third register unread.
#[no_mangle]
pub extern "C" fn libusb_set_option(_ctx: *mut Context, option: c_int, _value: c_int) -> c_int {
    match option {
        // Logging and device discovery are accepted and have nothing to change here.
        ffi::LIBUSB_OPTION_LOG_LEVEL | ffi::LIBUSB_OPTION_NO_DEVICE_DISCOVERY => LIBUSB_SUCCESS,
        ffi::LIBUSB_OPTION_USE_USBDK => ffi::LIBUSB_ERROR_NOT_SUPPORTED,
        _ => ffi::LIBUSB_ERROR_INVALID_PARAM,
    }
}

struct StaticVersion(libusb_version);

// SAFETY: the pointers inside point to immutable 'static C strings.
unsafe impl Sync for StaticVersion {}

static VERSION: StaticVersion = StaticVersion(libusb_version {
    major: 1,
    minor: 0,
    micro: 26,
    nano: 11724,
    rc: c"-dfu-sim".as_ptr(),
    describe: c"https://libusb.info".as_ptr(),
});

/// `const struct libusb_version *libusb_get_version(void)`: libusb 1.0.26 (the version
/// Debian 12 ships), with `rc` "-dfu-sim" so `dfu-util -v` shows the shim is in use.
#[no_mangle]
pub extern "C" fn libusb_get_version() -> *const libusb_version {
    &VERSION.0
}

/// `const char *libusb_error_name(int errcode)`: libusb's names.
#[no_mangle]
pub extern "C" fn libusb_error_name(code: c_int) -> *const c_char {
    ffi::error_name(code).as_ptr()
}
