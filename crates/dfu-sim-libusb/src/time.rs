//! The program's sleeps become virtual time.
//!
//! dfu-util waits with `nanosleep` (its `milli_sleep`): the poll timeouts a device asks
//! for, 1 s in manifestation, 5 s after a detach. Exported from this preloaded library,
//! `nanosleep` and `usleep` advance the simulated bus clock by the requested time and
//! return at once, so the simulation's statistics include the client's waits and a run
//! costs no real time. Before `libusb_init` (or after the last `libusb_exit`) there is no
//! simulation, and they really sleep (through the system call, not libc, whose
//! `nanosleep` would be this one again). dfu-util reads the clock only with `time()`, to
//! pace its progress bar, so clocks are left alone.

use crate::{guard, shim};
use std::ffi::{c_int, c_uint};
use std::time::Duration;

/// Advances the virtual clock by `d` if a simulation runs; `false` if none does, or if
/// the simulator itself is sleeping (see [`shim::inside`]): the caller sleeps for real
/// then. The virtual clocks (see [`crate::clock`]) move forward by `d`, except on a bus
/// paced by `time-scale=`, which sleeps in real time instead.
pub fn virtual_sleep(d: Duration) -> bool {
    if shim::inside() {
        return false;
    }
    let paced = shim::with(|s| {
        s.bus.advance(d);
        s.bus.paced()
    });
    if paced == Some(false) {
        crate::clock::add_offset(d);
    }
    paced.is_some()
}

fn set_errno(code: c_int) {
    // SAFETY: a plain libc call without preconditions.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: it returns the calling thread's errno variable, valid for writes.
    unsafe { *errno = code };
}

/// Really sleeps (no simulation running).
fn real_nanosleep(req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    // SAFETY: the kernel validates both pointers (EFAULT) and the values (EINVAL).
    let rc = unsafe { libc::syscall(libc::SYS_nanosleep, req, rem) };
    rc as c_int
}

/// The duration a `timespec` asks for; `None` if it is invalid (EINVAL).
pub fn duration_of(ts: &libc::timespec) -> Option<Duration> {
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec)
        .ok()
        .filter(|&n| n < 1_000_000_000)?;
    Some(Duration::new(secs, nanos))
}

/// `int nanosleep(const struct timespec *req, struct timespec *rem)`: advances the
/// virtual clock by `*req`; `*rem` (if given) is set to zero, as after a full sleep.
///
/// # Safety
/// `req` must be NULL or valid for reading a `timespec`; `rem` NULL or valid for
/// writing one.
#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    guard(-1, || {
        if req.is_null() {
            set_errno(libc::EFAULT);
            return -1;
        }
        // SAFETY: non-NULL, and the caller promises it is readable.
        let ts = unsafe { req.read_unaligned() };
        let Some(d) = duration_of(&ts) else {
            set_errno(libc::EINVAL);
            return -1;
        };
        if !virtual_sleep(d) {
            return real_nanosleep(req, rem);
        }
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: the caller's promise about `rem`.
        unsafe { crate::write_out(rem, zero) };
        0
    })
}

/// `int usleep(useconds_t usec)`: advances the virtual clock by `usec` microseconds.
#[no_mangle]
pub extern "C" fn usleep(usec: c_uint) -> c_int {
    guard(-1, || {
        let d = Duration::from_micros(u64::from(usec));
        if virtual_sleep(d) {
            return 0;
        }
        let ts = libc::timespec {
            tv_sec: (usec / 1_000_000).into(),
            tv_nsec: ((usec % 1_000_000) * 1000).into(),
        };
        real_nanosleep(&ts, std::ptr::null_mut())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespecs_convert_and_invalid_ones_are_refused() {
        let ts = |s, ns| libc::timespec {
            tv_sec: s,
            tv_nsec: ns,
        };
        assert_eq!(duration_of(&ts(1, 500)), Some(Duration::new(1, 500)));
        assert_eq!(duration_of(&ts(0, 0)), Some(Duration::ZERO));
        assert_eq!(duration_of(&ts(-1, 0)), None);
        assert_eq!(duration_of(&ts(0, 1_000_000_000)), None);
        assert_eq!(duration_of(&ts(0, -1)), None);
    }

    #[test]
    fn invalid_sleeps_are_refused() {
        let bad = libc::timespec {
            tv_sec: 0,
            tv_nsec: -5,
        };
        // SAFETY: a valid timespec on the stack and a NULL `rem`.
        assert_eq!(unsafe { nanosleep(&bad, std::ptr::null_mut()) }, -1);
        // SAFETY: NULL pointers are allowed (and refused with EFAULT).
        let null_req = unsafe { nanosleep(std::ptr::null(), std::ptr::null_mut()) };
        assert_eq!(null_req, -1);
    }
}
