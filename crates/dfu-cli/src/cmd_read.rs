//! `dfu read`: device memory into a file or standard output.

use crate::args::{Global, ReadArgs};
use crate::exit::Failure;
use crate::out::{self, errln, outln};
use crate::output::NewFile;
use crate::render::Progress;
use dfu::{Operation, Request};
use dfu_proto::num::Addr;
use serde::Serialize;
use std::path::Path;

/// The output of `dfu read`, checked before the device is touched.
enum Output {
    /// Standard output (`-o -`).
    Stdout,
    /// A file, written whole or not at all (a temporary file renamed at the end).
    File(NewFile),
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
    notes: &'a [String],
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
    let asked = match &request.op {
        Operation::Read { length, .. } => *length,
        _ => None,
    };
    // The output is opened before the device is touched; if the read fails, dropping it
    // removes the temporary file and the name given is left as it was.
    let output = match name.as_str() {
        "-" => Output::Stdout,
        _ => Output::File(NewFile::create(path, force)?),
    };
    let mut notes = Vec::new();
    let (address, alt, data) = fetch(g, request, &mut notes, json)?;
    match output {
        Output::Stdout => out::stdout_bytes(&data),
        Output::File(mut file) => {
            file.write(&data)?;
            file.commit()?;
        }
    }
    if json {
        let result = ReadJson {
            result: "ok",
            address: Addr(address),
            length: data.len(),
            alt,
            output: &name,
            notes: &notes,
        };
        // With `-o -` the memory goes to standard output, and the result to standard error.
        match name.as_str() {
            "-" => out::json_to_stderr(&result),
            _ => out::json(&result),
        }
        return Ok(());
    }
    let line = format!(
        "Read {} bytes from 0x{address:08x} (alt {alt}) into {}",
        data.len(),
        if name == "-" {
            "standard output"
        } else {
            &name
        }
    );
    if name == "-" {
        errln!("{line}");
    } else {
        outln!("{line}");
    }
    if let Some(want) = asked.filter(|n| *n > data.len() as u64) {
        errln!(
            "note: the device returned {} of the {want} bytes asked for (end of its memory)",
            data.len()
        );
    }
    Ok(())
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

/// Prepares and runs a read request: (address, alt, data). The one path of `dfu read` and
/// of dfu-util's `-U`. Notes are collected in `notes` (and shown unless `quiet`).
pub fn fetch(
    g: &Global,
    request: &Request,
    notes: &mut Vec<String>,
    quiet: bool,
) -> Result<(u32, u8, Vec<u8>), Failure> {
    let mut backend = g.backend()?;
    let mut progress = Progress::new(false);
    let mut show = |e: &dfu::Event| {
        if let dfu::Event::Note { message, .. } = e {
            notes.push(message.clone());
        }
        if !quiet {
            progress.event(e);
        }
    };
    let mut prepared = dfu::prepare(backend.as_mut(), request, &mut show)
        .map_err(|e| g.hint_failure(&request.device, e))?;
    let (address, alt) = match &prepared.plan {
        dfu::Plan::Read(p) => (p.address, p.alt),
        _ => return Err(Failure::usage("not a read request", "")),
    };
    let data = prepared.read(&mut show);
    drop(prepared);
    progress.finish();
    backend.finish()?;
    let data = data.map_err(|f| Failure::from(f.error))?;
    Ok((address, alt, data))
}
