//! Known DFU devices as data. Each profile (a TOML file under `profiles/`, embedded at build
//! time) describes one device: its USB ids and strings in DFU and run-time mode, its DFU
//! functional descriptor, its alt settings with their exact interface strings, its memory
//! regions and their roles, its timing and its quirks. The same data drives the tool's
//! checks and the simulator's behaviour, so there is one source of truth.
//!
//! A user can describe another board in a file of the same format ([`Profile::from_file`]).
#![forbid(unsafe_code)]

mod alt;
mod generic;
mod matching;
mod model;
mod part;
mod write;

pub use alt::Alt;
pub use generic::{GenericDevice, GENERIC_DFUSE};
pub use matching::{same_layout, DeviceFacts, ProfileMatch};
pub use model::*;
pub use part::{compact, LayoutFix, PartLayout};

use std::path::Path;
use std::sync::OnceLock;
use thiserror::Error;

/// Errors loading a profile.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown profile {name:?}; built-in profiles: {}", builtin_names().join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The profile file could not be read.
    #[error("cannot read profile file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The profile is not valid TOML of the expected shape.
    #[error("profile {origin}: {message}")]
    Invalid {
        /// Name or path.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

const BUILTIN: &[(&str, &str)] = &[
    ("stm32f405", include_str!("../profiles/stm32f405.toml")),
    ("stm32f446", include_str!("../profiles/stm32f446.toml")),
    ("stm32f411", include_str!("../profiles/stm32f411.toml")),
    ("stm32h743", include_str!("../profiles/stm32h743.toml")),
    ("photon", include_str!("../profiles/photon.toml")),
    ("p1", include_str!("../profiles/p1.toml")),
    ("electron", include_str!("../profiles/electron.toml")),
    ("core", include_str!("../profiles/core.toml")),
    ("dapboot", include_str!("../profiles/dapboot.toml")),
    ("tinyusb", include_str!("../profiles/tinyusb.toml")),
    ("gd32vf103", include_str!("../profiles/gd32vf103.toml")),
    (
        "stm32f407-v21",
        include_str!("../profiles/stm32f407-v21.toml"),
    ),
    ("stm32f072", include_str!("../profiles/stm32f072.toml")),
    ("stm32g474", include_str!("../profiles/stm32g474.toml")),
    (
        "stm32l4-512k",
        include_str!("../profiles/stm32l4-512k.toml"),
    ),
    ("stm32u5-1m", include_str!("../profiles/stm32u5-1m.toml")),
    ("stm32f745", include_str!("../profiles/stm32f745.toml")),
    ("stm32f722", include_str!("../profiles/stm32f722.toml")),
    ("argon", include_str!("../profiles/argon.toml")),
    ("boron", include_str!("../profiles/boron.toml")),
    ("stm32f401", include_str!("../profiles/stm32f401.toml")),
    ("at32f415", include_str!("../profiles/at32f415.toml")),
    ("at32f435", include_str!("../profiles/at32f435.toml")),
    ("stm32h723", include_str!("../profiles/stm32h723.toml")),
    ("p2", include_str!("../profiles/p2.toml")),
    ("stm32l432", include_str!("../profiles/stm32l432.toml")),
    ("stm32f107", include_str!("../profiles/stm32f107.toml")),
    ("dso-nano", include_str!("../profiles/dso-nano.toml")),
    ("blackmagic", include_str!("../profiles/blackmagic.toml")),
    ("simtrace", include_str!("../profiles/simtrace.toml")),
    ("stm32g0b1", include_str!("../profiles/stm32g0b1.toml")),
    ("stm32f303", include_str!("../profiles/stm32f303.toml")),
    ("stm32duino", include_str!("../profiles/stm32duino.toml")),
    ("maple", include_str!("../profiles/maple.toml")),
    ("smoothie", include_str!("../profiles/smoothie.toml")),
    ("kiibohd", include_str!("../profiles/kiibohd.toml")),
    ("apm32f072", include_str!("../profiles/apm32f072.toml")),
    ("portenta-h7", include_str!("../profiles/portenta-h7.toml")),
    ("zephyr-dfu", include_str!("../profiles/zephyr-dfu.toml")),
    (
        "coines-app30",
        include_str!("../profiles/coines-app30.toml"),
    ),
    ("esp32s2", include_str!("../profiles/esp32s2.toml")),
    ("esp32s3", include_str!("../profiles/esp32s3.toml")),
];

/// Names of the built-in profiles.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// Every built-in profile, parsed once (on first use) and shared.
pub fn builtin_profiles() -> &'static [Profile] {
    static PARSED: OnceLock<Vec<Profile>> = OnceLock::new();
    PARSED.get_or_init(|| {
        BUILTIN
            .iter()
            .map(|(n, t)| {
                Profile::from_toml(t, n).expect("built-in profiles are validated by tests")
            })
            .collect()
    })
}

/// Every built-in profile, as owned copies (see [`builtin_profiles`] for shared ones).
pub fn builtins() -> Vec<Profile> {
    builtin_profiles().to_vec()
}

impl Profile {
    /// The shared built-in profile of this name (case-insensitive).
    pub fn builtin_ref(name: &str) -> Result<&'static Profile, ProfileError> {
        builtin_profiles()
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| ProfileError::Unknown { name: name.into() })
    }

    /// A built-in profile by name, as an owned copy of [`Profile::builtin_ref`].
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        Profile::builtin_ref(name).cloned()
    }

    /// A built-in name, or else the path of a profile file.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        let looks_like_path = name_or_path.contains('/')
            || name_or_path.contains('\\')
            || name_or_path.ends_with(".toml");
        if looks_like_path {
            Profile::from_file(Path::new(name_or_path))
        } else {
            Profile::builtin(name_or_path)
        }
    }

    /// Reads a profile file.
    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Profile::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates profile text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            origin: origin.into(),
            message,
        };
        let p: Profile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        p.validate().map_err(invalid)?;
        Ok(p)
    }

    /// Finds the built-in profile for a device (see [`Profile::match_facts`]): the ids must
    /// match (DFU or run-time mode) and every alt string agree with the profile's by
    /// meaning. `None` when nothing matches or the best match is not unique.
    pub fn match_device(
        vendor: u16,
        product: u16,
        bcd_device: Option<u16>,
        alt_names: &[String],
    ) -> Option<Profile> {
        let names: Vec<Option<String>> = alt_names.iter().cloned().map(Some).collect();
        Profile::match_facts(&DeviceFacts {
            vendor,
            product,
            bcd_device,
            alt_names: &names,
        })
        .ok()
        .map(|m| m.profile)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod captures;
