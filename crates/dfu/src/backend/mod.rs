//! Where devices come from: real USB (nusb) or the simulator. Both hand out
//! [`Transport`]s, so nothing above this module knows which one it talks to.

#[cfg(feature = "sim")]
pub mod sim;
pub mod trace;
#[cfg(feature = "usb")]
pub mod usb;

use crate::error::Result;
use dfu_proto::Transport;
use std::time::Duration;

/// A USB device as seen on the bus, before it is opened. In JSON, its ids are hex strings
/// (`"0x0483"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsbDevice {
    /// idVendor.
    #[serde(serialize_with = "dfu_proto::num::serialize_hex16")]
    pub vendor_id: u16,
    /// idProduct.
    #[serde(serialize_with = "dfu_proto::num::serialize_hex16")]
    pub product_id: u16,
    /// bcdDevice.
    #[serde(serialize_with = "dfu_proto::num::serialize_hex16")]
    pub bcd_device: u16,
    /// Bus number.
    pub bus: u8,
    /// Device address on the bus.
    pub address: u8,
    /// Port chain from the root hub (`1-2.3` is bus 1, ports [2, 3]).
    pub ports: Vec<u8>,
    /// Manufacturer string, when the system knows it without opening the device.
    pub manufacturer: Option<String>,
    /// Product string, likewise.
    pub product: Option<String>,
    /// Serial number string, likewise.
    pub serial: Option<String>,
    /// Interface numbers of DFU interfaces (class 0xFE, subclass 1) with their protocol.
    pub dfu_interfaces: Vec<(u8, u8)>,
    /// On Windows: the service name of the driver bound to the whole device (`WinUSB`,
    /// `usbccgp`, `STTub30`, ...), empty when none is; `None` where the system does not report
    /// drivers. See [`crate::driver::DriverFit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_driver: Option<String>,
    /// Backend-specific key to open it again.
    #[serde(skip)]
    pub key: u64,
}

impl UsbDevice {
    /// `vvvv:pppp`.
    pub fn id(&self) -> String {
        dfu_proto::format_id(self.vendor_id, self.product_id)
    }

    /// `BUS-PORT.PORT...`, as Linux names it (and as `--path` takes it).
    pub fn path(&self) -> String {
        let ports: Vec<String> = self.ports.iter().map(u8::to_string).collect();
        if ports.is_empty() {
            format!("{}-0", self.bus)
        } else {
            format!("{}-{}", self.bus, ports.join("."))
        }
    }

    /// True when the device has a DFU interface.
    pub fn is_dfu(&self) -> bool {
        !self.dfu_interfaces.is_empty()
    }
}

/// A source of USB devices.
pub trait Backend {
    /// Name for messages (`usb`, `sim`).
    fn name(&self) -> &'static str;

    /// Every device attached now.
    fn devices(&mut self) -> Result<Vec<UsbDevice>>;

    /// Opens a device and claims `interface`.
    fn open(&mut self, device: &UsbDevice, interface: u8) -> Result<Box<dyn Transport>>;

    /// Waits (real or virtual time), e.g. for a device to re-enumerate.
    fn wait(&mut self, duration: Duration);

    /// Time on the backend's clock.
    fn now(&self) -> Duration;

    /// Called once when the command is done (the simulator writes its state files).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// Another handle on the same devices, for another thread: flashing several devices at
    /// once gives each thread its own handle.
    fn handle(&self) -> Box<dyn Backend + Send>;

    /// True when the clock is virtual: it moves only as the host and the devices act, so a
    /// thread that waits for devices to appear must not run it ahead of threads that are
    /// flashing (the simulator without `time-scale=`).
    fn clock_is_virtual(&self) -> bool {
        false
    }

    /// True when the devices are simulated: their times are the simulator's clock.
    fn simulated(&self) -> bool {
        false
    }
}
