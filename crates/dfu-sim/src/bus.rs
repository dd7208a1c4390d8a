//! The simulated bus: the devices of a spec, one virtual clock, and the path every
//! control transfer takes (wait while the device is busy, injected faults, bus time,
//! the device's answer, statistics), and [`SimTransport`], the [`Transport`] over it.

use crate::device::{Device, Ids};
use crate::error::{DeviceId, SimError, UsbError};
use crate::fault::{FaultAction, FAULT_TIMEOUT};
use crate::spec::{parse_specs, Mode, SimSpec};
use crate::stats::Stats;
use crate::timing::bus_time;
use crate::{state, usb};
use dfu_proto::request::RequestKind;
use dfu_proto::{DeviceDescriptor, DfuRequest, Setup, Transport, TransportError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

mod realtime;

/// Where the virtual clock stops.
const MAX_TIME: Duration = Duration::from_secs(1 << 40);

/// A device attached to the bus right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    /// This incarnation's id (changes when the device re-enumerates).
    pub id: DeviceId,
    /// Index of the device in the spec list.
    pub slot: usize,
    /// USB bus number (always 1).
    pub bus_number: u8,
    /// USB device address (new at every enumeration).
    pub address: u8,
    /// Port path from the root hub (`[slot + 1]`, so dfu-util prints `path="1-1"`).
    pub port_numbers: Vec<u8>,
    /// The device descriptor.
    pub device_descriptor: DeviceDescriptor,
    /// The device descriptor as sent on the wire.
    pub device_descriptor_bytes: [u8; 18],
    /// The whole configuration descriptor as sent on the wire.
    pub config_descriptor: Vec<u8>,
    /// True in run-time mode (the application runs), false in DFU mode.
    pub runtime_mode: bool,
    /// The serial-number string.
    pub serial: String,
    /// The profile's name.
    pub profile_name: String,
}

#[derive(Debug)]
struct Inner {
    devices: Vec<Device>,
    ids: Ids,
    now: Duration,
    host_wait: Duration,
    /// `time-scale=`: the clock follows real time, and transfers take real time.
    rt: Option<realtime::Realtime>,
    /// Port chain of each slot (`hub=` puts devices behind a hub's port).
    ports: Vec<Vec<u8>>,
    /// A failure to save was returned by [`Bus::flush`]: dropping does not report it again.
    save_failure_returned: bool,
}

impl Inner {
    fn settle(&mut self) {
        let now = self.now;
        for d in &mut self.devices {
            d.settle(now, &mut self.ids);
        }
    }

    fn find(&mut self, id: DeviceId) -> Option<usize> {
        self.settle();
        self.devices
            .iter()
            .position(|d| d.attached().is_some_and(|(i, _, _)| i == id))
    }

    /// A busy device takes no request until it is done (it NAKs); a host whose timeout
    /// runs out first cancels the transfer, which the device never sees. Returns the
    /// device's slot once it is ready.
    fn wait_while_busy(
        &mut self,
        id: DeviceId,
        slot: usize,
        timeout: Option<Duration>,
    ) -> Result<usize, UsbError> {
        let Some(t) = self.devices[slot].core.busy_until.filter(|t| *t > self.now) else {
            return Ok(slot);
        };
        if let Some(limit) = timeout.filter(|l| t - self.now > *l) {
            let dev = &mut self.devices[slot];
            dev.counters.blocked += limit;
            dev.counters.timeouts += 1;
            self.now += limit;
            self.settle();
            return Err(UsbError::Timeout);
        }
        self.devices[slot].counters.blocked += t - self.now;
        self.now = t;
        self.find(id).ok_or(UsbError::NoDevice)
    }

    fn control(
        &mut self,
        id: DeviceId,
        setup: Setup,
        data: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, UsbError> {
        let slot = self.find(id).ok_or(UsbError::NoDevice)?;
        if setup.kind() == RequestKind::Class {
            self.devices[slot].claim()?;
        }
        let slot = self.wait_while_busy(id, slot, timeout)?;
        let now = self.now;
        let dev = &mut self.devices[slot];
        let Some((_, _, mode)) = dev.attached() else {
            return Err(UsbError::NoDevice);
        };
        let class = setup.kind() == RequestKind::Class;
        let fault = match setup.dfu_request() {
            Some(r) if class => dev.faults.hit(r),
            _ => None,
        };
        let kind = dev.kind_of(&setup, data.len());
        dev.counters.count(kind);
        let forced = match fault {
            Some(FaultAction::Disconnect) => {
                dev.go_away(None, mode);
                return Err(UsbError::NoDevice);
            }
            Some(FaultAction::Timeout) => {
                dev.counters.blocked += FAULT_TIMEOUT;
                self.now += FAULT_TIMEOUT;
                return Err(UsbError::Timeout);
            }
            Some(FaultAction::Stall | FaultAction::Corrupt) => None,
            Some(FaultAction::Status(s)) => Some(s),
            Some(FaultAction::Signal(n)) => {
                #[cfg(not(target_arch = "wasm32"))]
                if let Err(e) = signal_hook::low_level::raise(n) {
                    eprintln!("dfu-sim: cannot raise signal {n}: {e}");
                }
                #[cfg(target_arch = "wasm32")]
                eprintln!("dfu-sim: signal {n} cannot be raised on wasm32");
                None
            }
            None => None,
        };
        let bytes = if setup.is_in() {
            usize::from(setup.length)
        } else {
            data.len()
        };
        let bus = bus_time(bytes);
        dev.counters.bus += bus;
        let now = now + bus;
        self.now = now;
        if fault == Some(FaultAction::Stall) {
            return Err(UsbError::Stall);
        }
        if setup.dfu_request() == Some(DfuRequest::Dnload) && class {
            dev.counters.bytes_down += data.len() as u64;
        }
        let mut reply = dev.request(now, mode, setup, data, forced);
        if let (Some(FaultAction::Corrupt), Ok(b)) = (fault, reply.as_mut()) {
            if let Some(first) = b.first_mut() {
                *first = !*first;
            }
        }
        let (reply, lost) = crate::hostile::tell(dev, mode, &setup, reply);
        self.now += lost;
        self.settle();
        reply
    }

    fn views(&mut self) -> Vec<DeviceView> {
        self.settle();
        self.devices
            .iter()
            .filter_map(|d| {
                let (id, address, mode) = d.attached()?;
                let p = &d.spec.profile;
                let desc = usb::device_descriptor(p, mode);
                let config_descriptor =
                    crate::hostile::enumerated(d.spec.hostile, id, usb::config_descriptor(p, mode));
                Some(DeviceView {
                    id,
                    slot: d.slot,
                    bus_number: 1,
                    address,
                    port_numbers: self.ports[d.slot].clone(),
                    device_descriptor_bytes: desc.encode(),
                    device_descriptor: desc,
                    config_descriptor,
                    runtime_mode: mode == Mode::Runtime,
                    serial: d.spec.serial_string().to_string(),
                    profile_name: p.name.clone(),
                })
            })
            .collect()
    }

    fn flush(&self) -> Result<(), SimError> {
        for d in &self.devices {
            // Only the process that claimed a device writes its state: another one that
            // merely listed it must not overwrite what the owner wrote.
            if let Some(path) = d.spec.state.as_ref().filter(|_| d.claim.is_some()) {
                state::save(path, &d.spec, &d.flash)?;
            }
            if let Some(path) = &d.spec.stats {
                let stats = d.counters.snapshot(self.now, self.host_wait);
                let text = serde_json::to_string_pretty(&stats).map_err(|e| SimError::Io {
                    what: "stats",
                    path: path.clone(),
                    source: std::io::Error::other(e),
                })?;
                state::write_atomically(path, "stats", text.as_bytes())?;
            }
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.save_failure_returned {
            return;
        }
        if let Err(e) = self.flush() {
            eprintln!("dfu-sim: {e}");
        }
    }
}

/// The simulated bus. Thread-safe and cheap to clone: clones share the devices and the
/// clock. State and stats files are written by [`Bus::flush`] and when the last clone
/// (including every [`SimTransport`]) is dropped.
#[derive(Debug, Clone)]
pub struct Bus(Arc<Mutex<Inner>>);

impl Bus {
    /// A bus with the devices of a spec string (see [`parse_specs`]); state files are
    /// loaded, or created when missing.
    pub fn from_spec(spec: &str) -> Result<Bus, SimError> {
        Bus::from_specs(parse_specs(spec)?)
    }

    /// A bus with already parsed devices.
    pub fn from_specs(specs: Vec<SimSpec>) -> Result<Bus, SimError> {
        let mut devices = Vec::with_capacity(specs.len());
        for (slot, spec) in specs.into_iter().enumerate() {
            let flash = state::open(&spec)?;
            devices.push(Device::new(slot, spec, flash));
        }
        let ports = realtime::port_chains(devices.iter().map(|d| &d.spec));
        let rt = realtime::Realtime::new(devices.iter().map(|d| &d.spec));
        let mut inner = Inner {
            devices,
            ids: Ids::new(),
            now: Duration::ZERO,
            host_wait: Duration::ZERO,
            rt,
            ports,
            save_failure_returned: false,
        };
        inner.settle();
        Ok(Bus(Arc::new(Mutex::new(inner))))
    }

    /// A bus from the `DFU_SIM` environment variable, `None` when it is unset or empty.
    pub fn from_env() -> Result<Option<Bus>, SimError> {
        match std::env::var(crate::ENV_VAR) {
            Ok(s) if !s.trim().is_empty() => Bus::from_spec(&s).map(Some),
            _ => Ok(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.tick();
        g
    }

    /// Devices attached now (at the current virtual time).
    pub fn devices(&self) -> Vec<DeviceView> {
        self.lock().views()
    }

    /// A control transfer. IN requests return the device's data (at most
    /// `setup.length` bytes); OUT requests send `data_out` (its length must equal
    /// `setup.length`, else STALL) and return an empty vector.
    pub fn control(
        &self,
        dev: DeviceId,
        setup: Setup,
        data_out: &[u8],
    ) -> Result<Vec<u8>, UsbError> {
        self.control_timeout(dev, setup, data_out, None)
    }

    /// [`Bus::control`] with the host's transfer timeout: a request that the busy device
    /// would hold longer than `timeout` fails with [`UsbError::Timeout`] after `timeout` of
    /// virtual time, as libusb and nusb report it, and the device never sees it. `None`
    /// waits as long as the device is busy (libusb's timeout 0).
    pub fn control_timeout(
        &self,
        dev: DeviceId,
        setup: Setup,
        data_out: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, UsbError> {
        if self.lock().rt.is_some() {
            return self.control_paced(dev, setup, data_out, timeout);
        }
        self.lock().control(dev, setup, data_out, timeout)
    }

    /// SET_CONFIGURATION.
    pub fn set_configuration(&self, dev: DeviceId, value: u8) -> Result<(), UsbError> {
        let setup = Setup {
            request_type: dfu_proto::request::STD_OUT_DEVICE,
            request: dfu_proto::request::STD_SET_CONFIGURATION,
            value: value.into(),
            index: 0,
            length: 0,
        };
        self.control(dev, setup, &[]).map(drop)
    }

    /// SET_INTERFACE: select alternate setting `alt` of `interface`.
    pub fn set_interface(&self, dev: DeviceId, interface: u8, alt: u8) -> Result<(), UsbError> {
        let setup = Setup {
            request_type: dfu_proto::request::STD_OUT_INTERFACE,
            request: dfu_proto::request::STD_SET_INTERFACE,
            value: alt.into(),
            index: interface.into(),
            length: 0,
        };
        self.control(dev, setup, &[]).map(drop)
    }

    /// A USB bus reset. The device re-enumerates under a new id and address: at once
    /// when it stays in the same mode, after `timing.reset_ms` when it reboots (from
    /// appDETACH into DFU mode, from dfuMANIFEST-WAIT-RESET into its application).
    pub fn reset(&self, dev: DeviceId) -> Result<(), UsbError> {
        let mut g = self.lock();
        let slot = g.find(dev).ok_or(UsbError::NoDevice)?;
        let now = g.now;
        g.devices[slot].usb_reset(now);
        g.settle();
        Ok(())
    }

    /// The host waits: virtual time passes (counted as host wait).
    pub fn advance(&self, d: Duration) {
        if self.sleep_paced(d) {
            return;
        }
        let mut g = self.lock();
        // The clock stops at ~35,000 years so that later sums cannot overflow.
        let now = g.now.saturating_add(d).min(MAX_TIME).max(g.now);
        let waited = now - g.now;
        g.now = now;
        g.host_wait += waited;
        g.settle();
    }

    /// True when the bus runs in real time (`time-scale=`): [`Bus::advance`] then really
    /// sleeps, and the clock follows the wall clock.
    pub fn paced(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rt
            .is_some()
    }

    /// Virtual time since the bus was created.
    pub fn now(&self) -> Duration {
        self.lock().now
    }

    /// Writes the state and stats files now.
    pub fn flush(&self) -> Result<(), SimError> {
        let mut g = self.lock();
        let r = g.flush();
        g.save_failure_returned = r.is_err();
        r
    }

    /// A [`dfu_proto::Transport`] to the DFU interface `interface` of a device.
    pub fn transport(&self, dev: DeviceId, interface: u8) -> SimTransport {
        SimTransport::new(self.clone(), dev, interface)
    }

    /// Statistics of the device in `slot` so far (all zero for a slot that does not exist).
    pub fn stats(&self, slot: usize) -> Stats {
        let g = self.lock();
        g.devices
            .get(slot)
            .map(|d| d.counters.snapshot(g.now, g.host_wait))
            .unwrap_or_default()
    }

    /// Number of device slots (devices in the spec).
    pub fn slot_count(&self) -> usize {
        self.lock().devices.len()
    }

    /// Reads simulated memory directly, without the protocol (for tests and inspection):
    /// `len` bytes of alt setting `alt` of the device in `slot`, 0xFF where erased.
    pub fn read_memory(
        &self,
        slot: usize,
        alt: u8,
        address: u32,
        len: usize,
    ) -> Result<Vec<u8>, SimError> {
        let g = self.lock();
        let flash = g
            .devices
            .get(slot)
            .and_then(|d| d.flash.get(usize::from(alt)))
            .ok_or(SimError::NoSuchSlot { slot, alt })?;
        Ok(flash.read(u64::from(address), len))
    }
}

/// A connection to one simulated device's DFU interface. Requests go through
/// [`Bus::control`]; `wait` advances the virtual clock; `reset` is a USB bus reset,
/// after which the device has a new id, so this transport then reports
/// [`TransportError::Disconnected`] (find the device again with [`Bus::devices`]).
/// Every control transfer has the host's timeout ([`HOST_TIMEOUT`] unless
/// [`Transport::set_timeout`] says otherwise).
#[derive(Debug, Clone)]
pub struct SimTransport {
    bus: Bus,
    dev: DeviceId,
    interface: u8,
    timeout: Duration,
}

/// The control-transfer timeout a host gives by default (nusb backend, dfu-util: 5 s).
pub const HOST_TIMEOUT: Duration = Duration::from_secs(5);

impl SimTransport {
    pub(crate) fn new(bus: Bus, dev: DeviceId, interface: u8) -> Self {
        SimTransport {
            bus,
            dev,
            interface,
            timeout: HOST_TIMEOUT,
        }
    }

    /// The device this transport talks to.
    pub fn device(&self) -> DeviceId {
        self.dev
    }

    /// The DFU interface number.
    pub fn interface(&self) -> u8 {
        self.interface
    }

    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
}

impl Transport for SimTransport {
    fn control_in(&mut self, setup: Setup) -> Result<Vec<u8>, TransportError> {
        let t = Some(self.timeout);
        Ok(self.bus.control_timeout(self.dev, setup, &[], t)?)
    }

    fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), TransportError> {
        let t = Some(self.timeout);
        self.bus.control_timeout(self.dev, setup, data, t)?;
        Ok(())
    }

    fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn set_alt_setting(&mut self, interface: u8, alt: u8) -> Result<(), TransportError> {
        Ok(self.bus.set_interface(self.dev, interface, alt)?)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        Ok(self.bus.reset(self.dev)?)
    }

    fn wait(&mut self, duration: Duration) {
        self.bus.advance(duration);
    }

    fn now(&self) -> Duration {
        self.bus.now()
    }
}
