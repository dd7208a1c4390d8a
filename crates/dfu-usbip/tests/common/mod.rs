//! A fake device bus and a minimal USB/IP client for the loopback tests.
#![allow(dead_code)]

use dfu_proto::Setup;
use dfu_usbip::proto::{self, OpHeader};
use dfu_usbip::{BusDevice, DeviceBus, ServeOptions, TransferError};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Vendor request (OUT) that makes the device leave the bus, like a DFU detach.
pub const LEAVE: u8 = 0x50;
/// Vendor request that never completes (injected timeout).
pub const HANG: u8 = 0x51;
/// Vendor request that fails with a wire error.
pub const GARBLE: u8 = 0x52;
/// Vendor request (OUT) that keeps the device busy for 2 virtual seconds.
pub const BUSY: u8 = 0x53;
/// Vendor request (OUT) during which the device vanishes.
pub const VANISH: u8 = 0x54;

/// What the tests can look at.
#[derive(Debug, Default)]
pub struct FakeState {
    pub now: Duration,
    /// (slot, id) of the devices present.
    pub present: Vec<(usize, u32)>,
    pub next_id: u32,
    pub configured: Vec<(u32, u8)>,
    pub interfaces: Vec<(u32, u8, u8)>,
    pub resets: Vec<u32>,
    pub received: Vec<Vec<u8>>,
    pub flushes: usize,
}

/// A bus of `n` simple DFU devices.
#[derive(Clone)]
pub struct FakeBus(pub Arc<Mutex<FakeState>>);

impl FakeBus {
    pub fn new(n: usize) -> Self {
        let present = (0..n).map(|s| (s, s as u32 + 1)).collect();
        FakeBus(Arc::new(Mutex::new(FakeState {
            present,
            next_id: n as u32 + 1,
            ..Default::default()
        })))
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.0.lock().unwrap()
    }

    fn replace(s: &mut FakeState, id: u32) {
        if let Some(p) = s.present.iter_mut().find(|p| p.1 == id) {
            p.1 = s.next_id;
            s.next_id += 1;
        }
    }
}

pub fn device_descriptor(slot: usize) -> [u8; 18] {
    [
        18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xdf, slot as u8, 0x22, 1, 2, 3, 1,
    ]
}

pub fn config_descriptor() -> Vec<u8> {
    vec![
        9, 2, 27, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 0, 0xFE, 1, 2, 4, 9, 0x21, 0x0B, 0xFF, 0, 0, 8,
        0x1a, 0x01,
    ]
}

impl DeviceBus for FakeBus {
    fn devices(&mut self) -> Vec<BusDevice> {
        let s = self.state();
        s.present
            .iter()
            .map(|&(slot, id)| BusDevice {
                id,
                slot,
                bus_number: 1,
                address: slot as u8 + 2,
                port_numbers: vec![slot as u8 + 1],
                device_descriptor: device_descriptor(slot),
                config_descriptor: config_descriptor(),
            })
            .collect()
    }

    fn control(&mut self, id: u32, setup: Setup, out: &[u8]) -> Result<Vec<u8>, TransferError> {
        let mut s = self.state();
        let Some(slot) = s.present.iter().find(|p| p.1 == id).map(|p| p.0) else {
            return Err(TransferError::NoDevice);
        };
        s.now += Duration::from_millis(1);
        match (setup.request_type, setup.request, setup.value >> 8) {
            (0x80, 6, 1) => Ok(device_descriptor(slot).to_vec()),
            (0x80, 6, 2) => Ok(config_descriptor()),
            (0xA1, 3, _) => Ok(vec![0, 0xE8, 0x03, 0, 2, 0]), // 1000 ms poll, dfuIDLE
            (0x40, LEAVE, _) => {
                Self::replace(&mut s, id);
                Ok(Vec::new())
            }
            (0x40, HANG, _) => Err(TransferError::Timeout),
            (0x40, GARBLE, _) => Err(TransferError::Io),
            (0x40, BUSY, _) => {
                s.now += Duration::from_secs(2);
                s.received.push(out.to_vec());
                Ok(Vec::new())
            }
            (0x40, VANISH, _) => {
                Self::replace(&mut s, id);
                Err(TransferError::NoDevice)
            }
            (0x21, 1, _) => {
                s.received.push(out.to_vec());
                Ok(Vec::new())
            }
            _ => Err(TransferError::Stall),
        }
    }

    fn set_configuration(&mut self, id: u32, value: u8) -> Result<(), TransferError> {
        self.state().configured.push((id, value));
        Ok(())
    }

    fn set_interface(&mut self, id: u32, interface: u8, alt: u8) -> Result<(), TransferError> {
        self.state().interfaces.push((id, interface, alt));
        Ok(())
    }

    fn reset(&mut self, id: u32) -> Result<(), TransferError> {
        let mut s = self.state();
        s.resets.push(id);
        Self::replace(&mut s, id);
        Ok(())
    }

    fn advance(&mut self, by: Duration) {
        self.state().now += by;
    }

    fn now(&self) -> Duration {
        self.0.lock().unwrap().now
    }

    fn flush(&mut self) -> Result<(), String> {
        self.state().flushes += 1;
        Ok(())
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub stop: Arc<AtomicBool>,
    pub handle: Option<JoinHandle<Result<(), dfu_usbip::UsbipError>>>,
}

impl Server {
    pub fn start(bus: FakeBus, opts: ServeOptions) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || dfu_usbip::serve_on(listener, bus, opts, flag));
        Server {
            addr,
            stop,
            handle: Some(handle),
        }
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Stops the server and returns what `serve` returned.
    pub fn stop(mut self) -> Result<(), dfu_usbip::UsbipError> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn op(code: u16) -> [u8; 8] {
    OpHeader {
        version: proto::USBIP_VERSION,
        code,
        status: 0,
    }
    .encode()
}

/// The bus ids and vendor:product of the listed devices.
pub fn devlist(server: &Server) -> Vec<(String, u16, u16)> {
    let mut s = server.connect();
    s.write_all(&op(proto::OP_REQ_DEVLIST)).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    assert_eq!(&all[0..4], &[0x01, 0x11, 0x00, 0x05]);
    let n = u32::from_be_bytes(all[8..12].try_into().unwrap()) as usize;
    let mut at = 12;
    let mut out = Vec::new();
    for _ in 0..n {
        let d = &all[at..at + 312];
        let busid = String::from_utf8(
            d[256..288]
                .iter()
                .take_while(|&&c| c != 0)
                .copied()
                .collect(),
        )
        .unwrap();
        let vid = u16::from_be_bytes([d[300], d[301]]);
        let pid = u16::from_be_bytes([d[302], d[303]]);
        out.push((busid, vid, pid));
        at += 312 + 4 * usize::from(d[311]);
    }
    assert_eq!(at, all.len());
    out
}

/// Imports `busid`: the connection, or the failure status.
pub fn import(server: &Server, busid: &str) -> Result<TcpStream, u32> {
    let mut s = server.connect();
    let mut req = op(proto::OP_REQ_IMPORT).to_vec();
    let mut id = [0u8; 32];
    id[..busid.len()].copy_from_slice(busid.as_bytes());
    req.extend_from_slice(&id);
    s.write_all(&req).unwrap();
    let mut head = [0u8; 8];
    s.read_exact(&mut head).unwrap();
    let h = OpHeader::parse(&head);
    assert_eq!(h.code, proto::OP_REP_IMPORT);
    if h.status != 0 {
        return Err(h.status);
    }
    let mut dev = [0u8; 312];
    s.read_exact(&mut dev).unwrap();
    assert_eq!(&dev[256..256 + busid.len()], busid.as_bytes());
    Ok(s)
}

/// Sends a control transfer; returns (status, IN data, actual length).
pub fn control(s: &mut TcpStream, seq: u32, setup: [u8; 8], out: &[u8]) -> (i32, Vec<u8>, usize) {
    send_submit(s, seq, setup, out);
    read_ret_submit(s, seq, setup[0] & 0x80 != 0)
}

pub fn send_submit(s: &mut TcpStream, seq: u32, setup: [u8; 8], out: &[u8]) {
    let is_in = setup[0] & 0x80 != 0;
    let len = if is_in {
        u32::from(u16::from_le_bytes([setup[6], setup[7]]))
    } else {
        out.len() as u32
    };
    let mut h = [0u8; 48];
    h[0..4].copy_from_slice(&1u32.to_be_bytes());
    h[4..8].copy_from_slice(&seq.to_be_bytes());
    h[8..12].copy_from_slice(&0x0001_0002u32.to_be_bytes());
    h[12..16].copy_from_slice(&u32::from(is_in).to_be_bytes());
    h[24..28].copy_from_slice(&len.to_be_bytes());
    h[32..36].copy_from_slice(&u32::MAX.to_be_bytes());
    h[40..48].copy_from_slice(&setup);
    s.write_all(&h).unwrap();
    s.write_all(out).unwrap();
}

pub fn read_ret_submit(s: &mut TcpStream, seq: u32, is_in: bool) -> (i32, Vec<u8>, usize) {
    let mut h = [0u8; 48];
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h[0..4], &[0, 0, 0, 3], "RET_SUBMIT");
    assert_eq!(u32::from_be_bytes(h[4..8].try_into().unwrap()), seq);
    let status = i32::from_be_bytes(h[20..24].try_into().unwrap());
    let actual = u32::from_be_bytes(h[24..28].try_into().unwrap()) as usize;
    let mut data = Vec::new();
    if is_in && actual > 0 {
        data = vec![0u8; actual];
        s.read_exact(&mut data).unwrap();
    }
    (status, data, actual)
}

/// True when the server closed the connection (EOF or reset) within the read timeout.
pub fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}

pub fn quiet() -> ServeOptions {
    ServeOptions {
        tick: Duration::from_millis(5),
        ..Default::default()
    }
}
