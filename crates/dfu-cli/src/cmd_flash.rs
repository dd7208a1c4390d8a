//! `dfu flash`, `read`, `erase`.

use crate::args::{EraseArgs, FlashArgs, Global};
use crate::exit::{self, Failure};
use crate::render::{self, Progress};
use dfu::checks::{self, Placed};
use dfu::{DfuDevice, FlashOptions, Run};
use dfu_image::Image;
use serde_json::json;
use std::path::Path;

/// A firmware file read and understood.
pub struct Loaded {
    /// The path as given.
    pub path: String,
    /// The parsed image.
    pub image: Image,
}

/// Reads and parses one firmware file.
pub fn load(path: &Path) -> Result<Loaded, Failure> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::file(
            format!("cannot read {name}: {e}"),
            "check the path; the build may not have produced the file",
        )
    })?;
    let image = Image::parse(&bytes, Some(&name)).map_err(|e| {
        Failure::file(
            format!("{name}: {e}"),
            "the file is damaged or not a firmware image; `dfu image inspect FILE` shows what it contains",
        )
    })?;
    Ok(Loaded { path: name, image })
}

/// Places every raw image: at `--address`, else at the address its Particle module header
/// names, else at the device's default; files with addresses keep theirs.
fn place(
    files: Vec<Loaded>,
    address: Option<u32>,
    default: Option<u32>,
    notes: &mut Vec<String>,
) -> Result<Vec<Placed>, Failure> {
    let mut out = Vec::new();
    for mut f in files {
        if f.image.needs_address {
            let module = f
                .image
                .segments
                .first()
                .and_then(|s| dfu_image::particle::find(&s.data, None));
            let (at, why) = match (address, module, default) {
                (Some(a), _, _) => (a, "--address".to_string()),
                (None, Some(m), _) => (
                    m.start,
                    format!(
                        "its Particle module header: {} {} for {}",
                        m.function.name(),
                        m.index,
                        m.platform_name().unwrap_or("an unknown platform")
                    ),
                ),
                (None, None, Some(a)) => (a, "the device profile's application address".to_string()),
                (None, None, None) => {
                    return Err(Failure::usage(
                        format!("{} is a raw binary: it does not say where it goes", f.path),
                        "give the address with --address 0x08000000 (the device is unknown, so there is no default)",
                    ))
                }
            };
            f.image
                .place(at)
                .map_err(|e| Failure::usage(format!("{}: {e}", f.path), "use a lower --address"))?;
            notes.push(format!(
                "{}: raw binary of {} bytes placed at 0x{at:08x} ({why})",
                f.path,
                f.image.total_len()
            ));
        } else if let (Some(a), Some(start)) = (address, f.image.start()) {
            if a != start {
                return Err(Failure::usage(
                    format!("{} says it belongs at 0x{start:08x}, but --address says 0x{a:08x}", f.path),
                    "drop --address: the file carries its own addresses (or convert it to a raw binary first)",
                ));
            }
        }
        out.push(Placed {
            name: f.path,
            image: f.image,
        });
    }
    let all = out.iter().map(|p| p.image.clone()).collect();
    Image::combine(all).map_err(|e| {
        Failure::file(
            e.to_string(),
            "the files overlap: flash them one at a time, or fix the addresses",
        )
    })?;
    Ok(out)
}

/// The image's segments as runs, adjacent ones merged.
fn runs_of(image: &Image) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for s in &image.segments {
        match runs.last_mut() {
            Some(r) if r.end() == u64::from(s.address) => {
                r.data.extend_from_slice(&s.data);
                r.len = r.data.len() as u64;
            }
            _ => runs.push(Run::new(s.address, s.data.clone())),
        }
    }
    runs
}

fn open(
    g: &Global,
    backend: &mut dyn dfu::Backend,
    notes: &mut Vec<String>,
) -> Result<DfuDevice, Failure> {
    let info = g.connect(backend, notes)?;
    let alt = g.alt_for(&info)?;
    let mut dev = DfuDevice::open(backend, info, alt)?;
    if let Some(n) = dev.resolve_layout(g.layout()?) {
        notes.push(n);
    }
    Ok(dev)
}

fn written_lines(r: &dfu::FlashReport) -> Vec<String> {
    let erased = r.erased.iter().map(|(s, n)| (*s, u64::from(*n)));
    let mut v: Vec<String> = merge(erased)
        .into_iter()
        .map(|(s, n)| format!("erased {}", render::range(s, n)))
        .collect();
    v.extend(
        merge(r.written.iter().copied())
            .into_iter()
            .map(|(s, n)| format!("wrote {}", render::range(s, n))),
    );
    v
}

/// Joins ranges that follow on from each other.
fn merge(ranges: impl Iterator<Item = (u32, u64)>) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::new();
    for (s, n) in ranges {
        match out.last_mut() {
            Some((ls, ln)) if u64::from(*ls) + *ln == u64::from(s) => *ln += n,
            _ => out.push((s, n)),
        }
    }
    out
}

/// `dfu flash`.
pub fn flash(g: &Global, a: FlashArgs) -> Result<(), Failure> {
    let files = a
        .files
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut backend = g.backend()?;
    let mut notes = Vec::new();
    let mut dev = open(g, backend.as_mut(), &mut notes)?;
    let profile_app = dev
        .profile()
        .and_then(|p| p.app_address)
        .filter(|_| dev.alt == 0);
    let plain_base = if dev.info.is_dfuse() {
        None
    } else {
        dev.profile()
            .and_then(|p| p.alts.get(usize::from(dev.alt)))
            .and_then(|x| x.real_layout())
            .map(|l| l.segments[0].start)
            .or(Some(0))
    };
    let placed = place(files, a.address, plain_base.or(profile_app), &mut notes)?;
    notes.extend(dev.ensure_idle()?);
    let installed = dev.installed_modules();
    let profile = dev.profile().cloned();
    let outcome = checks::check(&placed, profile.as_ref(), &installed, a.force)?;
    notes.extend(outcome.notes);
    let groups: Vec<Vec<Run>> = checks::dependency_order(placed)
        .iter()
        .map(|p| runs_of(&p.image))
        .collect();
    for n in &notes {
        render::note(n, a.json);
    }
    let opts = FlashOptions {
        verify: !a.no_verify,
        leave: !a.no_leave,
        skip_unchanged: !a.no_skip,
        mass_erase: a.mass_erase,
        force: a.force,
        dry_run: a.dry_run,
        leave_address: None,
    };
    let start = backend.now();
    let mut progress = Progress::new(a.json);
    let result = dev.flash(groups, &opts, &mut |e| progress.event(e));
    let elapsed = backend.now().saturating_sub(start);
    drop(dev);
    let finish = backend.finish();
    let report = match result {
        Ok(r) => r,
        Err(f) => {
            let mut failure = Failure::from(f.error);
            failure.progress = Some(written_lines(&f.done));
            return Err(failure);
        }
    };
    finish?;
    if a.json {
        println!(
            "{}",
            json!({"result": "ok", "report": report, "seconds": elapsed.as_secs_f64(), "backend": backend.name()})
        );
        return Ok(());
    }
    if a.dry_run {
        println!("dry run: nothing was written. The plan, in order:");
        for p in &report.plans {
            for s in &p.erase {
                println!("  erase {}", render::range(s.start, u64::from(s.size)));
            }
            for r in &p.writes {
                println!("  write {}", render::range(r.address, r.data.len() as u64));
            }
        }
        return Ok(());
    }
    let bytes: u64 = report.written.iter().map(|(_, n)| n).sum();
    let clock = if backend.name() == "sim" {
        " (simulated time)"
    } else {
        ""
    };
    println!(
        "Done: {} bytes written{}, {} sector(s) erased, {} skipped as unchanged, {} in {:.2} s{clock}.",
        bytes,
        report.written.first().map(|(s, _)| format!(" from 0x{s:08x}")).unwrap_or_default(),
        report.erased.len(),
        report.skipped.len(),
        if report.verified { "verified" } else { "NOT verified" },
        elapsed.as_secs_f64()
    );
    match &report.leave {
        Some(dfu::dfuse::LeaveOutcome::Acknowledged) => {
            println!("The device left DFU mode and is starting the application.")
        }
        Some(dfu::dfuse::LeaveOutcome::StatusLost { .. }) => {
            println!("The device restarted to run the application.")
        }
        None if !a.no_leave => {}
        None => println!("The device stays in DFU mode (--no-leave)."),
    }
    Ok(())
}

/// `dfu erase`.
pub fn erase(g: &Global, a: EraseArgs) -> Result<(), Failure> {
    let range = match (a.all, a.address, a.length) {
        (true, None, None) => None,
        (false, Some(s), Some(n)) => Some((s, n)),
        _ => {
            return Err(Failure::new(
                exit::USAGE,
                "give either --all or --address with --length",
                "e.g. dfu erase --address 0x08008000 --length 32K",
            ))
        }
    };
    let mut backend = g.backend()?;
    let mut notes = Vec::new();
    let mut dev = open(g, backend.as_mut(), &mut notes)?;
    for n in &notes {
        render::note(n, false);
    }
    let mut progress = Progress::new(false);
    let r = dev.erase(range, a.force, &mut |e| progress.event(e));
    drop(dev);
    backend.finish()?;
    let erased = r?;
    if range.is_none() {
        println!("Mass erase done.");
    } else {
        for (s, n) in erased {
            println!("erased {}", render::range(s, u64::from(n)));
        }
    }
    Ok(())
}
