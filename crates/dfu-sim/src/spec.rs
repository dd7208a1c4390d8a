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

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let bad = |what: &str| format!("{key}={value:?}: {what}");
        match key {
            "state" | "stats" if value.is_empty() => return Err(bad("needs a file path")),
            "state" | "stats" => {
                let path = PathBuf::from(value);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        return Err(bad(&format!(
                            "the directory {} does not exist",
                            dir.display()
                        )));
                    }
                }
                if key == "state" {
                    self.state = Some(path);
                } else {
                    self.stats = Some(path);
                }
            }
            "bootloader" => {
                if self.profile.leave.is_none() {
                    return Err(bad(&format!(
                        "profile {} has no version-dependent leave behaviour ([leave] table); \
                         bootloader= applies to Particle Photon/P1/Electron profiles",
                        self.profile.name
                    )));
                }
                self.bootloader = Some(
                    BootloaderVersion::parse(value)
                        .ok_or_else(|| bad("expected a version such as 0.4.4 or 0.4.5"))?,
                );
            }
            "system-version" => {
                let has_system = self.profile.regions_with(Role::System).next().is_some();
                if self.profile.particle_platform.is_none() || !has_system {
                    return Err(bad(&format!(
                        "profile {} is not a Particle device with system parts",
                        self.profile.name
                    )));
                }
                self.system_version = Some(
                    dfu_proto::num::parse_u64(value)
                        .ok()
                        .and_then(|n| u16::try_from(n).ok())
                        .ok_or_else(|| bad("expected a module version number 0-65535"))?,
                );
            }
            "alt-name" => {
                self.alt_name = match value {
                    "garbage" => AltNameKnob::Garbage,
                    "unreadable" => AltNameKnob::Unreadable,
                    "normal" => AltNameKnob::Normal,
                    _ => return Err(bad("expected garbage, unreadable or normal")),
                }
            }
            "start-state" => {
                self.start_state = match value {
                    "error" => StartState::Error,
                    "idle" => StartState::Idle,
                    _ => return Err(bad("expected error or idle")),
                }
            }
            "mode" => {
                self.mode = match value {
                    "dfu" => Mode::Dfu,
                    "runtime" if self.profile.runtime.is_some() => Mode::Runtime,
                    "runtime" => {
                        return Err(bad(&format!(
                            "profile {} has no run-time mode ([runtime] table)",
                            self.profile.name
                        )))
                    }
                    _ => return Err(bad("expected dfu or runtime")),
                }
            }
            "serial" => {
                if value.is_empty() || value.encode_utf16().count() > 126 {
                    return Err(bad("expected 1 to 126 characters"));
                }
                self.serial = Some(value.to_string());
            }
            "fault" => self.faults.push(Fault::parse(value)?),
            "erase-factor" => {
                let n = dfu_proto::num::parse_u64(value)
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| bad("expected a factor from 1 to 100"))?;
                scale_erase_times(&mut self.profile.timing, n as u32);
            }
            "hostile" => {
                self.hostile = Some(
                    dfu_proto::num::parse_u64(value).map_err(|_| bad("expected a seed number"))?,
                );
            }
            "time-scale" | "appear-after" | "unplug-after" | "hub" => {
                crate::spec_many::set_pacing(self, key, value).map_err(|e| bad(&e))?
            }
            "rdp" => {
                if self.profile.option_bytes.is_none() {
                    return Err(bad(&format!(
                        "profile {} has no option bytes this simulator models ([option_bytes] table)",
                        self.profile.name
                    )));
                }
                self.rdp = Some(match value {
                    "0" => 0,
                    "1" => 1,
                    "2" => 2,
                    _ => return Err(bad("expected 0, 1 or 2")),
                });
            }
            _ => {
                return Err(format!(
                    "unknown key {key:?}; valid keys: {}",
                    VALID_KEYS.join(", ")
                ))
            }
        }
        Ok(())
    }
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
mod tests {
    use super::*;

    #[test]
    fn versions_order() {
        let v = |s| BootloaderVersion::parse(s).unwrap();
        assert!(v("0.4.4") < v("0.4.5"));
        assert!(v("0.4.5-rc.2") < v("0.4.5"));
        assert!(v("0.4.5") <= v("0.4.5.0"));
        assert!(v("0.7.0") > v("0.4.5"));
        assert!(v("1") > v("0.9.9"));
        assert!(BootloaderVersion::parse("abc").is_none());
        assert!(BootloaderVersion::parse("0.4.").is_none());
        assert!(BootloaderVersion::parse("0.4-").is_none());
    }

    #[test]
    fn parses_knobs() {
        let s = parse_specs(
            "photon,state=/tmp/a.json,stats=/tmp/b.json,bootloader=0.4.4,system-version=3,\
             alt-name=garbage,start-state=error,mode=runtime,serial=ABC,\
             fault=stall@dnload:2,fault=disconnect@any:9; stm32f405",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        let p = &s[0];
        assert_eq!(p.profile.name, "photon");
        assert_eq!(
            p.state.as_deref(),
            Some(std::path::Path::new("/tmp/a.json"))
        );
        assert_eq!(p.bootloader, BootloaderVersion::parse("0.4.4"));
        assert_eq!(p.system_version, Some(3));
        assert_eq!(p.alt_name, AltNameKnob::Garbage);
        assert_eq!(p.start_state, StartState::Error);
        assert_eq!(p.mode, Mode::Runtime);
        assert_eq!(p.serial_string(), "ABC");
        assert_eq!(p.faults.len(), 2);
        assert_eq!(s[1].profile.name, "stm32f405");
        assert_eq!(s[1].serial_string(), s[1].profile.usb.serial);
        assert_eq!(
            s[0].effective_bootloader(),
            BootloaderVersion::parse("0.4.4")
        );
        let d = parse_specs("electron").unwrap();
        assert_eq!(
            d[0].effective_bootloader(),
            BootloaderVersion::parse("0.7.0")
        );
    }

    #[test]
    fn bad_specs_are_clear() {
        let msg = |s: &str| parse_specs(s).unwrap_err().to_string();
        assert!(msg("nosuchboard").contains("unknown profile"));
        assert!(msg("photon,colour=red").contains("valid keys: state, stats"));
        assert!(msg("photon,state").contains("expected key=value"));
        assert!(msg("photon,mode=sideways").contains("expected dfu or runtime"));
        assert!(msg("stm32f405,mode=runtime").contains("no run-time mode"));
        assert!(msg("stm32f405,bootloader=0.4.5").contains("[leave]"));
        assert!(msg("photon,bootloader=new").contains("expected a version"));
        assert!(msg("dapboot,system-version=3").contains("not a Particle"));
        assert!(msg("photon,fault=explode@dnload:1").contains("unknown fault kind"));
        assert!(msg("photon,state=a.json;p1,state=a.json").contains("already used"));
        assert!(msg("photon,mode=dfu,mode=runtime").contains("twice"));
        assert!(msg("").contains("no device"));
        assert!(msg(" ; ").contains("no device"));
        assert!(msg("state=x").contains("profile name"));
        assert!(msg("/nonexistent/board.toml").contains("cannot read profile file"));
        assert!(msg("photon,stats=/nonexistent/s.json").contains("/nonexistent does not exist"));
    }
}
