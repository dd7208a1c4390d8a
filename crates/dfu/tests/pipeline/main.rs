//! The flash pipeline through the library against simulated devices: placement, every
//! check, dependency order, multi-target DfuSe files, the dry run against the real run, and
//! what a failure reports.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

mod checks;
mod defects;
mod fits;
mod invariants;
mod liar;
mod many;
mod matrix;
mod runs;
mod stream;
mod timeouts;
mod world;

use dfu::backend::sim::SimBackend;
use dfu::FlashReport;
use dfu::{Backend, DeviceView, DfuDevice, Event, Firmware, FlashFailure, FlashOptions, FlashPlan};
use tempfile::TempDir;

/// A simulated device whose flash persists in a temporary state file.
pub struct Sim {
    /// The spec with `state=`.
    pub spec: String,
    _dir: TempDir,
}

impl Sim {
    /// `profile` (with extra `,key=value` knobs) with a fresh state file.
    pub fn new(profile: &str) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let spec = format!("{profile},state={}", dir.path().join("s.json").display());
        Sim { spec, _dir: dir }
    }

    /// Connects, opens `alt`, and reads the device.
    fn open(&self, alt: u8) -> (SimBackend, DfuDevice, DeviceView) {
        let mut b = SimBackend::new(&self.spec).unwrap();
        let info =
            dfu::prepare::connect(&mut b, &dfu::DeviceRequest::default(), &mut |_| {}).unwrap();
        let mut dev = DfuDevice::open(&mut b, info, alt).unwrap();
        let view = dev.survey(None).unwrap();
        (b, dev, view)
    }

    /// The plan for `files`, without running it.
    pub fn plan(&self, files: Vec<Firmware>, opts: &FlashOptions) -> dfu::Result<FlashPlan> {
        let (mut b, dev, view) = self.open(opts.alt.unwrap_or(0));
        drop(dev);
        b.finish().unwrap();
        dfu::plan(&view, files, opts)
    }

    /// Plans and executes; returns the plan, the result and every event.
    pub fn flash(&self, files: Vec<Firmware>, opts: &FlashOptions) -> Flashed {
        let (mut b, mut dev, view) = self.open(opts.alt.unwrap_or(0));
        let plan = dfu::plan(&view, files, opts).unwrap();
        let mut events = Vec::new();
        let result = dev.execute(&plan, &mut |e| events.push(e.clone()));
        drop(dev);
        b.finish().unwrap();
        Flashed {
            plan,
            result,
            events,
        }
    }

    /// Reads `len` bytes at `address` of `alt`.
    pub fn read(&self, alt: u8, address: u32, len: u64) -> Vec<u8> {
        let (mut b, mut dev, _) = self.open(alt);
        let data = dev.read(address, len, &mut |_| {}).unwrap();
        drop(dev);
        b.finish().unwrap();
        data
    }
}

/// What one flash did.
pub struct Flashed {
    /// The plan.
    pub plan: FlashPlan,
    /// The result.
    pub result: Result<FlashReport, FlashFailure>,
    /// Every event, in order.
    pub events: Vec<Event>,
}

impl Flashed {
    /// The report of a flash that must have succeeded.
    pub fn ok(&self) -> &FlashReport {
        match &self.result {
            Ok(r) => r,
            Err(f) => panic!("flash failed: {} (done: {:?})", f.error, f.done),
        }
    }
}

/// A raw binary.
pub fn raw(name: &str, data: Vec<u8>) -> Firmware {
    Firmware::parse(name, &data).unwrap()
}

/// Bytes that differ from block to block (seeded).
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// Options with an address.
pub fn at(address: u32) -> FlashOptions {
    FlashOptions {
        address: Some(address),
        ..FlashOptions::default()
    }
}
