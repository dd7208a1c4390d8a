//! The spec grammar: `PROFILE[,key=value...][;PROFILE...]` (documented in the README).

use crate::error::SimError;
use crate::fault::Fault;
use dfu_profiles::{Profile, Role};
use std::cmp::Ordering;
use std::path::PathBuf;

/// The keys a device spec accepts.
pub const VALID_KEYS: &[&str] = &[
    "state",
    "stats",
    "bootloader",
    "system-version",
    "alt-name",
    "start-state",
    "mode",
    "serial",
    "fault",
    "erase-factor",
    "hostile",
    "time-scale",
    "appear-after",
    "unplug-after",
    "hub",
    "rdp",
];

/// Which side of DFU the device starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// DFU mode (the bootloader is running): the default.
    #[default]
    Dfu,
    /// Run-time mode (the application is running, with a DFU run-time interface).
    Runtime,
}

/// What the alt setting 0 interface string looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AltNameKnob {
    /// The profile's exact string.
    #[default]
    Normal,
    /// Junk bytes that do not start with `@` (as seen on a BTT Octopus Pro).
    Garbage,
    /// GET_DESCRIPTOR for the string STALLs.
    Unreadable,
}

/// The DFU state the device is in when the host first connects in DFU mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StartState {
    /// dfuIDLE, status OK.
    #[default]
    Idle,
    /// dfuERROR with status errFIRMWARE (10).
    Error,
}

/// A bootloader release such as `0.4.5` or `0.4.5-rc.2` (a pre-release sorts before
/// its release).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BootloaderVersion {
    /// The numeric parts.
    pub parts: Vec<u32>,
    /// The pre-release suffix after `-`, if any.
    pub pre: Option<String>,
}

impl BootloaderVersion {
    /// Parses `N[.N]...[-PRE]`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_start_matches(['v', 'V']);
        let (num, pre) = match s.split_once('-') {
            Some((n, p)) if !p.is_empty() => (n, Some(p.to_string())),
            Some(_) => return None,
            None => (s, None),
        };
        let parts: Option<Vec<u32>> = num.split('.').map(|p| p.parse().ok()).collect();
        let parts = parts.filter(|p| !p.is_empty())?;
        Some(BootloaderVersion { parts, pre })
    }
}

impl PartialOrd for BootloaderVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BootloaderVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        let at = |v: &Self, i: usize| v.parts.get(i).copied().unwrap_or(0);
        (0..n)
            .map(|i| at(self, i).cmp(&at(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

/// One simulated device: its profile and the knobs of its spec.
#[derive(Debug, Clone)]
pub struct SimSpec {
    /// The device profile.
    pub profile: dfu_profiles::Profile,
    /// The spec text this device came from.
    pub text: String,
    /// `state=`: flash contents persist in this file.
    pub state: Option<PathBuf>,
    /// `stats=`: statistics are written to this file at flush.
    pub stats: Option<PathBuf>,
    /// `bootloader=`: the bootloader release (profiles with a `[leave]` table).
    pub bootloader: Option<BootloaderVersion>,
    /// `system-version=`: Particle system modules of this version are installed when the
    /// state is created.
    pub system_version: Option<u16>,
    /// `alt-name=`: garbage or unreadable alt 0 string.
    pub alt_name: AltNameKnob,
    /// `start-state=`: dfuERROR at connect.
    pub start_state: StartState,
    /// `mode=`: start in DFU or run-time mode.
    pub mode: Mode,
    /// `serial=`: the serial string instead of the profile's.
    pub serial: Option<String>,
    /// `fault=` (repeatable): injected faults.
    pub faults: Vec<Fault>,
    /// `hostile=SEED`: the device lies (seeded garbage and extreme values, random stalls
    /// and disconnects; see `hostile.rs`).
    pub hostile: Option<u64>,
    /// `time-scale=N`: the bus runs in real time, N times faster (bus-wide).
    pub time_scale: Option<f64>,
    /// `appear-after=MS`: the device is plugged in at this bus time.
    pub appear_after: std::time::Duration,
    /// `unplug-after=MS`: the device is unplugged this long after it appeared.
    pub unplug_after: Option<std::time::Duration>,
    /// `hub=NAME`: the device sits behind this full-speed hub and shares its bus time.
    pub hub: Option<String>,
    /// `rdp=`: the read protection level the option bytes have when the state is created.
    pub rdp: Option<u8>,
}

impl SimSpec {
    /// A spec with the profile's defaults and no knobs.
    pub fn new(profile: Profile) -> Self {
        SimSpec {
            text: profile.name.clone(),
            profile,
            state: None,
            stats: None,
            bootloader: None,
            system_version: None,
            alt_name: AltNameKnob::Normal,
            start_state: StartState::Idle,
            mode: Mode::Dfu,
            serial: None,
            faults: Vec::new(),
            hostile: None,
            time_scale: None,
            appear_after: std::time::Duration::ZERO,
            unplug_after: None,
            hub: None,
            rdp: None,
        }
    }

    /// The serial string the device reports.
    pub fn serial_string(&self) -> &str {
        self.serial.as_deref().unwrap_or(&self.profile.usb.serial)
    }

    /// The bootloader release in effect: the knob, else the profile's default.
    pub fn effective_bootloader(&self) -> Option<BootloaderVersion> {
        self.bootloader.clone().or_else(|| {
            let leave = self.profile.leave.as_ref()?;
            BootloaderVersion::parse(&leave.default_bootloader)
        })
    }

    /// Applies one `key=value` of the spec; the error names the key and value.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        if key == "fault" {
            self.faults.push(Fault::parse(value)?);
            return Ok(());
        }
        if !VALID_KEYS.contains(&key) {
            return Err(format!(
                "unknown key {key:?}; valid keys: {}",
                VALID_KEYS.join(", ")
            ));
        }
        self.set_knob(key, value)
            .map_err(|what| format!("{key}={value:?}: {what}"))
    }

    /// Sets the knob `key` (one of [`VALID_KEYS`] other than `fault`); the error says what
    /// the value should have been.
    fn set_knob(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "state" => self.state = Some(file_knob(value)?),
            "stats" => self.stats = Some(file_knob(value)?),
            "bootloader" => self.bootloader = Some(self.bootloader_knob(value)?),
            "system-version" => self.system_version = Some(self.system_version_knob(value)?),
            "alt-name" => self.alt_name = alt_name_knob(value)?,
            "start-state" => self.start_state = start_state_knob(value)?,
            "mode" => self.mode = self.mode_knob(value)?,
            "serial" => self.serial = Some(serial_knob(value)?),
            "erase-factor" => {
                scale_erase_times(&mut self.profile.timing, erase_factor_knob(value)?)
            }
            "hostile" => {
                let seed = dfu_proto::num::parse_u64(value);
                self.hostile = Some(seed.map_err(|_| "expected a seed number")?);
            }
            "time-scale" | "appear-after" | "unplug-after" | "hub" => {
                crate::spec_many::set_pacing(self, key, value)?;
            }
            "rdp" => self.rdp = Some(self.rdp_knob(value)?),
            _ => return Err(format!("valid keys: {}", VALID_KEYS.join(", "))),
        }
        Ok(())
    }

    /// `bootloader=`: a release, for profiles whose leave behaviour depends on it.
    fn bootloader_knob(&self, value: &str) -> Result<BootloaderVersion, String> {
        if self.profile.leave.is_none() {
            return Err(format!(
                "profile {} has no version-dependent leave behaviour ([leave] table); \
                 bootloader= applies to Particle Photon/P1/Electron profiles",
                self.profile.name
            ));
        }
        BootloaderVersion::parse(value)
            .ok_or_else(|| "expected a version such as 0.4.4 or 0.4.5".to_string())
    }

    /// `system-version=`: a module version, for Particle profiles with system parts.
    fn system_version_knob(&self, value: &str) -> Result<u16, String> {
        let has_system = self.profile.regions_with(Role::System).next().is_some();
        if self.profile.particle_platform.is_none() || !has_system {
            return Err(format!(
                "profile {} is not a Particle device with system parts",
                self.profile.name
            ));
        }
        dfu_proto::num::parse_u64(value)
            .ok()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| "expected a module version number 0-65535".to_string())
    }

    /// `mode=`: run-time mode only for profiles that have one.
    fn mode_knob(&self, value: &str) -> Result<Mode, String> {
        match value {
            "dfu" => Ok(Mode::Dfu),
            "runtime" if self.profile.runtime.is_some() => Ok(Mode::Runtime),
            "runtime" => Err(format!(
                "profile {} has no run-time mode ([runtime] table)",
                self.profile.name
            )),
            _ => Err("expected dfu or runtime".into()),
        }
    }

    /// `rdp=`: a protection level, for profiles whose option bytes are modelled.
    fn rdp_knob(&self, value: &str) -> Result<u8, String> {
        if self.profile.option_bytes.is_none() {
            return Err(format!(
                "profile {} has no option bytes this simulator models ([option_bytes] table)",
                self.profile.name
            ));
        }
        match value {
            "0" => Ok(0),
            "1" => Ok(1),
            "2" => Ok(2),
            _ => Err("expected 0, 1 or 2".into()),
        }
    }
}

/// `state=`/`stats=`: a file path whose directory exists.
fn file_knob(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err("needs a file path".into());
    }
    let path = PathBuf::from(value);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(format!("the directory {} does not exist", dir.display()));
        }
    }
    Ok(path)
}

/// `alt-name=`: garbage, unreadable or normal.
fn alt_name_knob(value: &str) -> Result<AltNameKnob, String> {
    match value {
        "garbage" => Ok(AltNameKnob::Garbage),
        "unreadable" => Ok(AltNameKnob::Unreadable),
        "normal" => Ok(AltNameKnob::Normal),
        _ => Err("expected garbage, unreadable or normal".into()),
    }
}

/// `start-state=`: error or idle.
fn start_state_knob(value: &str) -> Result<StartState, String> {
    match value {
        "error" => Ok(StartState::Error),
        "idle" => Ok(StartState::Idle),
        _ => Err("expected error or idle".into()),
    }
}

/// `serial=`: 1 to 126 UTF-16 units (what a string descriptor holds).
fn serial_knob(value: &str) -> Result<String, String> {
    if value.is_empty() || value.encode_utf16().count() > 126 {
        return Err("expected 1 to 126 characters".into());
    }
    Ok(value.to_string())
}

/// `erase-factor=`: 1 to 100.
fn erase_factor_knob(value: &str) -> Result<u32, String> {
    dfu_proto::num::parse_u64(value)
        .ok()
        .filter(|n| (1..=100).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| "expected a factor from 1 to 100".to_string())
}

/// `erase-factor=N`: erases (sector and mass) take N times the profile's figure (a slow or
/// worn part at its datasheet maximum and beyond).
fn scale_erase_times(t: &mut dfu_profiles::Timing, n: u32) {
    for e in &mut t.erase {
        e.ms = e.ms.saturating_mul(n);
    }
    t.mass_erase_ms = t.mass_erase_ms.saturating_mul(n);
}

/// Parses `PROFILE[,key=value...][;PROFILE...]`: one [`SimSpec`] per device.
///
/// `PROFILE` is a built-in profile name or the path of a profile TOML file. Keys:
/// `state`, `stats`, `bootloader`, `system-version`, `alt-name`, `start-state`, `mode`,
/// `serial`, `fault` (repeatable). See the crate README for their meaning.
pub fn parse_specs(spec: &str) -> Result<Vec<SimSpec>, SimError> {
    let mut out: Vec<SimSpec> = Vec::new();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let err = |message: String| SimError::Spec {
            spec: part.to_string(),
            message,
        };
        let mut items = part.split(',').map(str::trim);
        let (name, copies) =
            crate::spec_many::split_copies(items.next().unwrap_or_default()).map_err(err)?;
        if name.is_empty() || name.contains('=') {
            return Err(err(format!(
                "a device spec starts with a profile name or profile file path; built-in profiles: {}",
                dfu_profiles::builtin_names().join(", ")
            )));
        }
        let profile = Profile::load(name).map_err(|source| SimError::Profile {
            spec: part.to_string(),
            source,
        })?;
        let mut s = SimSpec::new(profile);
        s.text = part.to_string();
        let mut seen: Vec<&str> = Vec::new();
        for kv in items.filter(|kv| !kv.is_empty()) {
            let (key, value) = kv.split_once('=').ok_or_else(|| {
                err(format!(
                    "expected key=value, found {kv:?}; valid keys: {}",
                    VALID_KEYS.join(", ")
                ))
            })?;
            let key = key.trim();
            if key != "fault" && seen.contains(&key) {
                return Err(err(format!("key {key:?} is given twice")));
            }
            seen.push(key);
            s.set(key, value.trim()).map_err(err)?;
        }
        for s in crate::spec_many::copies(s, copies) {
            if let Some(path) = &s.state {
                if out.iter().any(|o| o.state.as_ref() == Some(path)) {
                    return Err(err(format!(
                        "state file {} is already used by another device in this spec",
                        path.display()
                    )));
                }
            }
            out.push(s);
        }
    }
    crate::spec_many::check_bus(&out)?;
    if out.is_empty() {
        return Err(SimError::Spec {
            spec: spec.to_string(),
            message: "no device given; expected PROFILE[,key=value...][;PROFILE...]".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
