//! `dfu image inspect|convert` and `dfu suffix add|check|remove`.

use crate::args::{ConvertTo, ImageCmd, SuffixCmd};
use crate::cmd_flash::write_new;
use crate::exit::Failure;
use crate::render;
use dfu::Firmware;
use dfu_image::{suffix, ModuleInfo, VectorTable};
use serde_json::{json, Value};
use std::path::Path;

fn module_json(m: &ModuleInfo) -> Value {
    json!({
        "offset": m.offset,
        "start": format!("0x{:08x}", m.start),
        "end": format!("0x{:08x}", m.end),
        "platform_id": m.platform_id,
        "platform": m.platform_name(),
        "function": m.function.name(),
        "index": m.index,
        "version": m.version,
        "flags": m.flags,
        "dependencies": m.dependencies.iter().map(|d| json!({
            "function": d.function.name(), "index": d.index, "version": d.version,
        })).collect::<Vec<_>>(),
        "crc_ok": m.crc_ok,
    })
}

fn vector_json(v: &VectorTable) -> Value {
    json!({
        "initial_sp": format!("0x{:08x}", v.initial_sp),
        "reset_handler": format!("0x{:08x}", v.reset_handler),
        "likely_link_base": format!("0x{:08x}", v.likely_link_base()),
    })
}

/// One line describing a module header.
pub fn module_line(m: &ModuleInfo) -> String {
    let deps: Vec<String> = m
        .dependencies
        .iter()
        .map(|d| format!("{} {} version {}", d.function.name(), d.index, d.version))
        .collect();
    format!(
        "{} {} version {} for {} (platform {}), 0x{:08x}-0x{:08x}{}{}",
        m.function.name(),
        m.index,
        m.version,
        m.platform_name().unwrap_or("an unknown platform"),
        m.platform_id,
        m.start,
        m.end,
        if deps.is_empty() {
            String::new()
        } else {
            format!(", needs {}", deps.join(" and "))
        },
        match m.crc_ok {
            Some(true) => ", CRC ok",
            Some(false) => ", CRC WRONG",
            None => ", no CRC trailer",
        }
    )
}

/// `dfu image ...`.
pub fn image(c: ImageCmd) -> Result<(), Failure> {
    match c {
        ImageCmd::Inspect { file, json } => inspect(&file, json),
        ImageCmd::Convert {
            input,
            output,
            to,
            address,
            vid,
            pid,
            did,
            target_alt,
            force,
        } => {
            let mut f = Firmware::load(&input)?;
            dfu::place(&mut f, address, None)?;
            let bad = |e: dfu_image::ImageError| {
                Failure::file(
                    format!("{}: {e}", f.name),
                    "split the image or convert to a format with addresses (hex, srec, dfuse)",
                )
            };
            let bytes = match to {
                ConvertTo::Bin => f.image.to_bin(0xFF).map_err(bad)?.1,
                ConvertTo::Suffixed => {
                    suffix::add(&f.image.to_bin(0xFF).map_err(bad)?.1, vid, pid, did)
                }
                ConvertTo::Hex => f.image.to_ihex().into_bytes(),
                ConvertTo::Srec => f.image.to_srec().into_bytes(),
                ConvertTo::Dfuse => f.image.to_dfuse(vid, pid, did, target_alt, "ST..."),
            };
            write_new(&output, &bytes, force)?;
            println!(
                "{} ({}, {} bytes at 0x{:08x}) -> {} ({} bytes)",
                f.name,
                f.image.format,
                f.image.total_len(),
                f.image.start().unwrap_or(0),
                output.display(),
                bytes.len()
            );
            Ok(())
        }
    }
}

fn inspect(file: &Path, json: bool) -> Result<(), Failure> {
    let f = Firmware::load(file)?;
    let img = &f.image;
    let module = img.particle_module();
    let vectors = img.vector_table();
    if json {
        let v = json!({
            "file": f.name,
            "format": img.format.name(),
            "needs_address": img.needs_address,
            "total_len": img.total_len(),
            "segments": img.segments.iter().map(|s| json!({"address": format!("0x{:08x}", s.address), "len": s.data.len()})).collect::<Vec<_>>(),
            "suffix": img.suffix.map(|s| json!({
                "vendor": format!("0x{:04x}", s.vendor), "product": format!("0x{:04x}", s.product),
                "device": format!("0x{:04x}", s.bcd_device), "dfu_version": format!("0x{:04x}", s.bcd_dfu), "crc_ok": s.crc_ok,
            })),
            "dfuse_targets": img.dfuse_targets.iter().map(|t| json!({"alt": t.alt, "name": t.name, "elements": t.segments.len()})).collect::<Vec<_>>(),
            "particle_module": module.as_ref().map(module_json),
            "vector_table": vectors.as_ref().map(vector_json),
        });
        println!("{v}");
        return Ok(());
    }
    println!(
        "{}: {}, {} bytes in {} segment(s)",
        f.name,
        img.format,
        img.total_len(),
        img.segments.len()
    );
    for s in &img.segments {
        if img.needs_address {
            println!("  {} bytes, no address (a raw binary is placed with --address or the device's app address)", s.data.len());
        } else {
            println!("  {}", render::range(s.address, s.data.len() as u64));
        }
    }
    for t in &img.dfuse_targets {
        println!(
            "  DfuSe target: alt {} {:?}, {} element(s)",
            t.alt,
            t.name.as_deref().unwrap_or(""),
            t.segments.len()
        );
    }
    match img.suffix {
        Some(s) => println!(
            "DFU suffix: vendor {:04x} product {:04x} device {:04x}, DFU {:04x}, CRC {}",
            s.vendor,
            s.product,
            s.bcd_device,
            s.bcd_dfu,
            if s.crc_ok { "ok" } else { "WRONG" }
        ),
        None => println!("DFU suffix: none"),
    }
    match &module {
        Some(m) => println!("Particle module: {}", module_line(m)),
        None => println!("Particle module: none"),
    }
    match &vectors {
        Some(v) => println!(
            "Cortex-M vector table: initial SP 0x{:08x}, reset handler 0x{:08x}: linked to run at 0x{:08x}",
            v.initial_sp,
            v.reset_handler,
            v.likely_link_base()
        ),
        None => println!("Cortex-M vector table: none found at the start"),
    }
    if img.is_empty() {
        println!("warning: the image is EMPTY: flashing it would write nothing");
    }
    Ok(())
}

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
            Failure::file(
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
        } => {
            let data = read_file(&file)?;
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
            replace_file(&file, &suffix::add(&data, vid, pid, did))?;
            println!(
                "added a DFU suffix to {}: vendor {vid:04x} product {pid:04x} device {did:04x}",
                file.display()
            );
            Ok(())
        }
        SuffixCmd::Check { file } => {
            let data = read_file(&file)?;
            match suffix::read(&data) {
                None => Err(Failure::file(format!("{} has no DFU suffix", file.display()), "add one with `dfu suffix add FILE --vid V --pid P`")),
                Some(Err(e)) => Err(Failure::file(format!("{}: {e}", file.display()), "the suffix is damaged: remove it and add it again")),
                Some(Ok(s)) if !s.crc_ok => Err(Failure::file(
                    format!("{}: DFU suffix CRC mismatch (stored 0x{:08x}, computed 0x{:08x})", file.display(), s.crc, suffix::crc(&data[..data.len() - 4])),
                    "the file was changed after the suffix was added: remove the suffix and add it again",
                )),
                Some(Ok(s)) => {
                    println!(
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
        SuffixCmd::Remove { file } => {
            let data = read_file(&file)?;
            let stripped = suffix::remove(&data).map_err(|e| {
                Failure::file(format!("{}: {e}", file.display()), "nothing to remove")
            })?;
            replace_file(&file, &stripped)?;
            println!(
                "removed the DFU suffix from {} ({} bytes left)",
                file.display(),
                stripped.len()
            );
            Ok(())
        }
    }
}
