//! `dfu flash`, `read`, `erase`: arguments -> library plan -> execute -> render.

use crate::args::{EraseArgs, FlashArgs, Global};
use crate::exit::{self, Failure};
use crate::out::{self, outln};
use crate::render::{self, Progress};
use dfu::{AddressSource, DfuDevice, Firmware, FlashOptions, FlashPlan, Severity};
use serde::Serialize;
use std::time::Duration;

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
    if !r.unsure.is_empty() {
        v.push(format!(
            "under way when it failed: {} (holds the old bytes, the new ones, or some of each)",
            render::ranges(&render::merge(r.unsure.iter().copied()))
        ));
    }
    let lost = r.erased_not_written();
    if !lost.is_empty() {
        v.push(format!(
            "erased and not written again: {} (what the device held there is gone)",
            render::ranges(&lost)
        ));
    }
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
            Severity::Overridden if f.code == dfu::Code::Irreversible => {
                notes.push(format!("--irreversible: {}", f.message))
            }
            Severity::Overridden => notes.push(format!("--force: {}", f.message)),
            _ => notes.push(f.message.clone()),
        }
    }
    notes
}

/// The library's options from the command line.
pub fn options(a: &FlashArgs, alt: Option<u8>) -> FlashOptions {
    FlashOptions {
        address: a.address,
        alt,
        verify: !a.no_verify,
        leave: !a.no_leave,
        skip_unchanged: !a.no_skip,
        mass_erase: a.mass_erase,
        force: a.force,
        dry_run: a.dry_run,
        preserve: a.preserve,
        irreversible: a.irreversible,
    }
}

/// The JSON result of `dfu flash`.
#[derive(Serialize)]
struct FlashJson<'a> {
    result: &'static str,
    plan: &'a FlashPlan,
    report: &'a dfu::FlashReport,
    seconds: f64,
    backend: &'static str,
}

/// The JSON result of `dfu erase`.
#[derive(Serialize)]
struct EraseJson {
    result: &'static str,
    mass_erase: bool,
    erased: Vec<dfu::json::Range>,
}

/// `dfu flash`.
pub fn flash(g: &Global, a: FlashArgs) -> Result<(), Failure> {
    if a.watch {
        return crate::cmd_watch::watch(g, a);
    }
    if crate::cmd_many::wanted(g, &a) {
        return crate::cmd_many::flash(g, a);
    }
    let mut backend = g.backend()?;
    let (mut dev, plan) = prepare(g, &a, backend.as_mut()).map_err(nothing_written)?;
    if !plan.options.dry_run {
        dev.cancel_on(crate::interrupt::install());
    }
    let start = backend.now();
    let mut progress = Progress::new(a.json);
    let result = dev.execute(&plan, &mut |e| progress.event(e));
    progress.finish();
    let elapsed = backend.now().saturating_sub(start);
    drop(dev);
    let finish = backend.finish();
    let report = match result {
        Ok(r) => r,
        Err(f) => {
            let mut failure = Failure::from(f.error);
            failure.progress = Some(written_lines(&f.done));
            failure.help = crate::help::after_flash_failure(&f.done, failure.help);
            return Err(failure);
        }
    };
    finish?;
    if a.json {
        out::json_result(&FlashJson {
            result: "ok",
            plan: &plan,
            report: &report,
            seconds: elapsed.as_secs_f64(),
            backend: backend.name(),
        });
        return Ok(());
    }
    summary(&report, &plan.options, elapsed, backend.name() == "sim");
    for line in crate::strip::lines(&plan, &report, crate::out::colour_stdout()) {
        outln!("{line}");
    }
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
    let (mut dev, mut view) = g.open(backend, &mut notes)?;
    dev.read_option_bytes_for(&mut view, &files)?;
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
        outln!("dry run: nothing was written. The plan, in order:");
        for p in &report.steps {
            for s in &p.erase {
                outln!("  erase {}", render::range(s.start, u64::from(s.size)));
            }
            for r in &p.writes {
                outln!("  write {}", render::range(r.address, r.data.len() as u64));
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
    outln!(
        "Done in {:.2} s{clock}: {bytes} bytes written{}, {} sector(s) erased, {} skipped as unchanged; {checked}.",
        elapsed.as_secs_f64(),
        report.written.first().map(|(s, _)| format!(" from 0x{s:08x}")).unwrap_or_default(),
        report.erased.len(),
        report.skipped.len(),
    );
    match &report.leave {
        Some(dfu::dfuse::LeaveOutcome::Acknowledged) => {
            outln!("The device left DFU mode and is starting the application.")
        }
        Some(dfu::dfuse::LeaveOutcome::StatusLost { .. }) => {
            outln!("The device restarted to run the application.")
        }
        None if opts.leave => {}
        None => outln!("The device stays in DFU mode (--no-leave)."),
    }
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
    let (mut dev, _) = g.open(backend.as_mut(), &mut notes)?;
    for n in &notes {
        render::note(n, a.json);
    }
    let mut progress = Progress::new(a.json);
    let r = dev.erase(range, a.force, &mut |e| progress.event(e));
    drop(dev);
    progress.finish();
    backend.finish()?;
    let erased = r?;
    if a.json {
        let ranges: Vec<dfu::json::Range> = erased
            .iter()
            .map(|(s, n)| dfu::json::Range {
                address: *s,
                length: u64::from(*n),
            })
            .collect();
        out::json_result(&EraseJson {
            result: "ok",
            mass_erase: range.is_none(),
            erased: ranges,
        });
    } else if range.is_none() {
        outln!("Mass erase done.");
    } else {
        for (s, n) in erased {
            outln!("erased {}", render::range(s, u64::from(n)));
        }
    }
    Ok(())
}
