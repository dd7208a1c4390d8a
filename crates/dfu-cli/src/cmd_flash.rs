//! `dfu flash`, `read`, `erase`: arguments -> library plan -> execute -> render.

use crate::args::{EraseArgs, FlashArgs, Global};
use crate::exit::{self, Failure};
use crate::out::{self, outln};
use crate::render::{self, Progress};
use dfu::{AddressSource, Firmware, FlashOptions, FlashPlan, Note, Operation, Request, Severity};
use serde::Serialize;
use std::time::Duration;

/// The notes a plan gives the user: where each raw binary went, and every finding that is
/// not a refusal.
fn plan_notes(plan: &FlashPlan, drop_in: bool) -> Vec<Note> {
    let mut notes = Vec::new();
    for p in &plan.placements {
        let why = match &p.source {
            AddressSource::File => continue,
            AddressSource::Given if drop_in => "-s".to_string(),
            AddressSource::Given => "--address".to_string(),
            s => s.describe(),
        };
        let len: u64 = p.parts.iter().map(|x| x.length).sum();
        let at = p.parts.first().map_or(0, |x| x.address);
        notes.push(Note::new(
            dfu::Code::Placed,
            format!(
                "{}: raw binary of {len} bytes placed at 0x{at:08x} ({why})",
                p.file
            ),
        ));
    }
    for f in plan.notes() {
        let message = match f.severity {
            Severity::Overridden if f.code == dfu::Code::Irreversible => {
                format!("--irreversible: {}", f.message)
            }
            // The drop-in overrides only where a caller's documented command needs it
            // (particle-cli's key slots), and says so itself.
            Severity::Overridden if drop_in => f.message.clone(),
            Severity::Overridden => format!("--force: {}", f.message),
            _ => f.message.clone(),
        };
        notes.push(Note::new(f.code, message));
    }
    notes
}

/// The library's options from the command line (the alt setting comes with the request).
pub fn options(a: &FlashArgs) -> FlashOptions {
    FlashOptions {
        address: a.address,
        alt: None,
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
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FlashJson<'a> {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    plan: &'a FlashPlan,
    report: &'a dfu::FlashReport,
    seconds: f64,
    backend: &'static str,
}

/// The JSON result of `dfu erase`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct EraseJson {
    #[schemars(extend("enum" = ["ok"]))]
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
    // A file no device could use is refused before the device is looked for; the others
    // are measured against the device's memory before they are read.
    for f in &a.files {
        dfu::pipeline::fits::check_size(f, 1 << 32).map_err(|e| nothing_written(e.into()))?;
    }
    let mut device = g.device_request().map_err(nothing_written)?;
    let mut backend = g.backend()?;
    let mut progress = Progress::new(a.json);
    let info = dfu::prepare::find_one(backend.as_mut(), &device, &mut |e| progress.event(e))
        .map_err(|e| nothing_written(g.hint_failure(&device, e)))?;
    let files = load_for(&a.files, &info, device.layout.as_ref()).map_err(nothing_written)?;
    device.known = Some(info);
    let mut options = options(&a);
    if let Some(note) = configured_address_unused(&files, options.address) {
        options.address = None;
        Progress::new(a.json).event(&note.into());
    }
    let request = Request {
        device,
        op: Operation::Flash { files, options },
    };
    run_on(g, backend, progress, &request, a.json)
}

/// An address from dfu.toml or the environment is a default for raw binaries: when every
/// file carries its own addresses it does not apply, and the note says where it came from.
fn configured_address_unused(files: &[Firmware], address: Option<u32>) -> Option<Note> {
    let at = address?;
    let setting = crate::config::settings()
        .iter()
        .find(|s| s.key == "address" && s.source != "command line")?;
    if files.iter().any(|f| f.image.needs_address) {
        return None;
    }
    Some(Note::new(
        dfu::Code::ConfigUnused,
        format!(
            "address 0x{at:08x} from {} is for raw binaries; the files carry their own addresses",
            setting.source
        ),
    ))
}

/// Reads the firmware files.
pub fn load(files: &[std::path::PathBuf]) -> Result<Vec<Firmware>, Failure> {
    Ok(files
        .iter()
        .map(Firmware::load)
        .collect::<Result<Vec<_>, _>>()?)
}

/// Reads the firmware files for the device `info`: each is measured against the device's
/// largest memory before it is read ([`dfu::pipeline::fits::load_for`]).
pub fn load_for(
    files: &[std::path::PathBuf],
    info: &dfu::DeviceInfo,
    layout: Option<&dfu_proto::MemoryLayout>,
) -> Result<Vec<Firmware>, Failure> {
    Ok(files
        .iter()
        .map(|f| dfu::pipeline::fits::load_for(f, info, layout))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Runs a flash request and renders it: the one path of `dfu flash` and of dfu-util's `-D`.
pub fn run(g: &Global, request: &Request, json: bool) -> Result<(), Failure> {
    run_on(g, g.backend()?, Progress::new(json), request, json)
}

/// [`run`] on a backend already open, with the progress display already started.
fn run_on(
    g: &Global,
    mut backend: Box<dyn dfu::Backend>,
    mut progress: Progress,
    request: &Request,
    json: bool,
) -> Result<(), Failure> {
    let mut prepared = dfu::prepare(backend.as_mut(), request, &mut |e| progress.event(e))
        .map_err(|e| nothing_written(g.hint_failure(&request.device, e)))?;
    let Some(plan) = prepared.plan.as_flash().cloned() else {
        return Err(Failure::usage("not a flash request", ""));
    };
    for n in plan_notes(&plan, g.drop_in) {
        progress.event(&n.into());
    }
    if !plan.options.dry_run {
        prepared.device.cancel_on(crate::interrupt::install());
    }
    let start = backend.now();
    let result = prepared.flash(&mut |e| progress.event(e));
    progress.finish();
    let elapsed = backend.now().saturating_sub(start);
    // A plain DFU bootloader that is not manifestation tolerant restarts after a download
    // whatever the host asks (the Maple, Smoothieboard and Kiibohd bootloaders).
    let info = &prepared.device.info;
    let restarts = !info.is_dfuse() && !info.functional.manifestation_tolerant();
    drop(prepared);
    let finish = backend.finish();
    let report = match result {
        Ok(r) => r,
        Err(f) => {
            let mut failure = Failure::from(f.error);
            failure.progress = Some(f.done.account());
            failure.help = crate::help::after_flash_failure(&f.done, failure.help);
            return Err(failure);
        }
    };
    finish?;
    if json {
        out::json_result(&FlashJson {
            result: "ok",
            plan: &plan,
            report: &report,
            seconds: elapsed.as_secs_f64(),
            backend: backend.name(),
        });
        return Ok(());
    }
    summary(
        &report,
        &plan.options,
        elapsed,
        backend.simulated(),
        restarts,
    );
    for line in crate::strip::lines(&plan, &report, crate::out::colour_stdout()) {
        outln!("{line}");
    }
    Ok(())
}

/// A failure before the first erase or write says so.
fn nothing_written(mut f: Failure) -> Failure {
    f.progress.get_or_insert_with(Vec::new);
    f
}

fn summary(
    report: &dfu::FlashReport,
    opts: &FlashOptions,
    elapsed: Duration,
    simulated: bool,
    restarts: bool,
) {
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
    let clock = if simulated { " (simulated time)" } else { "" };
    let mut checked = match (report.verified, opts.verify) {
        (true, _) => "verified by reading back".to_string(),
        (false, true) => "not read back (the device cannot upload)".to_string(),
        (false, false) => "not read back (--no-verify)".to_string(),
    };
    if let Some((at, n)) = report.unverified.first().filter(|_| report.verified) {
        checked.push_str(&format!(
            ", except the option bytes at {} (the device resets to apply them)",
            render::range(*at, *n)
        ));
    }
    outln!(
        "Done in {:.2} s{clock}: {bytes} bytes written{}, {} sector(s) erased, {} skipped as unchanged; {checked}.",
        elapsed.as_secs_f64(),
        where_written(&report.written),
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
        None if restarts && !report.dry_run => outln!(
            "The device restarts by itself after a download (its bootloader is not manifestation tolerant), though it was not asked to leave."
        ),
        None => outln!("The device stays in DFU mode (it was not asked to leave)."),
    }
}

/// Where the bytes went: ` at 0x08000000`, or each run when there are several.
fn where_written(written: &[(u32, u64)]) -> String {
    let runs = render::merge(written.iter().copied());
    match runs.as_slice() {
        [] => String::new(),
        [(at, _)] => format!(" at 0x{at:08x}"),
        more if more.len() <= 4 => {
            let each: Vec<String> = more.iter().map(|(a, n)| render::range(*a, *n)).collect();
            format!(" in {} runs: {}", more.len(), each.join(", "))
        }
        more => format!(
            " in {} runs from 0x{:08x} to 0x{:08x}",
            more.len(),
            more[0].0,
            more.iter()
                .map(|(a, n)| u64::from(*a) + n)
                .max()
                .unwrap_or(0)
                - 1
        ),
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
    let request = Request {
        device: g.device_request()?,
        op: Operation::Erase {
            range,
            force: a.force,
        },
    };
    run_erase(g, &request, a.json)
}

/// Runs an erase request and renders it: the one path of `dfu erase` and of dfu-util's
/// `:mass-erase`.
pub fn run_erase(g: &Global, request: &Request, json: bool) -> Result<(), Failure> {
    let range = match &request.op {
        Operation::Erase { range, .. } => *range,
        _ => return Err(Failure::usage("not an erase request", "")),
    };
    let mut backend = g.backend()?;
    let mut progress = Progress::new(json);
    let mut prepared = dfu::prepare(backend.as_mut(), request, &mut |e| progress.event(e))
        .map_err(|e| nothing_written(g.hint_failure(&request.device, e)))?;
    let r = prepared.erase(&mut |e| progress.event(e));
    drop(prepared);
    progress.finish();
    let erased = match r {
        Ok(erased) => erased,
        Err(f) => {
            let mut failure = nothing_written(Failure::from(f.error));
            failure.progress = Some(f.done.account());
            return Err(failure);
        }
    };
    backend.finish()?;
    if json {
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
