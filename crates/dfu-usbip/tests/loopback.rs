//! The server against a fake client over loopback TCP: the handshake, Linux's
//! enumeration sequence, transfers, unplug and re-export, unlink, hostile input, stop.

mod common;

use common::*;
use dfu_usbip::proto::{self, errno};
use dfu_usbip::ServeOptions;
use proptest::prelude::*;
use std::io::Write;
use std::time::Duration;

const GET_DEVICE_64: [u8; 8] = [0x80, 6, 0, 1, 0, 0, 64, 0];
const GET_DEVICE_18: [u8; 8] = [0x80, 6, 0, 1, 0, 0, 18, 0];
const GET_QUALIFIER: [u8; 8] = [0x80, 6, 0, 6, 0, 0, 10, 0];
const GET_CONFIG_9: [u8; 8] = [0x80, 6, 0, 2, 0, 0, 9, 0];
const GET_CONFIG_255: [u8; 8] = [0x80, 6, 0, 2, 0, 0, 255, 0];
const SET_CONFIG_1: [u8; 8] = [0x00, 9, 1, 0, 0, 0, 0, 0];
const SET_INTERFACE_0_1: [u8; 8] = [0x01, 11, 1, 0, 0, 0, 0, 0];
const GETSTATUS: [u8; 8] = [0xA1, 3, 0, 0, 0, 0, 6, 0];

fn vendor(request: u8) -> [u8; 8] {
    [0x40, request, 0, 0, 0, 0, 0, 0]
}

#[test]
fn lists_and_imports_devices_by_bus_id() {
    let server = Server::start(FakeBus::new(2), quiet());
    let list = devlist(&server);
    assert_eq!(
        list,
        vec![
            ("1-1".into(), 0x0483, 0xdf11),
            ("1-2".into(), 0x0483, 0xdf11)
        ]
    );
    let _held = import(&server, "1-1").expect("import 1-1");
    // An imported device is no longer offered, and cannot be imported twice.
    assert_eq!(devlist(&server).len(), 1);
    assert_eq!(import(&server, "1-1").err(), Some(proto::ST_DEV_BUSY));
    assert_eq!(import(&server, "9-9").err(), Some(proto::ST_NODEV));
}

#[test]
fn linux_enumeration_sequence_is_answered() {
    let bus = FakeBus::new(1);
    let server = Server::start(bus.clone(), quiet());
    let mut s = import(&server, "1-1").unwrap();
    let (st, d, _) = control(&mut s, 1, GET_DEVICE_64, &[]);
    assert_eq!(
        (st, d.len()),
        (0, 18),
        "a 64-byte read gets the 18-byte descriptor"
    );
    assert_eq!(
        control(&mut s, 2, GET_DEVICE_18, &[]).1,
        device_descriptor(0)
    );
    for seq in 3..6 {
        let (st, d, _) = control(&mut s, seq, GET_QUALIFIER, &[]);
        assert_eq!(
            (st, d.len()),
            (-errno::EPIPE, 0),
            "full speed: qualifier stalls"
        );
    }
    assert_eq!(
        control(&mut s, 6, GET_CONFIG_9, &[]).1,
        config_descriptor()[..9]
    );
    assert_eq!(
        control(&mut s, 7, GET_CONFIG_255, &[]).1,
        config_descriptor()
    );
    assert_eq!(control(&mut s, 8, SET_CONFIG_1, &[]).0, 0);
    assert_eq!(control(&mut s, 9, SET_INTERFACE_0_1, &[]).0, 0);
    assert_eq!(control(&mut s, 10, vendor(0x77), &[]).0, -errno::EPIPE);
    let st = bus.state();
    assert_eq!(st.configured, vec![(1, 1)]);
    assert_eq!(st.interfaces, vec![(1, 0, 1)]);
}

#[test]
fn out_data_reaches_the_device_and_poll_timeouts_are_scaled() {
    let bus = FakeBus::new(1);
    let server = Server::start(bus.clone(), quiet());
    let mut s = import(&server, "1-1").unwrap();
    let block: Vec<u8> = (0..=255u8).cycle().take(2048).collect();
    let dnload = [0x21, 1, 2, 0, 0, 0, 0x00, 0x08];
    let (st, d, actual) = control(&mut s, 1, dnload, &block);
    assert_eq!((st, d.len(), actual), (0, 0, 2048));
    assert_eq!(bus.state().received, vec![block]);
    // The device reports 1000 ms; at the default scale of 0.05 the host is told 50 ms.
    let (st, d, _) = control(&mut s, 2, GETSTATUS, &[]);
    assert_eq!(st, 0);
    assert_eq!(d, vec![0, 50, 0, 0, 2, 0]);
    // A long busy period is answered (after a scaled real wait), not dropped.
    assert_eq!(control(&mut s, 3, vendor(BUSY), &[]).0, 0);
}

#[test]
fn unscaled_server_keeps_the_devices_bytes() {
    let opts = ServeOptions {
        scale_poll_timeouts: false,
        ..quiet()
    };
    let server = Server::start(FakeBus::new(1), opts);
    let mut s = import(&server, "1-1").unwrap();
    assert_eq!(
        control(&mut s, 1, GETSTATUS, &[]).1,
        vec![0, 0xE8, 3, 0, 2, 0]
    );
}

#[test]
fn a_device_that_leaves_is_unplugged_and_exported_again() {
    let bus = FakeBus::new(1);
    let server = Server::start(bus.clone(), quiet());
    let mut s = import(&server, "1-1").unwrap();
    // The request that makes it leave is answered, then the connection closes.
    assert_eq!(control(&mut s, 1, vendor(LEAVE), &[]).0, 0);
    assert!(closed(&mut s));
    // The new incarnation is offered under the same bus id and can be imported.
    assert_eq!(devlist(&server)[0].0, "1-1");
    let mut s = import(&server, "1-1").unwrap();
    assert_eq!(control(&mut s, 1, GET_DEVICE_18, &[]).0, 0);
    // A device that vanishes in the middle of a transfer: no answer, just the unplug.
    send_submit(&mut s, 2, vendor(VANISH), &[]);
    assert!(closed(&mut s));
    assert!(
        bus.state().flushes >= 2,
        "state is saved when a device is released"
    );
}

#[test]
fn a_device_that_leaves_while_idle_is_unplugged() {
    let bus = FakeBus::new(1);
    let server = Server::start(bus.clone(), quiet());
    let mut s = import(&server, "1-1").unwrap();
    {
        let mut st = bus.state();
        let next = st.next_id;
        st.present[0].1 = next;
    }
    assert!(closed(&mut s));
    assert!(import(&server, "1-1").is_ok());
}

#[test]
fn host_reset_after_configuration_resets_the_device() {
    let bus = FakeBus::new(1);
    let server = Server::start(bus.clone(), quiet());
    let mut s = import(&server, "1-1").unwrap();
    assert_eq!(control(&mut s, 1, GET_DEVICE_64, &[]).0, 0);
    assert_eq!(control(&mut s, 2, SET_CONFIG_1, &[]).0, 0);
    assert!(
        bus.state().resets.is_empty(),
        "first enumeration is no reset"
    );
    // Linux re-reads 64 bytes of the device descriptor after a port reset.
    assert_eq!(control(&mut s, 3, GET_DEVICE_64, &[]).0, 0);
    assert_eq!(control(&mut s, 4, GET_DEVICE_64, &[]).0, 0);
    assert_eq!(
        bus.state().resets,
        vec![1],
        "one reset, then the new device answers"
    );
    assert_eq!(control(&mut s, 5, SET_CONFIG_1, &[]).0, 0);
    assert_eq!(bus.state().configured, vec![(1, 1), (2, 1)]);
}

#[test]
fn unanswered_transfers_can_be_unlinked() {
    let server = Server::start(FakeBus::new(1), quiet());
    let mut s = import(&server, "1-1").unwrap();
    send_submit(&mut s, 7, vendor(HANG), &[]);
    let unlink = |seq: u32, target: u32| {
        let mut h = [0u8; 48];
        h[0..4].copy_from_slice(&proto::USBIP_CMD_UNLINK.to_be_bytes());
        h[4..8].copy_from_slice(&seq.to_be_bytes());
        h[20..24].copy_from_slice(&target.to_be_bytes());
        h
    };
    let read_unlink = |s: &mut std::net::TcpStream, seq: u32| {
        let mut h = [0u8; 48];
        std::io::Read::read_exact(s, &mut h).unwrap();
        assert_eq!(&h[0..4], &[0, 0, 0, 4]);
        assert_eq!(u32::from_be_bytes(h[4..8].try_into().unwrap()), seq);
        i32::from_be_bytes(h[20..24].try_into().unwrap())
    };
    s.write_all(&unlink(8, 7)).unwrap();
    assert_eq!(read_unlink(&mut s, 8), -errno::ECONNRESET);
    // Unlinking something already answered: status 0.
    assert_eq!(control(&mut s, 9, vendor(GARBLE), &[]).0, -errno::EPROTO);
    s.write_all(&unlink(10, 9)).unwrap();
    assert_eq!(read_unlink(&mut s, 10), 0);
}

fn assert_closed_and_server_alive(server: &Server, bytes: &[u8]) {
    let mut s = server.connect();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    assert!(closed(&mut s));
    assert_eq!(devlist(server).len(), 1, "the server still answers");
}

#[test]
fn hostile_handshakes_close_the_connection() {
    let server = Server::start(FakeBus::new(1), quiet());
    let bad_version = [0x02, 0x00, 0x80, 0x05, 0, 0, 0, 0];
    let bad_code = op(0x1234);
    let truncated_import = op(proto::OP_REQ_IMPORT);
    for bytes in [
        &bad_version[..],
        &bad_code[..],
        &truncated_import[..],
        &[1, 1][..],
        &[],
    ] {
        assert_closed_and_server_alive(&server, bytes);
    }
    let mut bad_utf8 = op(proto::OP_REQ_IMPORT).to_vec();
    bad_utf8.extend_from_slice(&[0xFF; 32]);
    assert_closed_and_server_alive(&server, &bad_utf8);
}

#[test]
fn hostile_urbs_close_the_connection() {
    let server = Server::start(FakeBus::new(1), quiet());
    let huge = |direction: u32| {
        let mut h = [0u8; 48];
        h[0..4].copy_from_slice(&1u32.to_be_bytes());
        h[12..16].copy_from_slice(&direction.to_be_bytes());
        h[24..28].copy_from_slice(&0x4000_0000u32.to_be_bytes()); // 1 GiB
        h
    };
    let mut unknown = [0u8; 48];
    unknown[3] = 0x77;
    for bytes in [&huge(0)[..], &huge(1)[..], &unknown[..], &[0u8; 20][..]] {
        let mut s = import(&server, "1-1").unwrap();
        s.write_all(bytes).unwrap();
        let _ = s.shutdown(std::net::Shutdown::Write);
        assert!(closed(&mut s));
        // The slot is released and the server still works.
        let mut s = import(&server, "1-1").unwrap();
        assert_eq!(control(&mut s, 1, GET_DEVICE_18, &[]).0, 0);
    }
    // OUT data announced but cut short.
    let mut s = import(&server, "1-1").unwrap();
    let mut h = [0u8; 48];
    h[0..4].copy_from_slice(&1u32.to_be_bytes());
    h[24..28].copy_from_slice(&1024u32.to_be_bytes());
    s.write_all(&h).unwrap();
    s.write_all(&[0u8; 100]).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    assert!(closed(&mut s));
}

#[test]
fn connections_beyond_the_limit_are_closed() {
    let opts = ServeOptions {
        max_connections: 1,
        ..quiet()
    };
    let server = Server::start(FakeBus::new(2), opts);
    let _held = import(&server, "1-1").unwrap();
    let mut s = server.connect();
    assert!(closed(&mut s));
}

#[test]
fn stop_flag_ends_the_server_and_saves_state() {
    let bus = FakeBus::new(1);
    let server = Server::start(bus.clone(), quiet());
    let mut s = import(&server, "1-1").unwrap();
    assert_eq!(control(&mut s, 1, GET_DEVICE_18, &[]).0, 0);
    server.stop().expect("clean stop");
    assert!(closed(&mut s), "imported devices are unplugged on stop");
    assert!(bus.state().flushes >= 1);
}

#[test]
fn bad_options_are_refused() {
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let opts = ServeOptions {
            time_scale: scale,
            ..quiet()
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let r = dfu_usbip::serve("127.0.0.1:0", FakeBus::new(1), opts, stop);
        assert!(matches!(r, Err(dfu_usbip::UsbipError::Options(_))));
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let r = dfu_usbip::serve("not an address", FakeBus::new(1), quiet(), stop);
    assert!(matches!(r, Err(dfu_usbip::UsbipError::Bind { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random bytes after a good import, or instead of a handshake: the server closes the
    /// connection or answers; it never panics and keeps serving.
    #[test]
    fn random_input_never_breaks_the_server(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        after_import in any::<bool>(),
    ) {
        let server = Server::start(FakeBus::new(1), quiet());
        let mut s = if after_import {
            import(&server, "1-1").unwrap()
        } else {
            server.connect()
        };
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut sink);
        drop(s);
        let mut s = import(&server, "1-1").unwrap();
        prop_assert_eq!(control(&mut s, 1, GET_DEVICE_18, &[]).0, 0);
        drop(s);
        prop_assert!(server.stop().is_ok());
    }
}

#[test]
fn idle_connections_survive_many_ticks() {
    let server = Server::start(FakeBus::new(1), quiet());
    let mut s = import(&server, "1-1").unwrap();
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(control(&mut s, 1, GET_DEVICE_18, &[]).0, 0);
}
