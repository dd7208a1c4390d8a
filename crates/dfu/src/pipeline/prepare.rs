//! The one entry point of every front end: [`prepare`] runs wait -> connect -> resolve the
//! alt -> open -> survey (the layout is decided here, once) -> read what the checks need ->
//! plan, and [`Prepared::execute`] runs the plan. `dfu flash`, `read` and `erase`, every
//! device of `flash --all` and `--watch`, [`crate::flash()`], the dfu-util drop-in and the
//! web page all go through here, so the same job sends the same USB requests from each.

use crate::backend::Backend;
use crate::code::Finding;
use crate::device::{detach, DfuDevice};
use crate::discover::{describe, select_one, DeviceInfo, Mode};
use crate::error::{DfuError, Result};
use crate::events::{Event, Sink};
use crate::flash::{FlashFailure, FlashReport};
use crate::pipeline::{plan, FlashOptions, FlashPlan};
use crate::readerase::{plan_erase, plan_read, ErasePlan, ReadPlan};
use crate::request::{DeviceRequest, Operation, Request};
use crate::survey::DeviceView;

/// What will be done, decided before anything is written.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Nothing but the survey (`dfu info`, option bytes, profile files).
    Survey,
    /// A flash.
    Flash(FlashPlan),
    /// A read.
    Read(ReadPlan),
    /// An erase.
    Erase(ErasePlan),
}

impl Plan {
    /// Every finding of the plan.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Plan::Survey => &[],
            Plan::Flash(p) => &p.findings,
            Plan::Read(p) => &p.findings,
            Plan::Erase(p) => &p.findings,
        }
    }

    /// `Err` with the first refusal, if any.
    pub fn check(&self) -> Result<()> {
        match self.findings().iter().find(|f| f.refuses()) {
            Some(f) => Err(DfuError::refused(f.clone())),
            None => Ok(()),
        }
    }

    /// The flash plan, when this is one.
    pub fn as_flash(&self) -> Option<&FlashPlan> {
        match self {
            Plan::Flash(p) => Some(p),
            _ => None,
        }
    }
}

/// What an executed plan did.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing was asked but the survey.
    Survey,
    /// What the flash did.
    Flash(FlashReport),
    /// The bytes read.
    Read(Vec<u8>),
    /// The sectors erased (start, size); empty after a mass erase.
    Erase(Vec<(u32, u32)>),
}

/// An opened, surveyed device and the plan for it.
pub struct Prepared {
    /// The device, opened on the alt setting the request means.
    pub device: DfuDevice,
    /// What the survey read.
    pub view: DeviceView,
    /// The plan.
    pub plan: Plan,
}

/// Runs the whole sequence before anything is written: waits for the device when asked,
/// connects (a run-time device is switched to DFU mode), resolves the alt setting, opens
/// it, surveys it (layouts decided once, here), reads what the checks need (option bytes,
/// installed modules) and plans. Notes go to `events` as they arise.
pub fn prepare(backend: &mut dyn Backend, request: &Request, events: Sink) -> Result<Prepared> {
    let d = &request.device;
    let info = connect(backend, d, events)?;
    let alt = d.alt.resolve(&info)?;
    let mut device = DfuDevice::open(backend, info, alt)?;
    let mut view = device.survey(d.layout.as_ref())?;
    for message in view.notes.drain(..) {
        events(&message.into());
    }
    let plan = match &request.op {
        Operation::Survey => Plan::Survey,
        Operation::Flash { files, options } => {
            device.read_option_bytes_for(&mut view, files)?;
            let options = FlashOptions {
                alt: d.alt.is_explicit().then_some(alt),
                ..options.clone()
            };
            Plan::Flash(plan(&view, files.clone(), &options)?)
        }
        Operation::Read { address, length } => Plan::Read(plan_read(&view, *address, *length)),
        Operation::Erase { range, force } => Plan::Erase(plan_erase(&view, *range, *force)),
    };
    Ok(Prepared { device, view, plan })
}

/// The one device `d` means, in DFU mode: waited for when asked, described unless already
/// known, and switched from run-time to DFU mode (with a note).
pub fn connect(backend: &mut dyn Backend, d: &DeviceRequest, events: Sink) -> Result<DeviceInfo> {
    let info = find_one(backend, d, events)?;
    if info.mode == Mode::Dfu {
        return Ok(info);
    }
    events(&Event::Note {
        code: crate::Code::Detached,
        message: format!(
            "{} is running its application; switching it to DFU mode",
            info.summary()
        ),
    });
    let usb = detach(backend, &info)?;
    describe(backend, &usb, d.profile.as_ref())
}

/// The one device `d` means, in whatever mode it is: waited for when asked, described
/// unless already known.
pub fn find_one(backend: &mut dyn Backend, d: &DeviceRequest, events: Sink) -> Result<DeviceInfo> {
    if let Some(known) = &d.known {
        return relisted(backend, d, known);
    }
    if let Some(w) = d.wait {
        if !crate::wait::present(backend, &d.selector)? {
            let hint = crate::wait::hint_for(&d.selector, d.profile.as_ref());
            events(&Event::Wait { hint });
            crate::wait::wait_for_device(backend, &d.selector, w.timeout)?;
        }
    }
    select_one(backend, &d.selector, d.profile.as_ref())
}

/// A device described by an earlier listing (of another backend handle, in a many-device
/// run), as this backend lists it now: the bus listing, which sends no request to any
/// device, lets this handle open it. Gone from the bus, it is not there to flash.
fn relisted(
    backend: &mut dyn Backend,
    d: &DeviceRequest,
    known: &DeviceInfo,
) -> Result<DeviceInfo> {
    let was = &known.usb;
    let now = backend.devices()?.into_iter().find(|u| {
        u.path() == was.path() && (u.vendor_id, u.product_id) == (was.vendor_id, was.product_id)
    });
    match now {
        Some(usb) => Ok(DeviceInfo {
            usb,
            ..known.clone()
        }),
        None => Err(DfuError::NoDevice {
            selector: d.selector.clone(),
            seen: Vec::new(),
        }),
    }
}

/// The failure for a request that ended as another kind of outcome (a bug).
fn mismatch(want: &str, got: &Outcome) -> FlashFailure {
    FlashFailure::from(DfuError::Protocol {
        op: crate::Op::Open,
        what: format!("internal error: a {want} request ended as {got:?}"),
    })
}

impl Prepared {
    /// Runs a flash plan: [`Prepared::execute`] for a flash request.
    pub fn flash(&mut self, events: Sink) -> std::result::Result<FlashReport, FlashFailure> {
        match self.execute(events)? {
            Outcome::Flash(report) => Ok(report),
            other => Err(mismatch("flash", &other)),
        }
    }

    /// Runs a read plan: the bytes read, in memory ([`Prepared::read_into`] a `Vec`).
    pub fn read(&mut self, events: Sink) -> std::result::Result<Vec<u8>, FlashFailure> {
        let mut data = Vec::new();
        self.read_into(&mut data, events)?;
        Ok(data)
    }

    /// Runs a read plan into `out`, block by block as the device sends them (memory holds
    /// one block however much is read): the number of bytes written. Refuses a plan with
    /// refusals, and a request that is not a read. A failure of `out` stops the read with
    /// an error of code [`Code::Output`](crate::Code::Output).
    pub fn read_into(
        &mut self,
        out: &mut dyn std::io::Write,
        events: Sink,
    ) -> std::result::Result<u64, FlashFailure> {
        self.plan.check()?;
        match &self.plan {
            Plan::Read(p) => Ok(self.device.read_planned_into(p, out, events)?),
            _ => Err(FlashFailure::from(DfuError::Protocol {
                op: crate::Op::Open,
                what: "internal error: a request that is not a read was run as one".into(),
            })),
        }
    }

    /// Runs an erase plan: the sectors erased (start, size); empty after a mass erase.
    pub fn erase(&mut self, events: Sink) -> std::result::Result<Vec<(u32, u32)>, FlashFailure> {
        match self.execute(events)? {
            Outcome::Erase(erased) => Ok(erased),
            other => Err(mismatch("erase", &other)),
        }
    }

    /// Runs the plan: refuses one with refusals; on failure, says exactly what had been
    /// done before it.
    pub fn execute(&mut self, events: Sink) -> std::result::Result<Outcome, FlashFailure> {
        match &self.plan {
            Plan::Survey => Ok(Outcome::Survey),
            Plan::Flash(p) => self.device.execute(p, events).map(Outcome::Flash),
            Plan::Read(_) => self.read(events).map(Outcome::Read),
            Plan::Erase(p) => {
                self.plan.check()?;
                let mut erased = Vec::new();
                let r = self.device.erase_planned(p, &mut erased, events);
                match r {
                    Ok(()) => Ok(Outcome::Erase(erased)),
                    Err(error) => Err(FlashFailure {
                        error,
                        done: Box::new(FlashReport {
                            erased,
                            mass_erased: false,
                            ..FlashReport::default()
                        }),
                    }),
                }
            }
        }
    }
}
