//! Control transfers: `libusb_control_transfer`, the one data path dfu-util uses (DFU
//! requests and, through libusb's inline `libusb_get_string_descriptor` and
//! `libusb_get_descriptor`, GET_DESCRIPTOR).

use crate::ffi::{self, LIBUSB_ERROR_INVALID_PARAM, LIBUSB_ERROR_OTHER};
use crate::guard;
use crate::handles::{with_handle, Handle};
use crate::shim::Shim;
use dfu_proto::Setup;
use std::ffi::{c_int, c_uint};
use std::time::Duration;

/// What a control transfer did, before the reply is copied to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An OUT transfer moved this many bytes.
    Sent(usize),
    /// An IN transfer returned these bytes (at most wLength).
    Received(Vec<u8>),
    /// A libusb error code.
    Failed(c_int),
}

/// Performs one control transfer on the bus. `data_out` is the OUT data stage (empty for
/// IN transfers). `timeout_ms` is the caller's timeout (0: none, as in libusb): a busy
/// device that holds the request longer makes it fail with `LIBUSB_ERROR_TIMEOUT` after
/// that much virtual time.
pub fn control(
    shim: &mut Shim,
    handle: u64,
    setup: Setup,
    data_out: &[u8],
    timeout_ms: c_uint,
) -> Outcome {
    let Some(id) = shim.handles.get(&handle).map(|h| h.id) else {
        return Outcome::Failed(ffi::LIBUSB_ERROR_NO_DEVICE);
    };
    let timeout = (timeout_ms > 0).then(|| Duration::from_millis(u64::from(timeout_ms)));
    match shim.bus.control_timeout(id, setup, data_out, timeout) {
        Ok(mut reply) if setup.is_in() => {
            reply.truncate(usize::from(setup.length));
            Outcome::Received(reply)
        }
        Ok(_) => Outcome::Sent(data_out.len()),
        Err(e) => Outcome::Failed(ffi::usb_error_code(e)),
    }
}

/// `int libusb_control_transfer(libusb_device_handle *dev_handle, uint8_t
/// bmRequestType, uint8_t bRequest, uint16_t wValue, uint16_t wIndex, unsigned char
/// *data, uint16_t wLength, unsigned int timeout)`: returns the number of bytes
/// transferred, or `LIBUSB_ERROR_PIPE` (STALL), `LIBUSB_ERROR_NO_DEVICE`,
/// `LIBUSB_ERROR_TIMEOUT`, `LIBUSB_ERROR_IO`.
///
/// # Safety
/// `data` must be valid for reading (OUT: bit 7 of `bmRequestType` clear) or writing
/// (IN) `wLength` bytes; it may be NULL when `wLength` is 0.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // libusb's signature
pub unsafe extern "C" fn libusb_control_transfer(
    dev_handle: *mut Handle,
    request_type: u8,
    request: u8,
    value: u16,
    index: u16,
    data: *mut u8,
    length: u16,
    timeout: c_uint,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let setup = Setup {
            request_type,
            request,
            value,
            index,
            length,
        };
        let len = usize::from(length);
        if len > 0 && data.is_null() {
            return LIBUSB_ERROR_INVALID_PARAM;
        }
        let out: Vec<u8> = if setup.is_in() || len == 0 {
            Vec::new()
        } else {
            // SAFETY: non-NULL, and the caller promises `len` readable bytes for OUT.
            unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
        };
        let token = ffi::ptr_to_token(dev_handle);
        let mut outcome = Outcome::Failed(ffi::LIBUSB_ERROR_NO_DEVICE);
        with_handle(dev_handle, |s, _| {
            outcome = control(s, token, setup, &out, timeout);
            0
        });
        match outcome {
            Outcome::Sent(n) => n as c_int,
            Outcome::Received(reply) => {
                if !reply.is_empty() {
                    // SAFETY: 0 < `reply.len() <= len` (truncated to wLength), so `data` is
                    // non-NULL, and the caller promises `len` writable bytes for IN.
                    unsafe { std::ptr::copy_nonoverlapping(reply.as_ptr(), data, reply.len()) };
                }
                reply.len() as c_int
            }
            Outcome::Failed(code) => code,
        }
    })
}
