//! The parts of libusb-1.0's API that DFU never needs, exported so that every libusb
//! program loads: bulk and interrupt transfers, the asynchronous API, BOS and SuperSpeed
//! descriptors, streams, device memory and wrapped file descriptors (event handling,
//! hotplug and poll descriptors are in [`crate::events`]).
//!
//! The simulated devices have endpoint 0 only, so transfers on other endpoints, and the
//! asynchronous transfers that would carry them, are `LIBUSB_ERROR_NOT_SUPPORTED`.
//! Transfers are allocated and freed for real, so a program that only prepares them
//! (pyusb does, for isochronous endpoints) works.

use crate::ffi::{LIBUSB_ERROR_NOT_FOUND, LIBUSB_ERROR_NOT_SUPPORTED};
use crate::handles::Handle;
use crate::write_out;
use std::ffi::{c_int, c_uchar, c_uint, c_void};

/// The public head of `struct libusb_transfer` (libusb.h, 1.0.26); the
/// `num_iso_packets` packet descriptors (12 bytes each) follow it.
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct libusb_transfer {
    /// Handle of the device the transfer is for.
    pub dev_handle: *mut Handle,
    /// `LIBUSB_TRANSFER_*` flags.
    pub flags: u8,
    /// Endpoint address.
    pub endpoint: c_uchar,
    /// Transfer type.
    pub kind: c_uchar,
    /// Timeout in milliseconds.
    pub timeout: c_uint,
    /// Completion status.
    pub status: c_int,
    /// Length of the buffer.
    pub length: c_int,
    /// Bytes transferred.
    pub actual_length: c_int,
    /// Completion callback.
    pub callback: *mut c_void,
    /// The program's data for the callback.
    pub user_data: *mut c_void,
    /// Data buffer.
    pub buffer: *mut c_uchar,
    /// Number of isochronous packet descriptors after this head.
    pub num_iso_packets: c_int,
}

/// Size of one `struct libusb_iso_packet_descriptor`.
const ISO_PACKET_SIZE: usize = 12;
/// `LIBUSB_TRANSFER_FREE_BUFFER`: `libusb_free_transfer` also frees the buffer.
const FREE_BUFFER: u8 = 0x02;

/// `struct libusb_transfer *libusb_alloc_transfer(int iso_packets)`: zeroed memory for a
/// transfer with `iso_packets` packet descriptors; NULL if `iso_packets` is negative.
#[no_mangle]
pub extern "C" fn libusb_alloc_transfer(iso_packets: c_int) -> *mut libusb_transfer {
    let Ok(n) = usize::try_from(iso_packets) else {
        return std::ptr::null_mut();
    };
    let size = size_of::<libusb_transfer>() + n * ISO_PACKET_SIZE;
    // SAFETY: a plain allocation; NULL is checked below.
    let t = unsafe { libc::calloc(1, size) }.cast::<libusb_transfer>();
    if !t.is_null() {
        // SAFETY: `t` is a fresh, zeroed, suitably aligned allocation of `size` bytes.
        unsafe { (*t).num_iso_packets = iso_packets };
    }
    t
}

/// `void libusb_free_transfer(struct libusb_transfer *transfer)`: frees it (and its
/// buffer with `LIBUSB_TRANSFER_FREE_BUFFER`).
///
/// # Safety
/// `transfer` must be NULL or come from `libusb_alloc_transfer`, and not be freed yet.
#[no_mangle]
pub unsafe extern "C" fn libusb_free_transfer(transfer: *mut libusb_transfer) {
    if transfer.is_null() {
        return;
    }
    // SAFETY: the caller's promise: a live transfer from libusb_alloc_transfer.
    let t = unsafe { &*transfer };
    let (flags, buffer) = (t.flags, t.buffer);
    if flags & FREE_BUFFER != 0 && !buffer.is_null() {
        // SAFETY: with FREE_BUFFER the program hands over a malloc'd buffer.
        unsafe { libc::free(buffer.cast()) };
    }
    // SAFETY: allocated by calloc in libusb_alloc_transfer.
    unsafe { libc::free(transfer.cast()) };
}

/// `int libusb_submit_transfer(struct libusb_transfer *transfer)`.
#[no_mangle]
pub extern "C" fn libusb_submit_transfer(_transfer: *mut libusb_transfer) -> c_int {
    LIBUSB_ERROR_NOT_SUPPORTED
}

/// `int libusb_cancel_transfer(struct libusb_transfer *transfer)`: never in flight.
#[no_mangle]
pub extern "C" fn libusb_cancel_transfer(_transfer: *mut libusb_transfer) -> c_int {
    LIBUSB_ERROR_NOT_FOUND
}

/// `void libusb_transfer_set_stream_id(struct libusb_transfer *transfer, uint32_t
/// stream_id)`: no streams here.
#[no_mangle]
pub extern "C" fn libusb_transfer_set_stream_id(_transfer: *mut libusb_transfer, _id: u32) {}

/// `uint32_t libusb_transfer_get_stream_id(struct libusb_transfer *transfer)`: 0.
#[no_mangle]
pub extern "C" fn libusb_transfer_get_stream_id(_transfer: *mut libusb_transfer) -> u32 {
    0
}

/// `int libusb_bulk_transfer(...)`: no bulk endpoints; `*transferred` is set to 0.
///
/// # Safety
/// `transferred` must be NULL or valid for writing an `int`.
#[no_mangle]
pub unsafe extern "C" fn libusb_bulk_transfer(
    _h: *mut Handle,
    _endpoint: c_uchar,
    _data: *mut c_uchar,
    _length: c_int,
    transferred: *mut c_int,
    _timeout: c_uint,
) -> c_int {
    // SAFETY: the caller's promise about `transferred`.
    unsafe { write_out(transferred, 0) };
    LIBUSB_ERROR_NOT_SUPPORTED
}

/// `int libusb_interrupt_transfer(...)`: no interrupt endpoints; `*transferred` is 0.
///
/// # Safety
/// `transferred` must be NULL or valid for writing an `int`.
#[no_mangle]
pub unsafe extern "C" fn libusb_interrupt_transfer(
    h: *mut Handle,
    endpoint: c_uchar,
    data: *mut c_uchar,
    length: c_int,
    transferred: *mut c_int,
    timeout: c_uint,
) -> c_int {
    // SAFETY: the same contract, passed on.
    unsafe { libusb_bulk_transfer(h, endpoint, data, length, transferred, timeout) }
}

/// `int libusb_clear_halt(libusb_device_handle *dev_handle, unsigned char endpoint)`:
/// `LIBUSB_ERROR_NOT_FOUND`, the device has no such endpoint.
#[no_mangle]
pub extern "C" fn libusb_clear_halt(_h: *mut Handle, _endpoint: c_uchar) -> c_int {
    LIBUSB_ERROR_NOT_FOUND
}

/// Functions of two pointer arguments that return `LIBUSB_ERROR_NOT_SUPPORTED`: BOS
/// and SuperSpeed descriptors (the simulated devices are USB 2.0 full-speed devices).
macro_rules! not_supported_2 {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[no_mangle]
        pub extern "C" fn $name(_a: *mut c_void, _b: *mut c_void) -> c_int {
            LIBUSB_ERROR_NOT_SUPPORTED
        }
    )*};
}

not_supported_2! {
    /// `int libusb_get_bos_descriptor(libusb_device_handle *, struct libusb_bos_descriptor **)`.
    libusb_get_bos_descriptor;
}

/// Functions of three pointer-sized arguments that return `LIBUSB_ERROR_NOT_SUPPORTED`.
macro_rules! not_supported_3 {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[no_mangle]
        pub extern "C" fn $name(_a: *mut c_void, _b: *mut c_void, _c: *mut c_void) -> c_int {
            LIBUSB_ERROR_NOT_SUPPORTED
        }
    )*};
}

not_supported_3! {
    /// `int libusb_get_ss_endpoint_companion_descriptor(ctx, endpoint, companion **)`.
    libusb_get_ss_endpoint_companion_descriptor;
    /// `int libusb_get_usb_2_0_extension_descriptor(ctx, dev_cap, ext **)`.
    libusb_get_usb_2_0_extension_descriptor;
    /// `int libusb_get_ss_usb_device_capability_descriptor(ctx, dev_cap, ss **)`.
    libusb_get_ss_usb_device_capability_descriptor;
    /// `int libusb_get_container_id_descriptor(ctx, dev_cap, container_id **)`.
    libusb_get_container_id_descriptor;
    /// `int libusb_wrap_sys_device(ctx, intptr_t sys_dev, libusb_device_handle **)`.
    libusb_wrap_sys_device;
}

/// Frees of descriptors this library never hands out: nothing to free.
macro_rules! free_nothing {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[no_mangle]
        pub extern "C" fn $name(_d: *mut c_void) {}
    )*};
}

free_nothing! {
    /// `void libusb_free_bos_descriptor(struct libusb_bos_descriptor *)`.
    libusb_free_bos_descriptor;
    /// `void libusb_free_ss_endpoint_companion_descriptor(...)`.
    libusb_free_ss_endpoint_companion_descriptor;
    /// `void libusb_free_usb_2_0_extension_descriptor(...)`.
    libusb_free_usb_2_0_extension_descriptor;
    /// `void libusb_free_ss_usb_device_capability_descriptor(...)`.
    libusb_free_ss_usb_device_capability_descriptor;
    /// `void libusb_free_container_id_descriptor(...)`.
    libusb_free_container_id_descriptor;
}

/// `int libusb_alloc_streams(libusb_device_handle *, uint32_t num_streams, unsigned char
/// *endpoints, int num_endpoints)`: USB 3 bulk streams.
#[no_mangle]
pub extern "C" fn libusb_alloc_streams(
    _h: *mut Handle,
    _n: u32,
    _eps: *mut c_uchar,
    _k: c_int,
) -> c_int {
    LIBUSB_ERROR_NOT_SUPPORTED
}

/// `int libusb_free_streams(libusb_device_handle *, unsigned char *endpoints, int
/// num_endpoints)`.
#[no_mangle]
pub extern "C" fn libusb_free_streams(_h: *mut Handle, _eps: *mut c_uchar, _k: c_int) -> c_int {
    LIBUSB_ERROR_NOT_SUPPORTED
}

/// `unsigned char *libusb_dev_mem_alloc(libusb_device_handle *, size_t length)`: NULL
/// (libusb's answer when the kernel cannot map device memory).
#[no_mangle]
pub extern "C" fn libusb_dev_mem_alloc(_h: *mut Handle, _length: usize) -> *mut c_uchar {
    std::ptr::null_mut()
}

/// `int libusb_dev_mem_free(libusb_device_handle *, unsigned char *buffer, size_t
/// length)`: nothing was handed out.
#[no_mangle]
pub extern "C" fn libusb_dev_mem_free(
    _h: *mut Handle,
    _buffer: *mut c_uchar,
    _length: usize,
) -> c_int {
    LIBUSB_ERROR_NOT_SUPPORTED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_allocated_with_their_packets_and_freed() {
        assert_eq!(size_of::<libusb_transfer>(), 64);
        let t = libusb_alloc_transfer(3);
        assert!(!t.is_null());
        // SAFETY: a live transfer from libusb_alloc_transfer.
        assert_eq!(unsafe { (*t).num_iso_packets }, 3);
        assert_eq!(libusb_submit_transfer(t), LIBUSB_ERROR_NOT_SUPPORTED);
        // SAFETY: allocated above, freed once.
        unsafe { libusb_free_transfer(t) };
        assert!(libusb_alloc_transfer(-1).is_null());
    }
}
