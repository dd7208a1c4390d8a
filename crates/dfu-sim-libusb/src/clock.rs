//! `clock_gettime` and `clock_nanosleep` in virtual time.
//!
//! Rust's standard library and CPython sleep with `clock_nanosleep`, CPython 3.11 with an
//! absolute deadline it computes from `clock_gettime(CLOCK_MONOTONIC)`. So both are
//! replaced, consistently: every wall-clock and monotonic clock reads the real clock
//! plus all the time the program has slept in virtual time so far (the *offset*), and a
//! sleep on one of them advances the simulator's clock (counted as host wait, as with
//! `nanosleep`) and the offset, then returns at once. Time still passes between sleeps,
//! so a program that polls a clock in a loop ends as it would on real hardware.
//!
//! The offset only grows, so monotonic clocks stay monotonic. Without a running
//! simulation (before `libusb_init`, after the last `libusb_exit`) sleeps are real: a
//! relative one as asked, an absolute deadline moved back by the offset into the kernel's
//! time. CPU-time clocks are not touched.

use crate::time::{duration_of, virtual_sleep};
use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Nanoseconds slept in virtual time by this process so far.
static OFFSET_NS: AtomicU64 = AtomicU64::new(0);

/// Records `d` of virtual sleep: the virtual clocks move forward by it.
pub fn add_offset(d: Duration) {
    let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    OFFSET_NS.fetch_add(ns, Ordering::Relaxed);
}

/// The time slept in virtual time so far.
pub fn offset() -> Duration {
    Duration::from_nanos(OFFSET_NS.load(Ordering::Relaxed))
}

/// Whether `clock` is a wall-clock or monotonic clock (shifted by the offset), not a
/// CPU-time clock.
pub fn is_shifted(clock: libc::clockid_t) -> bool {
    matches!(
        clock,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
            | libc::CLOCK_MONOTONIC_RAW
            | libc::CLOCK_REALTIME_COARSE
            | libc::CLOCK_MONOTONIC_COARSE
            | libc::CLOCK_BOOTTIME
            | libc::CLOCK_REALTIME_ALARM
            | libc::CLOCK_BOOTTIME_ALARM
            | libc::CLOCK_TAI
    )
}

type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> c_int;

/// The C library's `clock_gettime` (fast, through the vDSO), found behind this one.
fn next_clock_gettime() -> Option<ClockGettime> {
    static NEXT: OnceLock<Option<ClockGettime>> = OnceLock::new();
    *NEXT.get_or_init(|| {
        // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name has no preconditions.
        let sym = unsafe { libc::dlsym(libc::RTLD_NEXT, c"clock_gettime".as_ptr()) };
        // SAFETY: the C library's clock_gettime has exactly this signature.
        (!sym.is_null())
            .then(|| unsafe { std::mem::transmute::<*mut libc::c_void, ClockGettime>(sym) })
    })
}

/// The real clock.
fn real_gettime(clock: libc::clockid_t, tp: *mut libc::timespec) -> c_int {
    match next_clock_gettime() {
        // SAFETY: the caller's pointer, passed on; the C library validates it (EFAULT).
        Some(f) => unsafe { f(clock, tp) },
        // SAFETY: the kernel validates the pointer (EFAULT) and the clock (EINVAL).
        None => unsafe { libc::syscall(libc::SYS_clock_gettime, clock, tp) as c_int },
    }
}

/// `ts + d` (or `ts - d` when `back`), normalised.
pub fn shift(ts: libc::timespec, d: Duration, back: bool) -> libc::timespec {
    let total = i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec);
    let d = i128::try_from(d.as_nanos()).unwrap_or(i128::MAX / 2);
    let t = if back { total - d } else { total + d };
    libc::timespec {
        tv_sec: t.div_euclid(1_000_000_000) as libc::time_t,
        tv_nsec: t.rem_euclid(1_000_000_000) as libc::c_long,
    }
}

/// `int clock_gettime(clockid_t clockid, struct timespec *tp)`: the real clock, plus the
/// offset for wall-clock and monotonic clocks.
///
/// # Safety
/// `tp` must be valid for writing a `timespec`.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(clock: libc::clockid_t, tp: *mut libc::timespec) -> c_int {
    let rc = real_gettime(clock, tp);
    let off = offset();
    if rc == 0 && is_shifted(clock) && !off.is_zero() {
        // SAFETY: the real clock_gettime just wrote a timespec there.
        let now = unsafe { tp.read_unaligned() };
        // SAFETY: as above, valid for writing.
        unsafe { tp.write_unaligned(shift(now, off, false)) };
    }
    rc
}

/// The virtual time from now until the absolute `deadline` on `clock` (zero if past).
fn until(clock: libc::clockid_t, deadline: &libc::timespec) -> Result<Duration, c_int> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a local timespec, valid for writing.
    if unsafe { clock_gettime(clock, &mut now) } != 0 {
        return Err(libc::EINVAL);
    }
    let left = |t: &libc::timespec| i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec);
    let ns = (left(deadline) - left(&now)).max(0);
    Ok(Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX)))
}

/// `int clock_nanosleep(clockid_t clockid, int flags, const struct timespec *request,
/// struct timespec *remain)`: with `TIMER_ABSTIME` until `*request` on the (virtual)
/// clock, otherwise for `*request`. Returns an error number, as POSIX says, not -1.
///
/// # Safety
/// `request` must be valid for reading a `timespec`; `remain` NULL or valid for
/// writing one.
#[no_mangle]
pub unsafe extern "C" fn clock_nanosleep(
    clock: libc::clockid_t,
    flags: c_int,
    request: *const libc::timespec,
    remain: *mut libc::timespec,
) -> c_int {
    crate::guard(libc::EINVAL, || {
        if request.is_null() {
            return libc::EFAULT;
        }
        // SAFETY: non-NULL, and the caller promises it is readable.
        let req = unsafe { request.read_unaligned() };
        if duration_of(&req).is_none() {
            return libc::EINVAL;
        }
        let absolute = flags & libc::TIMER_ABSTIME != 0;
        if is_shifted(clock) {
            let wait = if absolute {
                until(clock, &req)
            } else {
                Ok(duration_of(&req).unwrap_or_default())
            };
            match wait {
                Ok(d) if virtual_sleep(d) => return 0,
                Ok(_) => {}
                Err(e) => return e,
            }
        }
        // No simulation (or a CPU-time clock): really sleep, an absolute deadline moved
        // back into the kernel's time.
        let real = if absolute && is_shifted(clock) {
            shift(req, offset(), true)
        } else {
            req
        };
        // SAFETY: `real` is a local timespec; the kernel validates `remain` (EFAULT).
        let rc = unsafe { libc::syscall(libc::SYS_clock_nanosleep, clock, flags, &real, remain) };
        if rc == 0 {
            0
        } else {
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_carry_nanoseconds() {
        let ts = libc::timespec {
            tv_sec: 10,
            tv_nsec: 900_000_000,
        };
        let up = shift(ts, Duration::from_millis(200), false);
        assert_eq!((up.tv_sec, up.tv_nsec), (11, 100_000_000));
        let down = shift(ts, Duration::from_millis(950), true);
        assert_eq!((down.tv_sec, down.tv_nsec), (9, 950_000_000));
    }

    #[test]
    fn cpu_clocks_are_not_shifted() {
        assert!(is_shifted(libc::CLOCK_MONOTONIC));
        assert!(is_shifted(libc::CLOCK_REALTIME));
        assert!(!is_shifted(libc::CLOCK_PROCESS_CPUTIME_ID));
        assert!(!is_shifted(libc::CLOCK_THREAD_CPUTIME_ID));
    }

    #[test]
    fn bad_requests_are_refused_with_error_numbers() {
        let bad = libc::timespec {
            tv_sec: 0,
            tv_nsec: 2_000_000_000,
        };
        // SAFETY: a valid timespec on the stack, NULL `remain`.
        let rc = unsafe { clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &bad, std::ptr::null_mut()) };
        assert_eq!(rc, libc::EINVAL);
        // SAFETY: NULL is refused before any access.
        let rc = unsafe {
            clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                0,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, libc::EFAULT);
    }
}
