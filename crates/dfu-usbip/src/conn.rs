//! One client connection: the operation handshake (device list or import), then the URB
//! stream of an imported device.
//!
//! An imported device lives as long as its connection. When the simulated device leaves
//! the bus (a DFU detach, a reset after leave, an injected disconnect) the server closes
//! the connection: to the client's kernel that is an unplug. The device that comes back
//! (a new incarnation in the same slot) is exported under the same bus id, ready for the
//! next `usbip attach`. A bus reset *from the host* never reaches a USB/IP server (the
//! client's vhci driver fakes it), but Linux re-reads the first 64 bytes of the device
//! descriptor after every reset and never otherwise: such a read on a configured device
//! is taken as the reset, and the device may answer as its next incarnation (Linux then
//! notices the new descriptors and re-enumerates it on the same port).

use crate::bus::{BusDevice, DeviceBus, TransferError};
use crate::proto::{self, errno, OpHeader, Submit, UrbCommand};
use crate::server::{read_message, Read2, Shared};
use crate::UsbipError;
use dfu_proto::Setup;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::Instant;

/// At most this many transfers may be left unanswered (injected timeouts) at once.
const MAX_STUCK: usize = 64;

/// Serves one connection to its end; errors are logged, never propagated.
pub(crate) fn run<B: DeviceBus>(mut stream: TcpStream, shared: &Shared<B>) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    if let Err(e) = setup_socket(&stream, shared) {
        shared.opts.log(&format!("{peer}: {e}"));
        return;
    }
    if let Err(e) = handshake(&mut stream, shared, &peer) {
        shared
            .opts
            .log(&format!("{peer}: {e}; closing the connection"));
    }
    let _ = stream.shutdown(Shutdown::Both);
}

fn setup_socket<B>(stream: &TcpStream, shared: &Shared<B>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(shared.opts.tick))?;
    stream.set_write_timeout(Some(shared.opts.io_timeout))?;
    stream.set_nodelay(true)
}

fn handshake<B: DeviceBus>(
    stream: &mut TcpStream,
    shared: &Shared<B>,
    peer: &str,
) -> Result<(), UsbipError> {
    let opened = Instant::now();
    let idle_ok = || !shared.stopping() && opened.elapsed() < shared.opts.io_timeout;
    let mut head = [0u8; proto::OP_HEADER_LEN];
    if read_message(stream, &mut head, &shared.opts, idle_ok)? != Read2::Done {
        return Ok(());
    }
    let op = OpHeader::parse(&head);
    if op.version != proto::USBIP_VERSION {
        return Err(UsbipError::protocol(format!(
            "version {:#06x}, expected {:#06x}",
            op.version,
            proto::USBIP_VERSION
        )));
    }
    match op.code {
        proto::OP_REQ_DEVLIST => {
            let reply = device_list(shared);
            stream.write_all(&reply)?;
            Ok(())
        }
        proto::OP_REQ_IMPORT => {
            let mut raw = [0u8; proto::BUSID_LEN];
            if read_message(stream, &mut raw, &shared.opts, idle_ok)? != Read2::Done {
                return Err(UsbipError::protocol("OP_REQ_IMPORT without a bus id"));
            }
            let busid = proto::parse_busid(&raw)
                .ok_or_else(|| UsbipError::protocol("bus id is not valid UTF-8"))?;
            let Some(device) = import(stream, shared, &busid)? else {
                return Ok(());
            };
            shared.opts.log(&format!("{peer}: imported {busid}"));
            let slot = device.slot;
            let result = Session::new(device, busid.clone()).serve(stream, shared);
            let mut inner = shared.lock();
            inner.imported.remove(&slot);
            inner.flush(&shared.opts);
            drop(inner);
            shared.opts.log(&format!("{peer}: released {busid}"));
            result
        }
        other => Err(UsbipError::protocol(format!(
            "unknown operation {other:#06x}"
        ))),
    }
}

fn summary(d: &BusDevice) -> proto::DeviceSummary {
    let (configuration_value, interfaces) = proto::summarize_config(&d.config_descriptor);
    let busid = d.busid();
    proto::DeviceSummary {
        path: format!("/sys/devices/dfu-sim/usb{}/{busid}", d.bus_number),
        busid,
        busnum: u32::from(d.bus_number),
        devnum: u32::from(d.address),
        speed: proto::SPEED_FULL,
        device_descriptor: d.device_descriptor,
        configuration_value,
        interfaces,
    }
}

/// `OP_REP_DEVLIST`: the devices present and not imported by anyone.
fn device_list<B: DeviceBus>(shared: &Shared<B>) -> Vec<u8> {
    let mut inner = shared.lock();
    inner.sync(&shared.clock);
    let imported = inner.imported.clone();
    let devices: Vec<BusDevice> = inner
        .bus
        .devices()
        .into_iter()
        .filter(|d| !imported.contains(&d.slot))
        .collect();
    drop(inner);
    let mut out = OpHeader {
        version: proto::USBIP_VERSION,
        code: proto::OP_REP_DEVLIST,
        status: proto::ST_OK,
    }
    .encode()
    .to_vec();
    let n = u32::try_from(devices.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    for d in &devices {
        out.extend_from_slice(&summary(d).encode(true));
    }
    out
}

/// Answers `OP_REQ_IMPORT`; on success the slot is marked imported and its device
/// returned.
fn import<B: DeviceBus>(
    stream: &mut TcpStream,
    shared: &Shared<B>,
    busid: &str,
) -> Result<Option<BusDevice>, UsbipError> {
    let mut inner = shared.lock();
    inner.sync(&shared.clock);
    let found = inner.bus.devices().into_iter().find(|d| d.busid() == busid);
    let (status, device) = match found {
        None => (proto::ST_NODEV, None),
        Some(d) if inner.imported.contains(&d.slot) => (proto::ST_DEV_BUSY, None),
        Some(d) => {
            inner.imported.insert(d.slot);
            (proto::ST_OK, Some(d))
        }
    };
    drop(inner);
    let mut out = OpHeader {
        version: proto::USBIP_VERSION,
        code: proto::OP_REP_IMPORT,
        status,
    }
    .encode()
    .to_vec();
    if let Some(d) = &device {
        out.extend_from_slice(&summary(d).encode(false));
    }
    if let Err(e) = stream.write_all(&out) {
        if let Some(d) = &device {
            shared.lock().imported.remove(&d.slot);
        }
        return Err(e.into());
    }
    Ok(device)
}

/// What became of one submitted transfer.
enum Outcome {
    /// Answer with this status and data; `then_close` when the device left meanwhile.
    Reply {
        status: i32,
        data: Vec<u8>,
        actual: u32,
        then_close: bool,
    },
    /// The device never answers (injected timeout): the client will unlink it.
    Stuck,
    /// The device is gone: close without answering (an unplug).
    Gone,
}

/// An imported device.
struct Session {
    id: u32,
    slot: usize,
    busid: String,
    configured: bool,
    stuck: BTreeSet<u32>,
}

impl Session {
    fn new(device: BusDevice, busid: String) -> Self {
        Session {
            id: device.id,
            slot: device.slot,
            busid,
            configured: false,
            stuck: BTreeSet::new(),
        }
    }

    fn serve<B: DeviceBus>(
        &mut self,
        stream: &mut TcpStream,
        shared: &Shared<B>,
    ) -> Result<(), UsbipError> {
        let max = shared.opts.max_transfer;
        loop {
            let mut head = [0u8; proto::URB_HEADER_LEN];
            let id = self.id;
            let alive = || {
                if shared.stopping() {
                    return false;
                }
                let mut inner = shared.lock();
                inner.sync(&shared.clock);
                inner.find_id(id).is_some()
            };
            match read_message(stream, &mut head, &shared.opts, alive)? {
                Read2::Done => {}
                Read2::Closed => return Ok(()),
                Read2::Stopped => {
                    if !shared.stopping() {
                        shared.opts.log(&format!(
                            "{}: the device left the bus; unplugging",
                            self.busid
                        ));
                    }
                    return Ok(());
                }
            }
            match proto::parse_urb(&head, max)? {
                UrbCommand::Unlink {
                    seqnum,
                    unlink_seqnum,
                } => {
                    // Submits are answered before the next command is read, so only an
                    // unanswered (stuck) one can still be cancelled.
                    let status = if self.stuck.remove(&unlink_seqnum) {
                        -errno::ECONNRESET
                    } else {
                        0
                    };
                    stream.write_all(&proto::encode_ret_unlink(seqnum, status))?;
                }
                UrbCommand::Submit(s) => {
                    let mut data_out = Vec::new();
                    if !s.is_in() && s.transfer_buffer_length > 0 {
                        // Bounded by parse_urb's check against max_transfer.
                        data_out = vec![0u8; s.transfer_buffer_length as usize];
                        let never_idle = || true;
                        if read_message(stream, &mut data_out, &shared.opts, never_idle)?
                            != Read2::Done
                        {
                            return Err(UsbipError::protocol("CMD_SUBMIT without its data"));
                        }
                    }
                    if !self.answer(stream, shared, &s, &data_out)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Runs one transfer and answers it; false when the connection must close.
    fn answer<B: DeviceBus>(
        &mut self,
        stream: &mut TcpStream,
        shared: &Shared<B>,
        s: &Submit,
        data_out: &[u8],
    ) -> Result<bool, UsbipError> {
        match self.transfer(shared, s, data_out) {
            Outcome::Reply {
                status,
                data,
                actual,
                then_close,
            } => {
                let head = proto::encode_ret_submit(s.seqnum, status, actual, s.number_of_packets);
                let mut out = Vec::with_capacity(head.len() + data.len());
                out.extend_from_slice(&head);
                out.extend_from_slice(&data);
                stream.write_all(&out)?;
                if then_close {
                    shared.opts.log(&format!(
                        "{}: the device left the bus; unplugging",
                        self.busid
                    ));
                }
                Ok(!then_close)
            }
            Outcome::Stuck => {
                if self.stuck.len() >= MAX_STUCK {
                    return Err(UsbipError::protocol("too many transfers left unanswered"));
                }
                self.stuck.insert(s.seqnum);
                Ok(true)
            }
            Outcome::Gone => {
                shared.opts.log(&format!(
                    "{}: the device vanished mid-transfer; unplugging",
                    self.busid
                ));
                Ok(false)
            }
        }
    }

    /// Runs one submitted transfer on the device (endpoint 0 only) and says how to answer.
    fn transfer<B: DeviceBus>(
        &mut self,
        shared: &Shared<B>,
        s: &Submit,
        data_out: &[u8],
    ) -> Outcome {
        if s.ep != 0 {
            // DFU devices have no other endpoints.
            return Outcome::status(-errno::EPIPE);
        }
        let setup = Setup::parse(&s.setup);
        let mut inner = shared.lock();
        inner.sync(&shared.clock);
        if is_first_read_after_reset(&setup) && self.configured {
            self.configured = false;
            let _ = inner.bus.reset(self.id);
            match inner.find_slot(self.slot) {
                Some(d) => self.id = d.id,
                None => return Outcome::Gone,
            }
        }
        let result = self.request(&mut inner.bus, setup, data_out);
        let still_here = inner.find_id(self.id).is_some();
        let lead = shared.clock.lead(inner.bus.now());
        drop(inner);
        if !lead.is_zero() {
            std::thread::sleep(lead);
        }
        outcome(shared, s, &setup, data_out, result, still_here)
    }

    /// One control request: the standard requests that set up the link here, every other
    /// request by the device.
    fn request<B: DeviceBus>(
        &mut self,
        bus: &mut B,
        setup: Setup,
        data_out: &[u8],
    ) -> Result<Vec<u8>, TransferError> {
        let id = self.id;
        match (setup.request_type, setup.request) {
            // Device qualifier / other-speed configuration: the device decides (the
            // simulator STALLs them), but whatever it says, the link is full speed only.
            (0x80, dfu_proto::request::STD_GET_DESCRIPTOR) if matches!(setup.value >> 8, 6 | 7) => {
                bus.control(id, setup, data_out)
                    .and(Err(TransferError::Stall))
            }
            (0x00, dfu_proto::request::STD_SET_ADDRESS) => Ok(Vec::new()),
            (0x00, dfu_proto::request::STD_SET_CONFIGURATION) => {
                let r = bus.set_configuration(id, setup.value as u8);
                self.configured = r.is_ok() && setup.value != 0;
                r.map(|()| Vec::new())
            }
            (0x01, dfu_proto::request::STD_SET_INTERFACE) => bus
                .set_interface(id, setup.index as u8, setup.value as u8)
                .map(|()| Vec::new()),
            _ => bus.control(id, setup, data_out),
        }
    }
}

impl Outcome {
    /// A reply with `status` and no data.
    fn status(status: i32) -> Outcome {
        Outcome::Reply {
            status,
            data: Vec::new(),
            actual: 0,
            then_close: false,
        }
    }
}

/// The answer to transfer `s` from what the device did: IN data cut to what was asked
/// (bwPollTimeout scaled if the server runs faster than real time), an errno for a STALL
/// or an I/O error, no answer for a timeout, an unplug for a vanished device.
fn outcome<B: DeviceBus>(
    shared: &Shared<B>,
    s: &Submit,
    setup: &Setup,
    data_out: &[u8],
    result: Result<Vec<u8>, TransferError>,
    still_here: bool,
) -> Outcome {
    match result {
        Ok(mut data) => {
            if s.is_in() {
                let limit = usize::from(setup.length).min(s.transfer_buffer_length as usize);
                data.truncate(limit);
                if shared.opts.scale_poll_timeouts {
                    scale_poll_timeout(setup, &mut data, &shared.clock);
                }
            } else {
                data.clear();
            }
            let actual = if s.is_in() {
                data.len()
            } else {
                data_out.len()
            };
            Outcome::Reply {
                status: 0,
                data,
                actual: u32::try_from(actual).unwrap_or(u32::MAX),
                then_close: !still_here,
            }
        }
        Err(TransferError::Stall) => Outcome::status(-errno::EPIPE),
        Err(TransferError::Io) => Outcome::status(-errno::EPROTO),
        Err(TransferError::Timeout) => Outcome::Stuck,
        Err(TransferError::NoDevice) => Outcome::Gone,
    }
}

/// GET_DESCRIPTOR(device) for 64 bytes: what Linux reads first after a port reset.
fn is_first_read_after_reset(setup: &Setup) -> bool {
    setup.request_type == 0x80
        && setup.request == dfu_proto::request::STD_GET_DESCRIPTOR
        && setup.value == 0x0100
        && setup.length == 64
}

/// Scales bwPollTimeout in a DFU GETSTATUS answer, so the host waits real time that
/// matches the scaled busy period.
fn scale_poll_timeout(setup: &Setup, data: &mut [u8], clock: &crate::clock::Clock) {
    let is_getstatus = setup.request_type == dfu_proto::request::CLASS_IN_INTERFACE
        && setup.request == dfu_proto::DfuRequest::GetStatus as u8;
    if !is_getstatus || data.len() < 6 {
        return;
    }
    let ms = u32::from_le_bytes([data[1], data[2], data[3], 0]);
    let scaled = clock.scale_poll_ms(ms).to_le_bytes();
    data[1..4].copy_from_slice(&scaled[..3]);
}
