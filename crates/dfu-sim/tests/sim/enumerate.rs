//! Every profile enumerates with descriptors dfu_proto parses and its exact strings.

use crate::host::Host;
use dfu_proto::request::{
    DESC_CONFIG, DESC_DEVICE, DESC_DEVICE_QUALIFIER, STD_GET_CONFIGURATION, STD_GET_INTERFACE,
    STD_IN_DEVICE, STD_IN_INTERFACE,
};
use dfu_proto::{ConfigDescriptor, DeviceDescriptor, DfuRequest, Setup, State};
use dfu_sim::{Bus, UsbError};

#[test]
fn every_profile_enumerates_with_its_exact_strings() {
    for profile in dfu_profiles::builtins() {
        let h = Host::new(&profile.name);
        let v = h.view().unwrap();
        assert!(!v.runtime_mode);
        assert_eq!(v.profile_name, profile.name);
        assert_eq!((v.bus_number, v.port_numbers.as_slice()), (1, &[1u8][..]));
        let raw = h
            .bus
            .control(h.dev, Setup::get_descriptor(DESC_DEVICE, 0, 0, 18), &[])
            .unwrap();
        assert_eq!(raw, v.device_descriptor_bytes);
        let d = DeviceDescriptor::parse(&raw).unwrap();
        assert_eq!(d, v.device_descriptor);
        assert_eq!(
            (d.vendor_id, d.product_id, d.bcd_device),
            (
                profile.usb.vendor_id,
                profile.usb.product_id,
                profile.usb.bcd_device
            )
        );
        assert_eq!(
            (d.bcd_usb, d.max_packet_size0, d.num_configurations),
            (0x0200, 64, 1)
        );
        // Config descriptor: first the 9-byte header, then the whole thing.
        let head = h
            .bus
            .control(h.dev, Setup::get_descriptor(DESC_CONFIG, 0, 0, 9), &[])
            .unwrap();
        let total = u16::from_le_bytes([head[2], head[3]]);
        let cfg = h
            .bus
            .control(h.dev, Setup::get_descriptor(DESC_CONFIG, 0, 0, total), &[])
            .unwrap();
        assert_eq!(cfg, v.config_descriptor);
        let c = ConfigDescriptor::parse(&cfg).unwrap();
        assert_eq!(c.alt_settings.len(), profile.alts.len(), "{}", profile.name);
        // The ESP32-S2/S3 ROM: a DFU-mode interface that says protocol 1 and names no string.
        let as_runtime = profile.has_quirk(dfu_profiles::Quirk::DfuModeAsRuntime);
        for (i, a) in c.alt_settings.iter().enumerate() {
            assert!(a.is_dfu());
            assert_eq!(a.alt as usize, i);
            assert_eq!(a.functional.unwrap(), profile.dfu.descriptor());
            if as_runtime {
                assert_eq!((a.protocol, a.string_index), (1, 0), "{}", profile.name);
                continue;
            }
            assert_eq!(a.protocol, 2);
            assert_eq!(
                h.string(a.string_index).unwrap(),
                profile.alts[i].name,
                "{}",
                profile.name
            );
        }
        assert_eq!(h.string(1).unwrap(), profile.usb.manufacturer);
        assert_eq!(h.string(2).unwrap(), profile.usb.product);
        if !profile.has_quirk(dfu_profiles::Quirk::Utf8Serial) {
            assert_eq!(h.string(3).unwrap(), profile.usb.serial);
        }
        assert_eq!(v.serial, profile.usb.serial);
        let langs = h
            .bus
            .control(h.dev, Setup::get_descriptor(3, 0, 0, 255), &[])
            .unwrap();
        assert_eq!(langs, [4, 3, 0x09, 0x04]);
        let st = h.status().unwrap();
        assert_eq!(st.state, State::DfuIdle, "{}", profile.name);
    }
}

#[test]
fn standard_requests() {
    let h = Host::new("stm32f405");
    let q = h.bus.control(
        h.dev,
        Setup::get_descriptor(DESC_DEVICE_QUALIFIER, 0, 0, 10),
        &[],
    );
    assert_eq!(q, Err(UsbError::Stall));
    assert_eq!(
        h.bus
            .control(h.dev, Setup::get_descriptor(0x21, 0, 0, 9), &[]),
        Err(UsbError::Stall)
    );
    assert_eq!(
        h.bus
            .control(h.dev, Setup::get_descriptor(3, 9, 0x409, 255), &[]),
        Err(UsbError::Stall)
    );
    let get_cfg = Setup {
        request_type: STD_IN_DEVICE,
        request: STD_GET_CONFIGURATION,
        value: 0,
        index: 0,
        length: 1,
    };
    assert_eq!(h.bus.control(h.dev, get_cfg, &[]).unwrap(), [1]);
    for alt in 0..4 {
        h.bus.set_interface(h.dev, 0, alt).unwrap();
        let get_if = Setup {
            request_type: STD_IN_INTERFACE,
            request: STD_GET_INTERFACE,
            value: 0,
            index: 0,
            length: 1,
        };
        assert_eq!(h.bus.control(h.dev, get_if, &[]).unwrap(), [alt]);
    }
    assert_eq!(h.bus.set_interface(h.dev, 0, 4), Err(UsbError::Stall));
    assert_eq!(h.bus.set_interface(h.dev, 1, 0), Err(UsbError::Stall));
    let status = Setup {
        request_type: STD_IN_DEVICE,
        request: 0,
        value: 0,
        index: 0,
        length: 2,
    };
    assert_eq!(h.bus.control(h.dev, status, &[]).unwrap(), [0, 0]);
    // SET_ADDRESS and vendor requests STALL; none of this touched the DFU state.
    let set_addr = Setup {
        request_type: 0,
        request: 5,
        value: 9,
        index: 0,
        length: 0,
    };
    assert_eq!(h.bus.control(h.dev, set_addr, &[]), Err(UsbError::Stall));
    let vendor = Setup {
        request_type: 0xC0,
        request: 0x50,
        value: 0,
        index: 0,
        length: 4,
    };
    assert_eq!(h.bus.control(h.dev, vendor, &[]), Err(UsbError::Stall));
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
    // Unconfigured: class requests STALL until SET_CONFIGURATION 1.
    h.bus.set_configuration(h.dev, 0).unwrap();
    assert_eq!(h.status(), Err(UsbError::Stall));
    assert_eq!(h.bus.set_configuration(h.dev, 2), Err(UsbError::Stall));
    h.bus.set_configuration(h.dev, 1).unwrap();
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
    // Short reads are truncated, never padded.
    let d = h
        .bus
        .control(h.dev, Setup::get_descriptor(DESC_DEVICE, 0, 0, 8), &[])
        .unwrap();
    assert_eq!(d.len(), 8);
    let s = h
        .bus
        .control(h.dev, Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 3), &[])
        .unwrap();
    assert_eq!(s.len(), 3);
    // Requests to another interface STALL.
    assert_eq!(
        h.bus
            .control(h.dev, Setup::dfu_in(DfuRequest::GetStatus, 0, 1, 6), &[]),
        Err(UsbError::Stall)
    );
}

#[test]
fn several_devices_share_one_bus() {
    let bus = Bus::from_spec("photon;stm32f405,serial=ABC;dapboot").unwrap();
    let v = bus.devices();
    assert_eq!(v.len(), 3);
    assert_eq!(bus.slot_count(), 3);
    let mut ids: Vec<_> = v.iter().map(|d| d.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(v[1].serial, "ABC");
    assert_eq!(v[2].port_numbers, [3]);
    let mut addrs: Vec<_> = v.iter().map(|d| d.address).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 3);
    let h = Host::on(bus.clone(), 1);
    assert_eq!(h.string(3).unwrap(), "ABC");
    assert_eq!(
        bus.control(
            dfu_sim::DeviceId(999),
            Setup::get_descriptor(1, 0, 0, 18),
            &[]
        ),
        Err(UsbError::NoDevice)
    );
}
