//! `dfu list`, `detach`, `reset`, `sim`.

use crate::args::{Global, SimCmd};
use crate::exit::{Failure, DEVICE};
use crate::out::{self, errln, outln};
use dfu::{DeviceInfo, Mode};
use serde::Serialize;

/// The JSON of `dfu list`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ListJson<'a> {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    devices: &'a [DeviceInfo],
    unreadable: Vec<Unreadable>,
}

/// A device `dfu list` found but could not describe.
#[derive(Serialize, schemars::JsonSchema)]
struct Unreadable {
    id: String,
    path: String,
    error: String,
    help: String,
}

/// The JSON result of `detach`, `reset`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct DeviceResult {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    device: String,
    path: String,
    mode: Option<Mode>,
    already_in_dfu_mode: bool,
}

/// One profile in `dfu sim profiles --json`.
/// `dfu sim profiles --json`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Profiles<'a> {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    profiles: Vec<ProfileLine<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ProfileLine<'a> {
    name: &'a str,
    #[serde(serialize_with = "dfu_proto::num::serialize_hex16")]
    #[schemars(with = "dfu_proto::num::Hex16")]
    vendor_id: u16,
    #[serde(serialize_with = "dfu_proto::num::serialize_hex16")]
    #[schemars(with = "dfu_proto::num::Hex16")]
    product_id: u16,
    title: &'a str,
}

fn mode_word(d: &DeviceInfo) -> &'static str {
    match (d.mode, d.is_dfuse()) {
        (Mode::Runtime, _) => "run-time mode",
        (Mode::Dfu, true) => "DFU mode, DfuSe",
        (Mode::Dfu, false) => "DFU mode, DFU 1.1",
    }
}

/// Prints one device: ids, path, strings, mode, alts.
pub fn print_device(d: &DeviceInfo) {
    outln!(
        "{} ver {:04x} at {}  serial {:?}  {:?} {:?}  ({}, transfer size {}{})",
        d.usb.id(),
        d.usb.bcd_device,
        d.usb.path(),
        d.serial.as_deref().unwrap_or(""),
        d.manufacturer.as_deref().unwrap_or(""),
        d.product.as_deref().unwrap_or(""),
        mode_word(d),
        d.functional.transfer_size,
        d.profile_name
            .as_ref()
            .map(|p| format!(", profile {p}"))
            .unwrap_or_default()
    );
    for a in &d.alts {
        outln!("    alt {}: {:?}", a.alt, a.display_name());
    }
}

/// `dfu list`.
pub fn list(g: &Global, json: bool) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let selector = g.selector()?;
    let profile = g.profile()?;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut no_driver = Vec::new();
    for usb in backend.devices()? {
        if !usb.is_dfu() || !selector.matches(&usb, None) {
            continue;
        }
        // Windows: present, but its driver keeps every program but its vendor's out.
        let fit = dfu::driver::DriverFit::of(&usb);
        if fit.blocks() {
            no_driver.push((usb, fit));
            continue;
        }
        match dfu::describe(backend.as_mut(), &usb, profile.as_ref()) {
            Ok(d) => found.push(d),
            Err(e) => problems.push((usb, e)),
        }
    }
    backend.finish()?;
    if json {
        out::json(&ListJson {
            result: "ok",
            devices: &found,
            unreadable: problems
                .iter()
                .map(|(u, e)| Unreadable {
                    id: u.id(),
                    path: u.path(),
                    error: e.to_string(),
                    help: crate::help::for_error(e),
                })
                .chain(no_driver.iter().map(|(u, fit)| Unreadable {
                    id: u.id(),
                    path: u.path(),
                    error: fit.note().unwrap_or_default(),
                    help: fit.advice(&u.id()).unwrap_or_default(),
                }))
                .collect(),
        });
        return Ok(());
    }
    if found.is_empty() && problems.is_empty() && no_driver.is_empty() {
        outln!("No DFU devices found.");
        errln!("help: put the device in DFU mode and check the cable; `dfu doctor` checks permissions and drivers");
    }
    for d in &found {
        print_device(d);
    }
    for (u, e) in &problems {
        outln!("{} at {}: cannot be read: {e}", u.id(), u.path());
        errln!("help: {}", crate::help::for_error(e));
    }
    for (u, fit) in &no_driver {
        outln!(
            "{} at {}: present, {}",
            u.id(),
            u.path(),
            fit.note().unwrap_or_default()
        );
        errln!("help: {}", fit.advice(&u.id()).unwrap_or_default());
    }
    Ok(())
}

/// `dfu detach`: DFU DETACH to a run-time device, or the serial-port convention when
/// `--device` names a serial port; then waits for the DFU device.
/// A device already in DFU mode is left as it is (exit 0, with a note).
pub fn detach(g: &Global, json: bool) -> Result<(), Failure> {
    if let Some(port) = g
        .device
        .as_deref()
        .filter(|d| crate::args::looks_like_serial_port(d))
    {
        return detach_serial(g, port, json);
    }
    let mut backend = g.backend()?;
    let d = g.select_one(backend.as_mut(), &mut crate::render::stderr_event)?;
    if d.mode == Mode::Dfu {
        backend.finish()?;
        if json {
            device_result(&d.usb, Some(Mode::Dfu), true);
        } else {
            outln!(
                "{} at {} is already in DFU mode; nothing to do",
                d.usb.id(),
                d.usb.path()
            );
        }
        return Ok(());
    }
    let usb = dfu::device::detach(backend.as_mut(), &d)?;
    backend.finish()?;
    if json {
        device_result(&usb, Some(Mode::Dfu), false);
        return Ok(());
    }
    outln!(
        "{} is now in DFU mode as {} at {}",
        d.usb.id(),
        usb.id(),
        usb.path()
    );
    Ok(())
}

/// Writes the JSON result of `detach` or `reset`.
fn device_result(usb: &dfu::UsbDevice, mode: Option<Mode>, already: bool) {
    out::json(&DeviceResult {
        result: "ok",
        device: usb.id(),
        path: usb.path(),
        mode,
        already_in_dfu_mode: already,
    });
}

fn detach_serial(g: &Global, port: &str, json: bool) -> Result<(), Failure> {
    let profile = g.profile()?;
    let (trigger, why) = crate::serial::trigger_for(port, profile.as_ref());
    errln!(
        "note: {port} is a serial port: opening it at {} baud ({why})",
        trigger.baud()
    );
    crate::serial::touch(port, trigger)?;
    let mut backend = g.backend()?;
    let want = profile
        .as_ref()
        .map(|p| (p.usb.vendor_id, p.usb.product_id));
    let limit = std::time::Duration::from_secs(10);
    let found = dfu::device::wait_for_dfu_mode(backend.as_mut(), limit, |d| {
        want.is_none_or(|w| w == (d.vendor_id, d.product_id))
    })?;
    let Some(d) = found else {
        return Err(Failure::new(
            crate::exit::NO_DEVICE,
            format!("no DFU device appeared within 10 s after opening {port} at {} baud", trigger.baud()),
            "the application may not support entering DFU mode this way: enter it by hand (Particle: hold MODE, tap RESET; STM32: BOOT0 high, then reset), or give the board's profile with --profile",
        ));
    };
    backend.finish()?;
    if json {
        device_result(&d, Some(Mode::Dfu), false);
    } else {
        outln!("{} is in DFU mode at {}", d.id(), d.path());
    }
    Ok(())
}

/// `dfu reset`.
pub fn reset(g: &Global, json: bool) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let d = g.select_one(backend.as_mut(), &mut crate::render::stderr_event)?;
    let mut t = backend.open(&d.usb, d.interface)?;
    match t.reset() {
        Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
        Err(e) => {
            return Err(Failure::new(
                DEVICE,
                format!("USB reset of {}: {e}", d.usb.id()),
                crate::help::usb(&e),
            ))
        }
    }
    drop(t);
    backend.finish()?;
    if json {
        device_result(&d.usb, None, false);
    } else {
        outln!("{} was reset", d.usb.id());
    }
    Ok(())
}

/// `dfu sim ...`.
pub fn sim(c: SimCmd) -> Result<(), Failure> {
    match c {
        SimCmd::Profiles { json: true } => {
            let all = dfu_profiles::builtins();
            out::json(&Profiles {
                result: "ok",
                profiles: all
                    .iter()
                    .map(|p| ProfileLine {
                        name: &p.name,
                        vendor_id: p.usb.vendor_id,
                        product_id: p.usb.product_id,
                        title: &p.title,
                    })
                    .collect(),
            });
            Ok(())
        }
        SimCmd::Profiles { json: false } => {
            for p in dfu_profiles::builtins() {
                outln!(
                    "{:<10} {:04x}:{:04x}  {}",
                    p.name,
                    p.usb.vendor_id,
                    p.usb.product_id,
                    p.title
                );
            }
            Ok(())
        }
        SimCmd::Serve {
            usbip,
            listen,
            spec,
        } => {
            if !usbip {
                return Err(Failure::usage(
                    "`dfu sim serve` needs --usbip",
                    "dfu sim serve --usbip [--listen 127.0.0.1:3240] SPEC",
                ));
            }
            crate::sim_serve::run(listen, &spec)
        }
    }
}
