//! Wire vocabulary of USB DFU 1.1 and ST's DfuSe extension: request codes, device states
//! and status codes, descriptors, DfuSe commands, the DfuSe memory-layout parser, and the
//! [`Transport`] trait the engine talks through. Pure: no I/O.
#![forbid(unsafe_code)]

pub mod descriptor;
pub mod dfuse;
pub mod layout;
pub mod num;
pub mod request;
pub mod status;
pub mod transport;

pub use descriptor::{AltSetting, ConfigDescriptor, DeviceDescriptor, FunctionalDescriptor};
pub use dfuse::DfuseCommand;
pub use layout::{LayoutError, MemoryLayout, Sector, SectorFlags, Segment};
pub use request::{DfuRequest, Setup};
pub use status::{GetStatus, State, Status};
pub use transport::DEFAULT_TIMEOUT;
pub use transport::{Transport, TransportError};

/// Errors decoding wire data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// A descriptor is truncated or malformed.
    #[error("malformed descriptor: {0}")]
    Descriptor(String),
    /// A DfuSe command payload is malformed.
    #[error("malformed DfuSe command: {0}")]
    Command(String),
}

/// Formats a USB id pair as `vvvv:pppp`.
pub fn format_id(vendor: u16, product: u16) -> String {
    format!("{vendor:04x}:{product:04x}")
}
