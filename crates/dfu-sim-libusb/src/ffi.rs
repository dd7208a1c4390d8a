//! libusb-1.0's C vocabulary: error codes, option numbers and the `repr(C)` structs a
//! libusb program reads (layouts as in `libusb.h` of libusb 1.0.26, Debian 12).
//!
//! The opaque types (`libusb_context`, `libusb_device`, `libusb_device_handle`) are never
//! dereferenced by the program; this shim hands out small integer tokens disguised as
//! pointers (see [`token_to_ptr`]), so nothing here owns C memory through them.

#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_char, c_int, c_uchar};

/// Success.
pub const LIBUSB_SUCCESS: c_int = 0;
/// Input/output error.
pub const LIBUSB_ERROR_IO: c_int = -1;
/// Invalid parameter.
pub const LIBUSB_ERROR_INVALID_PARAM: c_int = -2;
/// Access denied (insufficient permissions).
pub const LIBUSB_ERROR_ACCESS: c_int = -3;
/// No such device (it may have been disconnected).
pub const LIBUSB_ERROR_NO_DEVICE: c_int = -4;
/// Entity not found.
pub const LIBUSB_ERROR_NOT_FOUND: c_int = -5;
/// Resource busy.
pub const LIBUSB_ERROR_BUSY: c_int = -6;
/// Operation timed out.
pub const LIBUSB_ERROR_TIMEOUT: c_int = -7;
/// Overflow.
pub const LIBUSB_ERROR_OVERFLOW: c_int = -8;
/// Pipe error (the device STALLed the request).
pub const LIBUSB_ERROR_PIPE: c_int = -9;
/// System call interrupted.
pub const LIBUSB_ERROR_INTERRUPTED: c_int = -10;
/// Insufficient memory.
pub const LIBUSB_ERROR_NO_MEM: c_int = -11;
/// Operation not supported or unimplemented on this platform.
pub const LIBUSB_ERROR_NOT_SUPPORTED: c_int = -12;
/// Other error.
pub const LIBUSB_ERROR_OTHER: c_int = -99;

/// `libusb_set_option`: set the log message verbosity (one int argument).
pub const LIBUSB_OPTION_LOG_LEVEL: c_int = 0;
/// `libusb_set_option`: use the UsbDk backend (Windows only).
pub const LIBUSB_OPTION_USE_USBDK: c_int = 1;
/// `libusb_set_option`: do not scan for devices at init.
pub const LIBUSB_OPTION_NO_DEVICE_DISCOVERY: c_int = 2;

/// The name libusb's `libusb_error_name` gives an error code (a NUL-terminated static
/// string), `LIBUSB_ERROR_OTHER`'s name for unknown negative codes, and
/// `"**UNKNOWN**"` for positive codes other than 0, as libusb does.
pub fn error_name(code: c_int) -> &'static std::ffi::CStr {
    match code {
        LIBUSB_SUCCESS => c"LIBUSB_SUCCESS / LIBUSB_TRANSFER_COMPLETED",
        LIBUSB_ERROR_IO => c"LIBUSB_ERROR_IO",
        LIBUSB_ERROR_INVALID_PARAM => c"LIBUSB_ERROR_INVALID_PARAM",
        LIBUSB_ERROR_ACCESS => c"LIBUSB_ERROR_ACCESS",
        LIBUSB_ERROR_NO_DEVICE => c"LIBUSB_ERROR_NO_DEVICE",
        LIBUSB_ERROR_NOT_FOUND => c"LIBUSB_ERROR_NOT_FOUND",
        LIBUSB_ERROR_BUSY => c"LIBUSB_ERROR_BUSY",
        LIBUSB_ERROR_TIMEOUT => c"LIBUSB_ERROR_TIMEOUT",
        LIBUSB_ERROR_OVERFLOW => c"LIBUSB_ERROR_OVERFLOW",
        LIBUSB_ERROR_PIPE => c"LIBUSB_ERROR_PIPE",
        LIBUSB_ERROR_INTERRUPTED => c"LIBUSB_ERROR_INTERRUPTED",
        LIBUSB_ERROR_NO_MEM => c"LIBUSB_ERROR_NO_MEM",
        LIBUSB_ERROR_NOT_SUPPORTED => c"LIBUSB_ERROR_NOT_SUPPORTED",
        LIBUSB_ERROR_OTHER => c"LIBUSB_ERROR_OTHER",
        // libusb also names the libusb_transfer_status values 1..=6 here.
        1 => c"LIBUSB_TRANSFER_ERROR",
        2 => c"LIBUSB_TRANSFER_TIMED_OUT",
        3 => c"LIBUSB_TRANSFER_CANCELLED",
        4 => c"LIBUSB_TRANSFER_STALL",
        5 => c"LIBUSB_TRANSFER_NO_DEVICE",
        6 => c"LIBUSB_TRANSFER_OVERFLOW",
        _ => c"**UNKNOWN**",
    }
}

/// Maps a simulated transfer failure to the code libusb's Linux backend returns for it.
pub fn usb_error_code(e: dfu_sim::UsbError) -> c_int {
    match e {
        dfu_sim::UsbError::Stall => LIBUSB_ERROR_PIPE,
        dfu_sim::UsbError::NoDevice => LIBUSB_ERROR_NO_DEVICE,
        dfu_sim::UsbError::Timeout => LIBUSB_ERROR_TIMEOUT,
        dfu_sim::UsbError::Io => LIBUSB_ERROR_IO,
        dfu_sim::UsbError::Busy => LIBUSB_ERROR_BUSY,
    }
}

/// `struct libusb_version`.
#[repr(C)]
#[derive(Debug)]
pub struct libusb_version {
    /// Library major version.
    pub major: u16,
    /// Library minor version.
    pub minor: u16,
    /// Library micro version.
    pub micro: u16,
    /// Library nano version.
    pub nano: u16,
    /// Library release candidate suffix string, e.g. "-rc4".
    pub rc: *const c_char,
    /// For ABI compatibility only.
    pub describe: *const c_char,
}

/// `struct libusb_device_descriptor` (18 bytes, the wire layout with host-order fields).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct libusb_device_descriptor {
    /// Size of this descriptor (18).
    pub bLength: u8,
    /// Descriptor type (1).
    pub bDescriptorType: u8,
    /// USB specification release, BCD.
    pub bcdUSB: u16,
    /// Device class.
    pub bDeviceClass: u8,
    /// Device subclass.
    pub bDeviceSubClass: u8,
    /// Device protocol.
    pub bDeviceProtocol: u8,
    /// Maximum packet size of endpoint 0.
    pub bMaxPacketSize0: u8,
    /// Vendor ID.
    pub idVendor: u16,
    /// Product ID.
    pub idProduct: u16,
    /// Device release, BCD.
    pub bcdDevice: u16,
    /// Index of the manufacturer string.
    pub iManufacturer: u8,
    /// Index of the product string.
    pub iProduct: u8,
    /// Index of the serial number string.
    pub iSerialNumber: u8,
    /// Number of configurations.
    pub bNumConfigurations: u8,
}

impl libusb_device_descriptor {
    /// Decodes the 18 wire bytes of a device descriptor.
    pub fn from_bytes(b: &[u8; 18]) -> Self {
        let le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        libusb_device_descriptor {
            bLength: b[0],
            bDescriptorType: b[1],
            bcdUSB: le(2),
            bDeviceClass: b[4],
            bDeviceSubClass: b[5],
            bDeviceProtocol: b[6],
            bMaxPacketSize0: b[7],
            idVendor: le(8),
            idProduct: le(10),
            bcdDevice: le(12),
            iManufacturer: b[14],
            iProduct: b[15],
            iSerialNumber: b[16],
            bNumConfigurations: b[17],
        }
    }
}

/// `struct libusb_endpoint_descriptor`.
#[repr(C)]
#[derive(Debug)]
pub struct libusb_endpoint_descriptor {
    /// Size of the descriptor (7, or 9 for audio endpoints).
    pub bLength: u8,
    /// Descriptor type (5).
    pub bDescriptorType: u8,
    /// Endpoint address (bit 7: direction).
    pub bEndpointAddress: u8,
    /// Transfer type and more.
    pub bmAttributes: u8,
    /// Maximum packet size.
    pub wMaxPacketSize: u16,
    /// Polling interval.
    pub bInterval: u8,
    /// Audio only: refresh rate.
    pub bRefresh: u8,
    /// Audio only: synchronization endpoint.
    pub bSynchAddress: u8,
    /// Class- or vendor-specific descriptors after this one.
    pub extra: *const c_uchar,
    /// Length of `extra` in bytes.
    pub extra_length: c_int,
}

/// `struct libusb_interface_descriptor`: one alternate setting of an interface.
#[repr(C)]
#[derive(Debug)]
pub struct libusb_interface_descriptor {
    /// Size of the descriptor (9).
    pub bLength: u8,
    /// Descriptor type (4).
    pub bDescriptorType: u8,
    /// Interface number.
    pub bInterfaceNumber: u8,
    /// Alternate setting number.
    pub bAlternateSetting: u8,
    /// Number of endpoints (besides endpoint 0).
    pub bNumEndpoints: u8,
    /// Interface class (0xFE for DFU).
    pub bInterfaceClass: u8,
    /// Interface subclass (1 for DFU).
    pub bInterfaceSubClass: u8,
    /// Interface protocol (1 run-time, 2 DFU mode).
    pub bInterfaceProtocol: u8,
    /// Index of the interface string (the DfuSe memory layout).
    pub iInterface: u8,
    /// `bNumEndpoints` endpoint descriptors, or NULL.
    pub endpoint: *const libusb_endpoint_descriptor,
    /// Class-specific descriptors after this one (the DFU functional descriptor).
    pub extra: *const c_uchar,
    /// Length of `extra` in bytes.
    pub extra_length: c_int,
}

/// `struct libusb_interface`: all alternate settings of one interface.
#[repr(C)]
#[derive(Debug)]
pub struct libusb_interface {
    /// `num_altsetting` alternate settings.
    pub altsetting: *const libusb_interface_descriptor,
    /// Number of alternate settings.
    pub num_altsetting: c_int,
}

/// `struct libusb_config_descriptor`.
#[repr(C)]
#[derive(Debug)]
pub struct libusb_config_descriptor {
    /// Size of the descriptor (9).
    pub bLength: u8,
    /// Descriptor type (2).
    pub bDescriptorType: u8,
    /// Total length of the configuration's descriptors.
    pub wTotalLength: u16,
    /// Number of interfaces.
    pub bNumInterfaces: u8,
    /// The value SET_CONFIGURATION selects this configuration with.
    pub bConfigurationValue: u8,
    /// Index of the configuration string.
    pub iConfiguration: u8,
    /// Attributes (self-powered, remote wakeup).
    pub bmAttributes: u8,
    /// Maximum power in 2 mA units.
    pub MaxPower: u8,
    /// `bNumInterfaces` interfaces.
    pub interface: *const libusb_interface,
    /// Descriptors between the configuration descriptor and the first interface.
    pub extra: *const c_uchar,
    /// Length of `extra` in bytes.
    pub extra_length: c_int,
}

/// An opaque handle value handed to C: a token number disguised as a pointer. Token 0 is
/// never used, so a valid handle is never NULL.
pub fn token_to_ptr<T>(token: u64) -> *mut T {
    std::ptr::without_provenance_mut(token as usize)
}

/// The token a handle value stands for (0 for NULL).
pub fn ptr_to_token<T>(ptr: *const T) -> u64 {
    ptr.addr() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    // Offsets as computed by a C compiler for x86_64 / aarch64 Linux (LP64).
    #[test]
    fn layouts_match_libusb_h() {
        assert_eq!(size_of::<libusb_device_descriptor>(), 18);
        assert_eq!(offset_of!(libusb_device_descriptor, idVendor), 8);
        assert_eq!(offset_of!(libusb_device_descriptor, bNumConfigurations), 17);
        assert_eq!(offset_of!(libusb_endpoint_descriptor, extra), 16);
        assert_eq!(size_of::<libusb_endpoint_descriptor>(), 32);
        assert_eq!(offset_of!(libusb_interface_descriptor, endpoint), 16);
        assert_eq!(offset_of!(libusb_interface_descriptor, extra_length), 32);
        assert_eq!(size_of::<libusb_interface_descriptor>(), 40);
        assert_eq!(size_of::<libusb_interface>(), 16);
        assert_eq!(offset_of!(libusb_config_descriptor, MaxPower), 8);
        assert_eq!(offset_of!(libusb_config_descriptor, interface), 16);
        assert_eq!(offset_of!(libusb_config_descriptor, extra_length), 32);
        assert_eq!(size_of::<libusb_config_descriptor>(), 40);
        assert_eq!(offset_of!(libusb_version, rc), 8);
    }

    #[test]
    fn device_descriptor_decodes_little_endian() {
        let b = [
            18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xdf, 0x00, 0x21, 1, 2, 3, 1,
        ];
        let d = libusb_device_descriptor::from_bytes(&b);
        assert_eq!(
            (d.idVendor, d.idProduct, d.bcdDevice),
            (0x0483, 0xdf11, 0x2100)
        );
        assert_eq!(
            (d.bcdUSB, d.bMaxPacketSize0, d.iSerialNumber),
            (0x0200, 64, 3)
        );
    }

    #[test]
    fn errors_have_libusb_names() {
        assert_eq!(
            error_name(LIBUSB_ERROR_PIPE).to_str(),
            Ok("LIBUSB_ERROR_PIPE")
        );
        assert_eq!(error_name(-1234).to_str(), Ok("**UNKNOWN**"));
        assert_eq!(usb_error_code(dfu_sim::UsbError::Stall), LIBUSB_ERROR_PIPE);
        assert_eq!(ptr_to_token(token_to_ptr::<u8>(42)), 42);
    }
}
