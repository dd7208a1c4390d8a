//! Persistent device state (`state=PATH`): the flash contents of every alt setting, as
//! JSON with sparse base64 pages, written atomically (temporary file + rename).
//!
//! ```json
//! { "format": "dfu-sim-state", "version": 1, "profile": "photon",
//!   "serial": "00000000050C", "system_version": 3,
//!   "alts": [ { "alt": 0, "name": "@Internal Flash ...", "page_size": 4096,
//!               "pages": [ { "address": "0x08020000", "data": "<base64 of 4096 bytes>" } ] } ] }
//! ```
//!
//! Only pages that are not entirely 0xFF are stored.

use crate::error::SimError;
use crate::memory::{Flash, PAGE};
use crate::particle;
use crate::spec::SimSpec;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
#[cfg(not(target_arch = "wasm32"))]
use std::io::Write;
use std::path::Path;

const FORMAT: &str = "dfu-sim-state";
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    version: u32,
    profile: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    system_version: Option<u16>,
    alts: Vec<AltState>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AltState {
    alt: u8,
    #[serde(default)]
    name: String,
    page_size: u64,
    pages: Vec<PageState>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageState {
    address: String,
    data: String,
}

/// Fresh (erased) memory for every alt setting of the spec's profile. A part whose serial
/// string names its flash size (GD32VF103: 16 to 128 KiB behind the same layout string,
/// GigaDevice's datasheet tables 2-1 and 2-2) gets the memory of that size.
pub(crate) fn blank_memory(spec: &SimSpec) -> Vec<Flash> {
    let serial = spec.serial_string();
    spec.profile
        .alts
        .iter()
        .enumerate()
        .map(|(i, alt)| {
            let real = u8::try_from(i)
                .ok()
                .and_then(|i| spec.profile.real_layout_for(i, serial));
            Flash::new(real.unwrap_or_else(|| alt.layout().clone()))
        })
        .collect()
}

/// The memory of a device: loaded from its state file when it exists, else fresh (with
/// Particle system modules when `system-version=` is given) and written to the state
/// file at once when there is one.
pub(crate) fn open(spec: &SimSpec) -> Result<Vec<Flash>, SimError> {
    let mut flash = blank_memory(spec);
    match &spec.state {
        Some(path) if crate::files::exists(path) => {
            load(path, spec, &mut flash)?;
        }
        Some(path) => {
            particle::install_system(spec, &mut flash)?;
            crate::protect::install_option_bytes(spec, &mut flash);
            save(path, spec, &flash)?;
        }
        None => {
            particle::install_system(spec, &mut flash)?;
            crate::protect::install_option_bytes(spec, &mut flash);
        }
    }
    particle::install_bootloader(spec, &mut flash)?;
    Ok(flash)
}

fn load(path: &Path, spec: &SimSpec, flash: &mut [Flash]) -> Result<(), SimError> {
    let bad = |message: String| SimError::StateFormat {
        path: path.to_path_buf(),
        message,
    };
    let text = crate::files::read_to_string(path).map_err(|source| SimError::Io {
        what: "state",
        path: path.to_path_buf(),
        source,
    })?;
    let file: StateFile = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a simulator state file ({e})")))?;
    if file.format != FORMAT || file.version != VERSION {
        return Err(bad(format!(
            "format {:?} version {} is not {FORMAT:?} version {VERSION}",
            file.format, file.version
        )));
    }
    if file.profile != spec.profile.name {
        return Err(SimError::StateProfileMismatch {
            path: path.to_path_buf(),
            found: file.profile,
            expected: spec.profile.name.clone(),
        });
    }
    for a in &file.alts {
        let f = flash
            .get_mut(usize::from(a.alt))
            .ok_or_else(|| bad(format!("alt {} does not exist on this device", a.alt)))?;
        if a.page_size != PAGE {
            return Err(bad(format!(
                "alt {}: page size {} is not {PAGE}",
                a.alt, a.page_size
            )));
        }
        for p in &a.pages {
            let address = p
                .address
                .strip_prefix("0x")
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(format!("alt {}: bad page address {:?}", a.alt, p.address)))?;
            let data = B64
                .decode(&p.data)
                .map_err(|e| bad(format!("alt {} page {}: {e}", a.alt, p.address)))?;
            if !f.load_page(address, &data) {
                return Err(bad(format!(
                    "alt {} page {}: {} bytes at an address that is not a {PAGE}-byte page of this memory",
                    a.alt,
                    p.address,
                    data.len()
                )));
            }
        }
    }
    Ok(())
}

/// Writes the state file atomically.
pub(crate) fn save(path: &Path, spec: &SimSpec, flash: &[Flash]) -> Result<(), SimError> {
    let file = StateFile {
        format: FORMAT.into(),
        version: VERSION,
        profile: spec.profile.name.clone(),
        serial: spec.serial_string().to_string(),
        system_version: spec.system_version,
        alts: flash
            .iter()
            .enumerate()
            .map(|(i, f)| AltState {
                alt: u8::try_from(i).unwrap_or(u8::MAX),
                name: spec
                    .profile
                    .alts
                    .get(i)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                page_size: PAGE,
                pages: f
                    .pages()
                    .map(|(base, data)| PageState {
                        address: format!("0x{base:08X}"),
                        data: B64.encode(data),
                    })
                    .collect(),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| SimError::StateFormat {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomically(path, "state", text.as_bytes())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`. A path
/// that is not a regular file (a pipe, `/dev/stdout`, `/dev/full`) is written in place:
/// renaming over it would replace the device node.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn write_atomically(
    path: &Path,
    what: &'static str,
    bytes: &[u8],
) -> Result<(), SimError> {
    let io = |source| SimError::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(io);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| what.to_string());
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Stores `bytes` as the file at `path` (in memory: wasm32 has no file system).
#[cfg(target_arch = "wasm32")]
pub(crate) fn write_atomically(
    path: &Path,
    _what: &'static str,
    bytes: &[u8],
) -> Result<(), SimError> {
    crate::files::put(path, bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfu_profiles::Profile;

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.json");
        let mut spec = SimSpec::new(Profile::builtin("stm32f405").unwrap());
        spec.state = Some(path.clone());
        let mut flash = open(&spec).unwrap();
        assert!(path.exists());
        assert!(flash[0].program(0x0800_0010, &[1, 2, 3, 4], 4).1.is_ok());
        save(&path, &spec, &flash).unwrap();
        let again = open(&spec).unwrap();
        assert_eq!(again[0].read(0x0800_0010, 5), [1, 2, 3, 4, 0xFF]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"0x08000000\""), "{text}");

        let mut other = SimSpec::new(Profile::builtin("stm32f411").unwrap());
        other.state = Some(path.clone());
        let e = open(&other).unwrap_err();
        assert!(matches!(e, SimError::StateProfileMismatch { .. }), "{e}");

        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            open(&spec).unwrap_err(),
            SimError::StateFormat { .. }
        ));
        let bogus = r#"{"format":"dfu-sim-state","version":1,"profile":"stm32f405",
            "alts":[{"alt":0,"page_size":4096,"pages":[{"address":"0x00000000","data":""}]}]}"#;
        std::fs::write(&path, bogus).unwrap();
        assert!(open(&spec).unwrap_err().to_string().contains("0x00000000"));
    }
}
