//! Plain DFU 1.1 devices: dapboot (intolerant, willDetach) and TinyUSB (tolerant).

use crate::host::{after, pattern, Host};
use dfu_proto::{DfuRequest, State, Status};
use dfu_sim::{Bus, UsbError};
use std::time::Duration;

/// dfu-util's plain download: blocks 0.., then the zero-length block.
fn download(h: &Host, data: &[u8], xfer: usize) -> Result<(), (usize, dfu_proto::GetStatus)> {
    for (i, chunk) in data.chunks(xfer).enumerate() {
        h.dnload(i as u16, chunk).unwrap();
        let st = h.poll().unwrap();
        if st.state != State::DnloadIdle {
            return Err((i, st));
        }
    }
    Ok(())
}

fn upload_all(h: &Host, xfer: u16) -> Vec<u8> {
    let mut out = Vec::new();
    for block in 0.. {
        let r = h.upload(block, xfer).unwrap();
        let short = r.len() < usize::from(xfer);
        out.extend(r);
        if short {
            break;
        }
    }
    out
}

#[test]
fn dapboot_round_trip_and_self_erase() {
    let h = Host::new("dapboot");
    let data = pattern(3000, 5);
    download(&h, &data, 1024).unwrap();
    let s = h.bus.stats(0);
    assert_eq!(s.erases, 3, "one per 1 KiB page touched");
    assert_eq!(s.programmed_bytes, 3000);
    // A second download over the same pages works: the device erases as it writes.
    h.simple(DfuRequest::Abort).unwrap();
    download(&h, &data, 1024).unwrap();
    h.simple(DfuRequest::Abort).unwrap();
    let back = upload_all(&h, 1024);
    assert_eq!(
        back.len(),
        56 * 1024,
        "the upload ends at the end of memory"
    );
    assert_eq!(&back[..3000], &data[..]);
    assert!(back[3072..].iter().all(|&b| b == 0xFF));
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
}

#[test]
fn writes_past_the_end_fail_with_erraddress() {
    let h = Host::new("dapboot");
    h.dnload(56, &[1; 16]).unwrap();
    let st = h.poll().unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrAddress));
    // A zero-length DNLOAD straight from dfuIDLE is a protocol error.
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.dnload(0, &[]), Err(UsbError::Stall));
    assert_eq!(h.status().unwrap().status, Status::ErrStalledPkt);
}

#[test]
fn tinyusb_round_trip_on_both_alts() {
    let h = Host::new("tinyusb");
    for (alt, len, poll) in [(0u8, 1000usize, 1u32), (1, 300, 100)] {
        h.bus.set_interface(h.dev, 0, alt).unwrap();
        let data = pattern(len, alt);
        h.dnload(0, &data[..64]).unwrap();
        let st = h.status().unwrap();
        assert_eq!((st.state, st.poll_timeout_ms), (State::DnBusy, poll));
        h.bus.advance(st.poll_timeout());
        assert_eq!(h.status().unwrap().state, State::DnloadIdle);
        for (i, chunk) in data.chunks(64).enumerate().skip(1) {
            h.dnload(i as u16, chunk).unwrap();
            assert_eq!(h.poll().unwrap().state, State::DnloadIdle);
        }
        h.simple(DfuRequest::Abort).unwrap();
        let back = upload_all(&h, 64);
        assert_eq!(&back[..len], &data[..]);
        h.simple(DfuRequest::Abort).unwrap();
    }
    assert_eq!(h.bus.read_memory(0, 1, 0, 300).unwrap(), pattern(300, 1));
}

#[test]
fn tolerant_manifestation_returns_to_idle() {
    let h = Host::new("tinyusb");
    download(&h, &pattern(200, 1), 64).unwrap();
    h.dnload(4, &[]).unwrap();
    let st = h.status().unwrap();
    assert_eq!((st.state, st.status), (State::Manifest, Status::Ok));
    h.bus.advance(st.poll_timeout() + Duration::from_secs(1));
    let st = h.status().unwrap();
    assert_eq!(st.state, State::DfuIdle);
    assert!(h.view().is_some(), "a tolerant device stays on the bus");
}

#[test]
fn intolerant_will_detach_device_runs_its_app_after_manifest() {
    let h = Host::new("dapboot");
    download(&h, &pattern(100, 1), 1024).unwrap();
    h.dnload(1, &[]).unwrap();
    assert_eq!(h.get_state().unwrap(), State::ManifestSync.as_u8());
    let st = h.status().unwrap();
    assert_eq!(st.state, State::Manifest);
    // dfu-util sleeps poll + 1 s, then asks again: the device has left.
    h.bus.advance(st.poll_timeout() + Duration::from_secs(1));
    assert_eq!(h.status(), Err(UsbError::NoDevice));
    assert!(after(&h.bus, Duration::from_secs(5), 0).is_none());
}

#[test]
fn intolerant_device_without_will_detach_waits_for_reset() {
    let dir = tempfile::tempdir().unwrap();
    let text = include_str!("../../../dfu-profiles/profiles/dapboot.toml")
        .replace("name = \"dapboot\"", "name = \"waitreset\"")
        .replace("attributes = 0x0b", "attributes = 0x03");
    let path = dir.path().join("waitreset.toml");
    std::fs::write(&path, text).unwrap();
    let bus = Bus::from_spec(path.to_str().unwrap()).unwrap();
    let h = Host::on(bus, 0);
    download(&h, &pattern(10, 1), 1024).unwrap();
    h.dnload(1, &[]).unwrap();
    let st = h.status().unwrap();
    assert_eq!(st.state, State::Manifest);
    h.bus.advance(Duration::from_millis(100));
    let st = h.status().unwrap();
    assert_eq!(st.state, State::ManifestWaitReset);
    assert_eq!(h.simple(DfuRequest::Abort), Err(UsbError::Stall));
    h.bus.reset(h.dev).unwrap();
    assert_eq!(h.status(), Err(UsbError::NoDevice));
    assert!(
        after(&h.bus, Duration::from_secs(1), 0).is_none(),
        "no run-time mode: gone"
    );
}

#[test]
fn wait_reset_then_restart_reports_wait_reset_once_then_leaves() {
    // Kiibohd: willDetach, not tolerant, quirk wait-reset-then-restart; polls 1000 ms.
    let h = Host::new("kiibohd");
    let image = pattern(3000, 2);
    download(&h, &image, 1024).unwrap();
    h.dnload(3, &[]).unwrap();
    let st = h.status().unwrap();
    assert_eq!(st.state, State::Manifest);
    h.bus.advance(st.poll_timeout());
    let st = h.status().unwrap();
    assert_eq!(
        (st.state, st.status),
        (State::ManifestWaitReset, Status::Ok)
    );
    // Without any USB reset from the host the device is gone: it runs its application.
    assert_eq!(h.status(), Err(UsbError::NoDevice));
    assert!(after(&h.bus, Duration::from_secs(5), 0).is_none());
    assert_eq!(h.bus.read_memory(0, 0, 0x1000, 3000).unwrap(), image);
}

#[test]
fn a_profile_without_a_serial_string_has_no_serial_index() {
    // The LPC17xx bootloader's iSerialNumber is 0; dfu-util then prints serial="UNKNOWN".
    let h = Host::new("smoothie");
    let d = h.view().unwrap().device_descriptor;
    assert_eq!((d.manufacturer_index, d.product_index), (1, 2));
    assert_eq!(d.serial_index, 0);
    assert_eq!(
        Host::new("kiibohd")
            .view()
            .unwrap()
            .device_descriptor
            .serial_index,
        3
    );
}
