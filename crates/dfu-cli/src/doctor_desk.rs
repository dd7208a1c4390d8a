//! `dfu doctor` on Windows and macOS: which DFU devices the system lists, and on Windows
//! whether the driver bound to each lets `dfu` open it.
//!
//! Windows opens USB devices for programs like `dfu` only through WinUSB (nusb's Windows
//! backend; libusb has the same rule). A DFU device bound to no driver, or to another one
//! (STM32CubeProgrammer's STTub30, libusbK, a vendor's), is present but cannot be opened:
//! doctor says so and how to fix it, which is not the same advice as for a device that is
//! not connected at all. macOS needs no driver: IOKit lets any user open a USB device.

use crate::doctor::DeviceCheck;
use dfu::driver::DriverFit;
use dfu::UsbDevice;

/// What doctor concludes from the devices the system lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No DFU device (nor a known board in run-time mode) is on the bus.
    NotConnected,
    /// Present, but the driver Windows bound keeps `dfu` out: these ids.
    NoWinUsb(Vec<String>),
    /// Every DFU device can be opened, as far as the system tells.
    Ready,
}

/// The DFU devices and devices of known boards among `devices`, each with its driver's fit.
pub fn checks(devices: &[UsbDevice]) -> Vec<DeviceCheck> {
    let known = dfu::udev::known_ids();
    devices
        .iter()
        .filter(|d| d.is_dfu() || known.contains(&(d.vendor_id, d.product_id)))
        .map(|d| {
            let fit = DriverFit::of(d);
            DeviceCheck {
                id: d.id(),
                name: d.path(),
                node: String::new(),
                accessible: !fit.blocks(),
                error: fit.blocks().then(|| fit.note().unwrap_or_default()),
                udev_rules: Vec::new(),
                driver: d.windows_driver.clone(),
                help: fit.advice(&d.id()),
            }
        })
        .collect()
}

/// The verdict over the checked devices.
pub fn verdict(checks: &[DeviceCheck]) -> Verdict {
    if checks.is_empty() {
        return Verdict::NotConnected;
    }
    let blocked: Vec<String> = checks
        .iter()
        .filter(|c| !c.accessible)
        .map(|c| c.id.clone())
        .collect();
    if blocked.is_empty() {
        Verdict::Ready
    } else {
        Verdict::NoWinUsb(blocked)
    }
}

/// Seed 003's lesson: a device that does not show up on a USB 3 port often does on a USB 2
/// port or through a USB 2 hub.
pub const PORT_ADVICE: &str = "put the board in DFU mode and check the cable (charge-only cables carry no data); if it still does not appear, try a USB 2 port, or a USB 2 hub between the board and a USB 3 port: some boards' bootloaders are not seen on USB 3 ports";

/// The lines doctor prints for Windows or macOS (`os` is `std::env::consts::OS`).
pub fn report(os: &str, checks: &[DeviceCheck]) -> Vec<String> {
    let mut lines = Vec::new();
    if os == "macos" {
        lines.push("- macOS needs no driver for DFU devices: any user can open them (IOKit). If a device is missing, check that System Information > USB lists it.".into());
    } else {
        lines.push("- Windows: dfu opens DFU devices through the WinUSB driver only (as libusb and dfu-util do).".into());
    }
    if verdict(checks) == Verdict::NotConnected {
        lines.push(format!("- no DFU device is connected: {PORT_ADVICE}"));
    }
    for c in checks {
        let driver = match c.driver.as_deref() {
            Some("") => ", no driver".to_string(),
            Some(d) => format!(", driver {d}"),
            None => String::new(),
        };
        let state = if c.accessible {
            "can be opened".to_string()
        } else {
            format!("CANNOT be opened: {}", c.error.as_deref().unwrap_or("?"))
        };
        lines.push(format!("- {} at {}{driver}: {state}", c.id, c.name));
        if let Some(h) = &c.help {
            lines.push(format!("  help: {h}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device as the Windows backend lists it: the driver is nusb's `DeviceInfo::driver()`
    /// (the device's service name), "" when no driver is installed.
    fn listed(vid: u16, pid: u16, dfu: bool, driver: &str) -> UsbDevice {
        UsbDevice {
            vendor_id: vid,
            product_id: pid,
            bcd_device: 0x2200,
            bus: 1,
            address: 7,
            ports: vec![3],
            manufacturer: None,
            product: None,
            serial: None,
            dfu_interfaces: if dfu { vec![(0, 2)] } else { Vec::new() },
            windows_driver: Some(driver.to_string()),
            key: 1,
        }
    }

    #[test]
    fn not_connected_is_not_the_same_as_no_winusb() {
        let keyboard = listed(0x046d, 0xc31c, false, "HidUsb");
        assert_eq!(
            verdict(&checks(std::slice::from_ref(&keyboard))),
            Verdict::NotConnected
        );
        let bare = listed(0x0483, 0xdf11, true, "");
        assert_eq!(
            verdict(&checks(&[keyboard.clone(), bare])),
            Verdict::NoWinUsb(vec!["0483:df11".into()])
        );
        let st = listed(0x0483, 0xdf11, true, "STTub30");
        let c = checks(&[st]);
        assert_eq!(verdict(&c), Verdict::NoWinUsb(vec!["0483:df11".into()]));
        assert!(c[0].help.as_deref().unwrap().contains("STTub30"));
        let ready = listed(0x2b04, 0xd006, true, "WinUSB");
        assert_eq!(verdict(&checks(&[keyboard, ready])), Verdict::Ready);
    }

    #[test]
    fn the_report_gives_port_advice_only_when_nothing_is_connected() {
        let none = report("windows", &[]).join("\n");
        assert!(
            none.contains("USB 2 port") && none.contains("no DFU device"),
            "{none}"
        );
        let bare = checks(&[listed(0x0483, 0xdf11, true, "")]);
        let text = report("windows", &bare).join("\n");
        assert!(
            text.contains("CANNOT be opened") && text.contains("Zadig"),
            "{text}"
        );
        assert!(!text.contains("no DFU device"), "{text}");
        assert!(report("macos", &[]).join("\n").contains("needs no driver"));
    }
}
