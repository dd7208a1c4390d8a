//! The common case in one call: find the device, read it, plan, execute.

use crate::backend::Backend;
use crate::device::{detach, DfuDevice};
use crate::discover::{describe, select_one, DeviceInfo, Mode, Selector};
use crate::error::Result;
use crate::events::{Event, Sink};
use crate::firmware::Firmware;
use crate::flash::{FlashFailure, FlashReport};
use crate::pipeline::{plan, FlashOptions};
use dfu_profiles::Profile;

/// The one device `selector` means, in DFU mode: a run-time device is asked to switch to
/// DFU mode first (a note says so). `profile` replaces profile matching.
pub fn connect(
    backend: &mut dyn Backend,
    selector: &Selector,
    profile: Option<&Profile>,
    notes: &mut Vec<String>,
) -> Result<DeviceInfo> {
    let info = select_one(backend, selector, profile)?;
    if info.mode == Mode::Dfu {
        return Ok(info);
    }
    notes.push(format!(
        "{} is running its application; switching it to DFU mode",
        info.summary()
    ));
    let usb = detach(backend, &info)?;
    describe(backend, &usb, profile)
}

/// Flashes `files` into the one device `selector` means: connect, read the device, plan
/// (every check), then execute (compare, erase, write, verify, leave). Notes and progress
/// go to `events`. A refusal comes back as a failure with nothing written.
pub fn flash(
    backend: &mut dyn Backend,
    selector: &Selector,
    files: Vec<Firmware>,
    opts: &FlashOptions,
    events: Sink,
) -> Result<FlashReport, FlashFailure> {
    let mut notes = Vec::new();
    let info = connect(backend, selector, None, &mut notes)?;
    let mut dev = DfuDevice::open(backend, info, opts.alt.unwrap_or(0))?;
    let mut view = dev.survey(None)?;
    dev.read_option_bytes_for(&mut view, &files)?;
    let plan = plan(&view, files, opts)?;
    notes.extend(view.notes);
    notes.extend(plan.notes().map(|f| f.message.clone()));
    for message in notes {
        events(&Event::Note { message });
    }
    dev.execute(&plan, events)
}
