//! More of the C API in-process: configuration and kernel drivers as on Linux, strings,
//! opening by ids, and the virtual clocks. Called from the one walk in `api_tests` (the
//! simulation is process-wide), with `h` an open handle to the stm32f405 that has
//! interface 0 claimed.

// As in api_tests: NULL where allowed, or pointers to live locals of the right type.
#![allow(clippy::undocumented_unsafe_blocks)]

use crate::clock::{clock_gettime, clock_nanosleep};
use crate::devices::Device;
use crate::extra::*;
use crate::ffi::*;
use crate::handles::*;
use crate::kernel::*;
use crate::{shim, Context};
use std::ptr::null;
use std::time::Duration;

pub(crate) fn configuration_and_kernel_drivers(h: *mut Handle, dev: *mut Device) {
    let mut value = -7;
    assert_eq!(unsafe { libusb_get_configuration(h, &mut value) }, 0);
    assert_eq!(value, 1, "configured at enumeration");
    assert_eq!(libusb_set_configuration(h, 1), LIBUSB_ERROR_BUSY, "claimed");
    assert_eq!(libusb_kernel_driver_active(h, 0), 0);
    assert_eq!(libusb_detach_kernel_driver(h, 0), LIBUSB_ERROR_NOT_FOUND);
    assert_eq!(
        libusb_attach_kernel_driver(h, 0),
        LIBUSB_ERROR_BUSY,
        "claimed"
    );
    assert_eq!(
        libusb_detach_kernel_driver(h, 5),
        LIBUSB_ERROR_INVALID_PARAM
    );
    assert_eq!(libusb_set_auto_detach_kernel_driver(h, 1), 0);
    assert_eq!(libusb_release_interface(h, 0), 0);
    assert_eq!(libusb_attach_kernel_driver(h, 0), 0, "no driver to bind");
    assert_eq!(libusb_set_configuration(h, 2), LIBUSB_ERROR_NOT_FOUND);

    // Unconfigured: no interfaces, no active configuration descriptor.
    assert_eq!(libusb_set_configuration(h, -1), 0);
    assert_eq!(unsafe { libusb_get_configuration(h, &mut value) }, 0);
    assert_eq!(value, 0);
    assert_eq!(libusb_claim_interface(h, 0), LIBUSB_ERROR_NOT_FOUND);
    let mut cfg: *const libusb_config_descriptor = null();
    let active = unsafe { libusb_get_active_config_descriptor(dev, &mut cfg) };
    assert_eq!(active, LIBUSB_ERROR_NOT_FOUND);
    assert_eq!(libusb_detach_kernel_driver(h, 0), LIBUSB_ERROR_OTHER);

    assert_eq!(libusb_set_configuration(h, 1), 0);
    assert_eq!(
        unsafe { libusb_get_active_config_descriptor(dev, &mut cfg) },
        0
    );
    crate::devices::libusb_free_config_descriptor(cfg);
    assert_eq!(libusb_claim_interface(h, 0), 0);
}

pub(crate) fn strings_and_ids(ctx: *mut Context, h: *mut Handle) {
    let mut text = [0xAAu8; 64];
    let n = unsafe { libusb_get_string_descriptor_ascii(h, 2, text.as_mut_ptr(), 64) };
    assert_eq!(&text[..=n as usize], b"STM32  BOOTLOADER\0");
    let n = unsafe { libusb_get_string_descriptor_ascii(h, 2, text.as_mut_ptr(), 6) };
    assert_eq!(&text[..6], b"STM32\0", "cut to the buffer, NUL included");
    assert_eq!(n, 5);
    let bad = unsafe { libusb_get_string_descriptor_ascii(h, 0, text.as_mut_ptr(), 64) };
    assert_eq!(bad, LIBUSB_ERROR_INVALID_PARAM);

    let other = libusb_open_device_with_vid_pid(ctx, 0xcafe, 0x400b);
    assert!(!other.is_null(), "the TinyUSB device");
    libusb_close(other);
    assert!(libusb_open_device_with_vid_pid(ctx, 0xdead, 0xbeef).is_null());
}

fn now(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    assert_eq!(unsafe { clock_gettime(clock, &mut ts) }, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn bus_now() -> Duration {
    shim::with(|s| s.bus.now()).expect("running")
}

pub(crate) fn clocks_run_in_virtual_time() {
    // Relative, on the monotonic clock: the bus and the clock both move 1.5 s.
    let (b0, t0) = (bus_now(), now(libc::CLOCK_MONOTONIC));
    let ts = libc::timespec {
        tv_sec: 1,
        tv_nsec: 500_000_000,
    };
    let rc = unsafe { clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &ts, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
    assert_eq!(bus_now() - b0, Duration::from_millis(1500));
    let t1 = now(libc::CLOCK_MONOTONIC);
    assert!(t1 - t0 >= Duration::from_millis(1500), "{:?}", t1 - t0);
    assert!(t1 - t0 < Duration::from_millis(2500), "no real 1.5 s sleep");

    // Absolute, as CPython 3.11 sleeps: until a deadline 2 s ahead on the virtual clock.
    let deadline = t1 + Duration::from_secs(2);
    let abs = libc::timespec {
        tv_sec: deadline.as_secs() as libc::time_t,
        tv_nsec: deadline.subsec_nanos().into(),
    };
    let b1 = bus_now();
    let rc = unsafe {
        clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &abs,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    let slept = bus_now() - b1;
    assert!(slept > Duration::from_millis(1500) && slept <= Duration::from_secs(2));
    assert!(now(libc::CLOCK_MONOTONIC) >= deadline);

    // The wall clock moves with it; CPU time does not.
    let (w0, cpu0) = (
        now(libc::CLOCK_REALTIME),
        now(libc::CLOCK_PROCESS_CPUTIME_ID),
    );
    let rc = unsafe { clock_nanosleep(libc::CLOCK_REALTIME, 0, &ts, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
    assert!(now(libc::CLOCK_REALTIME) - w0 >= Duration::from_millis(1500));
    assert!(now(libc::CLOCK_PROCESS_CPUTIME_ID) - cpu0 < Duration::from_millis(500));
}
