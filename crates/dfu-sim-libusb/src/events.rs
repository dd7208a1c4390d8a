//! Event handling, hotplug and poll file descriptors: libusb's asynchronous machinery,
//! which has nothing to do here. No transfer is ever in flight and no device comes or
//! goes, so a call that would wait for events waits out its timeout in virtual time and
//! returns, and the lists are empty.

use crate::ffi::{LIBUSB_ERROR_NOT_SUPPORTED, LIBUSB_SUCCESS};
use crate::{time, Context};
use std::ffi::{c_int, c_void};
use std::time::Duration;

/// How long libusb's `libusb_handle_events` waits at most (60 s).
const HANDLE_EVENTS_TIMEOUT: Duration = Duration::from_secs(60);

/// The duration of a `struct timeval`; `None` for NULL or negative fields.
///
/// # Safety
/// `tv` must be NULL or valid for reading a `timeval`.
unsafe fn timeval(tv: *const libc::timeval) -> Option<Duration> {
    if tv.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and the caller promises it is readable.
    let tv = unsafe { tv.read_unaligned() };
    let secs = u64::try_from(tv.tv_sec).ok()?;
    let micros = u64::try_from(tv.tv_usec).ok()?;
    Some(Duration::from_secs(secs) + Duration::from_micros(micros))
}

/// No event will come: the wait runs out (in virtual time while a simulation runs).
fn wait_out(d: Duration) -> c_int {
    time::virtual_sleep(d);
    LIBUSB_SUCCESS
}

/// `int libusb_handle_events(libusb_context *ctx)`: waits libusb's 60 s for nothing.
#[no_mangle]
pub extern "C" fn libusb_handle_events(_ctx: *mut Context) -> c_int {
    wait_out(HANDLE_EVENTS_TIMEOUT)
}

/// `int libusb_handle_events_completed(libusb_context *ctx, int *completed)`.
#[no_mangle]
pub extern "C" fn libusb_handle_events_completed(_ctx: *mut Context, _c: *mut c_int) -> c_int {
    wait_out(HANDLE_EVENTS_TIMEOUT)
}

/// `int libusb_handle_events_timeout(libusb_context *ctx, struct timeval *tv)`.
///
/// # Safety
/// `tv` must be NULL or valid for reading a `timeval`.
#[no_mangle]
pub unsafe extern "C" fn libusb_handle_events_timeout(
    _ctx: *mut Context,
    tv: *mut libc::timeval,
) -> c_int {
    // SAFETY: the caller's promise about `tv`.
    wait_out(unsafe { timeval(tv) }.unwrap_or_default())
}

/// `int libusb_handle_events_timeout_completed(libusb_context *ctx, struct timeval
/// *tv, int *completed)`.
///
/// # Safety
/// `tv` must be NULL or valid for reading a `timeval`.
#[no_mangle]
pub unsafe extern "C" fn libusb_handle_events_timeout_completed(
    _ctx: *mut Context,
    tv: *mut libc::timeval,
    _completed: *mut c_int,
) -> c_int {
    // SAFETY: the caller's promise about `tv`.
    wait_out(unsafe { timeval(tv) }.unwrap_or_default())
}

/// `int libusb_handle_events_locked(libusb_context *ctx, struct timeval *tv)`.
///
/// # Safety
/// `tv` must be NULL or valid for reading a `timeval`.
#[no_mangle]
pub unsafe extern "C" fn libusb_handle_events_locked(
    _ctx: *mut Context,
    tv: *mut libc::timeval,
) -> c_int {
    // SAFETY: the caller's promise about `tv`.
    wait_out(unsafe { timeval(tv) }.unwrap_or_default())
}

/// `int libusb_wait_for_event(libusb_context *ctx, struct timeval *tv)`: 1, the timeout
/// expired (at once for NULL, which would otherwise wait forever).
///
/// # Safety
/// `tv` must be NULL or valid for reading a `timeval`.
#[no_mangle]
pub unsafe extern "C" fn libusb_wait_for_event(
    _ctx: *mut Context,
    tv: *mut libc::timeval,
) -> c_int {
    // SAFETY: the caller's promise about `tv`.
    wait_out(unsafe { timeval(tv) }.unwrap_or_default());
    1
}

/// `int libusb_get_next_timeout(libusb_context *ctx, struct timeval *tv)`: 0, no
/// transfer has a timeout pending.
#[no_mangle]
pub extern "C" fn libusb_get_next_timeout(_ctx: *mut Context, _tv: *mut libc::timeval) -> c_int {
    0
}

/// `int libusb_try_lock_events(libusb_context *ctx)`: 0, the lock is taken.
#[no_mangle]
pub extern "C" fn libusb_try_lock_events(_ctx: *mut Context) -> c_int {
    0
}

/// `int libusb_event_handling_ok(libusb_context *ctx)`: 1.
#[no_mangle]
pub extern "C" fn libusb_event_handling_ok(_ctx: *mut Context) -> c_int {
    1
}

/// `int libusb_event_handler_active(libusb_context *ctx)`: 0, no thread handles events.
#[no_mangle]
pub extern "C" fn libusb_event_handler_active(_ctx: *mut Context) -> c_int {
    0
}

/// `int libusb_pollfds_handle_timeouts(libusb_context *ctx)`: 1, as on Linux.
#[no_mangle]
pub extern "C" fn libusb_pollfds_handle_timeouts(_ctx: *mut Context) -> c_int {
    1
}

/// Event locks and waiters: nothing runs in the background, so there is nothing to lock.
macro_rules! no_op {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[no_mangle]
        pub extern "C" fn $name(_ctx: *mut Context) {}
    )*};
}

no_op! {
    /// `void libusb_lock_events(libusb_context *ctx)`.
    libusb_lock_events;
    /// `void libusb_unlock_events(libusb_context *ctx)`.
    libusb_unlock_events;
    /// `void libusb_lock_event_waiters(libusb_context *ctx)`.
    libusb_lock_event_waiters;
    /// `void libusb_unlock_event_waiters(libusb_context *ctx)`.
    libusb_unlock_event_waiters;
    /// `void libusb_interrupt_event_handler(libusb_context *ctx)`.
    libusb_interrupt_event_handler;
}

/// `const struct libusb_pollfd **libusb_get_pollfds(libusb_context *ctx)`: an empty,
/// NULL-terminated list (free it with `libusb_free_pollfds`).
#[no_mangle]
pub extern "C" fn libusb_get_pollfds(_ctx: *mut Context) -> *mut *const c_void {
    // SAFETY: a plain allocation of one zeroed pointer (the terminating NULL).
    unsafe { libc::calloc(1, size_of::<*const c_void>()) }.cast()
}

/// `void libusb_free_pollfds(const struct libusb_pollfd **pollfds)`.
///
/// # Safety
/// `pollfds` must be NULL or come from `libusb_get_pollfds`.
#[no_mangle]
pub unsafe extern "C" fn libusb_free_pollfds(pollfds: *mut *const c_void) {
    // SAFETY: the caller's promise: NULL or calloc'd by libusb_get_pollfds.
    unsafe { libc::free(pollfds.cast()) };
}

/// `void libusb_set_pollfd_notifiers(...)`: no file descriptors come or go.
#[no_mangle]
pub extern "C" fn libusb_set_pollfd_notifiers(
    _ctx: *mut Context,
    _added: *mut c_void,
    _removed: *mut c_void,
    _user_data: *mut c_void,
) {
}

/// `int libusb_hotplug_register_callback(...)`: no hotplug (`libusb_has_capability`
/// says so too).
#[no_mangle]
pub extern "C" fn libusb_hotplug_register_callback(
    _ctx: *mut Context,
    _events: c_int,
    _flags: c_int,
    _vendor_id: c_int,
    _product_id: c_int,
    _dev_class: c_int,
    _cb_fn: *mut c_void,
    _user_data: *mut c_void,
    _callback_handle: *mut c_int,
) -> c_int {
    LIBUSB_ERROR_NOT_SUPPORTED
}

/// `void libusb_hotplug_deregister_callback(libusb_context *ctx, int handle)`.
#[no_mangle]
pub extern "C" fn libusb_hotplug_deregister_callback(_ctx: *mut Context, _handle: c_int) {}

/// `void *libusb_hotplug_get_user_data(libusb_context *ctx, int handle)`: NULL.
#[no_mangle]
pub extern "C" fn libusb_hotplug_get_user_data(_ctx: *mut Context, _handle: c_int) -> *mut c_void {
    std::ptr::null_mut()
}
