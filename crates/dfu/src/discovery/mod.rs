//! Finding devices: the bus listing and each device's description ([`discover`]), which
//! devices the user means ([`selector`]), the profile that fits ([`choose`](self)), waiting
//! for a device to appear ([`wait`]), and the udev rules that grant access ([`udev`]).

pub(crate) mod choose;
pub mod discover;
pub mod driver;
pub mod info_json;
pub(crate) mod quirk;
pub mod selector;
pub mod udev;
pub mod wait;
