//! Simulated devices (`--sim SPEC` / `DFU_SIM`).

use super::{Backend, UsbDevice};
use crate::error::{DfuError, Result};
use dfu_proto::descriptor::{DFU_CLASS, DFU_SUBCLASS};
use dfu_proto::{ConfigDescriptor, Transport};
use dfu_sim::{Bus, DeviceId, SimError};
use std::time::Duration;

/// A backend serving the devices of a simulator spec.
pub struct SimBackend {
    bus: Bus,
}

impl SimBackend {
    /// Builds the simulated devices of `spec` (loading their state files).
    pub fn new(spec: &str) -> Result<Self> {
        let bus = Bus::from_spec(spec).map_err(|e| match e {
            SimError::Spec { spec, message } => {
                DfuError::Sim(format!("device spec {spec:?}: {message}"))
            }
            SimError::Profile { spec, source } => {
                DfuError::Sim(format!("device spec {spec:?}: {source}"))
            }
            e => DfuError::Sim(e.to_string()),
        })?;
        Ok(SimBackend { bus })
    }

    /// The simulator bus (for statistics).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
}

impl Backend for SimBackend {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn devices(&mut self) -> Result<Vec<UsbDevice>> {
        Ok(self
            .bus
            .devices()
            .into_iter()
            .map(|d| {
                let dfu_interfaces = ConfigDescriptor::parse(&d.config_descriptor)
                    .map(|c| {
                        let mut v: Vec<(u8, u8)> = c
                            .alt_settings
                            .iter()
                            .filter(|a| a.class == DFU_CLASS && a.subclass == DFU_SUBCLASS)
                            .map(|a| (a.interface, a.protocol))
                            .collect();
                        v.dedup();
                        v
                    })
                    .unwrap_or_default();
                UsbDevice {
                    vendor_id: d.device_descriptor.vendor_id,
                    product_id: d.device_descriptor.product_id,
                    bcd_device: d.device_descriptor.bcd_device,
                    bus: d.bus_number,
                    address: d.address,
                    ports: d.port_numbers.clone(),
                    manufacturer: None,
                    product: None,
                    serial: Some(d.serial.clone()),
                    dfu_interfaces,
                    windows_driver: None,
                    key: u64::from(d.id.0),
                }
            })
            .collect())
    }

    fn open(&mut self, device: &UsbDevice, interface: u8) -> Result<Box<dyn Transport>> {
        let id = DeviceId(device.key as u32);
        if !self.bus.devices().iter().any(|d| d.id == id) {
            return Err(DfuError::usb(
                crate::error::Op::Open,
                dfu_proto::TransportError::Disconnected,
            ));
        }
        Ok(Box::new(self.bus.transport(id, interface)))
    }

    fn wait(&mut self, duration: Duration) {
        self.bus.advance(duration);
    }

    fn now(&self) -> Duration {
        self.bus.now()
    }

    fn handle(&self) -> Box<dyn Backend + Send> {
        Box::new(SimBackend {
            bus: self.bus.clone(),
        })
    }

    fn clock_is_virtual(&self) -> bool {
        self.bus.time_scale().is_none()
    }

    fn simulated(&self) -> bool {
        true
    }

    fn finish(&mut self) -> Result<()> {
        // A failure returned here is not reported again when the bus is dropped.
        self.bus.flush().map_err(|e| DfuError::Unsupported {
            code: crate::Code::SimSave,
            what: format!("the simulator could not save its files: {e}"),
        })
    }
}
