//! Progress as plain data: the library emits events, the CLI draws bars or prints JSON.

use serde::Serialize;

/// A step of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
        /// One line.
        message: String,
    },
}

/// Receives events.
pub type Sink<'a> = &'a mut dyn FnMut(&Event);

/// A sink that drops everything.
pub fn ignore(_: &Event) {}
