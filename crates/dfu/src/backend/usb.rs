//! Real USB through nusb.

use super::{Backend, UsbDevice};
use crate::error::{DfuError, Op, Result};
use dfu_proto::descriptor::{DFU_CLASS, DFU_SUBCLASS};
use dfu_proto::request::{Recipient as R, RequestKind};
use dfu_proto::{Setup, Transport, TransportError};
use nusb::transfer::{ControlIn, ControlOut, ControlType, Recipient, TransferError};
use nusb::MaybeFuture;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
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

/// The key to find a listed device again: a hash of nusb's opaque, per-platform device id
/// (bus and address on Linux, the device instance on Windows, the IOKit registry id on macOS).
fn key_of(info: &nusb::DeviceInfo) -> u64 {
    let mut h = DefaultHasher::new();
    info.id().hash(&mut h);
    h.finish()
}

/// The bus number as each system gives it: Linux numbers its buses; macOS's bus id is the top
/// byte of the IOKit location id, in hex; Windows names a bus by its root hub's location path,
/// so there buses are numbered 1, 2, ... in the order of those paths (`buses`, sorted).
fn bus_number(info: &nusb::DeviceInfo, buses: &[String]) -> u8 {
    #[cfg(target_os = "linux")]
    {
        let _ = buses;
        info.busnum()
    }
    #[cfg(target_os = "macos")]
    {
        let _ = buses;
        u8::from_str_radix(info.bus_id(), 16).unwrap_or(0)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        bus_ordinal(info.bus_id(), buses)
    }
}

/// `bus`'s place (from 1) among the sorted, distinct `buses`; 0 when it is not there.
#[cfg(any(test, not(any(target_os = "linux", target_os = "macos"))))]
fn bus_ordinal(bus: &str, buses: &[String]) -> u8 {
    buses
        .iter()
        .position(|b| b == bus)
        .and_then(|i| u8::try_from(i + 1).ok())
        .unwrap_or(0)
}

/// The driver Windows has bound to the whole device (nusb reports it only there), empty when
/// there is none.
fn driver_of(info: &nusb::DeviceInfo) -> Option<String> {
    #[cfg(target_os = "windows")]
    {
        Some(info.driver().unwrap_or_default().to_string())
    }
    #[cfg(not(target_os = "windows"))]
    {
        let _ = info;
        None
    }
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
        let list: Vec<nusb::DeviceInfo> = nusb::list_devices()
            .wait()
            .map_err(|e| DfuError::usb(Op::List, map_error(&e)))?
            .collect();
        let mut buses: Vec<String> = list.iter().map(|i| i.bus_id().to_string()).collect();
        buses.sort();
        buses.dedup();
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
                bus: bus_number(&info, &buses),
                address: info.device_address(),
                ports: info.port_chain().to_vec(),
                manufacturer: info.manufacturer_string().map(str::to_string),
                product: info.product_string().map(str::to_string),
                serial: info.serial_number().map(str::to_string),
                dfu_interfaces,
                windows_driver: driver_of(&info),
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

#[cfg(test)]
mod tests {
    use super::bus_ordinal;

    #[test]
    fn windows_buses_are_numbered_in_the_order_of_their_root_hub_paths() {
        let buses = [
            "PCIROOT(0)#PCI(1400)#USBROOT(0)".to_string(),
            "PCIROOT(0)#PCI(1A00)#USBROOT(0)".to_string(),
        ];
        assert_eq!(bus_ordinal(&buses[1], &buses), 2);
        assert_eq!(bus_ordinal(&buses[0], &buses), 1);
        assert_eq!(bus_ordinal("ACPI(_SB_)", &buses), 0);
    }
}
