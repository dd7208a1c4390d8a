//! `dfu flash`, `read`, `erase`: arguments -> library plan -> execute -> render.

use crate::args::{EraseArgs, FlashArgs, Global, ReadArgs};
use crate::exit::{self, Failure};
use crate::render::{self, Progress};
use dfu::{AddressSource, DeviceView, DfuDevice, Firmware, FlashOptions, FlashPlan, Severity};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Connects to the device the user selected, opens the alt setting asked for, and reads
/// what planning needs.
fn open(
    g: &Global,
    backend: &mut dyn dfu::Backend,
    notes: &mut Vec<String>,
) -> Result<(DfuDevice, DeviceView), Failure> {
    let info = g.connect(backend, notes)?;
    let alt = g.alt_for(&info)?;
    let mut dev = DfuDevice::open(backend, info, alt)?;
    let view = dev.survey(g.layout()?.as_ref())?;
    notes.extend(view.notes.iter().cloned());
    Ok((dev, view))
}

fn written_lines(r: &dfu::FlashReport) -> Vec<String> {
    let erased = r.erased.iter().map(|(s, n)| (*s, u64::from(*n)));
    let mut v: Vec<String> = render::merge(erased)
        .into_iter()
        .map(|(s, n)| format!("erased {}", render::range(s, n)))
        .collect();
    v.extend(
        render::merge(r.written.iter().copied())
            .into_iter()
            .map(|(s, n)| format!("wrote {}", render::range(s, n))),
    );
    v
}

/// The notes a plan gives the user: where each raw binary went, and every finding that is
/// not a refusal.
fn plan_notes(plan: &FlashPlan) -> Vec<String> {
    let mut notes = Vec::new();
    for p in &plan.placements {
        let why = match &p.source {
            AddressSource::File => continue,
            AddressSource::Given => "--address".to_string(),
            s => s.describe(),
        };
        let len: u64 = p.parts.iter().map(|x| x.length).sum();
        let at = p.parts.first().map_or(0, |x| x.address);
        notes.push(format!(
            "{}: raw binary of {len} bytes placed at 0x{at:08x} ({why})",
            p.file
        ));
    }
    for f in plan.notes() {
        match f.severity {
            Severity::Overridden => notes.push(format!("--force: {}", f.message)),
            _ => notes.push(f.message.clone()),
        }
    }
    notes
}

fn options(a: &FlashArgs, alt: Option<u8>) -> FlashOptions {
    FlashOptions {
        address: a.address,
        alt,
        verify: !a.no_verify,
        leave: !a.no_leave,
        skip_unchanged: !a.no_skip,
        mass_erase: a.mass_erase,
        force: a.force,
        dry_run: a.dry_run,
    }
}

/// `dfu flash`.
pub fn flash(g: &Global, a: FlashArgs) -> Result<(), Failure> {
    let mut backend = g.backend()?;
    let (mut dev, plan) = prepare(g, &a, backend.as_mut()).map_err(nothing_written)?;
    let start = backend.now();
    let mut progress = Progress::new(a.json);
    let result = dev.execute(&plan, &mut |e| progress.event(e));
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
            json!({"result": "ok", "plan": plan, "report": report, "seconds": elapsed.as_secs_f64(), "backend": backend.name()})
        );
        return Ok(());
    }
    summary(&report, &plan.options, elapsed, backend.name() == "sim");
    Ok(())
}

/// Reads the files, connects, reads the device and makes the plan; prints its notes.
fn prepare(
    g: &Global,
    a: &FlashArgs,
    backend: &mut dyn dfu::Backend,
) -> Result<(DfuDevice, FlashPlan), Failure> {
    let files = a
        .files
        .iter()
        .map(Firmware::load)
        .collect::<Result<Vec<_>, _>>()?;
    let mut notes = Vec::new();
    let (dev, view) = open(g, backend, &mut notes)?;
    let asked_alt = g.alt.is_some().then_some(view.alt);
    let plan = dfu::plan(&view, files, &options(a, asked_alt))?;
    notes.extend(plan_notes(&plan));
    for n in &notes {
        render::note(n, a.json);
    }
    Ok((dev, plan))
}

/// A failure before the first erase or write says so.
fn nothing_written(mut f: Failure) -> Failure {
    f.progress.get_or_insert_with(Vec::new);
    f
}

fn summary(report: &dfu::FlashReport, opts: &FlashOptions, elapsed: Duration, sim: bool) {
    if report.dry_run {
        println!("dry run: nothing was written. The plan, in order:");
        for p in &report.steps {
            for s in &p.erase {
                println!("  erase {}", render::range(s.start, u64::from(s.size)));
            }
            for r in &p.writes {
                println!("  write {}", render::range(r.address, r.data.len() as u64));
            }
        }
        return;
    }
    let bytes: u64 = report.written.iter().map(|(_, n)| n).sum();
    let clock = if sim { " (simulated time)" } else { "" };
    let checked = match (report.verified, opts.verify) {
        (true, _) => "verified by reading back",
        (false, true) => "not read back (the device cannot upload)",
        (false, false) => "not read back (--no-verify)",
    };
    println!(
        "Done in {:.2} s{clock}: {bytes} bytes written{}, {} sector(s) erased, {} skipped as unchanged; {checked}.",
        elapsed.as_secs_f64(),
        report.written.first().map(|(s, _)| format!(" from 0x{s:08x}")).unwrap_or_default(),
        report.erased.len(),
        report.skipped.len(),
    );
    match &report.leave {
        Some(dfu::dfuse::LeaveOutcome::Acknowledged) => {
            println!("The device left DFU mode and is starting the application.")
        }
        Some(dfu::dfuse::LeaveOutcome::StatusLost { .. }) => {
            println!("The device restarted to run the application.")
        }
        None if opts.leave => {}
        None => println!("The device stays in DFU mode (--no-leave)."),
    }
}

/// `dfu read`.
pub fn read(g: &Global, a: ReadArgs) -> Result<(), Failure> {
    if a.output.exists() && !a.force {
        return Err(Failure::file(
            format!("{} exists; not overwriting it", a.output.display()),
            "choose another file name, or add --force to replace it",
        ));
    }
    let mut backend = g.backend()?;
    let mut notes = Vec::new();
    let (mut dev, _) = open(g, backend.as_mut(), &mut notes)?;
    for n in &notes {
        render::note(n, false);
    }
    let address = match (a.address, dev.info.is_dfuse()) {
        (Some(x), _) => x,
        (None, false) => 0,
        (None, true) => {
            return Err(Failure::usage(
                "--address is needed for DfuSe devices",
                "e.g. --address 0x08000000; `dfu info` shows the memory map",
            ))
        }
    };
    let mut progress = Progress::new(false);
    let data = dev.read(address, a.length, &mut |e| progress.event(e));
    drop(dev);
    backend.finish()?;
    let data = data?;
    write_new(&a.output, &data, a.force)?;
    println!(
        "Read {} bytes from 0x{address:08x} into {}",
        data.len(),
        a.output.display()
    );
    if (data.len() as u64) < a.length {
        eprintln!(
            "note: the device returned {} of the {} bytes asked for (end of its memory)",
            data.len(),
            a.length
        );
    }
    Ok(())
}

/// Writes a file, refusing to replace an existing one unless `force`.
pub fn write_new(path: &Path, data: &[u8], force: bool) -> Result<(), Failure> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(path).map_err(|e| {
        Failure::file(
            format!("cannot create {}: {e}", path.display()),
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                "choose another file name, or add --force to replace it"
            } else {
                "check that the directory exists and is writable"
            },
        )
    })?;
    f.write_all(data).map_err(|e| {
        Failure::file(
            format!("writing {}: {e}", path.display()),
            "check the free space",
        )
    })
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
    let (mut dev, _) = open(g, backend.as_mut(), &mut notes)?;
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
