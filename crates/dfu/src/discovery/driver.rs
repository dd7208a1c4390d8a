//! Which driver Windows has bound to a USB device, and whether `dfu` can open it through it.
//!
//! On Windows, nusb (like libusb) opens a device only through Microsoft's WinUSB driver: bound
//! to the whole device, or to the DFU interface of a composite device (whose parent driver is
//! `usbccgp`). nusb's `DeviceInfo::driver()` reports the service name of the driver bound to
//! the whole device (`DEVPKEY_Device_Service`); it is empty when no driver is installed.
//! A DFU device can thus be present but unusable, which `dfu list` and `dfu doctor` tell apart
//! from a device that is not connected at all.
//!
//! Sources: nusb 0.2 `src/platform/windows_winusb/{enumeration,device}.rs` (the driver name
//! and the "incompatible driver is installed for this device" error); libwdi/Zadig's wiki
//! (WinUSB, libusb-win32 and libusbK are installed per device, and Zadig replaces the
//! current driver); ST's UM2237 (STM32CubeProgrammer installs its own DFU driver, STTub30,
//! for the ROM bootloader's 0483:df11) and AN3156 (the ROM's DFU interface).

use crate::backend::UsbDevice;

/// What the driver Windows reports means for `dfu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverFit {
    /// The system does not report drivers (Linux, macOS, the simulator): nothing to check.
    NotReported,
    /// WinUSB is bound to the device: `dfu` can open it.
    WinUsb,
    /// A composite device (`usbccgp`): each interface has its own driver, and the DFU
    /// interface needs WinUSB. Only opening it tells.
    Composite,
    /// The device is present but no driver is installed for it.
    Missing,
    /// Another driver holds the device (STTub30, libusbK, libusb0, a vendor's own).
    Other(String),
}

impl DriverFit {
    /// Reads the driver name as the Windows backend reports it: `None` where drivers are not
    /// reported, `Some("")` for a device without a driver, else the service name.
    pub fn from_report(driver: Option<&str>) -> DriverFit {
        match driver {
            None => DriverFit::NotReported,
            Some(d) if d.trim().is_empty() => DriverFit::Missing,
            Some(d) if d.eq_ignore_ascii_case("winusb") => DriverFit::WinUsb,
            Some(d) if d.eq_ignore_ascii_case("usbccgp") => DriverFit::Composite,
            Some(d) => DriverFit::Other(d.to_string()),
        }
    }

    /// The fit of a listed device.
    pub fn of(device: &UsbDevice) -> DriverFit {
        DriverFit::from_report(device.windows_driver.as_deref())
    }

    /// True when the driver is known to keep `dfu` from opening the device.
    pub fn blocks(&self) -> bool {
        matches!(self, DriverFit::Missing | DriverFit::Other(_))
    }

    /// A short note for listings: `driver: WinUSB`, `NO DRIVER`, `driver: STTub30 (not WinUSB)`.
    pub fn note(&self) -> Option<String> {
        match self {
            DriverFit::NotReported => None,
            DriverFit::WinUsb => Some("driver: WinUSB".into()),
            DriverFit::Composite => Some("driver: usbccgp (composite)".into()),
            DriverFit::Missing => Some("NO DRIVER installed: cannot be opened".into()),
            DriverFit::Other(d) => Some(format!("driver: {d} (not WinUSB): cannot be opened")),
        }
    }

    /// What to do, for a `help:` line; `None` when nothing needs doing.
    pub fn advice(&self, id: &str) -> Option<String> {
        let zadig = format!(
            "install WinUSB for {id} with Zadig (zadig.akeo.ie: Options > List All Devices, pick the device, WinUSB, Replace Driver), then re-plug it"
        );
        match self {
            DriverFit::NotReported | DriverFit::WinUsb => None,
            DriverFit::Composite => Some(format!(
                "a composite device: its DFU interface needs WinUSB; if opening fails, {zadig}, choosing the DFU interface"
            )),
            DriverFit::Missing => Some(zadig),
            DriverFit::Other(d) if d.eq_ignore_ascii_case("sttub30") => Some(format!(
                "STTub30 is ST's DFU driver (DfuSe, \"STM Device in DFU Mode\"), not WinUSB: {zadig}; ST's tools (DfuSe, STM32CubeProgrammer) need their own driver back afterwards (Device Manager > Update driver)"
            )),
            DriverFit::Other(d) => Some(format!("{d} is not WinUSB: {zadig}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_nusb_reports_them_on_windows() {
        assert_eq!(DriverFit::from_report(Some("WinUSB")), DriverFit::WinUsb);
        assert_eq!(
            DriverFit::from_report(Some("usbccgp")),
            DriverFit::Composite
        );
        assert_eq!(DriverFit::from_report(Some("")), DriverFit::Missing);
        assert_eq!(
            DriverFit::from_report(Some("STTub30")),
            DriverFit::Other("STTub30".into())
        );
        assert_eq!(DriverFit::from_report(None), DriverFit::NotReported);
    }

    #[test]
    fn only_a_missing_or_foreign_driver_blocks() {
        assert!(DriverFit::from_report(Some("")).blocks());
        assert!(DriverFit::from_report(Some("libusbK")).blocks());
        assert!(!DriverFit::from_report(Some("WinUSB")).blocks());
        assert!(!DriverFit::from_report(Some("usbccgp")).blocks());
        assert!(!DriverFit::from_report(None).blocks());
    }

    #[test]
    fn advice_names_zadig_and_sttub30() {
        let st = DriverFit::from_report(Some("STTub30"))
            .advice("0483:df11")
            .unwrap();
        assert!(
            st.contains("STM32CubeProgrammer") && st.contains("Zadig"),
            "{st}"
        );
        let none = DriverFit::from_report(Some(""))
            .advice("2b04:d006")
            .unwrap();
        assert!(
            none.contains("WinUSB") && none.contains("2b04:d006"),
            "{none}"
        );
        assert_eq!(DriverFit::WinUsb.advice("x"), None);
    }
}
