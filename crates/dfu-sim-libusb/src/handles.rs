//! Device handles: open, close, interface claiming, alternate settings and reset, with
//! the checks and error codes of libusb's Linux (usbfs) backend.

use crate::config;
use crate::devices::Device;
use crate::ffi::{
    self, LIBUSB_ERROR_INVALID_PARAM, LIBUSB_ERROR_NOT_FOUND, LIBUSB_ERROR_NO_DEVICE,
    LIBUSB_ERROR_OTHER, LIBUSB_SUCCESS,
};
use crate::shim::{self, HandleRec, Shim};
use crate::{guard, write_out};
use dfu_sim::DeviceView;
use std::collections::BTreeSet;
use std::ffi::{c_int, c_void};

/// The opaque `libusb_device_handle`.
pub type Handle = c_void;

/// Runs `f` on the shim and the handle's record; `LIBUSB_ERROR_NO_DEVICE` for an unknown
/// handle or a shim that is not running.
pub(crate) fn with_handle(handle: *const Handle, f: impl FnOnce(&mut Shim, u64) -> c_int) -> c_int {
    let token = ffi::ptr_to_token(handle);
    shim::with(|s| {
        if s.handles.contains_key(&token) {
            f(s, token)
        } else {
            LIBUSB_ERROR_NO_DEVICE
        }
    })
    .unwrap_or(LIBUSB_ERROR_NO_DEVICE)
}

/// The interfaces and alternate settings of a device's configuration.
fn interfaces(view: &DeviceView) -> Vec<(u8, Vec<u8>)> {
    config::parse(&view.config_descriptor)
        .map(|c| config::interface_alts(&c))
        .unwrap_or_default()
}

/// `int libusb_open(libusb_device *dev, libusb_device_handle **dev_handle)`.
///
/// # Safety
/// `dev_handle` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn libusb_open(dev: *mut Device, dev_handle: *mut *mut Handle) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let opened = shim::with(|s| {
            let device = ffi::ptr_to_token(dev);
            let id = s
                .devices
                .get(&device)
                .ok_or(LIBUSB_ERROR_NO_DEVICE)?
                .view
                .id;
            if !s.present(id) {
                return Err(LIBUSB_ERROR_NO_DEVICE);
            }
            if let Some(rec) = s.devices.get_mut(&device) {
                rec.refs += 1;
            }
            let token = s.token();
            let claimed = BTreeSet::new();
            s.handles.insert(
                token,
                HandleRec {
                    device,
                    id,
                    claimed,
                    auto_detach: false,
                },
            );
            Ok(token)
        });
        match opened {
            Some(Ok(token)) => {
                // SAFETY: the caller's promise about `dev_handle`.
                if unsafe { write_out(dev_handle, ffi::token_to_ptr(token)) } {
                    LIBUSB_SUCCESS
                } else {
                    libusb_close(ffi::token_to_ptr(token));
                    LIBUSB_ERROR_INVALID_PARAM
                }
            }
            Some(Err(code)) => code,
            None => LIBUSB_ERROR_NO_DEVICE,
        }
    })
}

/// `void libusb_close(libusb_device_handle *dev_handle)`: releases what the handle
/// claimed and its reference to the device.
#[no_mangle]
pub extern "C" fn libusb_close(dev_handle: *mut Handle) {
    guard((), || {
        shim::with(|s| {
            if let Some(h) = s.handles.remove(&ffi::ptr_to_token(dev_handle)) {
                s.unref_device(h.device);
            }
        });
    })
}

/// `libusb_device *libusb_get_device(libusb_device_handle *dev_handle)`: not linked by
/// dfu-util 0.11, exported for other programs.
#[no_mangle]
pub extern "C" fn libusb_get_device(dev_handle: *mut Handle) -> *mut Device {
    guard(std::ptr::null_mut(), || {
        let token = ffi::ptr_to_token(dev_handle);
        let device = shim::with(|s| s.handles.get(&token).map(|h| h.device)).flatten();
        device.map_or(std::ptr::null_mut(), ffi::token_to_ptr)
    })
}

/// `int libusb_claim_interface(libusb_device_handle *dev_handle, int interface_number)`:
/// `LIBUSB_ERROR_NOT_FOUND` if the active configuration has no such interface (or the
/// device is unconfigured).
#[no_mangle]
pub extern "C" fn libusb_claim_interface(
    dev_handle: *mut Handle,
    interface_number: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let Ok(number) = u8::try_from(interface_number) else {
            return LIBUSB_ERROR_INVALID_PARAM;
        };
        with_handle(dev_handle, |s, token| {
            let Some(h) = s.handles.get(&token) else {
                return LIBUSB_ERROR_NO_DEVICE;
            };
            let views = s.bus.devices();
            let Some(view) = views.iter().find(|v| v.id == h.id) else {
                return LIBUSB_ERROR_NO_DEVICE;
            };
            let unconfigured = s.unconfigured.contains(&view.id);
            if unconfigured || !interfaces(view).iter().any(|(i, _)| *i == number) {
                return LIBUSB_ERROR_NOT_FOUND;
            }
            if let Some(h) = s.handles.get_mut(&token) {
                h.claimed.insert(number);
            }
            LIBUSB_SUCCESS
        })
    })
}

/// `int libusb_release_interface(libusb_device_handle *dev_handle, int
/// interface_number)`: `LIBUSB_ERROR_NOT_FOUND` if it was not claimed.
#[no_mangle]
pub extern "C" fn libusb_release_interface(
    dev_handle: *mut Handle,
    interface_number: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let Ok(number) = u8::try_from(interface_number) else {
            return LIBUSB_ERROR_INVALID_PARAM;
        };
        with_handle(dev_handle, |s, token| {
            let released = s
                .handles
                .get_mut(&token)
                .is_some_and(|h| h.claimed.remove(&number));
            if !released {
                return LIBUSB_ERROR_NOT_FOUND;
            }
            let id = s.handles[&token].id;
            if s.present(id) {
                LIBUSB_SUCCESS
            } else {
                LIBUSB_ERROR_NO_DEVICE
            }
        })
    })
}

/// `int libusb_set_interface_alt_setting(libusb_device_handle *dev_handle, int
/// interface_number, int alternate_setting)`: sends SET_INTERFACE. The interface must
/// be claimed (`LIBUSB_ERROR_NOT_FOUND` otherwise, and for an alternate setting the
/// descriptors do not list, as the kernel refuses those before any I/O).
#[no_mangle]
pub extern "C" fn libusb_set_interface_alt_setting(
    dev_handle: *mut Handle,
    interface_number: c_int,
    alternate_setting: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let (Ok(number), Ok(alt)) = (
            u8::try_from(interface_number),
            u8::try_from(alternate_setting),
        ) else {
            return LIBUSB_ERROR_INVALID_PARAM;
        };
        with_handle(dev_handle, |s, token| {
            let h = &s.handles[&token];
            if !h.claimed.contains(&number) {
                return LIBUSB_ERROR_NOT_FOUND;
            }
            let id = h.id;
            let views = s.bus.devices();
            let Some(view) = views.iter().find(|v| v.id == id) else {
                return LIBUSB_ERROR_NO_DEVICE;
            };
            let known = interfaces(view)
                .iter()
                .any(|(i, alts)| *i == number && alts.contains(&alt));
            if !known {
                return LIBUSB_ERROR_NOT_FOUND;
            }
            match s.bus.set_interface(id, number, alt) {
                Ok(_) => LIBUSB_SUCCESS,
                Err(e) => ffi::usb_error_code(e),
            }
        })
    })
}

/// `int libusb_reset_device(libusb_device_handle *dev_handle)`: a USB port reset. The
/// simulated device re-enumerates; as with libusb on Linux, the handle stays usable (and
/// 0 is returned) only if the device comes back with the same descriptors, otherwise
/// the result is `LIBUSB_ERROR_NOT_FOUND` and the program must list devices again.
#[no_mangle]
pub extern "C" fn libusb_reset_device(dev_handle: *mut Handle) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        with_handle(dev_handle, |s, token| {
            let id = s.handles[&token].id;
            let views = s.bus.devices();
            let Some(before) = views.iter().find(|v| v.id == id) else {
                return LIBUSB_ERROR_NOT_FOUND;
            };
            let slot = before.slot;
            let descriptors = (
                before.device_descriptor_bytes,
                before.config_descriptor.clone(),
            );
            if let Err(e) = s.bus.reset(id) {
                return match e {
                    dfu_sim::UsbError::NoDevice => LIBUSB_ERROR_NOT_FOUND,
                    other => ffi::usb_error_code(other),
                };
            }
            let after = s.bus.devices().into_iter().find(|v| v.slot == slot);
            match after {
                Some(v)
                    if (v.device_descriptor_bytes, v.config_descriptor.clone()) == descriptors =>
                {
                    // Same device to the host: the handle and its libusb_device follow it.
                    let device = s.handles.get_mut(&token).map(|h| {
                        h.id = v.id;
                        h.device
                    });
                    if let Some(rec) = device.and_then(|d| s.devices.get_mut(&d)) {
                        rec.view = v;
                    }
                    LIBUSB_SUCCESS
                }
                _ => LIBUSB_ERROR_NOT_FOUND,
            }
        })
    })
}
