//! Gives the drop-in library the SONAME of libusb-1.0 (`libusb-1.0.so.0`).
//!
//! With that name, a program that links libusb (its `DT_NEEDED` entry) or loads it by
//! name at run time (`dlopen("libusb-1.0.so.0")`, as Python's pyusb does through ctypes)
//! gets this library once it is in `LD_PRELOAD`: the dynamic linker matches an object
//! already loaded by its SONAME and does not load the system libusb.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libusb-1.0.so.0");
}
