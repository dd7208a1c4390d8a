//! The `Transport` trait: what the DFU engine needs from a USB connection to one device.
//! Real USB (nusb) and the simulator both implement it; nothing above it knows which.

use crate::request::Setup;
use std::time::Duration;
use thiserror::Error;

/// Why a USB operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The device answered with a STALL handshake (request not supported in this state).
    #[error("the device stalled the request")]
    Stall,
    /// The device is gone (unplugged, reset, re-enumerated).
    #[error("the device disconnected")]
    Disconnected,
    /// No answer in time.
    #[error("the device did not answer in time")]
    Timeout,
    /// The operating system refused access to the device.
    #[error("access to the device was denied: {0}")]
    Access(String),
    /// Another program or driver holds the device or interface.
    #[error("the device is busy (claimed by another program or driver): {0}")]
    Busy(String),
    /// Anything else the USB stack reported.
    #[error("USB error: {0}")]
    Other(String),
}

/// A connection to one USB device, opened and with its DFU interface claimed.
pub trait Transport {
    /// Sends an IN control request and returns what the device answered (at most
    /// `setup.length` bytes).
    fn control_in(&mut self, setup: Setup) -> Result<Vec<u8>, TransportError>;

    /// Sends an OUT control request with `data` (`setup.length` must equal its length).
    fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), TransportError>;

    /// Selects an alternate setting of the claimed interface.
    fn set_alt_setting(&mut self, interface: u8, alt: u8) -> Result<(), TransportError>;

    /// Resets the device on the bus; it re-enumerates afterwards.
    fn reset(&mut self) -> Result<(), TransportError>;

    /// Waits (a real sleep on real USB, virtual time in the simulator).
    fn wait(&mut self, duration: Duration);

    /// Time since an arbitrary fixed point, on the same clock as `wait`.
    fn now(&self) -> Duration;

    /// Sets the timeout of the control transfers that follow (a transfer the device holds
    /// longer fails with [`TransportError::Timeout`]). Transports without one ignore it.
    fn set_timeout(&mut self, timeout: Duration) {
        let _ = timeout;
    }

    /// The timeout of the next control transfer ([`DEFAULT_TIMEOUT`] unless set).
    fn timeout(&self) -> Duration {
        DEFAULT_TIMEOUT
    }
}

/// The control-transfer timeout hosts use unless an operation needs longer (dfu-util and
/// libusb programs commonly give 5 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn control_in(&mut self, setup: Setup) -> Result<Vec<u8>, TransportError> {
        (**self).control_in(setup)
    }
    fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), TransportError> {
        (**self).control_out(setup, data)
    }
    fn set_alt_setting(&mut self, interface: u8, alt: u8) -> Result<(), TransportError> {
        (**self).set_alt_setting(interface, alt)
    }
    fn reset(&mut self) -> Result<(), TransportError> {
        (**self).reset()
    }
    fn wait(&mut self, duration: Duration) {
        (**self).wait(duration)
    }
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn set_timeout(&mut self, timeout: Duration) {
        (**self).set_timeout(timeout)
    }
    fn timeout(&self) -> Duration {
        (**self).timeout()
    }
}
