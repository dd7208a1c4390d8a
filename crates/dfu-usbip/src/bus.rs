//! What the server needs from a set of USB devices: [`DeviceBus`], implemented for
//! [`dfu_sim::Bus`] (feature `sim`) and by test doubles.

use dfu_proto::Setup;
use std::time::Duration;

/// How a transfer to a device can fail (mirrors `dfu_sim::UsbError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferError {
    /// The device answered with a STALL handshake.
    Stall,
    /// The device is gone (left the bus, or re-enumerated under a new id).
    NoDevice,
    /// The device never answers this transfer.
    Timeout,
    /// Any other failure on the wire.
    Io,
}

/// One device present on the bus now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusDevice {
    /// The id of this incarnation; a re-enumerated device gets a new one.
    pub id: u32,
    /// The slot (position in the spec list); stable across re-enumerations.
    pub slot: usize,
    /// Bus number.
    pub bus_number: u8,
    /// Device address.
    pub address: u8,
    /// Port chain.
    pub port_numbers: Vec<u8>,
    /// The 18-byte device descriptor.
    pub device_descriptor: [u8; 18],
    /// The full configuration descriptor set.
    pub config_descriptor: Vec<u8>,
}

impl BusDevice {
    /// The USB/IP bus id: `BUS-PORT[.PORT...]` like Linux names it, stable per slot.
    pub fn busid(&self) -> String {
        if self.port_numbers.is_empty() {
            return format!("{}-{}", self.bus_number, self.slot + 1);
        }
        let ports: Vec<String> = self.port_numbers.iter().map(u8::to_string).collect();
        format!("{}-{}", self.bus_number, ports.join("."))
    }
}

/// A set of devices the server exports: the device side of every control transfer, plus
/// the bus's clock.
pub trait DeviceBus: Send {
    /// Devices present now.
    fn devices(&mut self) -> Vec<BusDevice>;
    /// A control transfer: `data_out` for OUT requests, the reply (at most
    /// `setup.length` bytes) for IN requests.
    fn control(&mut self, id: u32, setup: Setup, data_out: &[u8])
        -> Result<Vec<u8>, TransferError>;
    /// SET_CONFIGURATION.
    fn set_configuration(&mut self, id: u32, value: u8) -> Result<(), TransferError>;
    /// SET_INTERFACE.
    fn set_interface(&mut self, id: u32, interface: u8, alt: u8) -> Result<(), TransferError>;
    /// A USB bus reset from the host: the device may come back under a new id.
    fn reset(&mut self, id: u32) -> Result<(), TransferError>;
    /// Moves the bus's clock forward.
    fn advance(&mut self, by: Duration);
    /// The bus's clock.
    fn now(&self) -> Duration;
    /// Writes state and statistics files.
    fn flush(&mut self) -> Result<(), String>;
}

#[cfg(feature = "sim")]
mod sim {
    use super::{BusDevice, DeviceBus, TransferError};
    use dfu_proto::Setup;
    use dfu_sim::{Bus, DeviceId, UsbError};
    use std::time::Duration;

    fn map(e: UsbError) -> TransferError {
        match e {
            UsbError::Stall => TransferError::Stall,
            UsbError::NoDevice => TransferError::NoDevice,
            UsbError::Timeout => TransferError::Timeout,
            UsbError::Io | UsbError::Busy => TransferError::Io,
        }
    }

    impl DeviceBus for Bus {
        fn devices(&mut self) -> Vec<BusDevice> {
            Bus::devices(self)
                .into_iter()
                .map(|d| BusDevice {
                    id: d.id.0,
                    slot: d.slot,
                    bus_number: d.bus_number,
                    address: d.address,
                    port_numbers: d.port_numbers.clone(),
                    device_descriptor: d.device_descriptor_bytes,
                    config_descriptor: d.config_descriptor.clone(),
                })
                .collect()
        }

        fn control(
            &mut self,
            id: u32,
            setup: Setup,
            data_out: &[u8],
        ) -> Result<Vec<u8>, TransferError> {
            Bus::control(self, DeviceId(id), setup, data_out).map_err(map)
        }

        fn set_configuration(&mut self, id: u32, value: u8) -> Result<(), TransferError> {
            Bus::set_configuration(self, DeviceId(id), value).map_err(map)
        }

        fn set_interface(&mut self, id: u32, interface: u8, alt: u8) -> Result<(), TransferError> {
            Bus::set_interface(self, DeviceId(id), interface, alt).map_err(map)
        }

        fn reset(&mut self, id: u32) -> Result<(), TransferError> {
            Bus::reset(self, DeviceId(id)).map(|_| ()).map_err(map)
        }

        fn advance(&mut self, by: Duration) {
            Bus::advance(self, by);
        }

        fn now(&self) -> Duration {
            Bus::now(self)
        }

        fn flush(&mut self) -> Result<(), String> {
            Bus::flush(self).map_err(|e| e.to_string())
        }
    }
}
