//! `dfu info`: one device in depth, with its profile, memory maps and installed modules.

use crate::args::Global;
use crate::cmd_device::print_device;
use crate::exit::Failure;
use crate::out::{self, outln};
use dfu::{DeviceInfo, Mode};
use dfu_proto::layout::human_size;
use serde::Serialize;

/// The JSON of `dfu info`: the device as `list` shows it, and more.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct InfoJson<'a> {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    #[serde(flatten)]
    device: &'a DeviceInfo,
    installed_modules: Vec<String>,
    profile_detail: Option<dfu::ProfileJson<'a>>,
    layout_given: Option<LayoutGiven>,
    settings: Vec<crate::config::Setting>,
}

/// What `--layout` does for the selected alt, in `dfu info --json`.
#[derive(Serialize, schemars::JsonSchema)]
struct LayoutGiven {
    alt: u8,
    layout: String,
    used: bool,
    note: String,
}

/// `dfu info`.
pub fn info(g: &Global, json: bool) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let d = g.select_one(backend.as_mut(), &mut crate::render::stderr_event)?;
    let modules = installed_modules(backend.as_mut(), &d);
    backend.finish()?;
    let layout_given = layout_given(g, &d)?;
    if json {
        out::json(&InfoJson {
            result: "ok",
            device: &d,
            installed_modules: modules
                .iter()
                .map(dfu_image::ModuleInfo::describe)
                .collect(),
            profile_detail: d.profile.as_ref().map(dfu::ProfileJson::of),
            layout_given,
            settings: settings()?,
        });
        return Ok(());
    }
    print_device(&d);
    if let Some(l) = &layout_given {
        outln!("  {}", l.note);
    }
    print_functional_and_alts(&d);
    print_profile(&d, &modules);
    for line in crate::picture::memory_strips(&d, &modules) {
        outln!("  {line}");
    }
    print_settings()
}

/// The functional descriptor in words, and each alt setting's memory map.
fn print_functional_and_alts(d: &DeviceInfo) {
    let f = &d.functional;
    outln!(
        "  DFU version 0x{:04x}, attributes 0x{:02x}: download {}, upload {}, manifestation {}, {}",
        f.dfu_version,
        f.attributes,
        yes_no(f.can_download()),
        yes_no(f.can_upload()),
        if f.manifestation_tolerant() {
            "tolerant"
        } else {
            "intolerant"
        },
        if f.will_detach() {
            "detaches itself"
        } else {
            "needs a bus reset to detach"
        }
    );
    for a in &d.alts {
        match (&a.layout, &a.layout_error) {
            (Some(l), _) => {
                outln!("  alt {} memory map:", a.alt);
                for line in l.to_string().lines().skip(1) {
                    outln!("  {line}");
                }
            }
            (None, Some(e)) if d.is_dfuse() => {
                outln!("  alt {}: not a memory layout: {e}", a.alt)
            }
            _ => {}
        }
    }
}

/// The matched profile: why, where applications go, regions, quirks, installed modules.
fn print_profile(d: &DeviceInfo, modules: &[dfu_image::ModuleInfo]) {
    match &d.profile {
        Some(p) => {
            outln!("  profile {}: {}", p.name, p.title);
            outln!("    why: {}", d.profile_reason);
            if let Some(a) = p.app_address {
                outln!("    applications go at 0x{a:08x}");
            }
            for r in &p.regions {
                outln!(
                    "    alt {} 0x{:08x}-0x{:08x} {:>8}  {} ({:?})",
                    r.alt,
                    r.start,
                    r.end() - 1,
                    human_size(r.size),
                    r.name,
                    r.role
                );
            }
            if !p.quirks.is_empty() {
                outln!("    quirks: {:?}", p.quirks);
            }
            for m in modules {
                outln!("    installed at 0x{:08x}: {}", m.start, m.describe());
            }
        }
        None => outln!(
            "  no known profile matches this device: {} (give one with --profile FILE)",
            d.profile_reason
        ),
    }
}

/// The settings in force and where each came from: this command's, then those that
/// `dfu flash` would take from the environment and dfu.toml.
fn settings() -> Result<Vec<crate::config::Setting>, Failure> {
    let mut all: Vec<crate::config::Setting> = crate::config::settings().to_vec();
    for s in crate::config::settings_for("flash")? {
        if !all.iter().any(|x| x.key == s.key) {
            all.push(crate::config::Setting {
                key: format!("flash.{}", s.key),
                ..s
            });
        }
    }
    Ok(all)
}

fn print_settings() -> Result<(), Failure> {
    let all = settings()?;
    if all.is_empty() {
        outln!("  settings: none from the command line, DFU_* variables or dfu.toml");
    } else {
        outln!("  settings:");
    }
    for s in all {
        outln!("    {} = {}  ({})", s.key, s.value, s.source);
    }
    Ok(())
}

/// What `--layout` does for the selected alt of `d` (`None` when it is not given).
fn layout_given(g: &Global, d: &DeviceInfo) -> Result<Option<LayoutGiven>, Failure> {
    let Some(given) = g.layout()? else {
        return Ok(None);
    };
    let alt = dfu::AltChoice::from_option(g.alt.as_deref())?.resolve(d)?;
    let (layout, note) = dfu::survey::layout_for(d, alt, Some(&given));
    let used = layout.as_ref() == Some(&given);
    let note = note.map(|n| n.message).unwrap_or_else(|| match used {
        true => format!(
            "alt {alt} uses the layout given with --layout: {}",
            given.to_string().lines().next().unwrap_or_default()
        ),
        false => format!("alt {alt} is a plain DFU alt setting: a memory layout does not apply"),
    });
    Ok(Some(LayoutGiven {
        alt,
        layout: g.layout.clone().unwrap_or_default(),
        used,
        note,
    }))
}

/// The Particle modules installed on a device in DFU mode (empty for other devices or when
/// they cannot be read).
fn installed_modules(backend: &mut dyn dfu::Backend, d: &DeviceInfo) -> Vec<dfu_image::ModuleInfo> {
    if d.mode != Mode::Dfu
        || d.profile
            .as_ref()
            .is_none_or(|p| p.particle_platform.is_none())
    {
        return Vec::new();
    }
    let Ok(mut dev) = dfu::DfuDevice::open(backend, d.clone(), 0) else {
        return Vec::new();
    };
    if dev.ensure_idle().is_err() {
        return Vec::new();
    }
    dev.installed_modules().unwrap_or_default()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
