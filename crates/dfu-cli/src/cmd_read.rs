//! `dfu read`: device memory into a file or standard output.

use crate::args::{Global, ReadArgs};
use crate::exit::Failure;
use crate::out::{self, errln, outln};
use crate::output::NewFile;
use crate::render::Progress;
use dfu::{Note, Operation, Request};
use dfu_proto::num::Addr;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The output of `dfu read`, checked before the device is touched. The memory streams into
/// it block by block as the device sends it.
enum Output {
    /// Standard output (`-o -`).
    Stdout(BufWriter<std::io::Stdout>),
    /// A file, written whole or not at all (a temporary file renamed at the end).
    File(NewFile),
}

impl Output {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::File(f) => f.writer(),
        }
    }

    /// Flushes standard output, or gives the file its name.
    fn finish(self) -> Result<(), Failure> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| stdout_failed(&e)),
            Output::File(f) => f.commit(),
        }
    }
}

/// Counts what reaches the output and keeps its first error (the library reports only
/// that the output failed; the failure names the file from this).
struct Counted<'a> {
    out: &'a mut dyn Write,
    written: u64,
    error: Option<std::io::Error>,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.out.write(buf) {
            Ok(n) => {
                self.written += n as u64;
                Ok(n)
            }
            Err(e) => {
                let again = std::io::Error::new(e.kind(), e.to_string());
                self.error.get_or_insert(e);
                Err(again)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn stdout_failed(e: &std::io::Error) -> Failure {
    Failure::output(
        format!("writing standard output: {e}"),
        "write to a file with -o FILE",
    )
}

/// The JSON result of `dfu read`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ReadJson<'a> {
    #[schemars(extend("enum" = ["ok"]))]
    result: &'static str,
    address: Addr,
    length: usize,
    alt: u8,
    output: &'a str,
    #[serde(flatten, serialize_with = "dfu::json::notes")]
    #[schemars(flatten, with = "dfu::json::Notes")]
    notes: &'a [Note],
}

/// `dfu read`.
pub fn read(g: &Global, a: ReadArgs) -> Result<(), Failure> {
    let request = request(g, &a)?;
    read_request(g, &request, &a.output, a.force, a.json)
}

/// Runs a read request into `path` (`-` for standard output) and renders it: the one path
/// of `dfu read` and of dfu-util's `-U`.
pub fn read_request(
    g: &Global,
    request: &Request,
    path: &Path,
    force: bool,
    json: bool,
) -> Result<(), Failure> {
    let name = path.display().to_string();
    // The output is opened before the device is touched; if the read fails, dropping it
    // removes the temporary file and the name given is left as it was.
    let mut output = match name.as_str() {
        "-" => Output::Stdout(BufWriter::with_capacity(64 * 1024, std::io::stdout())),
        _ => Output::File(NewFile::create(path, force)?),
    };
    let mut notes = Vec::new();
    let mut sink = Counted {
        out: output.writer(),
        written: 0,
        error: None,
    };
    let mut at = None;
    let fetched = fetch(g, request, &mut notes, json, &mut sink, &mut at);
    let (written, error) = (sink.written, sink.error);
    let length = match (fetched, error) {
        (Ok(n), _) => n,
        (Err(_), Some(e)) if name == "-" && e.kind() == std::io::ErrorKind::BrokenPipe => {
            // The reader has gone (`| head`): the read stops, as a closed pipe ends any output.
            out::stdout_closed_now();
            let note = Note::new(
                dfu::Code::OutputClosed,
                format!("standard output was closed after {written} bytes; the read stopped there"),
            );
            if !json {
                errln!("note: {note}");
            }
            notes.push(note);
            written
        }
        (Err(f), e) => return Err(failed(f, e, &output, &name, written)),
    };
    if !out::stdout_closed() || name != "-" {
        output.finish()?;
    }
    let (address, alt) = at.unwrap_or_default();
    let asked = match &request.op {
        Operation::Read { length, .. } => *length,
        _ => None,
    };
    render(&name, (address, alt, length), asked, &notes, json);
    Ok(())
}

/// The failure of a read: the output's own error when the output failed, else the
/// device's, saying what became of the output.
fn failed(
    mut f: Failure,
    error: Option<std::io::Error>,
    output: &Output,
    name: &str,
    written: u64,
) -> Failure {
    match (error, output) {
        (Some(e), Output::Stdout(_)) => return stdout_failed(&e),
        (Some(e), Output::File(file)) => return file.failed(&e),
        (None, _) => {}
    }
    if f.error_code == Some(dfu::Code::Interrupted) {
        f.help = "the device is back in dfuIDLE: run the same command again to read it all".into();
    }
    f.message = match (output, written) {
        (Output::Stdout(_), 0) => f.message,
        (Output::Stdout(_), n) => format!(
            "{}; the {n} bytes read before it were written to standard output",
            f.message
        ),
        (Output::File(_), _) => format!("{}; nothing was saved to {name}", f.message),
    };
    f
}

/// The result of a read: `(address, alt, length)` of what was written to `name`.
fn render(name: &str, read: (u32, u8, u64), asked: Option<u64>, notes: &[Note], json: bool) {
    let (address, alt, length) = read;
    if json {
        let result = ReadJson {
            result: "ok",
            address: Addr(address),
            length: usize::try_from(length).unwrap_or(usize::MAX),
            alt,
            output: name,
            notes,
        };
        // With `-o -` the memory goes to standard output, and the result to standard error.
        match name {
            "-" => out::json_to_stderr(&result),
            _ => out::json(&result),
        }
        return;
    }
    let line = format!(
        "Read {length} bytes from 0x{address:08x} (alt {alt}) into {}",
        if name == "-" { "standard output" } else { name }
    );
    if name == "-" {
        errln!("{line}");
    } else {
        outln!("{line}");
    }
    if let Some(want) = asked.filter(|n| *n > length) {
        errln!(
            "note: the device returned {length} of the {want} bytes asked for (end of its memory)"
        );
    }
}

/// The read as the library's request.
pub fn request(g: &Global, a: &ReadArgs) -> Result<Request, Failure> {
    Ok(Request {
        device: g.device_request()?,
        op: Operation::Read {
            address: a.address,
            length: a.length,
        },
    })
}

/// Prepares and runs a read request into `out`, block by block: the bytes written. The one
/// path of `dfu read` and of dfu-util's `-U`. The planned address and alt setting go to
/// `at` as soon as they are known. Notes are collected in `notes` (and shown unless
/// `quiet`). Ctrl-C stops the read after the current block.
pub fn fetch(
    g: &Global,
    request: &Request,
    notes: &mut Vec<Note>,
    quiet: bool,
    out: &mut dyn Write,
    at: &mut Option<(u32, u8)>,
) -> Result<u64, Failure> {
    let mut backend = g.backend()?;
    let mut progress = Progress::new(false);
    let mut show = |e: &dfu::Event| {
        if let dfu::Event::Note { code, message } = e {
            notes.push(Note::new(*code, message.clone()));
        }
        if !quiet {
            progress.event(e);
        }
    };
    let mut prepared = dfu::prepare(backend.as_mut(), request, &mut show)
        .map_err(|e| g.hint_failure(&request.device, e))?;
    *at = match &prepared.plan {
        dfu::Plan::Read(p) => Some((p.address, p.alt)),
        _ => return Err(Failure::usage("not a read request", "")),
    };
    prepared.device.cancel_on(crate::interrupt::install());
    let done = prepared.read_into(out, &mut show);
    drop(prepared);
    progress.finish();
    backend.finish()?;
    done.map_err(|f| Failure::from(f.error))
}
