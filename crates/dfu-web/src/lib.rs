//! The `dfu` library in the browser. The page (`web/`) loads this module, and every
//! decision (checks, placement, plan, steps, verify, what an error means) comes from the
//! library, as on the command line:
//!
//! - [`webusb::WebUsb`] is a [`dfu::Backend`] over WebUSB. The library is synchronous and
//!   WebUSB answers with promises: the page wraps its USB imports in
//!   `WebAssembly.Suspending` and calls the operations through `WebAssembly.promising`
//!   (JS Promise Integration), so the module suspends while a promise settles.
//! - [`ops`] has the operations the page calls: describe the connected device, prepare
//!   (connect, read the device, plan), execute the plan with events, read memory.
//! - [`result`] gives their results the shapes `dfu ... --json` prints (docs/json.md).
//!
//! In sim mode the page puts a `navigator.usb`-shaped object over the simulator (the
//! `dfu-web-sim` module) in front of the same code.
#![deny(unsafe_code)]

pub mod abi;
/// The command line's help lines for library errors, shared so that the page says the same.
#[path = "../../dfu-cli/src/help.rs"]
#[allow(dead_code, missing_docs)]
mod cli_help;
pub mod ops;
pub mod result;
pub mod webusb;
