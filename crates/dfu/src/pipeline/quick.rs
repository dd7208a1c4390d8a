//! The common case in one call: [`flash`] prepares (find, read, plan) and executes.

use crate::backend::Backend;
use crate::discover::Selector;
use crate::events::Sink;
use crate::firmware::Firmware;
use crate::flash::{FlashFailure, FlashReport};
use crate::pipeline::FlashOptions;
use crate::prepare::prepare;
use crate::request::{AltChoice, DeviceRequest, Operation, Request};

/// Flashes `files` into the one device `selector` means: connect, read the device, plan
/// (every check), then execute (compare, erase, write, verify, leave). Notes and progress
/// go to `events`. A refusal comes back as a failure with nothing written. `opts.alt`
/// selects an alt setting, as [`AltChoice::Number`] would.
pub fn flash(
    backend: &mut dyn Backend,
    selector: &Selector,
    files: Vec<Firmware>,
    opts: &FlashOptions,
    events: Sink,
) -> Result<FlashReport, FlashFailure> {
    let request = Request {
        device: DeviceRequest {
            selector: selector.clone(),
            alt: opts.alt.map_or(AltChoice::Auto, AltChoice::Number),
            ..DeviceRequest::default()
        },
        op: Operation::Flash {
            files,
            options: opts.clone(),
        },
    };
    prepare(backend, &request, events)?.flash(events)
}
