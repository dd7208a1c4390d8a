//! `dfu sim serve --usbip`: exports simulated devices over USB/IP (crate `dfu-usbip`), so
//! a Linux kernel (`usbip attach -r HOST -b 1-1`) sees them as USB devices.
//!
//! Needs the `usbip` feature of this crate (`usbip = ["dep:dfu-usbip"]`, on by default);
//! without it the command explains that it is not built in.
//!
//! The environment variable `DFU_USBIP_TIME_SCALE` (real seconds per simulated second,
//! default 0.05) sets how fast the simulated devices' clock runs against real time.
#![allow(unexpected_cfgs)]

/// The address served when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3240";

/// Serves the devices of `spec` on `listen` (default [`DEFAULT_LISTEN`]) until SIGINT
/// or SIGTERM, then writes the simulator's state and statistics files.
#[cfg(feature = "usbip")]
pub fn run(listen: Option<String>, spec: &str) -> Result<(), String> {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    let addr = listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let mut opts = dfu_usbip::ServeOptions {
        verbose: true,
        ..Default::default()
    };
    if let Ok(s) = std::env::var("DFU_USBIP_TIME_SCALE") {
        opts.time_scale = s
            .parse()
            .map_err(|_| format!("DFU_USBIP_TIME_SCALE={s:?} is not a number"))?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    dfu_usbip::stop_on_signals(&stop).map_err(|e| e.to_string())?;
    dfu_usbip::serve_spec(&addr, spec, opts, stop).map_err(|e| e.to_string())
}

/// Without the `usbip` feature: explains that the command is not built in.
#[cfg(not(feature = "usbip"))]
pub fn run(listen: Option<String>, spec: &str) -> Result<(), String> {
    let _ = (listen, spec, DEFAULT_LISTEN);
    Err("this `dfu` was built without USB/IP support (cargo feature `usbip`)".into())
}
