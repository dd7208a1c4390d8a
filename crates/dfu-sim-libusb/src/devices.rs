//! Device discovery: the device list, reference counting, descriptors and topology.
//!
//! Like libusb, a device that is still on the bus keeps its `libusb_device` across
//! `libusb_get_device_list` calls while the program holds a reference to it; a device
//! that re-enumerated (after a detach, reset or leave) is a new device with a new
//! address.

use crate::ffi::{
    self, libusb_config_descriptor, libusb_device_descriptor, LIBUSB_ERROR_INVALID_PARAM,
    LIBUSB_ERROR_NOT_FOUND, LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_OTHER, LIBUSB_ERROR_OVERFLOW,
    LIBUSB_SUCCESS,
};
use crate::shim::{self, DeviceRec, Shim};
use crate::{config, guard, write_out, Context};
use std::ffi::{c_int, c_void};

/// The opaque `libusb_device`.
pub type Device = c_void;

fn device_token(dev: *const Device) -> u64 {
    ffi::ptr_to_token(dev)
}

/// Lists the devices on the bus, reusing the tokens of devices still referenced.
/// Returns the tokens (each with one new reference).
pub fn list(s: &mut Shim) -> Vec<u64> {
    let mut tokens = Vec::new();
    for view in s.bus.devices() {
        let known = s
            .devices
            .iter_mut()
            .find(|(_, rec)| rec.view.id == view.id)
            .map(|(token, rec)| {
                rec.refs += 1;
                *token
            });
        let token = match known {
            Some(token) => token,
            None => {
                let token = s.token();
                s.devices.insert(token, DeviceRec { view, refs: 1 });
                token
            }
        };
        tokens.push(token);
    }
    tokens
}

/// `ssize_t libusb_get_device_list(libusb_context *ctx, libusb_device ***list)`: a
/// NULL-terminated array of the simulated devices; returns their number.
///
/// # Safety
/// `list` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_device_list(
    _ctx: *mut Context,
    list_out: *mut *mut *mut Device,
) -> isize {
    guard(LIBUSB_ERROR_OTHER as isize, || {
        if list_out.is_null() {
            return LIBUSB_ERROR_INVALID_PARAM as isize;
        }
        let made = shim::with(|s| {
            let tokens = list(s);
            let n = tokens.len();
            let mut array: Box<[usize]> = tokens.iter().map(|&t| t as usize).chain([0]).collect();
            let ptr = array.as_mut_ptr();
            s.lists.insert(ptr as usize, array);
            (ptr, n)
        });
        let Some((ptr, n)) = made else {
            return LIBUSB_ERROR_OTHER as isize;
        };
        // A `usize` array has the layout of an array of pointers (LP64 and ILP32 alike).
        // SAFETY: the caller's promise about `list_out`.
        unsafe { write_out(list_out, ptr.cast::<*mut Device>()) };
        n as isize
    })
}

/// `void libusb_free_device_list(libusb_device **list, int unref_devices)`.
#[no_mangle]
pub extern "C" fn libusb_free_device_list(list: *mut *mut Device, unref_devices: c_int) {
    guard((), || {
        shim::with(|s| {
            if let Some(array) = s.lists.remove(&(list as usize)) {
                if unref_devices != 0 {
                    for &token in array.iter().take_while(|&&t| t != 0) {
                        s.unref_device(token as u64);
                    }
                }
            }
        });
    })
}

/// `libusb_device *libusb_ref_device(libusb_device *dev)`.
#[no_mangle]
pub extern "C" fn libusb_ref_device(dev: *mut Device) -> *mut Device {
    guard(dev, || {
        shim::with(|s| {
            if let Some(rec) = s.devices.get_mut(&device_token(dev)) {
                rec.refs += 1;
            }
        });
        dev
    })
}

/// `void libusb_unref_device(libusb_device *dev)`.
#[no_mangle]
pub extern "C" fn libusb_unref_device(dev: *mut Device) {
    guard((), || {
        shim::with(|s| s.unref_device(device_token(dev)));
    })
}

/// Runs `f` on the record of `dev`; `None` for an unknown device.
fn with_device<R>(dev: *const Device, f: impl FnOnce(&DeviceRec) -> R) -> Option<R> {
    shim::with(|s| s.devices.get(&device_token(dev)).map(f)).flatten()
}

/// `int libusb_get_device_descriptor(libusb_device *dev, struct
/// libusb_device_descriptor *desc)`: from the copy taken at enumeration, no I/O.
///
/// # Safety
/// `desc` must be valid for writing a `libusb_device_descriptor`.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_device_descriptor(
    dev: *mut Device,
    desc: *mut libusb_device_descriptor,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let Some(d) = with_device(dev, |rec| {
            libusb_device_descriptor::from_bytes(&rec.view.device_descriptor_bytes)
        }) else {
            return LIBUSB_ERROR_NO_DEVICE;
        };
        // SAFETY: the caller's promise about `desc`.
        match unsafe { write_out(desc, d) } {
            true => LIBUSB_SUCCESS,
            false => LIBUSB_ERROR_INVALID_PARAM,
        }
    })
}

/// `int libusb_get_config_descriptor(libusb_device *dev, uint8_t config_index, struct
/// libusb_config_descriptor **config)`: parsed as libusb parses it, so class-specific
/// descriptors (the DFU functional descriptor) are in the `extra` fields.
///
/// # Safety
/// `config` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_config_descriptor(
    dev: *mut Device,
    config_index: u8,
    config: *mut *const libusb_config_descriptor,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let made = shim::with(|s| {
            let rec = s
                .devices
                .get(&device_token(dev))
                .ok_or(LIBUSB_ERROR_NO_DEVICE)?;
            if config_index != 0 {
                return Err(LIBUSB_ERROR_NOT_FOUND); // the simulated devices have one
            }
            let parsed = config::parse(&rec.view.config_descriptor).map_err(|why| {
                eprintln!("dfu-sim-libusb: bad configuration descriptor: {why}");
                ffi::LIBUSB_ERROR_IO
            })?;
            let owned = config::OwnedConfig::new(&parsed);
            let ptr = owned.as_ptr();
            s.configs.insert(ptr as usize, owned);
            Ok(ptr)
        });
        match made {
            Some(Ok(ptr)) => {
                // SAFETY: the caller's promise about `config`.
                if unsafe { write_out(config, ptr) } {
                    LIBUSB_SUCCESS
                } else {
                    libusb_free_config_descriptor(ptr);
                    LIBUSB_ERROR_INVALID_PARAM
                }
            }
            Some(Err(code)) => code,
            None => LIBUSB_ERROR_OTHER,
        }
    })
}

/// `void libusb_free_config_descriptor(struct libusb_config_descriptor *config)`.
#[no_mangle]
pub extern "C" fn libusb_free_config_descriptor(config: *const libusb_config_descriptor) {
    guard((), || {
        shim::with(|s| s.configs.remove(&(config as usize)));
    })
}

/// `uint8_t libusb_get_bus_number(libusb_device *dev)`.
#[no_mangle]
pub extern "C" fn libusb_get_bus_number(dev: *mut Device) -> u8 {
    guard(0, || {
        with_device(dev, |rec| rec.view.bus_number).unwrap_or(0)
    })
}

/// `uint8_t libusb_get_device_address(libusb_device *dev)`.
#[no_mangle]
pub extern "C" fn libusb_get_device_address(dev: *mut Device) -> u8 {
    guard(0, || with_device(dev, |rec| rec.view.address).unwrap_or(0))
}

/// `int libusb_get_port_numbers(libusb_device *dev, uint8_t *port_numbers, int
/// port_numbers_len)`: the hub ports from the root to the device; returns how many, or
/// `LIBUSB_ERROR_OVERFLOW` if the array is too short.
///
/// # Safety
/// `port_numbers` must be valid for writing `port_numbers_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_port_numbers(
    dev: *mut Device,
    port_numbers: *mut u8,
    port_numbers_len: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let Some(ports) = with_device(dev, |rec| rec.view.port_numbers.clone()) else {
            return LIBUSB_ERROR_NO_DEVICE;
        };
        let Ok(room) = usize::try_from(port_numbers_len) else {
            return LIBUSB_ERROR_INVALID_PARAM;
        };
        if room == 0 || port_numbers.is_null() {
            return LIBUSB_ERROR_INVALID_PARAM;
        }
        if ports.len() > room {
            return LIBUSB_ERROR_OVERFLOW;
        }
        // SAFETY: `ports.len() <= room` bytes, and the caller promises `room` are writable.
        unsafe { std::ptr::copy_nonoverlapping(ports.as_ptr(), port_numbers, ports.len()) };
        ports.len() as c_int
    })
}
