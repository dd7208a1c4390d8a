//! [`SimTransport`]: the [`dfu_proto::Transport`] of a simulated device.

use crate::bus::Bus;
use crate::error::DeviceId;
use dfu_proto::{Setup, Transport, TransportError};
use std::time::Duration;

/// A connection to one simulated device's DFU interface. Requests go through
/// [`Bus::control`]; `wait` advances the virtual clock; `reset` is a USB bus reset,
/// after which the device has a new id, so this transport then reports
/// [`TransportError::Disconnected`] (find the device again with [`Bus::devices`]).
#[derive(Debug, Clone)]
pub struct SimTransport {
    bus: Bus,
    dev: DeviceId,
    interface: u8,
}

impl SimTransport {
    pub(crate) fn new(bus: Bus, dev: DeviceId, interface: u8) -> Self {
        SimTransport {
            bus,
            dev,
            interface,
        }
    }

    /// The device this transport talks to.
    pub fn device(&self) -> DeviceId {
        self.dev
    }

    /// The DFU interface number.
    pub fn interface(&self) -> u8 {
        self.interface
    }

    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
}

impl Transport for SimTransport {
    fn control_in(&mut self, setup: Setup) -> Result<Vec<u8>, TransportError> {
        Ok(self.bus.control(self.dev, setup, &[])?)
    }

    fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), TransportError> {
        self.bus.control(self.dev, setup, data)?;
        Ok(())
    }

    fn set_alt_setting(&mut self, interface: u8, alt: u8) -> Result<(), TransportError> {
        Ok(self.bus.set_interface(self.dev, interface, alt)?)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        Ok(self.bus.reset(self.dev)?)
    }

    fn wait(&mut self, duration: Duration) {
        self.bus.advance(duration);
    }

    fn now(&self) -> Duration {
        self.bus.now()
    }
}
