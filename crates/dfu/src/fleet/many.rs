//! Many devices at once: pick the set of devices ([`select`]), then flash each one in its
//! own thread through the one pipeline (connect, survey, plan, execute) with its own
//! backend handle ([`flash_many`]). Devices share nothing but the backend, so a failure on
//! one never stops, slows or corrupts another; every device gets its own result.

use crate::backend::Backend;
use crate::discover::{find, DeviceInfo, Selector};
use crate::error::{Candidate, DfuError, Op, Result};
use crate::events::{Event, Sink};
use crate::firmware::Firmware;
use crate::flash::{FlashFailure, FlashReport};
use crate::pipeline::FlashOptions;
use crate::prepare::prepare;
use crate::request::{AltChoice, DeviceRequest, Operation, Request};
use dfu_profiles::Profile;
use dfu_proto::MemoryLayout;
use serde::Serialize;
use std::time::Duration;

/// One device of a many-device run: what the user sees, and how each thread finds it again.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Target {
    /// USB ids, `vvvv:pppp`.
    pub id: String,
    /// Bus path (`1-2.3`), which selects the device again.
    pub path: String,
    /// Serial number string, when the device has one.
    pub serial: Option<String>,
    /// The device as the selection described it (not described again when flashed).
    #[serde(skip)]
    pub info: Option<Box<DeviceInfo>>,
}

impl Target {
    /// The target for a described device.
    pub fn of(info: &DeviceInfo) -> Target {
        Target {
            id: info.usb.id(),
            path: info.usb.path(),
            serial: info.serial.clone().or_else(|| info.usb.serial.clone()),
            info: Some(Box::new(info.clone())),
        }
    }

    /// The target for a listed device (its serial as the listing knows it).
    pub fn from_usb(usb: &crate::backend::UsbDevice) -> Target {
        Target {
            id: usb.id(),
            path: usb.path(),
            serial: usb.serial.clone(),
            info: None,
        }
    }

    /// The serial number, else the path: what tells devices apart in reports and logs.
    pub fn key(&self) -> &str {
        self.serial.as_deref().unwrap_or(&self.path)
    }

    /// `SERIAL (PATH)`, or the path alone.
    pub fn label(&self) -> String {
        match &self.serial {
            Some(s) => format!("{s} ({})", self.path),
            None => self.path.clone(),
        }
    }

    /// The selector that finds this device (its bus path, which the listing knows without
    /// opening any device, so a thread never opens another thread's device).
    pub fn selector(&self) -> Selector {
        Selector {
            path: Some(self.path.clone()),
            ..Selector::default()
        }
    }
}

/// What to write to every device, and how.
#[derive(Debug, Clone, Default)]
pub struct Job {
    /// The firmware files (each device gets its own plan from them).
    pub files: Vec<Firmware>,
    /// How to flash (its `alt` comes from [`Job::alt`], resolved on each device).
    pub options: FlashOptions,
    /// A profile that replaces profile matching.
    pub profile: Option<Profile>,
    /// A memory layout for alt settings that do not announce one.
    pub layout: Option<MemoryLayout>,
    /// The alt setting: a number, or (part of) its name, resolved on each device.
    pub alt: AltChoice,
}

/// How one device went.
#[derive(Debug)]
pub struct DeviceResult {
    /// The device.
    pub target: Target,
    /// What was done, or the failure with what had been done before it. A refusal by a
    /// check is a failure with nothing written.
    pub result: std::result::Result<FlashReport, FlashFailure>,
    /// From the start of this device's work to its end, on the backend's clock.
    pub elapsed: Duration,
}

impl DeviceResult {
    /// True when the device was flashed (and verified, when asked).
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }
}

/// Receives each device's events with the index of its target.
pub type DeviceSink<'a> = &'a (dyn Fn(usize, &Event) + Sync);

fn no_device(selector: Selector, backend: &mut dyn Backend) -> DfuError {
    let seen = backend
        .devices()
        .map(|v| {
            v.iter()
                .map(|d| format!("{} at {}", d.id(), d.path()))
                .collect()
        })
        .unwrap_or_default();
    DfuError::NoDevice { selector, seen }
}

fn ambiguous(selector: Selector, found: &[&DeviceInfo]) -> DfuError {
    DfuError::Ambiguous {
        selector,
        candidates: found
            .iter()
            .map(|i| Candidate {
                summary: i.summary(),
                path: i.usb.path(),
                serial: i.serial.clone(),
            })
            .collect(),
    }
}

/// The devices to flash: exactly the ones named by `serials` and `paths` (each must match
/// one device that `base` also matches, else the error names it), or, when none is named,
/// every device `base` matches (at least one). Nothing is written.
pub fn select(
    backend: &mut dyn Backend,
    base: &Selector,
    serials: &[String],
    paths: &[String],
    profile: Option<&Profile>,
) -> Result<Vec<Target>> {
    let found = find(backend, base, profile)?;
    if serials.is_empty() && paths.is_empty() {
        if found.is_empty() {
            return Err(no_device(base.clone(), backend));
        }
        return Ok(found.iter().map(Target::of).collect());
    }
    let mut out: Vec<Target> = Vec::new();
    let named = serials
        .iter()
        .map(|s| (Some(s), None))
        .chain(paths.iter().map(|p| (None, Some(p))));
    for (serial, path) in named {
        let selector = Selector {
            serial: serial.cloned(),
            path: path.cloned(),
            ..base.clone()
        };
        let hits: Vec<&DeviceInfo> = found
            .iter()
            .filter(|i| selector.matches(&i.usb, i.serial.as_deref()))
            .collect();
        match hits.as_slice() {
            [] => return Err(no_device(selector, backend)),
            [one] => {
                let t = Target::of(one);
                if !out.iter().any(|o| o.path == t.path) {
                    out.push(t);
                }
            }
            _ => return Err(ambiguous(selector, &hits)),
        }
    }
    Ok(out)
}

/// Flashes one device through the pipeline: connect, open, survey, plan, execute. Notes go
/// to `events` first.
pub fn flash_one(
    backend: &mut dyn Backend,
    target: &Target,
    job: &Job,
    events: Sink,
) -> DeviceResult {
    let start = backend.now();
    let result = run_one(backend, target, job, events);
    DeviceResult {
        target: target.clone(),
        result,
        elapsed: backend.now().saturating_sub(start),
    }
}

fn run_one(
    backend: &mut dyn Backend,
    target: &Target,
    job: &Job,
    events: Sink,
) -> std::result::Result<FlashReport, FlashFailure> {
    let request = Request {
        device: DeviceRequest {
            selector: target.selector(),
            known: target.info.as_deref().cloned(),
            profile: job.profile.clone(),
            layout: job.layout.clone(),
            alt: job.alt.clone(),
            wait: None,
        },
        op: Operation::Flash {
            files: job.files.clone(),
            options: job.options.clone(),
        },
    };
    prepare(backend, &request, events)?.flash(events)
}

/// A panic in a device's thread is a bug; the device gets this failure, the others go on.
fn panicked(target: &Target) -> DeviceResult {
    DeviceResult {
        target: target.clone(),
        result: Err(FlashFailure::from(DfuError::Protocol {
            op: Op::Open,
            what: "internal error: the thread flashing this device stopped (a bug in dfu)".into(),
        })),
        elapsed: Duration::ZERO,
    }
}

/// Flashes every target at once, one thread each with its own backend handle; `events`
/// receives each device's events with its index in `targets`. Returns one result per
/// target, in the same order.
pub fn flash_many(
    backend: &dyn Backend,
    targets: &[Target],
    job: &Job,
    events: DeviceSink,
) -> Vec<DeviceResult> {
    std::thread::scope(|s| {
        let threads: Vec<_> = targets
            .iter()
            .enumerate()
            .map(|(i, target)| {
                let mut handle = backend.handle();
                s.spawn(move || {
                    flash_one(handle.as_mut(), target, job, &mut |e: &Event| events(i, e))
                })
            })
            .collect();
        threads
            .into_iter()
            .zip(targets)
            .map(|(t, target)| t.join().unwrap_or_else(|_| panicked(target)))
            .collect()
    })
}
