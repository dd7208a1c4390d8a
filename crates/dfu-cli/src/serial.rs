//! Entering DFU mode through a serial port: Particle devices switch when the port is opened
//! at 14400 baud; boards with an Arduino-style bootloader when it is opened at 1200 baud and
//! closed (the "1200-baud touch").

use crate::exit::{Failure, DEVICE, USAGE};
use dfu_profiles::Profile;
use std::path::Path;
use std::time::Duration;

/// A way to ask the application to enter its bootloader (a profile's `serial_trigger`).
pub use dfu_profiles::SerialTrigger as Trigger;

/// The USB ids of the device behind a Linux tty (`/sys/class/tty/NAME/device/..`).
fn usb_ids_of(port: &str) -> Option<(u16, u16)> {
    let name = Path::new(port).file_name()?.to_str()?;
    let dev = std::fs::canonicalize(format!("/sys/class/tty/{name}/device")).ok()?;
    let usb = dev.parent()?;
    let hex =
        |f: &str| u16::from_str_radix(std::fs::read_to_string(usb.join(f)).ok()?.trim(), 16).ok();
    Some((hex("idVendor")?, hex("idProduct")?))
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
                "list the ports with `ls /dev/ttyACM* /dev/ttyUSB*` (Linux) or `ls /dev/cu.*` (macOS); a board already in DFU mode has no serial port",
            ))
        }
        Err(e) => Err(Failure::new(
            DEVICE,
            format!("cannot open serial port {port} at {} baud: {e}", trigger.baud()),
            "another program (a serial monitor, ModemManager) may hold the port; on Linux your user needs the dialout group",
        )),
    }
}
