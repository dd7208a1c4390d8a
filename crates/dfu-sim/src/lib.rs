//! Simulated USB DFU and ST DfuSe devices: the whole lab of the `dfu` project.
//!
//! A [`Bus`] holds one or more simulated devices, each built from a
//! [`dfu_profiles::Profile`] and the knobs of a spec string (see [`parse_specs`] and the
//! crate README). Hosts talk to the devices with raw control transfers
//! ([`Bus::control`]), or through [`SimTransport`], which implements
//! [`dfu_proto::Transport`]. Behaviour follows the real devices where the project's
//! DEVICE-FACTS.md knows it: descriptors and strings, the DFU 1.1 state machine, the
//! DfuSe commands, flash that can only clear bits, poll timeouts, what happens on leave,
//! what errors look like. Everything else is marked *assumed* in the code and README.
//!
//! Time is virtual: erasing, programming, USB transfers and the host's waits advance one
//! clock ([`Bus::now`]); nothing sleeps. Flash contents persist across runs through
//! `state=` files; `stats=` files record what a run cost.
//!
//! ```
//! use dfu_proto::{DfuRequest, GetStatus, Setup, State};
//!
//! let bus = dfu_sim::Bus::from_spec("stm32f405").unwrap();
//! let dev = bus.devices()[0].id;
//! let reply = bus
//!     .control(dev, Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6), &[])
//!     .unwrap();
//! assert_eq!(GetStatus::parse(&reply).unwrap().state, State::DfuIdle);
//! ```
#![forbid(unsafe_code)]

mod bus;
mod claim;
mod device;
mod dfu;
mod dfuse;
mod error;
mod fault;
pub mod files;
mod hostile;
mod memory;
mod particle;
mod protect;
mod spec;
mod spec_many;
mod state;
mod stats;
mod timing;
mod usb;

pub use bus::HOST_TIMEOUT;
pub use bus::{Bus, DeviceView, SimTransport};
pub use error::{DeviceId, SimError, UsbError};
pub use fault::{Fault, FaultAction, FaultTrigger, FAULT_TIMEOUT};
pub use spec::{
    parse_specs, AltNameKnob, BootloaderVersion, Mode, SimSpec, StartState, VALID_KEYS,
};
pub use stats::{Stats, TRANSFER_KINDS};
pub use timing::physical_limit;

/// The environment variable [`Bus::from_env`] reads (the same one the CLI and the libusb
/// shim read).
pub const ENV_VAR: &str = "DFU_SIM";
