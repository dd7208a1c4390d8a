//! `dfu flash --all` and `dfu flash --serial A,B`: several devices at once, each through the
//! library's pipeline in its own thread (`dfu::many`); one bar per device, then a table.

use crate::args::{FlashArgs, Global};
use crate::exit::Failure;
use crate::out::{self, errln};
use crate::render_many::{result_json, table, ManyProgress};
use dfu::many::{DeviceResult, Job, Target};
use dfu::{Backend, Firmware, Selector};
use serde::Serialize;
use std::time::Instant;

/// True when the command line asks for several devices.
pub fn wanted(g: &Global, a: &FlashArgs) -> bool {
    a.all || g.serial.len() > 1 || g.path.len() > 1
}

/// The selection without `--serial` and `--path` (USB ids only).
pub fn base_selector(g: &Global) -> Result<Selector, Failure> {
    Global {
        serial: Vec::new(),
        path: Vec::new(),
        ..g.clone()
    }
    .selector()
}

/// What every device gets: the files, the options, `--profile`, `--layout`, `--alt`.
pub fn job(g: &Global, a: &FlashArgs) -> Result<Job, Failure> {
    let files = a
        .files
        .iter()
        .map(Firmware::load)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Job {
        files,
        options: crate::cmd_flash::options(a),
        profile: g.profile()?,
        layout: g.layout()?,
        alt: dfu::AltChoice::from_option(g.alt.as_deref())?,
    })
}

/// With `--wait`: waits for every named device (or, with none named, for any device).
fn wait(g: &Global, backend: &mut dyn Backend, base: &Selector, job: &Job) -> Result<(), Failure> {
    let named = g
        .serial
        .iter()
        .map(|s| (Some(s), None))
        .chain(g.path.iter().map(|p| (None, Some(p))));
    let mut selectors: Vec<Selector> = named
        .map(|(serial, path)| Selector {
            serial: serial.cloned(),
            path: path.cloned(),
            ..base.clone()
        })
        .collect();
    if selectors.is_empty() {
        selectors.push(base.clone());
    }
    if !g.wait {
        return Ok(());
    }
    for s in &selectors {
        if !dfu::wait::present(backend, s)? {
            let hint = dfu::wait::hint_for(s, job.profile.as_ref());
            crate::render::stderr_event(&dfu::Event::Wait { hint: hint.clone() });
            dfu::wait::wait_for_device(backend, s, g.wait_timeout)
                .map_err(|e| g.wait_failure(e, &hint))?;
        }
    }
    Ok(())
}

/// `dfu flash` on several devices.
pub fn flash(g: &Global, a: FlashArgs) -> Result<(), Failure> {
    let job = job(g, &a)?;
    let mut backend = g.backend()?;
    let base = base_selector(g)?;
    wait(g, backend.as_mut(), &base, &job)?;
    let targets = dfu::many::select(
        backend.as_mut(),
        &base,
        &g.serial,
        &g.path,
        job.profile.as_ref(),
    )
    .map_err(|e| {
        let mut f = Failure::from(e);
        f.progress = Some(Vec::new());
        f
    })?;
    let start = Instant::now();
    let progress = ManyProgress::new(&targets, a.json);
    let results = dfu::many::flash_many(backend.as_ref(), &targets, &job, &|i, e| {
        progress.event(i, e)
    });
    for (i, r) in results.iter().enumerate() {
        progress.device_done(i, r.ok());
    }
    drop(progress);
    let wall = start.elapsed();
    backend.finish()?;
    let failure = overall(&results);
    if a.json {
        out::json_result(&ManyJson {
            result: if failure.is_none() { "ok" } else { "error" },
            exit_code: failure.as_ref().map_or(0, |f| f.code),
            devices: results.iter().map(result_json).collect(),
            seconds: wall.as_secs_f64(),
            backend: backend.name(),
        });
    } else {
        table(&results);
        device_errors(&results);
        let ok = results.iter().filter(|r| r.ok()).count();
        let clock = match backend.simulated() {
            true => "; device times are the simulator's clock",
            false => "",
        };
        errln!(
            "{ok} of {} device(s) flashed in {:.2} s (wall clock){clock}.",
            results.len(),
            wall.as_secs_f64()
        );
    }
    failure.map_or(Ok(()), Err)
}

/// `None` when every device succeeded; else a failure naming the failed devices, with the
/// most serious exit code among them (7 verify > 6 device > 5 refused > 4 gone > 3 > 2).
pub fn overall(results: &[DeviceResult]) -> Option<Failure> {
    let failed: Vec<(&Target, Failure)> = results
        .iter()
        .filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|f| (&r.target, Failure::of(&f.error)))
        })
        .collect();
    let worst = failed.iter().map(|(_, f)| f.code).max()?;
    let names: Vec<String> = failed.iter().map(|(t, _)| t.label()).collect();
    let mut f = Failure::new(
        worst,
        format!(
            "{} of {} device(s) failed: {}",
            failed.len(),
            results.len(),
            names.join(", ")
        ),
        "each failed device's error and help are above; the other devices were flashed and verified. Fix those and run again with --serial for just them",
    );
    let codes: Vec<_> = failed.iter().filter_map(|(_, f)| f.error_code).collect();
    if codes.windows(2).all(|w| w[0] == w[1]) {
        f.error_code = codes.first().copied();
    }
    Some(f)
}

/// Each failed device's error and help, on standard error.
pub fn device_errors(results: &[DeviceResult]) {
    for r in results {
        if let Err(e) = &r.result {
            let f = Failure::of(&e.error);
            errln!("{}: error: {}", r.target.label(), f.message);
            errln!(
                "{}: help: {}",
                r.target.label(),
                f.help.lines().next().unwrap_or("")
            );
        }
    }
}

/// The JSON result of `dfu flash --all` (docs/json.md).
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ManyJson<'a> {
    #[schemars(extend("enum" = ["ok", "error"]))]
    result: &'static str,
    exit_code: i32,
    devices: Vec<crate::render_many::ResultJson<'a>>,
    seconds: f64,
    backend: &'static str,
}
