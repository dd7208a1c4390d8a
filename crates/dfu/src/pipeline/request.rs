//! What a front end asks for, as plain data: which device (and whether to wait for it),
//! which alt setting, and the operation with its files and options. A front end turns what
//! the user said (command-line flags, dfu-util's options, a page's buttons, dfu.toml) into a
//! [`Request`] and hands it to [`prepare`](crate::prepare()); nothing else about the device
//! is decided in a front end.

use crate::discover::{DeviceInfo, Selector};
use crate::error::{DfuError, Result};
use crate::firmware::Firmware;
use crate::pipeline::FlashOptions;
use dfu_profiles::Profile;
use dfu_proto::MemoryLayout;
use std::time::Duration;

/// The alt setting a request means.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AltChoice {
    /// Alt 0, except that the targets of a DfuSe file each go to their own alt setting.
    #[default]
    Auto,
    /// This alt setting.
    Number(u8),
    /// The one alt setting whose name contains this text (case does not matter).
    Name(String),
}

impl AltChoice {
    /// `1`, `0x1` are numbers; anything else is (part of) a name.
    pub fn parse(text: &str) -> Result<AltChoice> {
        Ok(
            match dfu_proto::num::parse_alt(text).map_err(|e| DfuError::usage(e.to_string()))? {
                Some(n) => AltChoice::Number(n),
                None => AltChoice::Name(text.to_string()),
            },
        )
    }

    /// The choice for an optional text (`None` is [`AltChoice::Auto`]).
    pub fn from_option(text: Option<&str>) -> Result<AltChoice> {
        text.map_or(Ok(AltChoice::Auto), AltChoice::parse)
    }

    /// True unless automatic.
    pub fn is_explicit(&self) -> bool {
        *self != AltChoice::Auto
    }

    /// The alt setting this choice means on `info`.
    pub fn resolve(&self, info: &DeviceInfo) -> Result<u8> {
        let want = match self {
            AltChoice::Auto => return Ok(auto_alt(info)),
            AltChoice::Number(n) => return Ok(*n),
            AltChoice::Name(name) => name,
        };
        let lower = want.to_lowercase();
        let hits: Vec<u8> = info
            .alts
            .iter()
            .filter(|x| x.display_name().to_lowercase().contains(&lower))
            .map(|x| x.alt)
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            _ => Err(DfuError::usage(format!(
                "alt setting {want:?} matches {} alt settings of {}; it has {}",
                hits.len(),
                info.summary(),
                info.alts
                    .iter()
                    .map(|x| format!("{} {:?}", x.alt, x.display_name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Alt 0, except on a plain DFU device whose profile puts applications on another alt
/// setting (the Maple bootloader: alt 0 is RAM, alt 1 flash): that alt.
fn auto_alt(info: &DeviceInfo) -> u8 {
    let app_alt = info.profile.as_ref().and_then(|p| {
        p.regions
            .iter()
            .find(|r| r.role == dfu_profiles::Role::App)
            .map(|r| r.alt)
    });
    match app_alt {
        Some(a) if !info.is_dfuse() && info.alts.iter().any(|x| x.alt == a) => a,
        _ => 0,
    }
}

/// How long to wait for the device to be plugged in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Give up after this long on the backend's clock (`None`: wait until it comes).
    pub timeout: Option<Duration>,
}

/// Which device, and how to read it.
#[derive(Debug, Clone, Default)]
pub struct DeviceRequest {
    /// Which devices the user means.
    pub selector: Selector,
    /// The device, already described by a listing that chose it (a many-device run, the
    /// dfu-util drop-in): it is not described again.
    pub known: Option<DeviceInfo>,
    /// A profile that replaces profile matching.
    pub profile: Option<Profile>,
    /// A memory layout for alt settings that do not announce a usable one.
    pub layout: Option<MemoryLayout>,
    /// The alt setting.
    pub alt: AltChoice,
    /// Wait for the device to be plugged in (`None`: it must be there now).
    pub wait: Option<WaitPolicy>,
}

/// What to do with the device.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Only read the device (descriptors, layouts, installed modules): `dfu info`, the
    /// option bytes, a profile file.
    Survey,
    /// Write firmware files (placed, checked, ordered and planned).
    Flash {
        /// The files.
        files: Vec<Firmware>,
        /// How. Its `alt` is set by [`prepare`](crate::prepare()) from the request's alt.
        options: FlashOptions,
    },
    /// Read memory.
    Read {
        /// First address (default: the start of the alt's memory).
        address: Option<u32>,
        /// Bytes (default: to the end of the alt's contiguous readable memory; on a plain
        /// DFU device, until the device ends its upload).
        length: Option<u64>,
    },
    /// Erase memory.
    Erase {
        /// `(address, length)`, widened to whole sectors; `None` erases the whole device.
        range: Option<(u32, u64)>,
        /// Turn overridable refusals into notes.
        force: bool,
    },
}

/// A whole request: the device and the operation.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which device.
    pub device: DeviceRequest,
    /// What to do.
    pub op: Operation,
}
