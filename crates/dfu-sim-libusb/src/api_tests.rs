//! The C API driven in-process, the way a libusb program calls it: one test, because
//! the simulation is process-wide (as libusb's default context is).

// Every unsafe call below passes NULL where allowed or pointers to live locals of the
// right type and size; one note here instead of one per call.
#![allow(clippy::undocumented_unsafe_blocks)]
#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

use crate::devices::*;
use crate::ffi::*;
use crate::handles::*;
use crate::time::nanosleep;
use crate::transfer::libusb_control_transfer;
use crate::*;
use std::ptr::{null, null_mut};
use std::time::Duration;

/// Reads the C structs the way a C program would.
///
/// # Safety
/// `cfg` must come from `libusb_get_config_descriptor` and not be freed yet.
unsafe fn dfu_functional_of_last_alt(cfg: *const libusb_config_descriptor) -> Vec<u8> {
    // SAFETY: the caller's promise: a live descriptor with valid inner pointers.
    let cfg = unsafe { &*cfg };
    assert_eq!(cfg.bNumInterfaces, 1);
    // SAFETY: `interface` points to bNumInterfaces (1) entries.
    let iface = unsafe { &*cfg.interface };
    let n = usize::try_from(iface.num_altsetting).expect("count");
    // SAFETY: `altsetting` points to num_altsetting entries.
    let alts = unsafe { std::slice::from_raw_parts(iface.altsetting, n) };
    let last = &alts[n - 1];
    assert_eq!((last.bInterfaceClass, last.bInterfaceSubClass), (0xFE, 1));
    let len = usize::try_from(last.extra_length).expect("length");
    // SAFETY: `extra` points to extra_length bytes.
    unsafe { std::slice::from_raw_parts(last.extra, len) }.to_vec()
}

#[test]
fn a_libusb_program_lists_opens_and_talks_to_simulated_devices() {
    std::env::set_var(dfu_sim::ENV_VAR, "stm32f405;tinyusb");
    let mut ctx: *mut Context = null_mut();
    assert_eq!(unsafe { libusb_init(&mut ctx) }, LIBUSB_SUCCESS);
    assert!(!ctx.is_null());
    assert_eq!(
        libusb_set_option(ctx, LIBUSB_OPTION_LOG_LEVEL, 4),
        LIBUSB_SUCCESS
    );

    let mut list: *mut *mut Device = null_mut();
    let n = unsafe { libusb_get_device_list(ctx, &mut list) };
    assert_eq!(n, 2);
    // SAFETY: the list holds n device pointers and a NULL terminator.
    let devs = unsafe { std::slice::from_raw_parts(list, 3) }.to_vec();
    assert!(devs[2].is_null());

    let mut desc = libusb_device_descriptor::default();
    assert_eq!(
        unsafe { libusb_get_device_descriptor(devs[0], &mut desc) },
        0
    );
    assert_eq!((desc.idVendor, desc.idProduct), (0x0483, 0xdf11));
    let mut ports = [0u8; 7];
    assert_eq!(
        unsafe { libusb_get_port_numbers(devs[1], ports.as_mut_ptr(), 7) },
        1
    );
    assert_eq!(ports[0], 2);
    assert_eq!(
        unsafe { libusb_get_port_numbers(devs[1], ports.as_mut_ptr(), 0) },
        LIBUSB_ERROR_INVALID_PARAM
    );
    assert_eq!(libusb_get_bus_number(devs[0]), 1);
    let address = libusb_get_device_address(devs[0]);
    assert_ne!(address, libusb_get_device_address(devs[1]));

    let mut cfg: *const libusb_config_descriptor = null();
    assert_eq!(
        unsafe { libusb_get_config_descriptor(devs[0], 0, &mut cfg) },
        0
    );
    let functional = unsafe { dfu_functional_of_last_alt(cfg) };
    assert_eq!(functional[..2], [9, 0x21]);
    assert_eq!(u16::from_le_bytes([functional[7], functional[8]]), 0x011a);
    libusb_free_config_descriptor(cfg);
    assert_eq!(
        unsafe { libusb_get_config_descriptor(devs[0], 1, &mut cfg) },
        LIBUSB_ERROR_NOT_FOUND
    );

    // Open, claim, select alt 1, GETSTATUS, read the alt 0 string.
    let dev = libusb_ref_device(devs[0]);
    libusb_free_device_list(list, 1);
    let mut h: *mut Handle = null_mut();
    assert_eq!(unsafe { libusb_open(dev, &mut h) }, 0);
    assert_eq!(libusb_get_device(h), dev);
    assert_eq!(
        libusb_set_interface_alt_setting(h, 0, 1),
        LIBUSB_ERROR_NOT_FOUND,
        "not claimed"
    );
    assert_eq!(
        libusb_claim_interface(h, 1),
        LIBUSB_ERROR_NOT_FOUND,
        "no interface 1"
    );
    assert_eq!(libusb_claim_interface(h, 0), 0);
    assert_eq!(
        libusb_set_interface_alt_setting(h, 0, 9),
        LIBUSB_ERROR_NOT_FOUND,
        "no alt 9"
    );
    assert_eq!(libusb_set_interface_alt_setting(h, 0, 1), 0);
    let mut status = [0u8; 6];
    let got = unsafe { libusb_control_transfer(h, 0xA1, 3, 0, 0, status.as_mut_ptr(), 6, 5000) };
    assert_eq!((got, status[4]), (6, 2), "6 bytes, dfuIDLE");
    let mut text = [0u8; 255];
    let got = unsafe {
        libusb_control_transfer(h, 0x80, 6, 0x0304, 0x0409, text.as_mut_ptr(), 255, 1000)
    };
    assert!(got > 2 && text[1] == 3, "a string descriptor");
    let short =
        unsafe { libusb_control_transfer(h, 0x80, 6, 0x0304, 0x0409, text.as_mut_ptr(), 4, 1000) };
    assert_eq!(short, 4, "IN data is cut to wLength");
    let null_data = unsafe { libusb_control_transfer(h, 0x80, 6, 0x0100, 0, null_mut(), 18, 1000) };
    assert_eq!(null_data, LIBUSB_ERROR_INVALID_PARAM);
    // UPLOAD block 1 is not defined by DfuSe: the device STALLs -> LIBUSB_ERROR_PIPE.
    let stall = unsafe { libusb_control_transfer(h, 0xA1, 2, 1, 0, text.as_mut_ptr(), 16, 5000) };
    assert_eq!(stall, LIBUSB_ERROR_PIPE);

    crate::api_more_tests::configuration_and_kernel_drivers(h, dev);
    crate::api_more_tests::strings_and_ids(ctx, h);
    crate::api_more_tests::clocks_run_in_virtual_time();

    // The program's sleeps are virtual time.
    let before = shim::with(|s| s.bus.now()).expect("running");
    let ts = libc::timespec {
        tv_sec: 2,
        tv_nsec: 500_000_000,
    };
    assert_eq!(unsafe { nanosleep(&ts, null_mut()) }, 0);
    assert_eq!(time::usleep(250_000), 0);
    let after = shim::with(|s| s.bus.now()).expect("running");
    assert_eq!(after - before, Duration::from_millis(2750));

    // A reset re-enumerates the device: same descriptors, so the handle follows it.
    assert_eq!(libusb_reset_device(h), 0);
    let got = unsafe { libusb_control_transfer(h, 0xA1, 3, 0, 0, status.as_mut_ptr(), 6, 5000) };
    assert_eq!(got, 6);
    assert_eq!(libusb_release_interface(h, 0), 0);
    assert_eq!(libusb_release_interface(h, 0), LIBUSB_ERROR_NOT_FOUND);
    libusb_close(h);
    libusb_unref_device(dev);
    // Stale objects are unknown tokens, never wild pointers.
    assert_eq!(libusb_claim_interface(h, 0), LIBUSB_ERROR_NO_DEVICE);
    assert_eq!(unsafe { libusb_open(dev, &mut h) }, LIBUSB_ERROR_NO_DEVICE);
    libusb_exit(ctx);
    assert!(
        shim::with(|_| ()).is_none(),
        "the last exit ends the simulation"
    );
}
