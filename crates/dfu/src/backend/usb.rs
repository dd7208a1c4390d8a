//! Real USB through nusb.

use super::{Backend, UsbDevice};
use crate::error::{DfuError, Op, Result};
use dfu_proto::descriptor::{DFU_CLASS, DFU_SUBCLASS};
use dfu_proto::request::{Recipient as R, RequestKind};
use dfu_proto::{Setup, Transport, TransportError};
use nusb::transfer::{ControlIn, ControlOut, ControlType, Recipient, TransferError};
use nusb::MaybeFuture;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Control transfers give up after this long unless the library asks for more (the status
/// requests that wait for a long erase get a timeout sized to it: see `dfu::patience`).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// The real USB backend.
pub struct UsbBackend {
    start: Instant,
    seen: HashMap<u64, nusb::DeviceInfo>,
}

impl UsbBackend {
    /// A backend over the system's USB stack.
    pub fn new() -> Self {
        UsbBackend {
            start: Instant::now(),
            seen: HashMap::new(),
        }
    }
}

impl Default for UsbBackend {
    fn default() -> Self {
        Self::new()
    }
}

fn key_of(info: &nusb::DeviceInfo) -> u64 {
    let ports = info.port_chain().iter().fold(0u64, |acc, p| {
        acc.wrapping_mul(31).wrapping_add(u64::from(*p))
    });
    (u64::from(info.busnum()) << 56) ^ (u64::from(info.device_address()) << 48) ^ ports
}

fn map_error(e: &nusb::Error) -> TransportError {
    match e.kind() {
        nusb::ErrorKind::Disconnected => TransportError::Disconnected,
        nusb::ErrorKind::Busy => TransportError::Busy(e.to_string()),
        nusb::ErrorKind::PermissionDenied => TransportError::Access(e.to_string()),
        _ => TransportError::Other(e.to_string()),
    }
}

fn map_transfer(e: TransferError) -> TransportError {
    match e {
        TransferError::Stall => TransportError::Stall,
        TransferError::Disconnected => TransportError::Disconnected,
        TransferError::Cancelled => TransportError::Timeout,
        other => TransportError::Other(other.to_string()),
    }
}

impl Backend for UsbBackend {
    fn name(&self) -> &'static str {
        "usb"
    }

    fn devices(&mut self) -> Result<Vec<UsbDevice>> {
        if cfg!(target_os = "linux") && !std::path::Path::new("/sys/bus/usb/devices").exists() {
            // No USB subsystem at all (containers, some CI machines): no devices, not an error.
            // `dfu doctor` explains it.
            self.seen.clear();
            return Ok(Vec::new());
        }
        let list = nusb::list_devices()
            .wait()
            .map_err(|e| DfuError::usb(Op::List, map_error(&e)))?;
        self.seen.clear();
        let mut out = Vec::new();
        for info in list {
            let key = key_of(&info);
            let mut dfu_interfaces: Vec<(u8, u8)> = info
                .interfaces()
                .filter(|i| i.class() == DFU_CLASS && i.subclass() == DFU_SUBCLASS)
                .map(|i| (i.interface_number(), i.protocol()))
                .collect();
            dfu_interfaces.dedup();
            out.push(UsbDevice {
                vendor_id: info.vendor_id(),
                product_id: info.product_id(),
                bcd_device: info.device_version(),
                bus: info.busnum(),
                address: info.device_address(),
                ports: info.port_chain().to_vec(),
                manufacturer: info.manufacturer_string().map(str::to_string),
                product: info.product_string().map(str::to_string),
                serial: info.serial_number().map(str::to_string),
                dfu_interfaces,
                key,
            });
            self.seen.insert(key, info);
        }
        Ok(out)
    }

    fn open(&mut self, device: &UsbDevice, interface: u8) -> Result<Box<dyn Transport>> {
        let info = self
            .seen
            .get(&device.key)
            .ok_or_else(|| DfuError::usb(Op::Open, TransportError::Disconnected))?;
        let dev = info
            .open()
            .wait()
            .map_err(|e| DfuError::usb(Op::Open, map_error(&e)))?;
        let intf = dev
            .detach_and_claim_interface(interface)
            .wait()
            .map_err(|e| DfuError::usb(Op::Claim(interface), map_error(&e)))?;
        Ok(Box::new(UsbTransport {
            device: dev,
            interface: intf,
            start: self.start,
            timeout: CONTROL_TIMEOUT,
        }))
    }

    fn wait(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn handle(&self) -> Box<dyn Backend + Send> {
        // nusb is thread-safe; each handle lists devices for itself before it opens one.
        Box::new(UsbBackend {
            start: self.start,
            seen: HashMap::new(),
        })
    }
}

/// An opened device with its DFU interface claimed.
struct UsbTransport {
    device: nusb::Device,
    interface: nusb::Interface,
    start: Instant,
    timeout: Duration,
}

fn split(setup: &Setup) -> (ControlType, Recipient) {
    let t = match setup.kind() {
        RequestKind::Standard => ControlType::Standard,
        RequestKind::Class => ControlType::Class,
        _ => ControlType::Vendor,
    };
    let r = match setup.recipient() {
        R::Device => Recipient::Device,
        R::Interface => Recipient::Interface,
        R::Endpoint => Recipient::Endpoint,
        R::Other => Recipient::Other,
    };
    (t, r)
}

impl Transport for UsbTransport {
    fn control_in(&mut self, setup: Setup) -> std::result::Result<Vec<u8>, TransportError> {
        let (control_type, recipient) = split(&setup);
        self.interface
            .control_in(
                ControlIn {
                    control_type,
                    recipient,
                    request: setup.request,
                    value: setup.value,
                    index: setup.index,
                    length: setup.length,
                },
                self.timeout,
            )
            .wait()
            .map_err(map_transfer)
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
    ) -> std::result::Result<(), TransportError> {
        let (control_type, recipient) = split(&setup);
        self.interface
            .control_out(
                ControlOut {
                    control_type,
                    recipient,
                    request: setup.request,
                    value: setup.value,
                    index: setup.index,
                    data,
                },
                self.timeout,
            )
            .wait()
            .map_err(map_transfer)
    }

    fn set_alt_setting(
        &mut self,
        _interface: u8,
        alt: u8,
    ) -> std::result::Result<(), TransportError> {
        self.interface
            .set_alt_setting(alt)
            .wait()
            .map_err(|e| map_error(&e))
    }

    fn reset(&mut self) -> std::result::Result<(), TransportError> {
        match self.device.reset().wait() {
            Ok(()) => Ok(()),
            // A device that re-enumerates during the reset reports it as a disconnect.
            Err(e) if e.kind() == nusb::ErrorKind::Disconnected => Ok(()),
            Err(e) => Err(map_error(&e)),
        }
    }

    fn wait(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}
