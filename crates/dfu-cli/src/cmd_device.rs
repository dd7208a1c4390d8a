//! `dfu list`, `info`, `detach`, `reset`, `sim`.

use crate::args::{Global, SimCmd};
use crate::exit::{Failure, DEVICE};
use dfu::{AltInfo, DeviceInfo, Mode};
use dfu_proto::layout::human_size;
use serde_json::{json, Value};

fn alt_json(a: &AltInfo) -> Value {
    json!({
        "alt": a.alt,
        "name": a.name,
        "layout": a.layout.as_ref().map(|l| json!({
            "name": l.name,
            "segments": l.segments.iter().map(|s| json!({
                "start": format!("0x{:08x}", s.start),
                "count": s.count,
                "sector_size": s.sector_size,
                "access": s.flags.describe(),
                "type": s.flags.letter().to_string(),
            })).collect::<Vec<_>>(),
        })),
        "layout_error": a.layout_error,
    })
}

/// JSON of one device.
pub fn device_json(d: &DeviceInfo) -> Value {
    let f = &d.functional;
    json!({
        "id": d.usb.id(),
        "vendor_id": format!("0x{:04x}", d.usb.vendor_id),
        "product_id": format!("0x{:04x}", d.usb.product_id),
        "bcd_device": format!("0x{:04x}", d.usb.bcd_device),
        "path": d.usb.path(),
        "bus": d.usb.bus,
        "address": d.usb.address,
        "mode": d.mode,
        "manufacturer": d.manufacturer,
        "product": d.product,
        "serial": d.serial,
        "interface": d.interface,
        "dfu_version": format!("0x{:04x}", f.dfu_version),
        "dfuse": d.is_dfuse(),
        "transfer_size": f.transfer_size,
        "attributes": format!("0x{:02x}", f.attributes),
        "can_download": f.can_download(),
        "can_upload": f.can_upload(),
        "manifestation_tolerant": f.manifestation_tolerant(),
        "will_detach": f.will_detach(),
        "detach_timeout_ms": f.detach_timeout_ms,
        "profile": d.profile_name,
        "alts": d.alts.iter().map(alt_json).collect::<Vec<_>>(),
    })
}

fn mode_word(d: &DeviceInfo) -> &'static str {
    match (d.mode, d.is_dfuse()) {
        (Mode::Runtime, _) => "run-time mode",
        (Mode::Dfu, true) => "DFU mode, DfuSe",
        (Mode::Dfu, false) => "DFU mode, DFU 1.1",
    }
}

fn print_device(d: &DeviceInfo) {
    println!(
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
        println!("    alt {}: {:?}", a.alt, a.display_name());
    }
}

/// `dfu list`.
pub fn list(g: &Global, json: bool) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let selector = g.selector()?;
    let profile = g.profile()?;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for usb in backend.devices()? {
        if !usb.is_dfu() || !selector.matches(&usb, None) {
            continue;
        }
        match dfu::describe(backend.as_mut(), &usb, profile.as_ref()) {
            Ok(d) => found.push(d),
            Err(e) => problems.push((usb, e)),
        }
    }
    backend.finish()?;
    if json {
        let v: Vec<Value> = found.iter().map(device_json).collect();
        let errs: Vec<Value> = problems
            .iter()
            .map(|(u, e)| json!({"id": u.id(), "path": u.path(), "error": e.to_string(), "help": crate::help::for_error(e)}))
            .collect();
        println!("{}", json!({"devices": v, "unreadable": errs}));
        return Ok(());
    }
    if found.is_empty() && problems.is_empty() {
        println!("No DFU devices found.");
        eprintln!("help: put the device in DFU mode and check the cable; on Linux, `dfu doctor` checks permissions");
    }
    for d in &found {
        print_device(d);
    }
    for (u, e) in &problems {
        println!("{} at {}: cannot be read: {e}", u.id(), u.path());
        eprintln!("help: {}", crate::help::for_error(e));
    }
    Ok(())
}

/// `dfu info`.
pub fn info(g: &Global, json: bool) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let d = dfu::select_one(backend.as_mut(), &g.selector()?, g.profile()?.as_ref())?;
    let modules = installed_modules(backend.as_mut(), &d);
    backend.finish()?;
    if json {
        let mut v = device_json(&d);
        v["installed_modules"] = json!(modules
            .iter()
            .map(dfu::checks::describe_module)
            .collect::<Vec<_>>());
        if let Some(p) = &d.profile {
            v["profile_detail"] = json!({
                "name": p.name,
                "title": p.title,
                "app_address": p.app_address.map(|a| format!("0x{a:08x}")),
                "quirks": p.quirks,
                "regions": p.regions.iter().map(|r| json!({
                    "name": r.name, "role": r.role, "alt": r.alt,
                    "start": format!("0x{:08x}", r.start), "size": r.size,
                })).collect::<Vec<_>>(),
                "sources": p.sources,
            });
        }
        println!("{v}");
        return Ok(());
    }
    print_device(&d);
    let f = &d.functional;
    println!(
        "  DFU version 0x{:04x}, attributes 0x{:02x}: download {}, upload {}, manifestation {}, {}",
        f.dfu_version,
        f.attributes,
        yes_no(f.can_download()),
        yes_no(f.can_upload()),
        if f.manifestation_tolerant() {
            "tolerant"
        } else {
            "intolerant"
        },
        if f.will_detach() {
            "detaches itself"
        } else {
            "needs a bus reset to detach"
        }
    );
    for a in &d.alts {
        match (&a.layout, &a.layout_error) {
            (Some(l), _) => {
                println!("  alt {} memory map:", a.alt);
                for line in l.to_string().lines().skip(1) {
                    println!("  {line}");
                }
            }
            (None, Some(e)) if d.is_dfuse() => {
                println!("  alt {}: not a memory layout: {e}", a.alt)
            }
            _ => {}
        }
    }
    match &d.profile {
        Some(p) => {
            println!("  profile {}: {}", p.name, p.title);
            if let Some(a) = p.app_address {
                println!("    applications go at 0x{a:08x}");
            }
            for r in &p.regions {
                println!(
                    "    alt {} 0x{:08x}-0x{:08x} {:>8}  {} ({:?})",
                    r.alt,
                    r.start,
                    r.end() - 1,
                    human_size(r.size),
                    r.name,
                    r.role
                );
            }
            if !p.quirks.is_empty() {
                println!("    quirks: {:?}", p.quirks);
            }
            for m in &modules {
                println!(
                    "    installed at 0x{:08x}: {}",
                    m.start,
                    dfu::checks::describe_module(m)
                );
            }
        }
        None => println!("  no known profile matches this device (give one with --profile FILE)"),
    }
    Ok(())
}

/// The Particle modules installed on a device in DFU mode (empty for other devices or when
/// they cannot be read).
fn installed_modules(backend: &mut dyn dfu::Backend, d: &DeviceInfo) -> Vec<dfu_image::ModuleInfo> {
    if d.mode != Mode::Dfu
        || d.profile
            .as_ref()
            .is_none_or(|p| p.particle_platform.is_none())
    {
        return Vec::new();
    }
    let Ok(mut dev) = dfu::DfuDevice::open(backend, d.clone(), 0) else {
        return Vec::new();
    };
    if dev.ensure_idle().is_err() {
        return Vec::new();
    }
    dev.installed_modules().unwrap_or_default()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `dfu detach`: DFU DETACH to a run-time device, or the serial-port convention when
/// `--device` names a serial port; then waits for the DFU device.
pub fn detach(g: &Global) -> Result<(), Failure> {
    if let Some(port) = g
        .device
        .as_deref()
        .filter(|d| crate::args::looks_like_serial_port(d))
    {
        return detach_serial(g, port);
    }
    let mut backend = g.backend()?;
    let d = dfu::select_one(backend.as_mut(), &g.selector()?, g.profile()?.as_ref())?;
    let usb = dfu::device::detach(backend.as_mut(), &d)?;
    backend.finish()?;
    println!(
        "{} is now in DFU mode as {} at {}",
        d.usb.id(),
        usb.id(),
        usb.path()
    );
    Ok(())
}

fn detach_serial(g: &Global, port: &str) -> Result<(), Failure> {
    let profile = g.profile()?;
    let (trigger, why) = crate::serial::trigger_for(port, profile.as_ref());
    eprintln!(
        "note: {port} is a serial port: opening it at {} baud ({why})",
        trigger.baud()
    );
    crate::serial::touch(port, trigger)?;
    let mut backend = g.backend()?;
    let want = profile
        .as_ref()
        .map(|p| (p.usb.vendor_id, p.usb.product_id));
    let start = backend.now();
    loop {
        let found = backend.devices()?.into_iter().find(|d| {
            d.dfu_interfaces
                .iter()
                .any(|(_, proto)| *proto == dfu_proto::descriptor::PROTOCOL_DFU_MODE)
                && want.is_none_or(|w| w == (d.vendor_id, d.product_id))
        });
        if let Some(d) = found {
            backend.finish()?;
            println!("{} is in DFU mode at {}", d.id(), d.path());
            return Ok(());
        }
        if backend.now().saturating_sub(start) > std::time::Duration::from_secs(10) {
            return Err(Failure::new(
                crate::exit::NO_DEVICE,
                format!("no DFU device appeared within 10 s after opening {port} at {} baud", trigger.baud()),
                "the application may not support entering DFU mode this way: enter it by hand (Particle: hold MODE, tap RESET; STM32: BOOT0 high, then reset), or give the board's profile with --profile",
            ));
        }
        backend.wait(std::time::Duration::from_millis(100));
    }
}

/// `dfu reset`.
pub fn reset(g: &Global) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let d = dfu::select_one(backend.as_mut(), &g.selector()?, g.profile()?.as_ref())?;
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
    println!("{} was reset", d.usb.id());
    Ok(())
}

/// `dfu sim ...`.
pub fn sim(c: SimCmd) -> Result<(), Failure> {
    match c {
        SimCmd::Profiles => {
            for p in dfu_profiles::builtins() {
                println!(
                    "{:<10} {:04x}:{:04x}  {}",
                    p.name, p.usb.vendor_id, p.usb.product_id, p.title
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
