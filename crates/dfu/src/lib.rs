//! The `dfu` library: find DFU devices (real USB through nusb, or simulated), check firmware
//! against the device before writing, plan the erase and write, execute the plan with DFU 1.1
//! or ST's DfuSe, verify by reading back, and leave DFU mode. Progress is reported as
//! plain-data [`Event`]s; nothing here touches the terminal.
//!
//! Every front end uses one pipeline: [`DfuDevice::survey`] reads the device,
//! [`plan()`] decides everything (placement, checks, order, sectors) without touching it,
//! and [`DfuDevice::execute`] runs the plan. [`flash()`] does all of it in one call:
//!
//! ```
//! use dfu::{backend::sim::SimBackend, Firmware, FlashOptions, Selector};
//!
//! // A simulated STM32F405 in its ROM bootloader, and a raw 4 KiB application.
//! let mut backend = SimBackend::new("stm32f405")?;
//! let app = Firmware::parse("app.bin", &[0x5A; 4096])?;
//! let options = FlashOptions { address: Some(0x0800_0000), ..FlashOptions::default() };
//! let report = dfu::flash(&mut backend, &Selector::default(), vec![app], &options, &mut |_| {})?;
//! assert!(report.verified);
//! assert_eq!(report.written, [(0x0800_0000, 4096)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod backend;
pub mod checks;
mod choose;
pub mod code;
mod compare;
pub mod device;
pub mod dfuse;
pub mod discover;
pub mod driver;
pub mod error;
pub mod events;
pub mod firmware;
pub mod flash;
mod info_json;
pub mod json;
mod leave;
pub mod many;
mod ops;
pub mod optbytes;
pub mod patience;
pub mod pipeline;
pub mod plain;
pub mod plan;
mod preserve;
mod protect;
mod quick;
pub mod selector;
pub mod survey;
pub mod udev;
pub mod wait;
pub mod watch;

pub use backend::{Backend, UsbDevice};
pub use code::{Code, Finding, Severity};
pub use device::DfuDevice;
pub use discover::{describe, find, select_one, AltInfo, DeviceInfo, Mode, Selector};
pub use error::{Candidate, DfuError, ErrorKind, Op, Result};
pub use events::{Event, Phase};
pub use firmware::{place, AddressSource, Firmware};
pub use flash::{FlashFailure, FlashReport};
pub use pipeline::{plan, FlashOptions, FlashPlan};
pub use plan::{Run, Step};
pub use quick::{connect, flash};
pub use survey::DeviceView;
