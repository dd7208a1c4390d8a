//! `dfu sim serve --usbip`: exports simulated devices over USB/IP (crate `dfu-usbip`), so
//! a Linux kernel (`usbip attach -r HOST -b 1-1`) sees them as USB devices.
//!
//! Needs the `usbip` feature of this crate (`usbip = ["dep:dfu-usbip"]`, on by default);
//! without it the command explains that it is not built in.
//!
//! The environment variable `DFU_USBIP_TIME_SCALE` (real seconds per simulated second,
//! default 0.05) sets how fast the simulated devices' clock runs against real time.

use crate::exit::Failure;
#[cfg(feature = "usbip")]
use crate::exit::DEVICE;

/// The address served when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3240";

/// Serves the devices of `spec` on `listen` (default [`DEFAULT_LISTEN`]) until SIGINT
/// or SIGTERM, then writes the simulator's state and statistics files.
#[cfg(feature = "usbip")]
pub fn run(listen: Option<String>, spec: &str) -> Result<(), Failure> {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    let addr = listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let mut opts = dfu_usbip::ServeOptions {
        verbose: true,
        ..Default::default()
    };
    if let Ok(s) = std::env::var("DFU_USBIP_TIME_SCALE") {
        opts.time_scale = s.parse().map_err(|_| {
            Failure::usage(
                format!("DFU_USBIP_TIME_SCALE={s:?} is not a number"),
                "real seconds per simulated second, e.g. 0.05 (the default) or 1",
            )
        })?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let io = |e: dfu_usbip::UsbipError| {
        Failure::new(
            DEVICE,
            e.to_string(),
            "check that the address is free (another server?) and allowed",
        )
    };
    dfu_usbip::stop_on_signals(&stop).map_err(io)?;
    dfu_usbip::serve_spec(&addr, spec, opts, stop).map_err(|e| match e {
        dfu_usbip::UsbipError::Sim(m) | dfu_usbip::UsbipError::Options(m) => Failure::usage(
            m,
            "a spec is PROFILE[,key=value...][;...]; `dfu sim profiles` lists the profiles",
        ),
        e => io(e),
    })
}

/// Without the `usbip` feature: explains that the command is not built in.
#[cfg(not(feature = "usbip"))]
pub fn run(listen: Option<String>, spec: &str) -> Result<(), Failure> {
    let _ = (listen, spec, DEFAULT_LISTEN);
    Err(Failure::usage(
        "serving over USB/IP is not available: this `dfu` was built without the `usbip` feature",
        "build with `cargo build -p dfu-cli --features usbip`",
    ))
}
