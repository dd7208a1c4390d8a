//! `dfu flash FILES --watch`: the production line. Each DFU-mode device that is plugged in
//! is flashed once (`dfu::watch`), with one log line per device: time, serial, path,
//! SHA-256 of the image, result, duration; `--log FILE` appends them as JSON lines.

use crate::args::{FlashArgs, Global};
use crate::exit::Failure;
use crate::out::{self, errln, outln};
use crate::render_many::{outcome, with_device};
use dfu::many::{DeviceResult, Job};
use dfu::watch::{WatchNews, WatchOptions};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// SHA-256 of the files' bytes in the order given (for one file, what `sha256sum` prints).
fn digest(files: &[PathBuf]) -> Result<String, Failure> {
    let mut h = Sha256::new();
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| {
            Failure::file(
                format!("cannot read {}: {e}", f.display()),
                "check the path",
            )
        })?;
        h.update(&bytes);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// `2026-03-01T12:00:00Z` for a time since the Unix epoch (RFC 3339, whole seconds, UTC).
/// A time outside 1970 to 9999 is shown as the nearest of those ends.
pub fn utc(t: SystemTime) -> String {
    let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799); // 9999-12-31T23:59:59Z
    humantime::format_rfc3339_seconds(t.clamp(UNIX_EPOCH, last)).to_string()
}

/// The log record of one device (docs/json.md, device-result).
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Record {
    schema_version: u32,
    time: String,
    serial: Option<String>,
    path: String,
    id: String,
    sha256: String,
    #[schemars(extend("enum" = ["ok", "refused", "failed"]))]
    result: &'static str,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i32")]
    exit_code: Option<i32>,
}

/// A record on standard output: the same, as a `device-result` event.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct RecordEvent<'a> {
    #[schemars(extend("enum" = ["device-result"]))]
    event: &'static str,
    #[serde(flatten)]
    record: &'a Record,
}

/// A device appeared (`--watch --json`).
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PluggedIn<'a> {
    #[schemars(extend("enum" = ["plugged-in"]))]
    event: &'static str,
    device: &'a dfu::many::Target,
}

/// The summary at the end of `--watch --json`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct WatchJson {
    #[schemars(extend("enum" = ["ok", "error"]))]
    result: &'static str,
    exit_code: i32,
    devices: usize,
    failed: usize,
}

/// The log record of one device.
fn record(r: &DeviceResult, sha256: &str) -> Record {
    let failed = r.result.as_ref().err();
    Record {
        schema_version: crate::out::SCHEMA_VERSION,
        time: utc(SystemTime::now()),
        serial: r.target.serial.clone(),
        path: r.target.path.clone(),
        id: r.target.id.clone(),
        sha256: sha256.to_string(),
        result: outcome(r),
        seconds: r.elapsed.as_secs_f64(),
        error: failed.map(|f| f.error.to_string()),
        code: failed.map(|f| f.error.code().as_str()),
        exit_code: failed.map(|f| Failure::of(&f.error).code),
    }
}

fn open_log(path: &PathBuf) -> Result<File, Failure> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Failure::file(
                format!(
                    "--log {}: cannot open it for appending: {e}",
                    path.display()
                ),
                "give a file in a directory you can write to; it is appended to, never truncated",
            )
        })
}

/// Ctrl-C (or SIGTERM) sets the flag: no new device is started, the ones being flashed
/// finish. A second Ctrl-C exits at once.
fn stop_flag() -> Arc<AtomicBool> {
    crate::interrupt::install()
}

/// `dfu flash FILES --watch`.
pub fn watch(g: &Global, a: FlashArgs) -> Result<(), Failure> {
    let job: Job = crate::cmd_many::job(g, &a)?;
    let sha256 = digest(&a.files)?;
    let log = a.log.as_ref().map(open_log).transpose()?;
    if g.serial.len() > 1 || g.path.len() > 1 {
        return Err(Failure::usage(
            "--watch takes at most one --serial or --path",
            "--watch flashes every matching device as it is plugged in; narrow it with --device VID:PID",
        ));
    }
    let selector = g.selector()?;
    let mut backend = g.backend()?;
    let opts = WatchOptions {
        selector: selector.clone(),
        count: a.count.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        ..WatchOptions::default()
    };
    if !a.json {
        errln!(
            "watching for DFU devices; put each in DFU mode ({}). Ctrl-C stops.",
            dfu::wait::hint_for(&selector, job.profile.as_ref())
        );
    }
    let stop = stop_flag();
    let json = a.json;
    let events = |t: &dfu::many::Target, e: &dfu::Event| {
        if json {
            out::json(&with_device(t, e));
        } else if let dfu::Event::Note { message, .. } = e {
            errln!("{}: note: {message}", t.label());
        }
    };
    let mut shift = Shift {
        json,
        sha256,
        log,
        handled: 0,
        failures: Vec::new(),
    };
    let mut news = |n: WatchNews| match n {
        WatchNews::Started(t) if json => out::json(&PluggedIn {
            event: "plugged-in",
            device: &t,
        }),
        WatchNews::Started(t) => errln!("{}: plugged in; flashing", t.label()),
        WatchNews::Finished(r) => shift.finished(&r),
    };
    let r = dfu::watch::watch(backend.as_mut(), &job, &opts, &stop, &events, &mut news);
    let finish = backend.finish();
    r?;
    finish?;
    shift.end()
}

/// What a watch has done so far, and where its records go.
struct Shift {
    json: bool,
    sha256: String,
    log: Option<File>,
    handled: usize,
    failures: Vec<Failure>,
}

impl Shift {
    /// One device is done: its record to the log file and to standard output.
    fn finished(&mut self, r: &DeviceResult) {
        self.handled += 1;
        let rec = record(r, &self.sha256);
        if let Some(f) = self.log.as_mut() {
            let line = serde_json::to_string(&rec).unwrap_or_default();
            if let Err(e) = writeln!(f, "{line}").and_then(|()| f.flush()) {
                errln!("warning: cannot append to the log: {e}");
            }
        }
        if self.json {
            out::json(&RecordEvent {
                event: "device-result",
                record: &rec,
            });
        } else {
            log_line(r, &rec);
        }
        if let Err(f) = &r.result {
            self.failures.push(Failure::of(&f.error));
        }
    }

    /// The summary, and the exit: 0 only when every device succeeded.
    fn end(self) -> Result<(), Failure> {
        let (handled, failed) = (self.handled, self.failures.len());
        let worst = self.failures.iter().map(|f| f.code).max();
        if self.json {
            out::json_result(&WatchJson {
                result: if worst.is_none() { "ok" } else { "error" },
                exit_code: worst.unwrap_or(0),
                devices: handled,
                failed,
            });
        } else {
            errln!(
                "{handled} device(s): {} flashed, {failed} failed.",
                handled - failed
            );
        }
        match worst {
            None => Ok(()),
            Some(code) => Err(Failure::new(
                code,
                format!("{failed} of {handled} device(s) failed"),
                "the log lines above name each failed device and its error",
            )),
        }
    }
}

/// `TIME  SERIAL  PATH  sha256:DIGEST  RESULT  SECONDS s  [ERROR]` on standard output.
fn log_line(r: &DeviceResult, rec: &Record) {
    let error = match &r.result {
        Ok(_) => String::new(),
        Err(f) => format!("  {} ({})", f.error, f.error.code()),
    };
    outln!(
        "{}  {}  {}  sha256:{}  {}  {:.2} s{error}",
        rec.time,
        r.target.serial.as_deref().unwrap_or("-"),
        r.target.path,
        rec.sha256,
        outcome(r),
        r.elapsed.as_secs_f64(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_times() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661);
        assert_eq!(utc(t), "2000-02-29T01:01:01Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(utc(t), "2025-12-31T23:59:59Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_107_542_400); // 2100: no leap day
        assert_eq!(utc(t), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn utc_times_out_of_range_are_clamped_not_a_panic() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(utc(before), "1970-01-01T00:00:00Z");
        let after = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
        assert_eq!(utc(after), "9999-12-31T23:59:59Z");
    }
}
