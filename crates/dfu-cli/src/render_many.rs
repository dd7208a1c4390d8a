//! What the user sees of a many-device run: one progress bar per device on a terminal
//! (labelled by serial and path), prefixed lines elsewhere, JSON lines that each carry
//! their device, and the final table.

use crate::exit::Failure;
use crate::out::{self, errln, outln};
use crate::render;
use dfu::many::{DeviceResult, Target};
use dfu::{Event, Phase};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use std::io::IsTerminal;

/// Progress of several devices at once; `event` may be called from any thread.
pub struct ManyProgress {
    json: bool,
    labels: Vec<String>,
    targets: Vec<Target>,
    bars: Option<(MultiProgress, Vec<ProgressBar>)>,
}

impl ManyProgress {
    /// Bars on a terminal, lines elsewhere, JSON lines with `json`.
    pub fn new(targets: &[Target], json: bool) -> Self {
        let labels: Vec<String> = targets.iter().map(Target::label).collect();
        let width = labels.iter().map(String::len).max().unwrap_or(0);
        let bars = (!json && std::io::stderr().is_terminal()).then(|| {
            let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(&format!(
                "{{prefix:<{width}}} {{msg:<8}} [{{bar:30}}] {{bytes:>10}}/{{total_bytes:10}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bars = labels
                .iter()
                .map(|l| {
                    let b = mp.add(ProgressBar::new(1));
                    b.set_style(style.clone());
                    b.set_prefix(l.clone());
                    b.set_message("connect");
                    b
                })
                .collect();
            (mp, bars)
        });
        ManyProgress {
            json,
            labels,
            targets: targets.to_vec(),
            bars,
        }
    }

    /// One event of device `i`.
    pub fn event(&self, i: usize, e: &Event) {
        if self.json {
            if !out::stdout_closed() {
                out::json(&with_device(&self.targets[i], e));
            }
            return;
        }
        let label = &self.labels[i];
        let line = match e {
            Event::Note { message, .. } => Some(format!("{label}: note: {message}")),
            Event::Plan { steps, mass_erase } => Some(
                render::plan_lines(steps, *mass_erase)
                    .iter()
                    .map(|l| format!("{label}: plan: {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Event::Start { phase, total } if self.bars.is_none() && *phase != Phase::Leave => {
                Some(format!("{label}: {}: {total} bytes", phase.label()))
            }
            _ => None,
        };
        match (&self.bars, line) {
            (Some((mp, _)), Some(l)) => {
                let _ = mp.println(l);
            }
            (None, Some(l)) => errln!("{l}"),
            _ => {}
        }
        if let Some((_, bars)) = &self.bars {
            let b = &bars[i];
            match e {
                // Leaving has no bytes: the bar keeps the last phase's count.
                Event::Start { phase, total } if *total > 0 => {
                    b.set_length(*total);
                    b.set_position(0);
                    b.set_message(phase.label().to_lowercase());
                }
                Event::Start { phase, .. } => b.set_message(phase.label().to_lowercase()),
                Event::Progress { done, .. } => b.set_position(*done),
                _ => {}
            }
        }
    }

    /// Marks device `i` done (its bar shows how it ended).
    pub fn device_done(&self, i: usize, ok: bool) {
        if let Some((_, bars)) = &self.bars {
            match ok {
                true => bars[i].finish_with_message("ok"),
                // A failed device's bar stays where it stopped.
                false => bars[i].abandon_with_message("FAILED"),
            }
        }
    }
}

/// An event as a JSON object with a `device` member.
pub fn with_device<'a>(target: &'a Target, e: &'a Event) -> EventLine<'a> {
    EventLine {
        event: e,
        device: Some(target),
    }
}

/// An event as a JSON line: the event's keys, with `device` for `--all` and `--watch`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct EventLine<'a> {
    #[serde(flatten)]
    event: &'a Event,
    /// The device the event is about (`--all`, `--watch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Target")]
    device: Option<&'a Target>,
}

/// `ok`, `refused` or `failed`.
pub fn outcome(r: &DeviceResult) -> &'static str {
    match &r.result {
        Ok(_) => "ok",
        Err(f) if f.error.kind() == dfu::ErrorKind::Refused => "refused",
        Err(_) => "failed",
    }
}

/// One device's result as JSON: the device, `result`, the report (or, on failure, what
/// had been done) and the error with its exit code, stable code and help (docs/json.md).
#[derive(Serialize, schemars::JsonSchema)]
pub struct ResultJson<'a> {
    device: &'a Target,
    #[schemars(extend("enum" = ["ok", "error"]))]
    result: &'static str,
    outcome: &'static str,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "dfu::FlashReport")]
    report: Option<&'a dfu::FlashReport>,
    #[serde(flatten)]
    failure: Option<FailureJson<'a>>,
}

/// What a failed device had done, and why it failed.
#[derive(Serialize, schemars::JsonSchema)]
struct FailureJson<'a> {
    done: &'a dfu::FlashReport,
    exit_code: i32,
    code: &'static str,
    error: String,
    help: String,
}

/// One device's result as JSON.
pub fn result_json(r: &DeviceResult) -> ResultJson<'_> {
    let failure = r.result.as_ref().err().map(|f| {
        let failure = Failure::of(&f.error);
        FailureJson {
            done: &f.done,
            exit_code: failure.code,
            code: f.error.code().as_str(),
            error: failure.message,
            help: crate::help::after_flash_failure(&f.done, failure.help),
        }
    });
    ResultJson {
        device: &r.target,
        result: if r.ok() { "ok" } else { "error" },
        outcome: outcome(r),
        seconds: r.elapsed.as_secs_f64(),
        report: r.result.as_ref().ok(),
        failure,
    }
}

/// The table: device, result, bytes written, sectors erased and skipped, time, error.
pub fn table(results: &[DeviceResult]) {
    let label = |r: &DeviceResult| r.target.label();
    let w = results
        .iter()
        .map(|r| label(r).len())
        .max()
        .unwrap_or(6)
        .max(6);
    outln!(
        "{:<w$}  {:<7}  {:>10}  {:>6}  {:>7}  {:>8}  error",
        "device",
        "result",
        "written",
        "erased",
        "skipped",
        "time"
    );
    for r in results {
        let done = match &r.result {
            Ok(report) => report,
            Err(f) => &*f.done,
        };
        let written: u64 = done.written.iter().map(|(_, n)| n).sum();
        let error = match &r.result {
            Ok(_) => String::new(),
            Err(f) => format!("{} ({})", f.error, f.error.code()),
        };
        outln!(
            "{:<w$}  {:<7}  {:>10}  {:>6}  {:>7}  {:>6.2} s  {error}",
            label(r),
            outcome(r),
            written,
            done.erased.len(),
            done.skipped.len(),
            r.elapsed.as_secs_f64(),
        );
    }
}
