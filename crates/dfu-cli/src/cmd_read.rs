//! `dfu read`: device memory into a file or standard output.

use crate::args::{Global, ReadArgs};
use crate::exit::Failure;
use crate::out::{self, errln, outln};
use crate::output::NewFile;
use crate::render::{self, Progress};
use dfu::DfuDevice;
use dfu_proto::num::{Addr, MAX_LEN};
use dfu_proto::MemoryLayout;
use serde::Serialize;

/// The output of `dfu read`, checked before the device is touched.
enum Output {
    /// Standard output (`-o -`).
    Stdout,
    /// A file, written whole or not at all ([`NewFile`]).
    File(NewFile),
}

/// The JSON result of `dfu read`.
#[derive(Serialize)]
struct ReadJson<'a> {
    result: &'static str,
    address: Addr,
    length: usize,
    alt: u8,
    output: &'a str,
    notes: &'a [String],
}

/// `dfu read`.
pub fn read(g: &Global, a: ReadArgs) -> Result<(), Failure> {
    let name = a.output.display().to_string();
    if name == "-" && a.json {
        return Err(Failure::usage(
            "-o - writes the memory to standard output, where --json writes its result",
            "give a file with -o, or leave out --json",
        ));
    }
    // The output is opened before the device is touched; if the read fails, dropping it
    // removes the temporary file and the name given is left as it was.
    let output = if name == "-" {
        Output::Stdout
    } else {
        Output::File(NewFile::create(&a.output, a.force)?)
    };
    let mut notes = Vec::new();
    let (address, alt, data) = fetch(g, &a, &mut notes)?;
    match output {
        Output::Stdout => out::stdout_bytes(&data),
        Output::File(mut file) => {
            file.write(&data)?;
            file.commit()?;
        }
    }
    if a.json {
        out::json(&ReadJson {
            result: "ok",
            address: Addr(address),
            length: data.len(),
            alt,
            output: &name,
            notes: &notes,
        });
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
    if let Some(want) = a.length.filter(|n| *n > data.len() as u64) {
        errln!(
            "note: the device returned {} of the {want} bytes asked for (end of its memory)",
            data.len()
        );
    }
    Ok(())
}

/// Connects, works out the range and reads it: (address, alt, data).
fn fetch(g: &Global, a: &ReadArgs, notes: &mut Vec<String>) -> Result<(u32, u8, Vec<u8>), Failure> {
    let mut backend = g.backend()?;
    let (mut dev, _) = g.open(backend.as_mut(), notes)?;
    if !a.json {
        for n in notes.iter() {
            render::note(n, false);
        }
    }
    let (address, length) = span(&dev, a.address, a.length)?;
    let alt = dev.alt;
    let mut progress = Progress::new(false);
    let data = dev.read(address, length, &mut |e| {
        if !a.json {
            progress.event(e);
        }
    });
    progress.finish();
    drop(dev);
    backend.finish()?;
    Ok((address, alt, data?))
}

/// The address and length to read: as given, else the whole alt (DfuSe: from the address
/// to the end of the layout's contiguous readable memory; plain DFU: from its base until
/// the device ends the upload).
fn span(dev: &DfuDevice, address: Option<u32>, length: Option<u64>) -> Result<(u32, u64), Failure> {
    if !dev.info.is_dfuse() {
        let address = address.unwrap_or_else(|| dev.info.plain_base(dev.alt));
        return Ok((address, length.unwrap_or(MAX_LEN)));
    }
    let Some(layout) = &dev.layout else {
        return match (address, length) {
            (Some(s), Some(n)) => Ok((s, n)),
            _ => Err(Failure::usage(
                format!("alt {} has no memory layout, so the range to read is not known", dev.alt),
                "give --address and --length, or the layout with --layout; `dfu info` shows what the device announces",
            )),
        };
    };
    let address = address.unwrap_or_else(|| layout.segments.first().map_or(0, |s| s.start));
    if layout.sector_at(address).is_none() {
        return Err(not_in_alt(dev, layout, address));
    }
    let length = match length {
        Some(n) => n,
        None => contiguous_end(layout, address) - u64::from(address),
    };
    Ok((address, length))
}

/// One past the last byte of the readable memory that runs on without a gap from `address`.
fn contiguous_end(layout: &MemoryLayout, address: u32) -> u64 {
    let mut segments = layout.segments.clone();
    segments.sort_by_key(|s| s.start);
    let mut end = u64::from(address);
    for s in segments.iter().filter(|s| s.end() > u64::from(address)) {
        if u64::from(s.start) > end || !s.flags.readable() {
            break;
        }
        end = s.end();
    }
    end.max(u64::from(address) + 1)
}

/// `address` is not in the selected alt's memory: names the alt that holds it, if any.
fn not_in_alt(dev: &DfuDevice, layout: &MemoryLayout, address: u32) -> Failure {
    let holder = dev.info.alts.iter().find(|x| {
        let own = x.layout.clone().or_else(|| {
            dev.profile()
                .and_then(|p| p.alts.get(usize::from(x.alt)))
                .and_then(|p| p.real_layout())
        });
        x.alt != dev.alt && own.is_some_and(|l| l.sector_at(address).is_some())
    });
    let message = format!(
        "0x{address:08x} is outside the device's memory in alt {}:\n{}",
        dev.alt,
        layout.to_string().trim_end()
    );
    match holder {
        Some(h) => Failure::usage(
            message,
            format!(
                "alt {} {:?} holds 0x{address:08x}: select it with --alt {}",
                h.alt,
                h.display_name(),
                h.alt
            ),
        ),
        None => Failure::usage(message, "`dfu info` shows the memory map of every alt"),
    }
}
