//! What a file says about itself, checked against the device before anything is written:
//! its DFU suffix ids, the processor an ELF was built for, the Particle platform and module
//! header, the module dependencies against what is installed, and the Cortex-M vector
//! table against the address the image goes to. Every check returns findings.

use crate::code::{Code, Finding};
use crate::firmware::Firmware;
use dfu_image::particle;
use dfu_image::{ModuleFunction, ModuleInfo};
use dfu_profiles::Profile;

/// ELF machines of the processors DFU bootloaders run on: Arm, RISC-V, Xtensa, AVR.
const MCU_MACHINES: &[(u16, &str)] = &[(40, "Arm"), (243, "RISC-V"), (94, "Xtensa"), (83, "AVR")];

/// What the checks know about the device.
pub struct Device<'a> {
    /// Its profile, when one matched.
    pub profile: Option<&'a Profile>,
    /// The Particle modules installed on it (empty when unknown).
    pub installed: &'a [ModuleInfo],
    /// Its USB ids in DFU mode, and in run-time mode when known.
    pub ids: Vec<(u16, u16)>,
}

/// The module header of a placed image (checked against the placement separately).
pub(crate) fn module_of(f: &Firmware) -> Option<ModuleInfo> {
    particle::find(&f.image.segments.first()?.data, None)
}

fn platform(id: u16) -> String {
    match particle::platform_name(id) {
        Some(n) => format!("the {n} (platform {id})"),
        None => format!("platform {id}"),
    }
}

fn where_apps_go(p: &Profile) -> String {
    p.app_address
        .map(|a| format!("applications for the {} go at 0x{a:08x}", p.name))
        .unwrap_or_default()
}

/// Checks every file (placed, in the command's order) against the device.
pub fn check(files: &[Firmware], dev: &Device) -> Vec<Finding> {
    let modules: Vec<ModuleInfo> = files.iter().filter_map(module_of).collect();
    let mut out = Vec::new();
    for f in files {
        out.extend(suffix_ids(f, dev));
        out.extend(elf_machine(f));
        match module_of(f) {
            Some(m) => out.extend(check_module(f, &m, dev, &modules)),
            None => out.extend(vector_table(f, dev.profile)),
        }
    }
    out
}

fn suffix_ids(f: &Firmware, dev: &Device) -> Option<Finding> {
    let s = f.image.suffix?;
    if dev.ids.iter().any(|(v, p)| s.matches(*v, *p)) {
        return None;
    }
    let ids: Vec<String> = dev
        .ids
        .iter()
        .map(|(v, p)| format!("{v:04x}:{p:04x}"))
        .collect();
    Some(Finding::refusal(
        Code::SuffixIds,
        format!(
            "{}'s DFU suffix says it is for {:04x}:{:04x}, but this device is {}",
            f.name,
            s.vendor,
            s.product,
            ids.join(" or ")
        ),
        "the file was built for another device; 0xffff in a suffix id means any device",
    ))
}

fn elf_machine(f: &Firmware) -> Option<Finding> {
    let m = f.machine?;
    if MCU_MACHINES.iter().any(|(x, _)| *x == m) {
        return None;
    }
    let known = MCU_MACHINES
        .iter()
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    Some(Finding::refusal(
        Code::ElfMachine,
        format!(
            "{} is an ELF file for machine {m}{}, not for a microcontroller",
            f.name,
            match m {
                62 => " (x86-64: a program for the computer, not firmware)",
                3 => " (x86)",
                183 => " (AArch64)",
                _ => "",
            }
        ),
        format!("DFU devices run {known} code: flash the firmware's ELF from the firmware build"),
    ))
}

fn vector_table(f: &Firmware, profile: Option<&Profile>) -> Option<Finding> {
    let vt = f.image.vector_table()?;
    let start = f.image.start().unwrap_or(0);
    let len = f.image.segments[0].data.len() as u32;
    if vt.fits(start, len) {
        return None;
    }
    Some(Finding::refusal(
        Code::VectorTable,
        format!(
            "{} was linked to run at 0x{:08x} (its reset handler is at 0x{:08x}), but it would be written at 0x{start:08x}; it would not start there",
            f.name,
            vt.likely_link_base(),
            vt.reset_address()
        ),
        format!(
            "flash it at the address it was linked for (0x{:08x}) or rebuild it for 0x{start:08x}{}",
            vt.likely_link_base(),
            profile.map(|p| format!("; {}", where_apps_go(p))).unwrap_or_default()
        ),
    ))
}

fn check_module(
    f: &Firmware,
    m: &ModuleInfo,
    dev: &Device,
    in_command: &[ModuleInfo],
) -> Vec<Finding> {
    let what = m.describe();
    let start = f.image.start().unwrap_or(0);
    let mut out = Vec::new();
    let want = dev.profile.map(|p| (p, p.particle_platform));
    match want {
        Some((p, Some(want))) if want != m.platform_id => out.push(Finding::refusal(
            Code::Platform,
            format!(
                "{} is a {what} built for {}, but this device is {}",
                f.name,
                platform(m.platform_id),
                platform(want)
            ),
            format!(
                "build or download the image for {} (e.g. make PLATFORM={}); {}",
                platform(want),
                particle::platform_name(want).unwrap_or("?").to_lowercase(),
                where_apps_go(p)
            ),
        )),
        Some((p, None)) => out.push(Finding::refusal(
            Code::Platform,
            format!(
                "{} is a Particle {what} built for {}, but this device ({}) is not a Particle device",
                f.name,
                platform(m.platform_id),
                p.name
            ),
            format!("writing it would replace what is at 0x{start:08x}; {}", where_apps_go(p)),
        )),
        _ => {}
    }
    if m.start != start {
        out.push(Finding::refusal(
            Code::ModuleAddress,
            format!("{} is a {what} that belongs at 0x{:08x} (its module header says so), but it would be written at 0x{start:08x}", f.name, m.start),
            format!("the module header names 0x{:08x}: without an address, `dfu` takes it from there", m.start),
        ));
    }
    if m.crc_ok == Some(false) {
        out.push(Finding::refusal(
            Code::ModuleCrc,
            format!("{}: the module's CRC does not match its contents; the file is damaged or was modified after it was built", f.name),
            "rebuild or download the file again; the device would reject it and fall back (flashing green / safe mode)",
        ));
    }
    for d in &m.dependencies {
        out.extend(dependency(f, d, dev.installed, in_command));
    }
    out
}

fn dependency(
    f: &Firmware,
    d: &dfu_image::Dependency,
    installed: &[ModuleInfo],
    in_command: &[ModuleInfo],
) -> Option<Finding> {
    let same = |x: &&ModuleInfo| x.function == d.function && x.index == d.index;
    let pending = in_command.iter().find(same);
    let have = pending.or_else(|| installed.iter().find(same));
    let need = format!(
        "{} {} version {} or newer",
        d.function.name(),
        d.index,
        d.version
    );
    match have {
        Some(x) if x.version >= d.version => None,
        Some(x) => Some(Finding::refusal(
            Code::Dependency,
            format!(
                "{} needs {need}, but the device has version {}{}: the application would not run (the device sits in safe mode, breathing magenta)",
                f.name,
                x.version,
                if pending.is_some() { " (in this command)" } else { "" }
            ),
            "flash the matching system firmware first, or together in one command (in any order): dfu flash system-part1.bin system-part2.bin user.bin",
        )),
        None if installed.is_empty() => Some(Finding::note(
            Code::Dependency,
            format!("{} needs {need}; the installed modules could not be read, so this was not checked", f.name),
        )),
        None => Some(Finding::refusal(
            Code::Dependency,
            format!("{} needs {need}, which is not installed on the device", f.name),
            "flash the system firmware it was built against first, or in the same command",
        )),
    }
}

/// Orders files so that every module comes after the modules it depends on (bootloader,
/// then system parts in dependency order, then applications); others keep address order.
pub fn dependency_order(files: Vec<Firmware>) -> Vec<Firmware> {
    let rank = |f: &Firmware| match module_of(f).map(|m| m.function) {
        Some(ModuleFunction::Bootloader) => 0,
        Some(ModuleFunction::SystemPart) | Some(ModuleFunction::Monolithic) => 1,
        Some(ModuleFunction::UserPart) => 3,
        _ => 2,
    };
    let mut pending = files;
    pending.sort_by_key(|f| (rank(f), f.image.start()));
    let mut done = Vec::new();
    while !pending.is_empty() {
        let blocked = |f: &Firmware, pending: &[Firmware]| {
            module_of(f).is_some_and(|m| {
                m.dependencies.iter().any(|d| {
                    pending.iter().any(|q| {
                        module_of(q).is_some_and(|x| x.function == d.function && x.index == d.index)
                    })
                })
            })
        };
        let ready = pending.iter().position(|f| !blocked(f, &pending));
        done.push(pending.remove(ready.unwrap_or(0)));
    }
    done
}
