//! `dfu suffix add|check|remove`: the DFU suffix, as Debian's `dfu-suffix` writes it.

use crate::args::SuffixCmd;
use crate::cmd_image::{FileResult, SuffixJson};
use crate::exit::Failure;
use crate::out::{self, errln, outln};
use dfu_image::suffix;
use std::path::Path;

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::file(
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })
}

fn replace_file(path: &Path, data: &[u8]) -> Result<(), Failure> {
    let tmp = path.with_extension("dfu-tmp");
    std::fs::write(&tmp, data)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            Failure::output(
                format!("cannot write {}: {e}", path.display()),
                "check that the file is writable",
            )
        })
}

/// `dfu suffix ...`.
pub fn suffix(c: SuffixCmd) -> Result<(), Failure> {
    match c {
        SuffixCmd::Add {
            file,
            vid,
            pid,
            did,
            json,
        } => suffix_add(&file, vid, pid, did, json),
        SuffixCmd::Check { file, json } => suffix_check(&file, json),
        SuffixCmd::Remove { file, json } => suffix_remove(&file, json),
    }
}

/// Prints the result of a suffix command.
fn suffix_result(file: &Path, data: &[u8], s: Option<&suffix::Suffix>, notes: Vec<String>) {
    out::json(&FileResult {
        result: "ok",
        file: &file.display().to_string(),
        output: None,
        format: None,
        start: None,
        length: data.len(),
        suffix: s.map(SuffixJson::from),
        notes,
    });
}

fn suffix_add(file: &Path, vid: u16, pid: u16, did: u16, json: bool) -> Result<(), Failure> {
    let data = read_file(file)?;
    if let Some(existing) = suffix::read(&data) {
        let state = match existing {
            Ok(s) if s.crc_ok => "a valid",
            _ => "a",
        };
        return Err(Failure::file(
            format!("{} already has {state} DFU suffix", file.display()),
            "remove it first with `dfu suffix remove FILE`",
        ));
    }
    let with = suffix::add(&data, vid, pid, did);
    replace_file(file, &with)?;
    if json {
        suffix_result(
            file,
            &with,
            suffix::read(&with).and_then(Result::ok).as_ref(),
            Vec::new(),
        );
        return Ok(());
    }
    outln!(
        "added a DFU suffix to {}: vendor {vid:04x} product {pid:04x} device {did:04x}",
        file.display()
    );
    Ok(())
}

fn suffix_check(file: &Path, json: bool) -> Result<(), Failure> {
    let data = read_file(file)?;
    let redo = "the suffix is damaged: remove it with `dfu suffix remove FILE`, then add a new one with `dfu suffix add FILE --vid V --pid P`";
    match suffix::read(&data) {
        None => Err(Failure::file(
            format!("{} has no DFU suffix", file.display()),
            "add one with `dfu suffix add FILE --vid V --pid P`",
        )),
        Some(Err(e)) => Err(Failure::file(format!("{}: {e}", file.display()), redo)),
        Some(Ok(s)) if !s.crc_ok => Err(Failure::file(
            format!(
                "{}: DFU suffix CRC mismatch (stored 0x{:08x}, computed 0x{:08x})",
                file.display(),
                s.crc,
                suffix::crc(&data[..data.len() - 4])
            ),
            "the file was changed after the suffix was added: remove the suffix with `dfu suffix remove FILE`, then add a new one with `dfu suffix add FILE --vid V --pid P`",
        )),
        Some(Ok(s)) => {
            if json {
                suffix_result(file, &data, Some(&s), Vec::new());
                return Ok(());
            }
            outln!(
                "{}: DFU suffix ok: vendor {:04x} product {:04x} device {:04x}, DFU {:04x}, CRC 0x{:08x}",
                file.display(),
                s.vendor,
                s.product,
                s.bcd_device,
                s.bcd_dfu,
                s.crc
            );
            Ok(())
        }
    }
}

/// Removes the suffix, also a damaged one (what `suffix check` advises for it): a suffix
/// whose CRC is wrong loses its bLength bytes when that length is plausible, else 16.
fn suffix_remove(file: &Path, json: bool) -> Result<(), Failure> {
    let data = read_file(file)?;
    let mut notes = Vec::new();
    let cut = match suffix::read(&data) {
        None => {
            return Err(Failure::file(
                format!("{}: there is no DFU suffix to remove (the file does not end with the 'UFD' signature)", file.display()),
                "nothing to do: the file is already without a suffix",
            ))
        }
        Some(Ok(s)) if s.crc_ok => usize::from(s.length),
        Some(Ok(s)) => {
            notes.push("the suffix's CRC did not match the file (it was changed after the suffix was added); removed it anyway".to_string());
            let n = usize::from(s.length);
            if (16..=data.len()).contains(&n) {
                n
            } else {
                16
            }
        }
        Some(Err(e)) => {
            notes.push(format!("the suffix is damaged ({e}); removed its 16 bytes"));
            16
        }
    };
    let stripped = &data[..data.len() - cut];
    replace_file(file, stripped)?;
    if json {
        suffix_result(file, stripped, None, notes);
        return Ok(());
    }
    for n in &notes {
        errln!("note: {n}");
    }
    outln!(
        "removed the DFU suffix from {} ({} bytes left)",
        file.display(),
        stripped.len()
    );
    Ok(())
}
