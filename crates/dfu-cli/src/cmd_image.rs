//! `dfu image inspect|convert` and `dfu suffix add|check|remove`.

use crate::args::{ConvertTo, ImageCmd, SuffixCmd};
use crate::cmd_flash::load;
use crate::cmd_read::write_new;
use crate::exit::Failure;
use crate::out::{self, errln, outln};
use crate::render;
use dfu_image::{suffix, ModuleInfo};
use dfu_proto::num::{serialize_hex16, Addr};
use serde::Serialize;
use std::path::Path;

/// The JSON of `dfu image inspect`.
#[derive(Serialize)]
struct InspectJson<'a> {
    result: &'static str,
    file: &'a str,
    format: &'a str,
    needs_address: bool,
    total_len: u64,
    segments: Vec<SegmentJson>,
    suffix: Option<SuffixJson>,
    dfuse_targets: Vec<TargetJson<'a>>,
    particle_module: Option<ModuleJson>,
    vector_table: Option<VectorJson>,
}

/// One segment: where it goes and how long it is.
#[derive(Serialize)]
struct SegmentJson {
    address: Addr,
    len: usize,
}

/// A DFU suffix.
#[derive(Serialize)]
struct SuffixJson {
    #[serde(serialize_with = "serialize_hex16")]
    vendor: u16,
    #[serde(serialize_with = "serialize_hex16")]
    product: u16,
    #[serde(serialize_with = "serialize_hex16")]
    device: u16,
    #[serde(serialize_with = "serialize_hex16")]
    dfu_version: u16,
    crc_ok: bool,
}

impl From<&suffix::Suffix> for SuffixJson {
    fn from(s: &suffix::Suffix) -> Self {
        SuffixJson {
            vendor: s.vendor,
            product: s.product,
            device: s.bcd_device,
            dfu_version: s.bcd_dfu,
            crc_ok: s.crc_ok,
        }
    }
}

/// A DfuSe target.
#[derive(Serialize)]
struct TargetJson<'a> {
    alt: u8,
    name: Option<&'a str>,
    elements: usize,
}

/// A Particle module header.
#[derive(Serialize)]
struct ModuleJson {
    offset: u32,
    start: Addr,
    end: Addr,
    platform_id: u16,
    platform: Option<&'static str>,
    function: &'static str,
    index: u8,
    version: u16,
    flags: u8,
    dependencies: Vec<DependencyJson>,
    crc_ok: Option<bool>,
}

/// A module dependency.
#[derive(Serialize)]
struct DependencyJson {
    function: &'static str,
    index: u8,
    version: u16,
}

impl From<&ModuleInfo> for ModuleJson {
    fn from(m: &ModuleInfo) -> Self {
        ModuleJson {
            offset: m.offset,
            start: Addr(m.start),
            end: Addr(m.end),
            platform_id: m.platform_id,
            platform: m.platform_name(),
            function: m.function.name(),
            index: m.index,
            version: m.version,
            flags: m.flags,
            dependencies: m
                .dependencies
                .iter()
                .map(|d| DependencyJson {
                    function: d.function.name(),
                    index: d.index,
                    version: d.version,
                })
                .collect(),
            crc_ok: m.crc_ok,
        }
    }
}

/// A Cortex-M vector table.
#[derive(Serialize)]
struct VectorJson {
    initial_sp: Addr,
    reset_handler: Addr,
    likely_link_base: Addr,
}

/// The JSON result of `image convert` and `suffix add|check|remove`.
#[derive(Serialize)]
struct FileResult<'a> {
    result: &'static str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<Addr>,
    length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    suffix: Option<SuffixJson>,
    notes: Vec<String>,
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
            json,
        } => {
            let mut f = load(&input)?;
            if f.image.needs_address {
                let a = address.ok_or_else(|| {
                    Failure::usage(
                        format!("{} is a raw binary: it has no address", f.path),
                        "give the address with --address 0x08000000",
                    )
                })?;
                f.image
                    .place(a)
                    .map_err(|e| Failure::usage(e.to_string(), "use a lower --address"))?;
            }
            let bad = |e: dfu_image::ImageError| {
                Failure::file(
                    format!("{}: {e}", f.path),
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
            if json {
                out::json(&FileResult {
                    result: "ok",
                    file: &f.path,
                    output: Some(&output.display().to_string()),
                    format: Some(format!("{to:?}").to_lowercase()),
                    start: f.image.start().map(Addr),
                    length: bytes.len(),
                    suffix: None,
                    notes: Vec::new(),
                });
                return Ok(());
            }
            outln!(
                "{} ({}, {} bytes at 0x{:08x}) -> {} ({} bytes)",
                f.path,
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
    let f = load(file)?;
    let img = &f.image;
    let module = img.particle_module();
    let vectors = img.vector_table();
    if json {
        out::json(&InspectJson {
            result: "ok",
            file: &f.path,
            format: img.format.name(),
            needs_address: img.needs_address,
            total_len: img.total_len(),
            segments: img
                .segments
                .iter()
                .map(|s| SegmentJson {
                    address: Addr(s.address),
                    len: s.data.len(),
                })
                .collect(),
            suffix: img.suffix.as_ref().map(SuffixJson::from),
            dfuse_targets: img
                .dfuse_targets
                .iter()
                .map(|t| TargetJson {
                    alt: t.alt,
                    name: t.name.as_deref(),
                    elements: t.segments.len(),
                })
                .collect(),
            particle_module: module.as_ref().map(ModuleJson::from),
            vector_table: vectors.as_ref().map(|v| VectorJson {
                initial_sp: Addr(v.initial_sp),
                reset_handler: Addr(v.reset_handler),
                likely_link_base: Addr(v.likely_link_base()),
            }),
        });
        return Ok(());
    }
    outln!(
        "{}: {}, {} bytes in {} segment(s)",
        f.path,
        img.format,
        img.total_len(),
        img.segments.len()
    );
    for s in &img.segments {
        if img.needs_address {
            outln!("  {} bytes, no address (a raw binary is placed with --address or the device's app address)", s.data.len());
        } else {
            outln!("  {}", render::range(s.address, s.data.len() as u64));
        }
    }
    for t in &img.dfuse_targets {
        outln!(
            "  DfuSe target: alt {} {:?}, {} element(s)",
            t.alt,
            t.name.as_deref().unwrap_or(""),
            t.segments.len()
        );
    }
    match img.suffix {
        Some(s) => outln!(
            "DFU suffix: vendor {:04x} product {:04x} device {:04x}, DFU {:04x}, CRC {}",
            s.vendor,
            s.product,
            s.bcd_device,
            s.bcd_dfu,
            if s.crc_ok { "ok" } else { "WRONG" }
        ),
        None => outln!("DFU suffix: none"),
    }
    match &module {
        Some(m) => outln!("Particle module: {}", module_line(m)),
        None => outln!("Particle module: none"),
    }
    match &vectors {
        Some(v) => outln!(
            "Cortex-M vector table: initial SP 0x{:08x}, reset handler 0x{:08x}: linked to run at 0x{:08x}",
            v.initial_sp,
            v.reset_handler,
            v.likely_link_base()
        ),
        None => outln!("Cortex-M vector table: none found at the start"),
    }
    if img.is_empty() {
        outln!("warning: the image is EMPTY: flashing it would write nothing");
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
