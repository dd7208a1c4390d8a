//! The server over the real simulator (dfu_sim::Bus): Linux's enumeration sequence, a DFU
//! exchange, and a run-time device that detaches and comes back under the same bus id.
#![cfg(feature = "sim")]

mod common;

use common::{closed, control, devlist, import};
use dfu_usbip::proto::errno;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct SimServer {
    server: common::Server,
}

fn start(spec: &str) -> SimServer {
    let bus = dfu_sim::Bus::from_spec(spec).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let opts = dfu_usbip::ServeOptions {
        tick: Duration::from_millis(5),
        ..Default::default()
    };
    let handle = std::thread::spawn(move || dfu_usbip::serve_on(listener, bus, opts, flag));
    SimServer {
        server: common::Server {
            addr,
            stop,
            handle: Some(handle),
        },
    }
}

/// Device 64, device 18, qualifier x3, config 9, config full, strings, SET_CONFIGURATION.
fn enumerate(s: &mut TcpStream) -> Vec<u8> {
    let (st, dd, _) = control(s, 1, [0x80, 6, 0, 1, 0, 0, 64, 0], &[]);
    assert_eq!((st, dd.len()), (0, 18));
    assert_eq!(control(s, 2, [0x80, 6, 0, 1, 0, 0, 18, 0], &[]).1, dd);
    for seq in 3..6 {
        assert_eq!(
            control(s, seq, [0x80, 6, 0, 6, 0, 0, 10, 0], &[]).0,
            -errno::EPIPE
        );
    }
    let head = control(s, 6, [0x80, 6, 0, 2, 0, 0, 9, 0], &[]).1;
    let total = u16::from_le_bytes([head[2], head[3]]);
    let [lo, hi] = total.to_le_bytes();
    let config = control(s, 7, [0x80, 6, 0, 2, 0, 0, lo, hi], &[]).1;
    assert_eq!(config.len(), usize::from(total));
    let (st, langs, _) = control(s, 8, [0x80, 6, 0, 3, 0, 0, 255, 0], &[]);
    assert_eq!((st, &langs[..4]), (0, &[4u8, 3, 0x09, 0x04][..]));
    let (st, product, _) = control(s, 9, [0x80, 6, dd[15], 3, 0x09, 0x04, 255, 0], &[]);
    assert!(st == 0 && product.len() > 2);
    assert_eq!(control(s, 10, [0x00, 9, 1, 0, 0, 0, 0, 0], &[]).0, 0);
    dd
}

#[test]
fn stm32_enumerates_and_answers_dfu_requests() {
    let sim = start("stm32f405");
    assert_eq!(devlist(&sim.server), vec![("1-1".into(), 0x0483, 0xdf11)]);
    let mut s = import(&sim.server, "1-1").unwrap();
    let dd = enumerate(&mut s);
    assert_eq!(&dd[8..12], &[0x83, 0x04, 0x11, 0xdf]);
    assert_eq!(control(&mut s, 11, [0x01, 11, 0, 0, 0, 0, 0, 0], &[]).0, 0);
    let (st, status, _) = control(&mut s, 12, [0xA1, 3, 0, 0, 0, 0, 6, 0], &[]);
    assert_eq!(st, 0);
    assert_eq!(status[4], 2, "dfuIDLE");
    // UPLOAD of the first block of flash (DfuSe block 2 at the address pointer).
    let (st, block, _) = control(&mut s, 13, [0xA1, 2, 2, 0, 0, 0, 0, 8], &[]);
    assert_eq!((st, block.len()), (0, 2048));
}

#[test]
fn runtime_device_detaches_and_returns_under_the_same_bus_id() {
    let sim = start("photon,mode=runtime");
    let mut s = import(&sim.server, "1-1").unwrap();
    let dd = enumerate(&mut s);
    assert_eq!(&dd[10..12], &[0x06, 0xc0], "run-time product id");
    // DFU_DETACH: the Photon detaches by itself (bitWillDetach).
    assert_eq!(
        control(&mut s, 11, [0x21, 0, 0xE8, 0x03, 0, 0, 0, 0], &[]).0,
        0
    );
    assert!(closed(&mut s), "the detach is an unplug");
    let deadline = Instant::now() + Duration::from_secs(10);
    let list = loop {
        let list = devlist(&sim.server);
        if !list.is_empty() || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        list,
        vec![("1-1".into(), 0x2b04, 0xd006)],
        "back in DFU mode"
    );
    let mut s = import(&sim.server, "1-1").unwrap();
    let dd = enumerate(&mut s);
    assert_eq!(&dd[10..12], &[0x06, 0xd0]);
    sim.server.stop.store(true, Ordering::SeqCst);
}
