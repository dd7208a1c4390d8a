//! `time-scale=N`: the bus in real time, N times faster, so that devices used from
//! several threads at once work concurrently by the wall clock.
//!
//! The clock follows the wall clock (`now = elapsed real time x N`). Each device slot has
//! its own cursor, the time its host has reached on that device's port: a transfer starts
//! at the later of the cursor and the clock, takes its bus time (on the device's own port,
//! or on its hub's shared bus time when it has `hub=`), and the calling thread then sleeps
//! until real time catches up with the cursor. A request to a busy device sleeps until it
//! is done. Nothing sleeps while holding the bus lock, so one device's waits never hold up
//! another's.

use super::{Bus, Inner};
use crate::error::UsbError;
use crate::spec::SimSpec;
use crate::timing::bus_time;
use dfu_proto::Setup;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A thread runs ahead of real time by at most this much before it sleeps (fewer,
/// longer sleeps keep the sleeping overhead out of the measurement).
const SLACK: Duration = Duration::from_millis(1);

/// The real-time state of a paced bus.
#[derive(Debug)]
pub(super) struct Realtime {
    scale: f64,
    start: Instant,
    cursors: Vec<Duration>,
    hub_of: Vec<Option<String>>,
    hub_free: HashMap<String, Duration>,
}

impl Realtime {
    /// The pacing of a bus with these devices, `None` without `time-scale=`.
    pub(super) fn new<'a>(specs: impl Iterator<Item = &'a SimSpec>) -> Option<Self> {
        let specs: Vec<&SimSpec> = specs.collect();
        let scale = specs.iter().find_map(|s| s.time_scale)?;
        Some(Realtime {
            scale,
            start: Instant::now(),
            cursors: vec![Duration::ZERO; specs.len()],
            hub_of: specs.iter().map(|s| s.hub.clone()).collect(),
            hub_free: HashMap::new(),
        })
    }

    /// The bus time that corresponds to now.
    fn wall(&self) -> Duration {
        Duration::from_secs_f64(self.start.elapsed().as_secs_f64() * self.scale)
    }

    /// Real time for `d` of bus time.
    fn real(&self, d: Duration) -> Duration {
        Duration::from_secs_f64(d.as_secs_f64() / self.scale)
    }
}

/// Port chains: slot N on root port N+1; devices behind a hub on the root port of the hub's
/// first device, then their place behind the hub (`1-3.2`).
pub(super) fn port_chains<'a>(specs: impl Iterator<Item = &'a SimSpec>) -> Vec<Vec<u8>> {
    let mut hubs: HashMap<&str, (u8, u8)> = HashMap::new();
    specs
        .enumerate()
        .map(|(slot, s)| {
            let root = u8::try_from(slot + 1).unwrap_or(u8::MAX);
            match &s.hub {
                None => vec![root],
                Some(h) => {
                    let (port, n) = hubs.entry(h).or_insert((root, 0));
                    *n = n.saturating_add(1);
                    vec![*port, *n]
                }
            }
        })
        .collect()
}

/// One try at a paced transfer: the reply, or `None` when the device is busy; and how
/// long the caller must sleep (outside the lock) before returning or trying again.
type Step = (Option<Result<Vec<u8>, UsbError>>, Duration);

impl Inner {
    /// Moves the clock up to real time (paced buses only).
    pub(super) fn tick(&mut self) {
        if let Some(rt) = &self.rt {
            self.now = self.now.max(rt.wall().min(super::MAX_TIME));
        }
    }

    fn control_step(
        &mut self,
        id: crate::DeviceId,
        setup: Setup,
        data: &[u8],
        timeout: Option<Duration>,
    ) -> Step {
        let wall = self.now;
        let Some(slot) = self.find(id) else {
            return (Some(Err(UsbError::NoDevice)), Duration::ZERO);
        };
        let Some(rt) = self.rt.as_mut() else {
            return (Some(self.control(id, setup, data, timeout)), Duration::ZERO);
        };
        let cursor = rt.cursors[slot].max(wall);
        if let Some(busy) = self.devices[slot].core.busy_until.filter(|b| *b > cursor) {
            // The host gives up after its timeout (the device never sees the request).
            if let Some(limit) = timeout.filter(|l| busy - cursor > *l) {
                let real = rt.real(limit);
                self.devices[slot].counters.timeouts += 1;
                return (Some(Err(UsbError::Timeout)), real);
            }
            return (None, rt.real(busy - wall));
        }
        let start = match &rt.hub_of[slot] {
            None => cursor,
            Some(hub) => {
                let bytes = if setup.is_in() {
                    usize::from(setup.length)
                } else {
                    data.len()
                };
                let free = rt.hub_free.entry(hub.clone()).or_default();
                let start = cursor.max(*free);
                *free = start + bus_time(bytes);
                start
            }
        };
        self.now = start;
        let reply = self.control(id, setup, data, None);
        let end = self.now;
        self.now = wall;
        let Some(rt) = self.rt.as_mut() else {
            return (Some(reply), Duration::ZERO);
        };
        rt.cursors[slot] = end;
        let lead = rt.real(end.saturating_sub(wall));
        (
            Some(reply),
            if lead > SLACK { lead } else { Duration::ZERO },
        )
    }
}

impl Bus {
    /// `time-scale=`: how many times faster than real time the bus runs; `None` when its
    /// clock is virtual (it moves only as the devices and the host act).
    pub fn time_scale(&self) -> Option<f64> {
        self.lock().rt.as_ref().map(|rt| rt.scale)
    }

    /// A control transfer on a paced bus (see the module documentation).
    pub(super) fn control_paced(
        &self,
        dev: crate::DeviceId,
        setup: Setup,
        data: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, UsbError> {
        loop {
            let (reply, sleep) = self.lock().control_step(dev, setup, data, timeout);
            if !sleep.is_zero() {
                std::thread::sleep(sleep);
            }
            if let Some(reply) = reply {
                return reply;
            }
        }
    }

    /// The host waits `d` on a paced bus: the calling thread sleeps. False on a virtual
    /// bus (the caller moves the clock instead).
    pub(super) fn sleep_paced(&self, d: Duration) -> bool {
        let real = {
            let mut g = self.lock();
            let Some(rt) = &g.rt else { return false };
            let real = rt.real(d.min(super::MAX_TIME));
            g.host_wait += d;
            real
        };
        std::thread::sleep(real);
        true
    }
}
