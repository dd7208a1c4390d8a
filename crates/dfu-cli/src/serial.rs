//! Entering DFU mode through a serial port: Particle devices switch when the port is opened
//! at 14400 baud; boards with an Arduino-style bootloader when it is opened at 1200 baud and
//! closed (the "1200-baud touch").

use crate::exit::{Failure, DEVICE, USAGE};
use dfu_profiles::Profile;
use std::time::Duration;

/// A way to ask the application to enter its bootloader (a profile's `serial_trigger`).
pub use dfu_profiles::SerialTrigger as Trigger;

/// True when `name`, as the system lists it, is the port the user named: the same path or
/// name, `COM3` and `com3` alike and `\\.\COM10` as `COM10` (Windows), `/dev/tty.usbmodem1`
/// as `/dev/cu.usbmodem1` (macOS: the call-out and dial-in nodes of one port).
fn same_port(listed: &str, given: &str) -> bool {
    let norm = |s: &str| {
        let s = s.strip_prefix(r"\\.\").unwrap_or(s);
        let s = s.replacen("/dev/tty.", "/dev/cu.", 1);
        s.to_ascii_lowercase()
    };
    norm(listed) == norm(given)
}

/// The USB ids of the device behind a serial port, as the system lists it (sysfs on Linux,
/// IOKit on macOS, SetupAPI on Windows: serialport's `available_ports`).
fn usb_ids_of(port: &str) -> Option<(u16, u16)> {
    serialport::available_ports()
        .ok()?
        .into_iter()
        .find(|p| same_port(&p.port_name, port))
        .and_then(|p| match p.port_type {
            serialport::SerialPortType::UsbPort(u) => Some((u.vid, u.pid)),
            _ => None,
        })
}

/// The serial ports the system lists, for messages: `COM3, COM4` or `/dev/ttyACM0`.
fn port_names() -> String {
    let names: Vec<String> = serialport::available_ports()
        .map(|ps| ps.into_iter().map(|p| p.port_name).collect())
        .unwrap_or_default();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Which convention to use: the profile's, else the one of the known device behind the port,
/// else the 1200-baud touch. Returns it with the reason.
pub fn trigger_for(port: &str, profile: Option<&Profile>) -> (Trigger, String) {
    let from_profile = |p: &Profile| p.runtime.as_ref().and_then(|r| r.serial_trigger);
    if let Some(p) = profile {
        if let Some(t) = from_profile(p) {
            return (t, format!("the {} profile's convention", p.name));
        }
    }
    if let Some((v, pid)) = usb_ids_of(port) {
        if let Some(p) = dfu_profiles::builtin_profiles()
            .iter()
            .find(|p| p.matches_ids(v, pid))
        {
            if let Some(t) = from_profile(p) {
                return (
                    t,
                    format!("{v:04x}:{pid:04x} behind {port} is a {}", p.name),
                );
            }
        }
    }
    (
        Trigger::Touch1200,
        "no known device behind the port: the 1200-baud touch".into(),
    )
}

/// Opens the port at the trigger's baud rate and closes it again.
pub fn touch(port: &str, trigger: Trigger) -> Result<(), Failure> {
    let opened = serialport::new(port, trigger.baud())
        .timeout(Duration::from_millis(200))
        .open();
    match opened {
        Ok(p) => {
            drop(p);
            Ok(())
        }
        Err(e) if e.kind() == serialport::ErrorKind::NoDevice || matches!(e.kind(), serialport::ErrorKind::Io(std::io::ErrorKind::NotFound)) => {
            Err(Failure::new(
                USAGE,
                format!("serial port {port} does not exist"),
                format!("serial ports on this system: {}. Name one as the system does: /dev/ttyACM0 (Linux), /dev/cu.usbmodem1101 (macOS), COM3 (Windows); a board already in DFU mode has no serial port", port_names()),
            ))
        }
        Err(e) => Err(Failure::new(
            DEVICE,
            format!("cannot open serial port {port} at {} baud: {e}", trigger.baud()),
            "another program (a serial monitor, the Arduino IDE, ModemManager) may hold the port; on Linux your user needs the dialout group",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::same_port;

    #[test]
    fn ports_match_as_each_system_spells_them() {
        assert!(same_port("COM3", "com3"));
        assert!(same_port("COM10", r"\\.\COM10"));
        assert!(!same_port("COM1", "COM10"));
        assert!(same_port("/dev/cu.usbmodem1101", "/dev/tty.usbmodem1101"));
        assert!(same_port("/dev/ttyACM0", "/dev/ttyACM0"));
        assert!(!same_port("/dev/ttyACM0", "/dev/ttyACM1"));
    }
}
