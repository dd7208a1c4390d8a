//! The crate's error type.

use thiserror::Error;

/// What can go wrong while serving devices over USB/IP.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UsbipError {
    /// The listening address cannot be parsed or bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A socket operation failed (the peer went away, a timeout, ...).
    #[error("USB/IP connection: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent something that is not valid USB/IP (the connection is closed).
    #[error("USB/IP protocol violation: {0}")]
    Protocol(String),
    /// The simulated devices could not be created or saved.
    #[error("simulator: {0}")]
    Sim(String),
    /// The options are inconsistent.
    #[error("invalid server option: {0}")]
    Options(String),
}

impl UsbipError {
    /// A protocol violation with a description of what was wrong.
    pub fn protocol(message: impl Into<String>) -> Self {
        UsbipError::Protocol(message.into())
    }
}
