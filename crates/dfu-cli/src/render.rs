//! Everything the user sees: progress bars on a terminal, JSON lines, errors with help.

use crate::exit::Failure;
use dfu::{Event, Phase};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Appended to `dfu --help`.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 success, 2 usage, 3 file (unreadable/invalid input, output exists), \
4 no device or several, 5 refused by a check (nothing written), 6 device or USB error, 7 verify mismatch.";

/// Prints a failure: `error:` line, `help:` line, what was written.
pub fn failure(f: &Failure, json: bool) {
    if json {
        let v = serde_json::json!({
            "result": "error",
            "exit_code": f.code,
            "code": f.error_code,
            "error": f.message,
            "help": f.help,
            "written": f.progress,
        });
        println!("{v}");
        return;
    }
    eprintln!("error: {}", f.message);
    if let Some(p) = &f.progress {
        if p.is_empty() {
            eprintln!("nothing was written to the device.");
        } else {
            for line in p {
                eprintln!("{line}");
            }
        }
    }
    let mut lines = f.help.lines();
    if let Some(first) = lines.next() {
        eprintln!("help: {first}");
        for l in lines {
            eprintln!("      {l}");
        }
    }
    if let Some(c) = f.error_code {
        eprintln!("code: {c}");
    }
}

/// Prints a note (stderr in human mode, a JSON event in JSON mode).
pub fn note(message: &str, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "note", "message": message})
        );
    } else {
        eprintln!("note: {message}");
    }
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

/// Joins ranges that follow on from each other.
pub fn merge(ranges: impl Iterator<Item = (u32, u64)>) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::new();
    for (s, n) in ranges {
        match out.last_mut() {
            Some((ls, ln)) if u64::from(*ls) + *ln == u64::from(s) => *ln += n,
            _ => out.push((s, n)),
        }
    }
    out
}

/// Turns library events into progress bars (terminal) or JSON lines.
pub struct Progress {
    json: bool,
    bars: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress output for the current terminal.
    pub fn new(json: bool) -> Self {
        Progress {
            json,
            bars: !json && std::io::stderr().is_terminal(),
            bar: None,
        }
    }

    /// Prints a line above the progress bar, if one is shown.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Handles one event.
    pub fn event(&mut self, e: &Event) {
        if self.json {
            if let Ok(s) = serde_json::to_string(e) {
                println!("{s}");
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
                    self.bar = Some(bar);
                } else if *phase != Phase::Leave {
                    eprintln!("{}: {} bytes", phase.label(), total);
                }
            }
            Event::Progress { done, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(*done);
                }
            }
            Event::Done { .. } => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                }
            }
            Event::Plan { steps, mass_erase } => {
                for line in plan_lines(steps, *mass_erase) {
                    self.line(&format!("plan: {line}"));
                }
            }
            Event::Note { message } => self.line(&format!("note: {message}")),
        }
    }
}

/// `0x08000000-0x0800ffff (65536 bytes)`.
pub fn range(start: u32, len: u64) -> String {
    format!(
        "0x{start:08x}-0x{:08x} ({len} bytes)",
        u64::from(start) + len.max(1) - 1
    )
}
