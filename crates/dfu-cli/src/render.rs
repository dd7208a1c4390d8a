//! Everything the user sees: progress bars on a terminal, JSON lines, errors with help.

use crate::exit::Failure;
use crate::out::{self, errln};
use dfu::{Event, Phase};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Appended to `dfu --help`.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 success, 2 usage, 3 file (unreadable/invalid input, output exists), \
4 no device or several, 5 refused by a check (nothing written), 6 device or USB error, 7 verify mismatch; \
with several devices, 0 only when all succeeded, else the most serious code among them.\n\
`dfu util ARGS...` (or this binary named dfu-util) takes dfu-util 0.11's command line; \
`dfu suffix-compat` and `dfu prefix-compat` those of dfu-suffix and dfu-prefix.";

/// Prints a failure: `error:` line, `help:` line, what was written.
pub fn failure(f: &Failure, json: bool) {
    if json {
        if out::result_written() {
            return;
        }
        out::json(&ErrorJson {
            result: "error",
            exit_code: f.code,
            code: f.error_code.map(|c| c.as_str()),
            error: &f.message,
            help: &f.help,
            written: f.progress.as_deref(),
        });
        return;
    }
    errln!("error: {}", f.message);
    if let Some(p) = &f.progress {
        if p.is_empty() {
            errln!("nothing was written to the device.");
        } else {
            for line in p {
                errln!("{line}");
            }
        }
    }
    let mut lines = f.help.lines();
    if let Some(first) = lines.next() {
        errln!("help: {first}");
        for l in lines {
            errln!("      {l}");
        }
    }
    if let Some(c) = f.error_code {
        errln!("code: {c}");
    }
}

/// The JSON line of a failure.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorJson<'a> {
    #[schemars(extend("enum" = ["error"]))]
    result: &'static str,
    exit_code: i32,
    code: Option<&'static str>,
    error: &'a str,
    help: &'a str,
    written: Option<&'a [String]>,
}

/// One line per step: what will be erased, written and skipped (adjacent ranges joined).
pub fn plan_lines(steps: &[dfu::events::StepSummary], mass_erase: bool) -> Vec<String> {
    let mut out = Vec::new();
    if mass_erase {
        out.push("mass-erase the device".to_string());
    }
    let join = |v: &[dfu::json::Range]| {
        let mut parts = merge(v.iter().map(|r| (r.address, r.length)))
            .into_iter()
            .map(|(s, n)| range(s, n))
            .collect::<Vec<_>>();
        if parts.len() > 3 {
            let more = parts.len() - 2;
            parts.truncate(2);
            parts.push(format!("{more} more"));
        }
        parts.join(", ")
    };
    for s in steps {
        let mut what = Vec::new();
        if !s.erase.is_empty() {
            what.push(format!("erase {}", join(&s.erase)));
        }
        if !s.write.is_empty() {
            what.push(format!("write {}", join(&s.write)));
        }
        if !s.skip.is_empty() {
            what.push(format!("skip {} (unchanged)", join(&s.skip)));
        }
        if what.is_empty() {
            what.push("nothing to do".into());
        }
        out.push(format!("alt {}: {}", s.alt, what.join("; ")));
    }
    out
}

pub use dfu::account::{merge, range};

/// Turns library events into progress bars (terminal) or JSON lines.
pub struct Progress {
    json: bool,
    bars: bool,
    bar: Option<ProgressBar>,
    /// A finished bar is still on the terminal's current line (the cursor after it).
    finished_on_line: bool,
    /// Off a terminal: the running phase's size and when its last progress line was printed.
    plain: Option<(u64, std::time::Instant)>,
}

impl Progress {
    /// Progress output for the current terminal.
    pub fn new(json: bool) -> Self {
        Progress {
            json,
            bars: !json && std::io::stderr().is_terminal(),
            bar: None,
            finished_on_line: false,
            plain: None,
        }
    }

    /// Off a terminal (a CI log): a progress line at most once a second.
    fn plain_line(&mut self, phase: Phase, done: u64) {
        let Some((total, last)) = self.plain.as_mut() else {
            return;
        };
        if *total == 0 || last.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        *last = std::time::Instant::now();
        let pct = done.saturating_mul(100) / *total;
        errln!("{}: {done} of {} bytes ({pct}%)", phase.label(), *total);
    }

    /// Prints a line above the progress bar, if one is shown.
    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => {
                self.end_line();
                errln!("{text}");
            }
        }
    }

    /// Handles one event.
    pub fn event(&mut self, e: &Event) {
        if self.json {
            if !out::stdout_closed() {
                out::json(e);
            }
            return;
        }
        match e {
            Event::Start { phase, total } => {
                if self.bars {
                    let template = if *total == 0 {
                        "{prefix:>7} {spinner} {elapsed}"
                    } else {
                        "{prefix:>7} [{bar:30}] {bytes:>10}/{total_bytes:10}"
                    };
                    let bar = ProgressBar::new((*total).max(1));
                    bar.set_style(
                        ProgressStyle::with_template(template)
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar.set_prefix(phase.label());
                    self.finish();
                    self.bar = Some(bar);
                } else if *total == 0 && *phase != Phase::Leave {
                    self.plain = None;
                    errln!("{}...", phase.label());
                } else if *phase != Phase::Leave {
                    self.plain = Some((*total, std::time::Instant::now()));
                    errln!("{}: {} bytes", phase.label(), total);
                }
            }
            Event::Progress { phase, done } => {
                if let Some(b) = &self.bar {
                    b.set_position(*done);
                } else {
                    self.plain_line(*phase, *done);
                }
            }
            Event::Done { .. } => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                    self.finished_on_line = true;
                }
            }
            Event::Plan { steps, mass_erase } => {
                for line in plan_lines(steps, *mass_erase) {
                    self.line(&format!("plan: {line}"));
                }
            }
            Event::Note { message, .. } => self.line(&format!("note: {message}")),
            Event::Wait { hint } => {
                self.finish();
                self.bar = spinner(&format!(
                    "waiting for a DFU device: put it in DFU mode ({hint})"
                ));
            }
        }
    }

    /// Ends the progress display before a result line is printed: a bar still running
    /// (a phase that did not finish) is cleared, and a finished bar is left on a line of its
    /// own, so the result starts on a new line instead of on the bar's. Safe to call at any time and more than once; dropping a
    /// `Progress` does it too.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        self.end_line();
    }

    /// Moves past a finished bar that is still on the current line.
    fn end_line(&mut self) {
        if std::mem::take(&mut self.finished_on_line) {
            errln!();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A spinner with `message` on a terminal (ticking by itself); elsewhere the message is
/// printed once and `None` comes back.
pub fn spinner(message: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        errln!("{message}");
        return None;
    }
    let s = ProgressBar::new_spinner();
    s.set_message(message.to_string());
    s.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(s)
}

/// Events of a command that shows no progress (`info`, `detach`, option bytes): notes and
/// the wait for a device, as lines on standard error.
pub fn stderr_event(e: &dfu::Event) {
    match e {
        dfu::Event::Note { message, .. } => errln!("note: {message}"),
        dfu::Event::Wait { hint } => {
            errln!("waiting for a DFU device: put it in DFU mode ({hint})")
        }
        _ => {}
    }
}
