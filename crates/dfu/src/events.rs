//! Progress as plain data: the library emits events, the CLI draws bars or prints JSON.

use crate::json::Range;
use crate::sectors::Step;
use serde::Serialize;

/// A step of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Reading the current contents to skip what is already there.
    Compare,
    /// Erasing sectors.
    Erase,
    /// Writing data.
    Write,
    /// Reading back what was written.
    Verify,
    /// Reading memory into a file.
    Read,
    /// Leaving DFU mode.
    Leave,
}

impl Phase {
    /// The word shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Compare => "Compare",
            Phase::Erase => "Erase",
            Phase::Write => "Write",
            Phase::Verify => "Verify",
            Phase::Read => "Read",
            Phase::Leave => "Leave",
        }
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A phase starts; `total` is in bytes.
    Start {
        /// Which.
        phase: Phase,
        /// Bytes to process.
        total: u64,
    },
    /// Bytes done so far in the phase.
    Progress {
        /// Which.
        phase: Phase,
        /// Bytes done.
        done: u64,
    },
    /// The phase is complete.
    Done {
        /// Which.
        phase: Phase,
    },
    /// Something the user should know (a cleared error state, a fallback, a skip).
    Note {
        /// The stable code (`dfu::note::*`, or an overridden refusal's).
        code: crate::Code,
        /// One line.
        message: String,
    },
    /// The device is not there yet: waiting for it to be plugged in (and put in DFU mode).
    Wait {
        /// How to put the device into DFU mode, from what is known of it.
        hint: String,
    },
    /// What the run will erase, write and skip, announced after the compare and before the
    /// first erase or write (a dry run stops here).
    Plan {
        /// One entry per step, in order.
        steps: Vec<StepSummary>,
        /// True when the whole device is mass-erased first.
        mass_erase: bool,
    },
}

/// One step of a plan, as ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepSummary {
    /// The alt setting.
    pub alt: u8,
    /// Sectors to erase.
    pub erase: Vec<Range>,
    /// Runs to write.
    pub write: Vec<Range>,
    /// Sectors skipped because they already hold the image.
    pub skip: Vec<Range>,
}

impl From<&Step> for StepSummary {
    fn from(s: &Step) -> Self {
        let sector = |x: &dfu_proto::Sector| Range {
            address: x.start,
            length: u64::from(x.size),
        };
        StepSummary {
            alt: s.alt,
            erase: s.erase.iter().map(sector).collect(),
            write: s
                .writes
                .iter()
                .map(|r| Range {
                    address: r.address,
                    length: r.data.len() as u64,
                })
                .collect(),
            skip: s.skipped.iter().map(sector).collect(),
        }
    }
}

/// Receives events.
pub type Sink<'a> = &'a mut dyn FnMut(&Event);

impl From<crate::Note> for Event {
    fn from(n: crate::Note) -> Self {
        Event::Note {
            code: n.code,
            message: n.message,
        }
    }
}
