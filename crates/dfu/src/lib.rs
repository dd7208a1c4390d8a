//! The `dfu` library: find DFU devices (real USB through nusb, or simulated), check firmware
//! against the device before writing, plan the erase and write, execute the plan with DFU 1.1
//! or ST's DfuSe, verify by reading back, and leave DFU mode. Progress is reported as
//! plain-data [`Event`]s; nothing here touches the terminal.
//!
//! Every front end makes one call: it turns what the user said into a [`Request`], and
//! [`prepare()`] waits for the device, connects, resolves the alt setting, opens it, surveys
//! it ([`DfuDevice::survey`], where the layouts are decided once) and plans
//! ([`plan()`] for a flash: placement, checks, order, sectors; [`ReadPlan`], [`ErasePlan`]),
//! without writing anything. [`Prepared::execute`] runs the plan. The folders follow that
//! flow: `discovery`, `pipeline`, `session`, `protection`, `fleet` (many devices),
//! `backend`; the crate's README draws it. [`flash()`] does all of it in one call:
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
pub mod code;
pub mod discovery;
pub mod error;
pub mod events;
pub mod fleet;
pub mod json;
pub mod pipeline;
pub mod protection;
pub mod session;

// Each module is also named at the root (`dfu::wait`, `dfu::many`, `dfu::survey`), as
// before they were grouped by the flow.
pub use discovery::info_json;
pub use discovery::info_json::ProfileJson;
pub(crate) use discovery::{choose, quirk};
pub use discovery::{discover, driver, selector, udev, wait};
pub use fleet::{many, watch};
pub use pipeline::{
    account, checks, firmware, flash, prepare, readerase, request, sectors, survey,
};
pub(crate) use pipeline::{preserve, quick};
pub use protection::optbytes;
pub(crate) use protection::protect;
pub(crate) use session::compare;
pub use session::{device, dfuse, patience, plain};

pub use backend::{Backend, UsbDevice};
pub use code::{Code, Finding, Note, Severity};
pub use device::DfuDevice;
pub use discover::{describe, find, select_one, AltInfo, DeviceInfo, Mode, Selector};
pub use error::{Candidate, DfuError, ErrorKind, Op, Result};
pub use events::{Event, Phase};
pub use firmware::{place, AddressSource, Firmware};
pub use flash::{FlashFailure, FlashReport};
pub use pipeline::{plan, FlashOptions, FlashPlan};
pub use prepare::{prepare, Outcome, Plan, Prepared};
pub use quick::flash;
pub use readerase::{ErasePlan, ReadPlan};
pub use request::{AltChoice, DeviceRequest, Operation, Request, WaitPolicy};
pub use sectors::{Run, Step};
pub use survey::DeviceView;
