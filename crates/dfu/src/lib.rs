//! The `dfu` library: find DFU devices (real USB through nusb, or simulated), check an image
//! against the device before writing, plan the erase and write, execute it with DFU 1.1 or
//! ST's DfuSe, verify by reading back, and leave DFU mode. Progress is reported as plain-data
//! [`events::Event`]s; nothing here touches the terminal.
#![forbid(unsafe_code)]

pub mod backend;
pub mod checks;
mod compare;
pub mod device;
pub mod dfuse;
pub mod discover;
pub mod error;
pub mod events;
pub mod flash;
mod ops;
pub mod plain;
pub mod plan;
pub mod udev;

pub use backend::{Backend, UsbDevice};
pub use device::DfuDevice;
pub use discover::{describe, find, select_one, AltInfo, DeviceInfo, Mode, Selector};
pub use error::{DfuError, ErrorKind, Result};
pub use events::{Event, Phase};
pub use flash::{FlashFailure, FlashOptions, FlashReport};
pub use plan::{Plan, Run};
