//! Errors: [`SimError`] for setting up and saving a simulation, [`UsbError`] for what a
//! control transfer to a simulated device can return, and [`DeviceId`].

use dfu_proto::TransportError;
use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// Identifies one incarnation of a simulated device on the bus. A device that
/// re-enumerates (after a reset, a detach or a leave) gets a new id; requests to an old
/// id fail with [`UsbError::NoDevice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub u32);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sim device #{}", self.0)
    }
}

/// What a control transfer (or reset, or alt-setting change) to a simulated device can
/// fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsbError {
    /// The device answered with a STALL handshake.
    Stall,
    /// The device is not on the bus (never was, left, or re-enumerated under a new id).
    NoDevice,
    /// The device did not answer in time (injected fault).
    Timeout,
    /// Any other transfer failure.
    Io,
    /// Another program has claimed the device (its state file is locked).
    Busy,
}

impl fmt::Display for UsbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsbError::Stall => "the device stalled the request",
            UsbError::NoDevice => "no such device (it left the bus or re-enumerated)",
            UsbError::Timeout => "the device did not answer in time",
            UsbError::Io => "input/output error on the simulated bus",
            UsbError::Busy => "the device is in use by another program",
        })
    }
}

impl std::error::Error for UsbError {}

impl From<UsbError> for TransportError {
    fn from(e: UsbError) -> Self {
        match e {
            UsbError::Stall => TransportError::Stall,
            UsbError::NoDevice => TransportError::Disconnected,
            UsbError::Timeout => TransportError::Timeout,
            UsbError::Io => TransportError::Other("simulated I/O error".into()),
            UsbError::Busy => TransportError::Busy("in use by another program".into()),
        }
    }
}

/// Errors setting up, loading or saving a simulation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The spec string is malformed, names an unknown key or has a bad value.
    #[error("simulator spec {spec:?}: {message}")]
    Spec {
        /// The part of the spec the problem is in.
        spec: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// The profile named in the spec cannot be loaded.
    #[error("simulator spec {spec:?}: {source}")]
    Profile {
        /// The device spec.
        spec: String,
        /// Why the profile did not load.
        #[source]
        source: dfu_profiles::ProfileError,
    },
    /// A state or stats file cannot be read or written.
    #[error("{what} file {}: {source}", path.display())]
    Io {
        /// `state` or `stats`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A state file exists but is not a valid simulator state file.
    #[error("state file {}: {message}", path.display())]
    StateFormat {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A state file was made for another device profile.
    #[error(
        "state file {} was made for profile {found:?}, not {expected:?}; use another state file or delete this one",
        path.display()
    )]
    StateProfileMismatch {
        /// The file.
        path: PathBuf,
        /// The profile named in the file.
        found: String,
        /// The profile of the spec.
        expected: String,
    },
    /// The simulator could not build something it needed (e.g. a Particle module).
    #[error("simulated device {device}: {message}")]
    Setup {
        /// Profile name of the device.
        device: String,
        /// What failed.
        message: String,
    },
    /// A device slot or alt setting that does not exist was asked for.
    #[error("no simulated device slot {slot} with alt setting {alt}")]
    NoSuchSlot {
        /// The slot (index in the spec list).
        slot: usize,
        /// The alt setting.
        alt: u8,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_errors_map_to_transport_errors() {
        assert_eq!(TransportError::from(UsbError::Stall), TransportError::Stall);
        assert_eq!(
            TransportError::from(UsbError::NoDevice),
            TransportError::Disconnected
        );
        assert_eq!(
            TransportError::from(UsbError::Timeout),
            TransportError::Timeout
        );
        assert!(matches!(
            TransportError::from(UsbError::Io),
            TransportError::Other(_)
        ));
        assert!(UsbError::NoDevice.to_string().contains("no such device"));
        assert_eq!(DeviceId(3).to_string(), "sim device #3");
    }

    #[test]
    fn errors_carry_context() {
        let e = SimError::StateProfileMismatch {
            path: "/tmp/x.json".into(),
            found: "core".into(),
            expected: "photon".into(),
        };
        let s = e.to_string();
        assert!(s.contains("/tmp/x.json") && s.contains("core") && s.contains("photon"));
    }
}
