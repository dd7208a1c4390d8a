//! The simulated devices of `dfu-sim`, compiled to wasm for the page's sim mode
//! (`?sim=PROFILE[,key=value...]`). The page's `navigator.usb`-shaped object (web/sim.js)
//! answers WebUSB calls with these functions; the page's WebUSB code runs unchanged.
//!
//! A C-like ABI over this module's memory: the page writes input into the buffer
//! [`sim_input`] returns, and reads output from [`sim_output`] / [`sim_output_len`]. Every
//! call is synchronous: the simulator's clock is virtual.
//!
//! State files (`state=NAME`) live in memory ([`dfu_sim::files`]); the page keeps them in
//! the tab's session storage, so flash contents persist across page loads as they persist
//! across runs of the command line.
#![deny(unsafe_code)]

mod abi;

use dfu_proto::{ConfigDescriptor, Setup};
use dfu_sim::{Bus, DeviceId, UsbError};
use serde::Serialize;
use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

thread_local! {
    static BUS: RefCell<Option<Bus>> = const { RefCell::new(None) };
}

/// A device as WebUSB describes it (the keys of `USBDevice` the page uses).
#[derive(Serialize)]
struct DeviceJson {
    id: u32,
    slot: usize,
    vendor_id: u16,
    product_id: u16,
    bcd_device: u16,
    serial: String,
    product: String,
    interfaces: Vec<InterfaceJson>,
}

#[derive(Serialize)]
struct InterfaceJson {
    interface: u8,
    alternate: u8,
    class: u8,
    subclass: u8,
    protocol: u8,
}

fn with_bus<T>(f: impl FnOnce(&Bus) -> T) -> Option<T> {
    BUS.with(|b| b.borrow().as_ref().map(f))
}

/// Builds the devices of `spec`. Errors: a message.
pub fn open(spec: &str) -> Result<(), String> {
    let specs = dfu_sim::parse_specs(spec).map_err(|e| e.to_string())?;
    if specs.iter().any(|s| s.time_scale.is_some()) {
        return Err("time-scale= is not available in the page: its clock is virtual".into());
    }
    let bus = Bus::from_specs(specs).map_err(|e| e.to_string())?;
    BUS.with(|b| *b.borrow_mut() = Some(bus));
    Ok(())
}

/// The devices attached now, as JSON.
pub fn devices() -> String {
    let list: Vec<DeviceJson> = with_bus(|b| b.devices())
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let interfaces = ConfigDescriptor::parse(&d.config_descriptor)
                .map(|c| {
                    c.alt_settings
                        .iter()
                        .map(|a| InterfaceJson {
                            interface: a.interface,
                            alternate: a.alt,
                            class: a.class,
                            subclass: a.subclass,
                            protocol: a.protocol,
                        })
                        .collect()
                })
                .unwrap_or_default();
            DeviceJson {
                id: d.id.0,
                slot: d.slot,
                vendor_id: d.device_descriptor.vendor_id,
                product_id: d.device_descriptor.product_id,
                bcd_device: d.device_descriptor.bcd_device,
                serial: d.serial,
                product: d.profile_name,
                interfaces,
            }
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

/// The page's code for a failed transfer (as web/app.js maps WebUSB's failures).
fn code(e: UsbError) -> i32 {
    match e {
        UsbError::Stall => -1,
        UsbError::NoDevice => -2,
        UsbError::Timeout => -3,
        UsbError::Busy => -5,
        _ => -6,
    }
}

/// A control transfer; the answer's bytes, or the page's error code.
pub fn control(id: u32, setup: Setup, data: &[u8], timeout_ms: u32) -> Result<Vec<u8>, i32> {
    let timeout = Some(Duration::from_millis(u64::from(timeout_ms)));
    with_bus(|b| b.control_timeout(DeviceId(id), setup, data, timeout))
        .unwrap_or(Err(UsbError::NoDevice))
        .map_err(code)
}

/// SET_INTERFACE; 0 or the page's error code.
pub fn set_interface(id: u32, interface: u8, alt: u8) -> i32 {
    match with_bus(|b| b.set_interface(DeviceId(id), interface, alt)) {
        Some(Ok(())) => 0,
        Some(Err(e)) => code(e),
        None => -2,
    }
}

/// A USB reset; 0 or the page's error code.
pub fn reset(id: u32) -> i32 {
    match with_bus(|b| b.reset(DeviceId(id))) {
        Some(Ok(())) => 0,
        Some(Err(e)) => code(e),
        None => -2,
    }
}

/// Advances the virtual clock (the host waits).
pub fn advance(nanos: f64) {
    with_bus(|b| b.advance(Duration::from_nanos(nanos.max(0.0) as u64)));
}

/// The virtual clock, in nanoseconds.
pub fn now() -> f64 {
    with_bus(|b| b.now().as_nanos() as f64).unwrap_or(0.0)
}

/// Memory of the device in `slot` (ground truth, without the protocol).
pub fn memory(slot: usize, alt: u8, address: u32, len: usize) -> Result<Vec<u8>, String> {
    with_bus(|b| {
        b.read_memory(slot, alt, address, len)
            .map_err(|e| e.to_string())
    })
    .unwrap_or_else(|| Err("no simulated devices".into()))
}

/// Statistics of the device in `slot`, as the `stats=` file holds them.
pub fn stats(slot: usize) -> String {
    with_bus(|b| serde_json::to_string(&b.stats(slot)).unwrap_or_default()).unwrap_or_default()
}

/// Writes the state files (into memory).
pub fn flush() -> Result<(), String> {
    with_bus(|b| b.flush().map_err(|e| e.to_string())).unwrap_or(Ok(()))
}

/// A state or stats file's bytes.
#[cfg(target_arch = "wasm32")]
pub fn file(path: &str) -> Option<Vec<u8>> {
    dfu_sim::files::get(Path::new(path))
}

/// Stores a file (a state the page kept from an earlier load).
#[cfg(target_arch = "wasm32")]
pub fn put_file(path: &str, bytes: &[u8]) {
    dfu_sim::files::put(Path::new(path), bytes);
}

/// A state or stats file's bytes (natively, a real file).
#[cfg(not(target_arch = "wasm32"))]
pub fn file(path: &str) -> Option<Vec<u8>> {
    std::fs::read(Path::new(path)).ok()
}

/// Stores a file (natively, a real file).
#[cfg(not(target_arch = "wasm32"))]
pub fn put_file(path: &str, bytes: &[u8]) {
    if let Err(e) = std::fs::write(Path::new(path), bytes) {
        eprintln!("dfu-web-sim: cannot write {path}: {e}");
    }
}
