//! A USB/IP server for simulated DFU devices.
//!
//! [`serve`] exports the devices of a [`DeviceBus`] (a [`dfu_sim::Bus`] with the default
//! `sim` feature) over the USB/IP protocol of the Linux kernel
//! (`Documentation/usb/usbip_protocol.rst`): `OP_REQ_DEVLIST` and `OP_REQ_IMPORT` on a TCP
//! port (3240 by default), then `USBIP_CMD_SUBMIT` / `USBIP_RET_SUBMIT` and
//! `USBIP_CMD_UNLINK` / `USBIP_RET_UNLINK` for the imported device. A Linux machine runs
//! `usbip attach -r HOST -b 1-1` and from then on sees the simulated device as a USB
//! device: usbcore enumerates it, usbfs opens it, and unmodified programs (dfu-util, `dfu`
//! with its nusb backend) flash it through the real kernel stack.
//!
//! * Every device of the spec is exported under a bus id `BUS-PORT` that stays the same
//!   for its slot, so a device that re-enumerates (detach, reset after a download) comes
//!   back under the same bus id. Its old connection is closed (an unplug, to the client)
//!   and the client attaches it again.
//! * Time: see [`clock`]: the simulator's virtual clock runs `1 / time_scale` times faster
//!   than real time, device busy periods become real waits of the same shape, and the
//!   poll timeouts devices report in GETSTATUS are scaled to match.
//! * Bounded: one thread per connection, at most [`ServeOptions::max_connections`];
//!   transfers above [`ServeOptions::max_transfer`] bytes, unknown commands, truncated
//!   or stalled messages close the connection. Nothing a peer sends can panic the server.
//! * Clean stop: set the `shutdown` flag (see [`stop_on_signals`] for SIGINT/SIGTERM);
//!   connections close within a tick and the simulator's state and statistics files are
//!   written.
#![forbid(unsafe_code)]

pub mod bus;
pub mod clock;
mod conn;
pub mod proto;
mod server;

pub use bus::{BusDevice, DeviceBus, TransferError};
pub use clock::DEFAULT_TIME_SCALE;

use std::net::TcpListener;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// What can go wrong while serving devices over USB/IP.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UsbipError {
    /// The listening address cannot be parsed or bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A socket operation failed (the peer went away, a timeout, ...).
    #[error("USB/IP connection: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent something that is not valid USB/IP (the connection is closed).
    #[error("USB/IP protocol violation: {0}")]
    Protocol(String),
    /// The simulated devices could not be created or saved.
    #[error("simulator: {0}")]
    Sim(String),
    /// The options are inconsistent.
    #[error("invalid server option: {0}")]
    Options(String),
}

impl UsbipError {
    /// A protocol violation with a description of what was wrong.
    pub fn protocol(message: impl Into<String>) -> Self {
        UsbipError::Protocol(message.into())
    }
}

/// The TCP port USB/IP uses by default.
pub const DEFAULT_PORT: u16 = 3240;

/// The largest transfer a client may submit (bytes): DFU blocks are at most a few KiB.
pub const MAX_TRANSFER: u32 = 64 * 1024;

/// Settings of the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Real seconds per virtual second (see [`clock`]); finite and > 0.
    pub time_scale: f64,
    /// Scale the bwPollTimeout of GETSTATUS answers by `time_scale` (on by default; off
    /// keeps the device's bytes exactly as simulated).
    pub scale_poll_timeouts: bool,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Largest `transfer_buffer_length` accepted.
    pub max_transfer: u32,
    /// How often idle connections check the device and the stop flag.
    pub tick: Duration,
    /// Longest a started message may take to arrive, a write may block, or a new
    /// connection may stay silent.
    pub io_timeout: Duration,
    /// Print connection events (imports, unplugs, protocol errors) on stderr.
    pub verbose: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            time_scale: DEFAULT_TIME_SCALE,
            scale_poll_timeouts: true,
            max_connections: 32,
            max_transfer: MAX_TRANSFER,
            tick: Duration::from_millis(20),
            io_timeout: Duration::from_secs(10),
            verbose: false,
        }
    }
}

impl ServeOptions {
    /// Checks the options for values the server cannot work with.
    pub fn validate(&self) -> Result<(), UsbipError> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(UsbipError::Options(format!(
                "time scale {} must be a positive number",
                self.time_scale
            )));
        }
        if self.max_connections == 0 || self.tick.is_zero() || self.io_timeout.is_zero() {
            return Err(UsbipError::Options(
                "connection limit, tick and I/O timeout must be non-zero".into(),
            ));
        }
        Ok(())
    }

    fn log(&self, message: &str) {
        if self.verbose {
            eprintln!("usbip: {message}");
        }
    }
}

/// Binds `listener_addr` (e.g. `127.0.0.1:3240`) and serves `bus` until `shutdown` is
/// set; then writes the bus's state and statistics files.
pub fn serve<B: DeviceBus + 'static>(
    listener_addr: &str,
    bus: B,
    opts: ServeOptions,
    shutdown: Arc<AtomicBool>,
) -> Result<(), UsbipError> {
    opts.validate()?;
    let listener = TcpListener::bind(listener_addr).map_err(|source| UsbipError::Bind {
        addr: listener_addr.to_string(),
        source,
    })?;
    serve_on(listener, bus, opts, shutdown)
}

/// Like [`serve`] on a listener the caller bound (tests bind port 0).
pub fn serve_on<B: DeviceBus + 'static>(
    listener: TcpListener,
    bus: B,
    opts: ServeOptions,
    shutdown: Arc<AtomicBool>,
) -> Result<(), UsbipError> {
    opts.validate()?;
    server::run(listener, bus, opts, shutdown)
}

/// Builds a [`dfu_sim::Bus`] from a simulator spec (the same syntax as `--sim`) and
/// serves it: the entry point of `dfu sim serve --usbip`.
#[cfg(feature = "sim")]
pub fn serve_spec(
    listener_addr: &str,
    spec: &str,
    opts: ServeOptions,
    shutdown: Arc<AtomicBool>,
) -> Result<(), UsbipError> {
    let bus = dfu_sim::Bus::from_spec(spec).map_err(|e| UsbipError::Sim(e.to_string()))?;
    if bus.time_scale().is_some() {
        // The server keeps the clock in step with real time itself (`opts.time_scale`).
        return Err(UsbipError::Options(
            "time-scale= is for the in-process simulator; the USB/IP server runs in real time already (DFU_USBIP_TIME_SCALE sets its pace)".into(),
        ));
    }
    serve(listener_addr, bus, opts, shutdown)
}

/// Sets `flag` when the process receives SIGINT or SIGTERM (instead of dying), so
/// [`serve`] can stop cleanly and save the simulator's state.
pub fn stop_on_signals(flag: &Arc<AtomicBool>) -> Result<(), UsbipError> {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(flag))?;
    }
    Ok(())
}
