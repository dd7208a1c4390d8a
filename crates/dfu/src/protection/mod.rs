//! What protects a device from its user and the user from the device: option bytes, read
//! and write protection, OTP ([`optbytes`]), and read-unprotect ([`protect`](self)).

pub(crate) mod guard;
pub mod optbytes;
pub(crate) mod protect;
