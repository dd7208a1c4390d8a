//! The rest of libusb-1.0's synchronous device API: strings, topology, speed and packet
//! sizes, opening by ids, the active configuration's descriptor, capabilities, logging
//! and error texts. Programs other than dfu-util call these (pyusb binds all of them).

use crate::devices::{self, Device};
use crate::ffi::{
    self, libusb_config_descriptor, LIBUSB_ERROR_INVALID_PARAM, LIBUSB_ERROR_IO,
    LIBUSB_ERROR_NOT_FOUND, LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_OTHER, LIBUSB_SUCCESS,
};
use crate::handles::{with_handle, Handle};
use crate::transfer::{control, Outcome};
use crate::{config, guard, kernel, shim, Context};
use dfu_proto::Setup;
use std::ffi::{c_char, c_int, c_uchar, c_void, CStr};

/// `LIBUSB_SPEED_FULL`: the simulated devices are full-speed (12 Mbit/s) devices.
const LIBUSB_SPEED_FULL: c_int = 2;
/// Timeout of the GET_DESCRIPTOR requests of `libusb_get_string_descriptor_ascii` (ms).
const STRING_TIMEOUT_MS: u32 = 1000;

/// `void libusb_set_debug(libusb_context *ctx, int level)`: accepted; the drop-in does
/// not log.
#[no_mangle]
pub extern "C" fn libusb_set_debug(_ctx: *mut Context, _level: c_int) {}

/// `void libusb_set_log_cb(libusb_context *ctx, libusb_log_cb cb, int mode)`: accepted;
/// the drop-in sends nothing to the callback.
#[no_mangle]
pub extern "C" fn libusb_set_log_cb(_ctx: *mut Context, _cb: *mut c_void, _mode: c_int) {}

/// `int libusb_has_capability(uint32_t capability)`: what libusb on Linux reports, less
/// hotplug (the simulated bus has no hotplug events).
#[no_mangle]
pub extern "C" fn libusb_has_capability(capability: u32) -> c_int {
    match capability {
        // LIBUSB_CAP_HAS_CAPABILITY, LIBUSB_CAP_SUPPORTS_DETACH_KERNEL_DRIVER
        0x0000 | 0x0101 => 1,
        // LIBUSB_CAP_HAS_HOTPLUG, LIBUSB_CAP_HAS_HID_ACCESS, and unknown ones
        _ => 0,
    }
}

/// `int libusb_setlocale(const char *locale)`: only English texts exist here, so "en"
/// (with any region) is accepted and other languages are `LIBUSB_ERROR_NOT_FOUND`.
///
/// # Safety
/// `locale` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn libusb_setlocale(locale: *const c_char) -> c_int {
    if locale.is_null() {
        return LIBUSB_ERROR_INVALID_PARAM;
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(locale) }.to_bytes();
    match bytes {
        [a, b] | [a, b, b'-' | b'_' | b'.', ..]
            if a.eq_ignore_ascii_case(&b'e') && b.eq_ignore_ascii_case(&b'n') =>
        {
            LIBUSB_SUCCESS
        }
        [_, _] | [_, _, b'-' | b'_' | b'.', ..] => LIBUSB_ERROR_NOT_FOUND,
        _ => LIBUSB_ERROR_INVALID_PARAM,
    }
}

/// `const char *libusb_strerror(int errcode)`: libusb's English texts.
#[no_mangle]
pub extern "C" fn libusb_strerror(errcode: c_int) -> *const c_char {
    let text: &'static CStr = match errcode {
        LIBUSB_SUCCESS => c"Success",
        LIBUSB_ERROR_IO => c"Input/Output Error",
        LIBUSB_ERROR_INVALID_PARAM => c"Invalid parameter",
        ffi::LIBUSB_ERROR_ACCESS => c"Access denied (insufficient permissions)",
        LIBUSB_ERROR_NO_DEVICE => c"No such device (it may have been disconnected)",
        LIBUSB_ERROR_NOT_FOUND => c"Entity not found",
        ffi::LIBUSB_ERROR_BUSY => c"Resource busy",
        ffi::LIBUSB_ERROR_TIMEOUT => c"Operation timed out",
        ffi::LIBUSB_ERROR_OVERFLOW => c"Overflow",
        ffi::LIBUSB_ERROR_PIPE => c"Pipe error",
        ffi::LIBUSB_ERROR_INTERRUPTED => c"System call interrupted (perhaps due to signal)",
        ffi::LIBUSB_ERROR_NO_MEM => c"Insufficient memory",
        ffi::LIBUSB_ERROR_NOT_SUPPORTED => {
            c"Operation not supported or unimplemented on this platform"
        }
        _ => c"Other error",
    };
    text.as_ptr()
}

/// Runs `f` on the device record of `dev`; `None` if unknown.
fn with_view<R>(dev: *const Device, f: impl FnOnce(&dfu_sim::DeviceView) -> R) -> Option<R> {
    let token = ffi::ptr_to_token(dev);
    shim::with(|s| s.devices.get(&token).map(|rec| f(&rec.view))).flatten()
}

/// `libusb_device *libusb_get_parent(libusb_device *dev)`: NULL. The simulated devices
/// hang off root-hub ports, and root hubs are not in the device list.
#[no_mangle]
pub extern "C" fn libusb_get_parent(_dev: *mut Device) -> *mut Device {
    std::ptr::null_mut()
}

/// `uint8_t libusb_get_port_number(libusb_device *dev)`: the port on the parent hub.
#[no_mangle]
pub extern "C" fn libusb_get_port_number(dev: *mut Device) -> u8 {
    guard(0, || {
        with_view(dev, |v| v.port_numbers.last().copied().unwrap_or(0)).unwrap_or(0)
    })
}

/// `int libusb_get_port_path(libusb_context *ctx, libusb_device *dev, uint8_t *path,
/// uint8_t path_length)`: the deprecated form of `libusb_get_port_numbers`.
///
/// # Safety
/// As for `libusb_get_port_numbers`.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_port_path(
    _ctx: *mut Context,
    dev: *mut Device,
    path: *mut u8,
    path_length: u8,
) -> c_int {
    // SAFETY: the same contract, passed on.
    unsafe { devices::libusb_get_port_numbers(dev, path, c_int::from(path_length)) }
}

/// `int libusb_get_device_speed(libusb_device *dev)`: `LIBUSB_SPEED_FULL`.
#[no_mangle]
pub extern "C" fn libusb_get_device_speed(dev: *mut Device) -> c_int {
    guard(0, || with_view(dev, |_| LIBUSB_SPEED_FULL).unwrap_or(0))
}

/// The raw `wMaxPacketSize` and transfer type of `endpoint` in the device's
/// configuration.
fn endpoint_info(dev: *const Device, endpoint: c_uchar) -> Result<(u16, u8), c_int> {
    let raw = with_view(dev, |v| v.config_descriptor.clone()).ok_or(LIBUSB_ERROR_NO_DEVICE)?;
    let parsed = config::parse(&raw).map_err(|_| LIBUSB_ERROR_OTHER)?;
    parsed
        .interfaces
        .iter()
        .flatten()
        .flat_map(|alt| alt.endpoints.iter())
        .map(|e| &e.bytes)
        .find(|b| b.len() >= 6 && b[2] == endpoint)
        .map(|b| (u16::from_le_bytes([b[4], b[5]]), b[3] & 3))
        .ok_or(LIBUSB_ERROR_NOT_FOUND)
}

/// `int libusb_get_max_packet_size(libusb_device *dev, unsigned char endpoint)`:
/// `wMaxPacketSize`, or `LIBUSB_ERROR_NOT_FOUND` (DFU devices have endpoint 0 only,
/// which configuration descriptors do not list).
#[no_mangle]
pub extern "C" fn libusb_get_max_packet_size(dev: *mut Device, endpoint: c_uchar) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || match endpoint_info(dev, endpoint) {
        Ok((size, _)) => c_int::from(size),
        Err(code) => code,
    })
}

/// `int libusb_get_max_iso_packet_size(libusb_device *dev, unsigned char endpoint)`.
#[no_mangle]
pub extern "C" fn libusb_get_max_iso_packet_size(dev: *mut Device, endpoint: c_uchar) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || match endpoint_info(dev, endpoint) {
        // Isochronous and interrupt: size times the additional transactions per frame.
        Ok((raw, 1 | 3)) => c_int::from(raw & 0x7ff) * (1 + c_int::from((raw >> 11) & 3)),
        Ok((raw, _)) => c_int::from(raw & 0x7ff),
        Err(code) => code,
    })
}

/// `libusb_device_handle *libusb_open_device_with_vid_pid(libusb_context *ctx, uint16_t
/// vendor_id, uint16_t product_id)`: opens the first device with these ids; NULL if none.
#[no_mangle]
pub extern "C" fn libusb_open_device_with_vid_pid(
    _ctx: *mut Context,
    vendor_id: u16,
    product_id: u16,
) -> *mut Handle {
    guard(std::ptr::null_mut(), || {
        let Some((tokens, found)) = shim::with(|s| {
            let tokens = devices::list(s);
            let found = tokens.iter().copied().find(|t| {
                s.devices.get(t).is_some_and(|rec| {
                    let d = &rec.view.device_descriptor_bytes;
                    (
                        u16::from_le_bytes([d[8], d[9]]),
                        u16::from_le_bytes([d[10], d[11]]),
                    ) == (vendor_id, product_id)
                })
            });
            (tokens, found)
        }) else {
            return std::ptr::null_mut();
        };
        let mut handle: *mut Handle = std::ptr::null_mut();
        if let Some(token) = found {
            // SAFETY: `handle` is a local, valid for writing a pointer.
            let rc = unsafe { crate::handles::libusb_open(ffi::token_to_ptr(token), &mut handle) };
            if rc != LIBUSB_SUCCESS {
                handle = std::ptr::null_mut();
            }
        }
        shim::with(|s| tokens.iter().for_each(|&t| s.unref_device(t)));
        handle
    })
}

/// `int libusb_get_active_config_descriptor(libusb_device *dev, struct
/// libusb_config_descriptor **config)`: `LIBUSB_ERROR_NOT_FOUND` when unconfigured.
///
/// # Safety
/// `config` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_active_config_descriptor(
    dev: *mut Device,
    config: *mut *const libusb_config_descriptor,
) -> c_int {
    let token = ffi::ptr_to_token(dev);
    let active = shim::with(|s| {
        let id = s.devices.get(&token)?.view.id;
        Some(kernel::active_configuration(s, id).unwrap_or(1))
    })
    .flatten();
    match active {
        None => LIBUSB_ERROR_NO_DEVICE,
        Some(0) => LIBUSB_ERROR_NOT_FOUND,
        // SAFETY: the caller's promise, passed on.
        Some(_) => unsafe { devices::libusb_get_config_descriptor(dev, 0, config) },
    }
}

/// `int libusb_get_config_descriptor_by_value(libusb_device *dev, uint8_t
/// bConfigurationValue, struct libusb_config_descriptor **config)`.
///
/// # Safety
/// `config` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_config_descriptor_by_value(
    dev: *mut Device,
    value: u8,
    config: *mut *const libusb_config_descriptor,
) -> c_int {
    match with_view(dev, |v| v.config_descriptor.get(5).copied()) {
        None => LIBUSB_ERROR_NO_DEVICE,
        // SAFETY: the caller's promise, passed on.
        Some(Some(v)) if v == value => unsafe {
            devices::libusb_get_config_descriptor(dev, 0, config)
        },
        Some(_) => LIBUSB_ERROR_NOT_FOUND,
    }
}

/// GET_DESCRIPTOR(STRING `index`, `langid`) through the bus.
fn get_string(s: &mut shim::Shim, token: u64, index: u8, langid: u16) -> Result<Vec<u8>, c_int> {
    let setup = Setup {
        request_type: 0x80,
        request: 6,
        value: 0x0300 | u16::from(index),
        index: langid,
        length: 255,
    };
    match control(s, token, setup, &[], STRING_TIMEOUT_MS) {
        Outcome::Received(b) => Ok(b),
        Outcome::Sent(_) => Err(LIBUSB_ERROR_IO),
        Outcome::Failed(code) => Err(code),
    }
}

/// The ASCII form of a string descriptor, as libusb makes it: one byte per UTF-16 code
/// unit, '?' for anything outside 0..=0x7F, at most `room - 1` bytes.
pub fn ascii_of(desc: &[u8], room: usize) -> Result<Vec<u8>, c_int> {
    if desc.len() < 2 || desc[1] != 3 || usize::from(desc[0]) > desc.len() {
        return Err(LIBUSB_ERROR_IO);
    }
    let units = desc[2..usize::from(desc[0]).max(2)].chunks_exact(2);
    Ok(units
        .map(|u| {
            if u[0] & 0x80 != 0 || u[1] != 0 {
                b'?'
            } else {
                u[0]
            }
        })
        .take(room.saturating_sub(1))
        .collect())
}

/// `int libusb_get_string_descriptor_ascii(libusb_device_handle *dev_handle, uint8_t
/// desc_index, unsigned char *data, int length)`: reads the first language and the
/// string in it; returns the length of the NUL-terminated ASCII text in `data`.
///
/// # Safety
/// `data` must be valid for writing `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libusb_get_string_descriptor_ascii(
    dev_handle: *mut Handle,
    desc_index: u8,
    data: *mut c_uchar,
    length: c_int,
) -> c_int {
    guard(LIBUSB_ERROR_OTHER, || {
        let room = usize::try_from(length).unwrap_or(0);
        if desc_index == 0 || room == 0 || data.is_null() {
            return LIBUSB_ERROR_INVALID_PARAM;
        }
        let mut text = Err(LIBUSB_ERROR_NO_DEVICE);
        with_handle(dev_handle, |s, token| {
            text = get_string(s, token, 0, 0).and_then(|langs| {
                if langs.len() < 4 {
                    return Err(LIBUSB_ERROR_IO);
                }
                let langid = u16::from_le_bytes([langs[2], langs[3]]);
                ascii_of(&get_string(s, token, desc_index, langid)?, room)
            });
            0
        });
        match text {
            Ok(t) => {
                // SAFETY: `t.len() <= room - 1`, so `t` and the NUL fit in the caller's
                // `length` writable bytes.
                unsafe { std::ptr::copy_nonoverlapping(t.as_ptr(), data, t.len()) };
                // SAFETY: as above, index `t.len() < room`: inside the caller's buffer.
                let end = unsafe { data.add(t.len()) };
                // SAFETY: `end` is inside the caller's `length` writable bytes.
                unsafe { end.write(0) };
                t.len() as c_int
            }
            Err(code) => code,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_strings_as_libusb_makes_them() {
        let d = [10, 3, b'D', 0, b'F', 0, 0xe9, 0, b'U', 0];
        assert_eq!(ascii_of(&d, 64), Ok(b"DF?U".to_vec()));
        assert_eq!(ascii_of(&d, 3), Ok(b"DF".to_vec()));
        assert_eq!(ascii_of(&[10, 2, 0, 0], 64), Err(LIBUSB_ERROR_IO));
        assert_eq!(ascii_of(&[12, 3, b'a', 0], 64), Err(LIBUSB_ERROR_IO));
    }

    #[test]
    fn locales_and_texts() {
        // SAFETY: NUL-terminated literals.
        let set = |l: &CStr| unsafe { libusb_setlocale(l.as_ptr()) };
        assert_eq!(set(c"en_US.UTF-8"), LIBUSB_SUCCESS);
        assert_eq!(set(c"de"), LIBUSB_ERROR_NOT_FOUND);
        assert_eq!(set(c"e"), LIBUSB_ERROR_INVALID_PARAM);
        // SAFETY: libusb_strerror returns a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(libusb_strerror(ffi::LIBUSB_ERROR_PIPE)) };
        assert_eq!(text.to_str(), Ok("Pipe error"));
        assert_eq!(libusb_has_capability(0x0001), 0);
    }
}
