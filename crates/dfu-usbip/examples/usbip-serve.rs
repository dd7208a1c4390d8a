//! `usbip-serve [ADDR:PORT] SPEC`: the USB/IP server without the `dfu` CLI around it
//! (what `dfu sim serve --usbip` runs). `DFU_USBIP_TIME_SCALE` sets the time scale.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, spec) = match args.as_slice() {
        [spec] => ("127.0.0.1:3240".to_string(), spec.clone()),
        [addr, spec] => (addr.clone(), spec.clone()),
        _ => {
            eprintln!("usage: usbip-serve [ADDR:PORT] SPEC");
            std::process::exit(64);
        }
    };
    let mut opts = dfu_usbip::ServeOptions {
        verbose: true,
        ..Default::default()
    };
    if let Ok(s) = std::env::var("DFU_USBIP_TIME_SCALE") {
        match s.parse() {
            Ok(v) => opts.time_scale = v,
            Err(_) => {
                eprintln!("DFU_USBIP_TIME_SCALE={s:?} is not a number");
                std::process::exit(64);
            }
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let result = dfu_usbip::stop_on_signals(&stop)
        .and_then(|()| dfu_usbip::serve_spec(&addr, &spec, opts, stop));
    if let Err(e) = result {
        eprintln!("usbip-serve: {e}");
        std::process::exit(1);
    }
}
