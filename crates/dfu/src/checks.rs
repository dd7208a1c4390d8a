//! What an image says about itself, checked against the device before anything is written:
//! the Particle platform and module header, the module dependencies against what is
//! installed, and the Cortex-M vector table against the address the image goes to.

use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::Phase;
use dfu_image::particle::{self, HEADER_LEN};
use dfu_image::{Image, ModuleFunction, ModuleInfo};
use dfu_profiles::Profile;

/// One file to flash, already placed at its addresses.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The file name, for messages.
    pub name: String,
    /// The image, with final addresses.
    pub image: Image,
}

/// What the checks concluded: warnings that `--force` turned from refusals into notes.
#[derive(Debug, Default)]
pub struct CheckOutcome {
    /// Lines for the user.
    pub notes: Vec<String>,
}

fn refuse_or_warn(force: bool, out: &mut CheckOutcome, reason: String, help: String) -> Result<()> {
    if force {
        out.notes.push(format!("--force: {reason}"));
        Ok(())
    } else {
        Err(DfuError::Refused {
            reason,
            help: format!("{help}\n(--force writes it anyway)"),
        })
    }
}

/// The module header of an image wherever it was placed (the header's own start address is
/// checked against the placement separately).
fn module_of(image: &Image) -> Option<ModuleInfo> {
    particle::find(&image.segments.first()?.data, None)
}

/// "user part 1 version 2", "system part 2 version 6", "bootloader version 4".
pub fn describe_module(m: &ModuleInfo) -> String {
    match m.function {
        ModuleFunction::UserPart | ModuleFunction::SystemPart => {
            format!("{} {} version {}", m.function.name(), m.index, m.version)
        }
        ModuleFunction::Monolithic => format!("monolithic firmware version {}", m.version),
        f => format!("{} version {}", f.name(), m.version),
    }
}

fn platform(id: u16) -> String {
    match particle::platform_name(id) {
        Some(n) => format!("the {n} (platform {id})"),
        None => format!("platform {id}"),
    }
}

fn where_apps_go(p: &Profile) -> String {
    p.app_address
        .map(|a| format!("; applications for the {} go at 0x{a:08x}", p.name))
        .unwrap_or_default()
}

/// Checks every file against the device profile and the installed modules.
pub fn check(
    files: &[Placed],
    profile: Option<&Profile>,
    installed: &[ModuleInfo],
    force: bool,
) -> Result<CheckOutcome> {
    let mut out = CheckOutcome::default();
    let modules: Vec<(usize, ModuleInfo)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| module_of(&f.image).map(|m| (i, m)))
        .collect();
    for (i, f) in files.iter().enumerate() {
        let start = f.image.start().unwrap_or(0);
        let module = modules.iter().find(|(j, _)| *j == i).map(|(_, m)| m);
        if let Some(m) = module {
            check_module(f, m, start, profile, installed, &modules, force, &mut out)?;
        } else if let Some(vt) = f.image.vector_table() {
            let len = f.image.segments[0].data.len() as u32;
            if !vt.fits(start, len) {
                refuse_or_warn(
                    force,
                    &mut out,
                    format!(
                        "{} was linked to run at 0x{:08x} (its reset handler is at 0x{:08x}), but it would be written at 0x{start:08x}; it would not start there",
                        f.name,
                        vt.likely_link_base(),
                        vt.reset_address()
                    ),
                    format!(
                        "flash it at the address it was linked for (--address 0x{:08x}) or rebuild it for 0x{start:08x}{}",
                        vt.likely_link_base(),
                        profile.map(where_apps_go).unwrap_or_default()
                    ),
                )?;
            }
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn check_module(
    f: &Placed,
    m: &ModuleInfo,
    start: u32,
    profile: Option<&Profile>,
    installed: &[ModuleInfo],
    in_command: &[(usize, ModuleInfo)],
    force: bool,
    out: &mut CheckOutcome,
) -> Result<()> {
    let what = describe_module(m);
    if let Some(p) = profile {
        match p.particle_platform {
            Some(want) if want != m.platform_id => refuse_or_warn(
                force,
                out,
                format!(
                    "{} is a {what} built for {}, but this device is {}",
                    f.name,
                    platform(m.platform_id),
                    platform(want)
                ),
                format!(
                    "build or download the image for {} (e.g. make PLATFORM={}){}",
                    platform(want),
                    particle::platform_name(want).unwrap_or("?").to_lowercase(),
                    where_apps_go(p)
                ),
            )?,
            None => out.notes.push(format!(
                "{} carries a Particle module header ({}), but this device ({}) is not a Particle device",
                f.name,
                platform(m.platform_id),
                p.name
            )),
            _ => {}
        }
    }
    if m.start != start {
        refuse_or_warn(
            force,
            out,
            format!("{} is a {what} that belongs at 0x{:08x} (its module header says so), but it would be written at 0x{start:08x}", f.name, m.start),
            format!("leave out --address: `dfu` takes the address from the module header (0x{:08x})", m.start),
        )?;
    }
    if m.crc_ok == Some(false) {
        refuse_or_warn(
            force,
            out,
            format!("{}: the module's CRC does not match its contents; the file is damaged or was modified after it was built", f.name),
            "rebuild or download the file again; the device would reject it and fall back (flashing green / safe mode)".into(),
        )?;
    }
    for d in &m.dependencies {
        let pending = in_command
            .iter()
            .map(|(_, x)| x)
            .find(|x| x.function == d.function && x.index == d.index);
        let have = pending.or_else(|| {
            installed
                .iter()
                .find(|x| x.function == d.function && x.index == d.index)
        });
        let need = format!(
            "{} {} version {} or newer",
            d.function.name(),
            d.index,
            d.version
        );
        match have {
            Some(x) if x.version >= d.version => {}
            Some(x) => refuse_or_warn(
                force,
                out,
                format!(
                    "{} needs {need}, but the device has version {}{}: the application would not run (the device sits in safe mode, breathing magenta)",
                    f.name,
                    x.version,
                    if pending.is_some() { " (in this command)" } else { "" }
                ),
                "flash the matching system firmware first, or together in one command (in any order): dfu flash system-part1.bin system-part2.bin user.bin".into(),
            )?,
            None if installed.is_empty() && pending.is_none() => out.notes.push(format!(
                "{} needs {need}; the installed modules could not be read, so this was not checked",
                f.name
            )),
            None => refuse_or_warn(
                force,
                out,
                format!("{} needs {need}, which is not installed on the device", f.name),
                "flash the system firmware it was built against first, or in the same command".into(),
            )?,
        }
    }
    Ok(())
}

/// Orders files so that every module comes after the modules it depends on (bootloader,
/// then system parts in dependency order, then applications); others keep address order.
pub fn dependency_order(files: Vec<Placed>) -> Vec<Placed> {
    let rank = |p: &Placed| match module_of(&p.image).map(|m| m.function) {
        Some(ModuleFunction::Bootloader) => 0,
        Some(ModuleFunction::SystemPart) | Some(ModuleFunction::Monolithic) => 1,
        Some(ModuleFunction::UserPart) => 3,
        _ => 2,
    };
    let mut pending = files;
    pending.sort_by_key(|p| (rank(p), p.image.start()));
    let mut done: Vec<Placed> = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|p| {
            module_of(&p.image).is_none_or(|m| {
                m.dependencies.iter().all(|d| {
                    !pending.iter().any(|q| {
                        module_of(&q.image)
                            .is_some_and(|x| x.function == d.function && x.index == d.index)
                    })
                })
            })
        });
        done.push(pending.remove(ready.unwrap_or(0)));
    }
    done
}

impl DfuDevice {
    /// Reads the Particle module headers installed at the profile's module regions (the
    /// device must be idle: call [`DfuDevice::ensure_idle`] first).
    pub fn installed_modules(&mut self) -> Vec<ModuleInfo> {
        let Some(p) = self.info.profile.clone() else {
            return Vec::new();
        };
        if p.particle_platform.is_none() || !self.info.functional.can_upload() {
            return Vec::new();
        }
        let mut found = Vec::new();
        let alt = self.alt;
        for r in p.regions.iter().filter(|r| r.alt == alt) {
            let Some(off) = r.module_header_offset else {
                continue;
            };
            let mut done = 0;
            let Ok(raw) = self.dfuse_read(
                r.start + off,
                HEADER_LEN as u64,
                Phase::Compare,
                &mut done,
                &mut |_| {},
            ) else {
                continue;
            };
            let Ok(h) = <[u8; HEADER_LEN]>::try_from(raw.as_slice()) else {
                continue;
            };
            let mut m = ModuleInfo::decode(&h);
            m.offset = off;
            if m.start == r.start && m.end > m.start && m.function.is_flashable() {
                found.push(m);
            }
        }
        self.modules = found.clone();
        found
    }
}
