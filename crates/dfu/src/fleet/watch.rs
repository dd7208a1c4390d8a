//! A production line: wait for devices and flash each one as it is plugged in, once per
//! plug-in, keyed by serial number (or bus path when it has none). A device that failed
//! stays failed, and one that was flashed is not flashed again, until it has been gone
//! from the bus for [`WatchOptions::unplug_grace`].

use crate::backend::{Backend, UsbDevice};
use crate::discover::Selector;
use crate::error::Result;
use crate::events::Event;
use crate::many::{flash_one, DeviceResult, Job, Target};
use crate::wait::in_dfu_mode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How a watch runs.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Which devices to flash (USB ids; serial and path narrow it further).
    pub selector: Selector,
    /// Stop after this many devices have been handled (flashed or failed).
    pub count: Option<usize>,
    /// How often the bus is listed.
    pub poll: Duration,
    /// A device counts as unplugged once it has been gone this long (a flashed device that
    /// restarts into its application leaves the bus for a moment).
    pub unplug_grace: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            selector: Selector::default(),
            count: None,
            poll: crate::wait::POLL,
            unplug_grace: Duration::from_secs(3),
        }
    }
}

/// What the watch tells its caller, on the caller's thread.
#[derive(Debug)]
pub enum WatchNews {
    /// A device was plugged in and is being flashed.
    Started(Target),
    /// A device is done.
    Finished(Box<DeviceResult>),
}

/// Where a device stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Being flashed.
    InFlight,
    /// Flashed; not flashed again while plugged in.
    Flashed,
    /// Failed; stays failed until unplugged.
    Failed,
}

/// The devices a watch has seen, by key. Pure bookkeeping: the caller lists the bus.
#[derive(Debug, Default)]
pub struct Seen {
    devices: HashMap<String, (Standing, Duration)>,
}

/// The key of a listed device: its serial, else its path.
pub fn key_of(d: &UsbDevice) -> String {
    d.serial.clone().unwrap_or_else(|| d.path())
}

impl Seen {
    /// Takes in the devices present at `now` (those the selection matches): forgets devices
    /// gone longer than `grace`, and returns the new DFU-mode devices, now in flight.
    pub fn update(&mut self, present: &[UsbDevice], now: Duration, grace: Duration) -> Vec<Target> {
        let mut new = Vec::new();
        for d in present {
            let key = key_of(d);
            match self.devices.get_mut(&key) {
                Some((_, last)) => *last = now,
                None if in_dfu_mode(d) => {
                    self.devices.insert(key, (Standing::InFlight, now));
                    new.push(Target::from_usb(d));
                }
                None => {}
            }
        }
        self.devices
            .retain(|_, (s, last)| *s == Standing::InFlight || now.saturating_sub(*last) < grace);
        new
    }

    /// Records how a device's flash ended, at `now`.
    pub fn finished(&mut self, key: &str, ok: bool, now: Duration) {
        let standing = if ok {
            Standing::Flashed
        } else {
            Standing::Failed
        };
        self.devices.insert(key.to_string(), (standing, now));
    }

    /// Where the device with this key stands, if it is known.
    pub fn standing(&self, key: &str) -> Option<Standing> {
        self.devices.get(key).map(|(s, _)| *s)
    }
}

/// The DFU-capable devices attached now that `selector` matches.
fn listed(backend: &mut dyn Backend, selector: &Selector) -> Result<Vec<UsbDevice>> {
    Ok(backend
        .devices()?
        .into_iter()
        .filter(|d| d.is_dfu() && selector.matches(d, None))
        .collect())
}

/// Watches the bus until `stop` is set or `opts.count` devices are done, flashing each
/// DFU-mode device that appears in its own thread. `events` receives each device's events;
/// `news` hears of every start and result. Returns how many devices were handled.
pub fn watch(
    backend: &mut dyn Backend,
    job: &Job,
    opts: &WatchOptions,
    stop: &AtomicBool,
    events: &(dyn Fn(&Target, &Event) + Sync),
    news: &mut dyn FnMut(WatchNews),
) -> Result<usize> {
    let (tx, rx) = mpsc::channel::<DeviceResult>();
    let virtual_clock = backend.clock_is_virtual();
    let mut seen = Seen::default();
    let (mut started, mut done) = (0usize, 0usize);
    let limit = opts.count.unwrap_or(usize::MAX);
    std::thread::scope(|s| {
        let finish = |r: DeviceResult, seen: &mut Seen, now, news: &mut dyn FnMut(WatchNews)| {
            seen.finished(r.target.key(), r.ok(), now);
            news(WatchNews::Finished(Box::new(r)));
        };
        loop {
            while let Ok(r) = rx.try_recv() {
                done += 1;
                finish(r, &mut seen, backend.now(), news);
            }
            let stopping = stop.load(Ordering::Relaxed) || started >= limit;
            if stopping || (virtual_clock && started > done) {
                if started == done {
                    return Ok(done);
                }
                // A virtual clock must not run ahead of the devices being flashed; and a
                // stopping watch only waits for them.
                if let Ok(r) = rx.recv_timeout(opts.poll) {
                    done += 1;
                    finish(r, &mut seen, backend.now(), news);
                }
                continue;
            }
            let present = match listed(backend, &opts.selector) {
                Ok(v) => v,
                Err(e) => {
                    drop(tx);
                    while let Ok(r) = rx.recv() {
                        finish(r, &mut seen, backend.now(), news);
                    }
                    return Err(e);
                }
            };
            for target in seen.update(&present, backend.now(), opts.unplug_grace) {
                if started >= limit {
                    break;
                }
                started += 1;
                news(WatchNews::Started(target.clone()));
                let (mut handle, tx) = (backend.handle(), tx.clone());
                s.spawn(move || {
                    let r = flash_one(handle.as_mut(), &target, job, &mut |e| events(&target, e));
                    let _ = tx.send(r);
                });
            }
            if started == done || !virtual_clock {
                backend.wait(opts.poll);
            }
            if virtual_clock {
                // A virtual clock costs no time to wait on: keep the loop from spinning.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(serial: Option<&str>, port: u8, protocol: u8) -> UsbDevice {
        UsbDevice {
            vendor_id: 0x0483,
            product_id: 0xdf11,
            bcd_device: 0x2200,
            bus: 1,
            address: port + 1,
            ports: vec![port],
            manufacturer: None,
            product: None,
            serial: serial.map(str::to_string),
            dfu_interfaces: vec![(0, protocol)],
            windows_driver: None,
            key: u64::from(port),
        }
    }

    #[test]
    fn each_plug_in_is_flashed_once_and_a_failure_sticks_until_unplugged() {
        let grace = Duration::from_secs(3);
        let t = Duration::from_secs;
        let mut seen = Seen::default();
        let a = dev(Some("A"), 1, 2);
        let b = dev(None, 2, 2);
        let new = seen.update(&[a.clone(), b.clone()], t(0), grace);
        assert_eq!(
            new.iter().map(Target::key).collect::<Vec<_>>(),
            ["A", "1-2"]
        );
        // In flight: not started again, even when gone for a while.
        assert!(seen.update(&[], t(10), grace).is_empty());
        seen.finished("A", true, t(10));
        seen.finished("1-2", false, t(10));
        assert!(seen
            .update(&[a.clone(), b.clone()], t(11), grace)
            .is_empty());
        assert_eq!(seen.standing("1-2"), Some(Standing::Failed));
        // A flashed device restarting into its application (run-time mode, same serial)
        // keeps its standing; gone briefly, too.
        assert!(seen
            .update(&[dev(Some("A"), 1, 1)], t(12), grace)
            .is_empty());
        assert!(seen
            .update(std::slice::from_ref(&a), t(14), grace)
            .is_empty());
        // Unplugged longer than the grace: a new plug-in.
        assert!(seen.update(&[], t(20), grace).is_empty());
        assert_eq!(seen.standing("A"), None);
        assert_eq!(seen.update(&[a], t(21), grace).len(), 1);
        // A run-time device that was never seen is not flashed.
        assert!(seen
            .update(&[dev(Some("R"), 3, 1)], t(22), grace)
            .is_empty());
    }
}
