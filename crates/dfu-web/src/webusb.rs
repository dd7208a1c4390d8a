//! The library's [`Backend`] and [`Transport`] over WebUSB (`navigator.usb`), through the
//! page's asynchronous imports (see [`crate::abi`]). The clock and the waits are the page's:
//! timers on real USB, the simulator's virtual clock in sim mode.

use crate::abi;
use dfu::error::{DfuError, Op, Result};
use dfu::{Backend, UsbDevice};
use dfu_proto::{Setup, Transport, TransportError, DEFAULT_TIMEOUT};
use serde::Deserialize;
use std::time::Duration;

/// The devices the page may use (those the user granted), as the page lists them.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebUsb;

/// One device in the page's list.
#[derive(Deserialize)]
struct Listed {
    key: u32,
    vendor_id: u16,
    product_id: u16,
    bcd_device: u16,
    manufacturer: Option<String>,
    product: Option<String>,
    serial: Option<String>,
    dfu_interfaces: Vec<(u8, u8)>,
}

/// The page's error codes for a failed USB call (negative return values); the message, if
/// any, waits on the page's side.
fn error(code: i32) -> TransportError {
    let message = || String::from_utf8_lossy(&abi::pending()).into_owned();
    match code {
        -1 => TransportError::Stall,
        -2 => TransportError::Disconnected,
        -3 => TransportError::Timeout,
        -4 => TransportError::Access(message()),
        -5 => TransportError::Busy(message()),
        _ => TransportError::Other(message()),
    }
}

fn check(code: i32) -> std::result::Result<(), TransportError> {
    match code {
        c if c < 0 => Err(error(c)),
        _ => Ok(()),
    }
}

fn duration(nanos: f64) -> Duration {
    Duration::from_nanos(nanos.max(0.0) as u64)
}

impl Backend for WebUsb {
    fn name(&self) -> &'static str {
        match abi::usb_simulated() {
            1 => "sim",
            _ => "usb",
        }
    }

    fn devices(&mut self) -> Result<Vec<UsbDevice>> {
        let n = abi::usb_list();
        if n < 0 {
            return Err(DfuError::usb(Op::Open, error(n)));
        }
        let listed: Vec<Listed> = serde_json::from_slice(&abi::pending()).map_err(|e| {
            DfuError::usb(Op::Open, TransportError::Other(format!("device list: {e}")))
        })?;
        Ok(listed
            .into_iter()
            .map(|d| UsbDevice {
                vendor_id: d.vendor_id,
                product_id: d.product_id,
                bcd_device: d.bcd_device,
                // WebUSB does not tell where a device is plugged in.
                bus: 0,
                address: 0,
                ports: Vec::new(),
                manufacturer: d.manufacturer,
                product: d.product,
                serial: d.serial,
                dfu_interfaces: d.dfu_interfaces,
                key: u64::from(d.key),
                // The browser chose the driver already; nothing to report.
                windows_driver: None,
            })
            .collect())
    }

    fn open(&mut self, device: &UsbDevice, interface: u8) -> Result<Box<dyn Transport>> {
        let key = u32::try_from(device.key).unwrap_or(u32::MAX);
        check(abi::usb_open(key, u32::from(interface))).map_err(|e| DfuError::usb(Op::Open, e))?;
        Ok(Box::new(WebUsbTransport {
            key,
            timeout: DEFAULT_TIMEOUT,
        }))
    }

    fn wait(&mut self, duration: Duration) {
        abi::clock_wait(duration.as_nanos() as f64);
    }

    fn now(&self) -> Duration {
        duration(abi::clock_now())
    }

    fn handle(&self) -> Box<dyn Backend + Send> {
        Box::new(WebUsb)
    }

    fn clock_is_virtual(&self) -> bool {
        abi::usb_simulated() == 1
    }
}

/// One opened device, its DFU interface claimed.
#[derive(Debug)]
pub struct WebUsbTransport {
    key: u32,
    timeout: Duration,
}

impl WebUsbTransport {
    fn timeout_ms(&self) -> u32 {
        u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX)
    }
}

impl Transport for WebUsbTransport {
    fn control_in(&mut self, setup: Setup) -> std::result::Result<Vec<u8>, TransportError> {
        let n = abi::usb_control_in(
            self.key,
            u32::from(setup.request_type),
            u32::from(setup.request),
            u32::from(setup.value),
            u32::from(setup.index),
            u32::from(setup.length),
            self.timeout_ms(),
        );
        check(n)?;
        let mut data = abi::pending();
        data.truncate(usize::from(setup.length));
        Ok(data)
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
    ) -> std::result::Result<(), TransportError> {
        check(abi::usb_control_out(
            self.key,
            u32::from(setup.request_type),
            u32::from(setup.request),
            u32::from(setup.value),
            u32::from(setup.index),
            data.as_ptr() as usize,
            data.len(),
            self.timeout_ms(),
        ))
    }

    fn set_alt_setting(
        &mut self,
        interface: u8,
        alt: u8,
    ) -> std::result::Result<(), TransportError> {
        check(abi::usb_set_alt(
            self.key,
            u32::from(interface),
            u32::from(alt),
        ))
    }

    fn reset(&mut self) -> std::result::Result<(), TransportError> {
        check(abi::usb_reset(self.key))
    }

    fn wait(&mut self, duration: Duration) {
        abi::clock_wait(duration.as_nanos() as f64);
    }

    fn now(&self) -> Duration {
        duration(abi::clock_now())
    }

    fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}
