//! Run-time mode: DETACH and re-enumeration in DFU mode.

use crate::host::{after, Host};
use dfu_proto::{ConfigDescriptor, DfuRequest, Setup, State};
use dfu_sim::{Bus, UsbError};
use std::time::Duration;

#[test]
fn photon_detaches_and_comes_back_in_dfu_mode() {
    let h = Host::new("photon,mode=runtime");
    let v = h.view().unwrap();
    assert!(v.runtime_mode);
    assert_eq!(
        (
            v.device_descriptor.vendor_id,
            v.device_descriptor.product_id
        ),
        (0x2b04, 0xc006)
    );
    assert_eq!(h.string(2).unwrap(), "Photon");
    let c = ConfigDescriptor::parse(&v.config_descriptor).unwrap();
    assert_eq!(c.alt_settings.len(), 1);
    assert_eq!(c.alt_settings[0].protocol, 1);
    assert!(c.alt_settings[0].functional.unwrap().will_detach());
    assert_eq!(h.status().unwrap().state, State::AppIdle);
    assert_eq!(h.get_state().unwrap(), 0);
    // DFU-mode requests are not answered in run-time mode (and do not change state).
    assert_eq!(h.dnload(0, &[1]), Err(UsbError::Stall));
    assert_eq!(h.status().unwrap().state, State::AppIdle);
    let detach = Setup::dfu_out(DfuRequest::Detach, 1000, h.iface, 0);
    h.bus.control(h.dev, detach, &[]).unwrap();
    // willDetach: the device leaves by itself and returns after reset_ms (300 ms).
    assert!(h.view().is_none());
    assert_eq!(h.status(), Err(UsbError::NoDevice));
    assert!(after(&h.bus, Duration::from_millis(299), 0).is_none());
    let back = after(&h.bus, Duration::from_millis(1), 0).unwrap();
    assert!(!back.runtime_mode);
    assert_ne!(back.id, v.id);
    assert_ne!(back.address, v.address);
    assert_eq!(back.device_descriptor.product_id, 0xd006);
    let dfu = Host::on(h.bus.clone(), 0);
    assert_eq!(dfu.status().unwrap().state, State::DfuIdle);
    assert_eq!(h.bus.stats(0).transfers_of("DETACH"), 1);
}

#[test]
fn without_will_detach_the_host_must_reset_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = include_str!("../../../dfu-profiles/profiles/photon.toml")
        .replace("name = \"photon\"", "name = \"nodetach\"")
        .replace("attributes = 0x09", "attributes = 0x01");
    let path = dir.path().join("nodetach.toml");
    std::fs::write(&path, text).unwrap();
    let bus = Bus::from_spec(&format!("{},mode=runtime", path.display())).unwrap();
    let h = Host::on(bus.clone(), 0);
    let detach = Setup::dfu_out(DfuRequest::Detach, 5000, h.iface, 0);
    h.bus.control(h.dev, detach, &[]).unwrap();
    assert_eq!(h.status().unwrap().state, State::AppDetach);
    // No reset within wDetachTimeOut (1000 ms): back to appIDLE.
    bus.advance(Duration::from_millis(1100));
    assert_eq!(h.status().unwrap().state, State::AppIdle);
    h.bus.control(h.dev, detach, &[]).unwrap();
    bus.reset(h.dev).unwrap();
    assert!(bus.devices().is_empty());
    let back = after(&bus, Duration::from_millis(300), 0).unwrap();
    assert!(!back.runtime_mode);
    // A plain bus reset of a running application re-enumerates it at once.
    let bus = Bus::from_spec("photon,mode=runtime").unwrap();
    let h = Host::on(bus.clone(), 0);
    bus.reset(h.dev).unwrap();
    let again = bus.devices();
    assert_eq!(again.len(), 1);
    assert!(again[0].runtime_mode);
    assert_ne!(again[0].id, h.dev);
    assert_eq!(bus.reset(h.dev), Err(UsbError::NoDevice));
}
