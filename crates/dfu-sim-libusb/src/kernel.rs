//! The active configuration and kernel drivers, as libusb's Linux backend reports them.
//!
//! On Linux the kernel selects configuration 1 when a device enumerates, and
//! `libusb_get_configuration` reads the value back from sysfs without I/O; the same holds
//! here (the value is kept per device incarnation, so a re-enumerated device is
//! configured again). `libusb_set_configuration` sends SET_CONFIGURATION, after the
//! kernel's checks: `LIBUSB_ERROR_BUSY` while an interface is claimed, and
//! `LIBUSB_ERROR_NOT_FOUND` for a value the device does not have.
//!
//! The simulated devices have DFU interfaces only (class 0xFE, subclass 1), and Linux has
//! no kernel driver for those. So, as on a real DFU device: no kernel driver is active,
//! detaching one fails with `LIBUSB_ERROR_NOT_FOUND`, and attaching one finds no driver
//! to bind and succeeds (usbfs' CONNECT ioctl returns 0), except on an interface this
//! program claimed (`LIBUSB_ERROR_BUSY`). An interface the configuration lacks is
//! `LIBUSB_ERROR_INVALID_PARAM` (EINVAL from usbfs), an unconfigured device
//! `LIBUSB_ERROR_OTHER` (EHOSTUNREACH).

use crate::ffi::{
    self, LIBUSB_ERROR_BUSY, LIBUSB_ERROR_INVALID_PARAM, LIBUSB_ERROR_NOT_FOUND,
    LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_OTHER, LIBUSB_SUCCESS,
};
use crate::handles::{with_handle, Handle};
use crate::shim::Shim;
use crate::{config, guard, write_out};
use dfu_sim::DeviceId;
use std::ffi::c_int;

/// The `bConfigurationValue` of the device's configuration descriptor (`None` if the
/// device is gone).
fn config_value(s: &Shim, id: DeviceId) -> Option<u8> {
    let views = s.bus.devices();
    let view = views.iter().find(|v| v.id == id)?;
    view.config_descriptor.get(5).copied()
}

/// The device's active configuration: 0 when unconfigured.
pub fn active_configuration(s: &Shim, id: DeviceId) -> Option<u8> {
    let value = config_value(s, id)?;
    Some(if s.unconfigured.contains(&id) {
        0
    } else {
        value
    })
}

/// Whether the device's active configuration has interface `number`.
fn has_interface(s: &Shim, id: DeviceId, number: u8) -> bool {
    let views = s.bus.devices();
    let Some(view) = views.iter().find(|v| v.id == id) else {
        return false;
    };
    config::parse(&view.config_descriptor)
        .map(|c| config::interface_alts(&c).iter().any(|(i, _)| *i == number))
        .unwrap_or(false)
}

/// `int libusb_get_configuration(libusb_device_handle *dev_handle, int *config)`: the
/// active configuration's value, 0 when unconfigured. No I/O (Linux reads sysfs).
///
/// # Safety
/// `config` must be valid for writing an `int`.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_configuration(
    dev_handle: *mut Handle,
    config: *mut c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        with_handle(dev_handle, |s, token| {
            let id = s.handles[&token].id;
            let Some(value) = active_configuration(s, id) else {
                return LIBUSB_ERROR_NO_DEVICE;
            };
            // SAFETY: the caller's promise about `config`.
            match unsafe { write_out(config, c_int::from(value)) } {
                true => LIBUSB_SUCCESS,
                false => LIBUSB_ERROR_INVALID_PARAM,
            }
        })
    })
}

/// `int libusb_set_configuration(libusb_device_handle *dev_handle, int configuration)`:
/// SET_CONFIGURATION; -1 (or 0) puts the device in the unconfigured state.
#[no_mangle]
pub extern "C" fn libusb_set_configuration(dev_handle: *mut Handle, configuration: c_int) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        with_handle(dev_handle, |s, token| {
            let h = &s.handles[&token];
            let id = h.id;
            if !h.claimed.is_empty() {
                return LIBUSB_ERROR_BUSY;
            }
            let Some(value) = config_value(s, id) else {
                return LIBUSB_ERROR_NO_DEVICE;
            };
            let wanted = match configuration {
                -1 | 0 => 0,
                c if c == c_int::from(value) => value,
                _ => return LIBUSB_ERROR_NOT_FOUND,
            };
            if let Err(e) = s.bus.set_configuration(id, wanted) {
                return ffi::usb_error_code(e);
            }
            if wanted == 0 {
                s.unconfigured.insert(id);
            } else {
                s.unconfigured.remove(&id);
            }
            LIBUSB_SUCCESS
        })
    })
}

/// The kernel's checks before a driver ioctl on `interface`: a configured device that has
/// the interface.
fn driver_ioctl_checks(s: &Shim, token: u64, interface: c_int) -> Result<(DeviceId, u8), c_int> {
    let id = s.handles[&token].id;
    let number = u8::try_from(interface).map_err(|_| LIBUSB_ERROR_INVALID_PARAM)?;
    match active_configuration(s, id) {
        None => Err(LIBUSB_ERROR_NO_DEVICE),
        Some(0) => Err(LIBUSB_ERROR_OTHER),
        Some(_) if !has_interface(s, id, number) => Err(LIBUSB_ERROR_INVALID_PARAM),
        Some(_) => Ok((id, number)),
    }
}

/// `int libusb_kernel_driver_active(libusb_device_handle *dev_handle, int
/// interface_number)`: 0, no kernel driver binds DFU interfaces (a claim by this program
/// is usbfs, which libusb does not count either).
#[no_mangle]
pub extern "C" fn libusb_kernel_driver_active(
    dev_handle: *mut Handle,
    interface_number: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        if interface_number < 0 {
            return LIBUSB_ERROR_INVALID_PARAM;
        }
        with_handle(dev_handle, |s, token| {
            let id = s.handles[&token].id;
            match active_configuration(s, id) {
                Some(_) => 0,
                None => LIBUSB_ERROR_NO_DEVICE,
            }
        })
    })
}

/// `int libusb_detach_kernel_driver(libusb_device_handle *dev_handle, int
/// interface_number)`: `LIBUSB_ERROR_NOT_FOUND`, as no kernel driver is active.
#[no_mangle]
pub extern "C" fn libusb_detach_kernel_driver(
    dev_handle: *mut Handle,
    interface_number: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        with_handle(dev_handle, |s, token| {
            match driver_ioctl_checks(s, token, interface_number) {
                Ok(_) => LIBUSB_ERROR_NOT_FOUND,
                Err(code) => code,
            }
        })
    })
}

/// `int libusb_attach_kernel_driver(libusb_device_handle *dev_handle, int
/// interface_number)`: 0 (the kernel finds no driver to bind), `LIBUSB_ERROR_BUSY` if
/// this program claimed the interface.
#[no_mangle]
pub extern "C" fn libusb_attach_kernel_driver(
    dev_handle: *mut Handle,
    interface_number: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        with_handle(dev_handle, |s, token| {
            match driver_ioctl_checks(s, token, interface_number) {
                Ok((id, number)) => {
                    let claimed = s
                        .handles
                        .values()
                        .any(|h| h.id == id && h.claimed.contains(&number));
                    if claimed {
                        LIBUSB_ERROR_BUSY
                    } else {
                        LIBUSB_SUCCESS
                    }
                }
                Err(code) => code,
            }
        })
    })
}

/// `int libusb_set_auto_detach_kernel_driver(libusb_device_handle *dev_handle, int
/// enable)`: remembered; claiming an interface then has no driver to detach.
#[no_mangle]
pub extern "C" fn libusb_set_auto_detach_kernel_driver(
    dev_handle: *mut Handle,
    enable: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        with_handle(dev_handle, |s, token| {
            if let Some(h) = s.handles.get_mut(&token) {
                h.auto_detach = enable != 0;
            }
            LIBUSB_SUCCESS
        })
    })
}
