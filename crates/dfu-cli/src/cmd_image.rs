//! `dfu image inspect|convert`.

use crate::args::{ConvertTo, ImageCmd};
use crate::exit::Failure;
use crate::out::{self, outln};
use crate::output::NewFile;
use crate::render;
use dfu::Firmware;
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
    length: usize,
}

/// A DFU suffix.
#[derive(Serialize)]
pub struct SuffixJson {
    /// idVendor.
    #[serde(serialize_with = "serialize_hex16")]
    pub vendor: u16,
    /// idProduct.
    #[serde(serialize_with = "serialize_hex16")]
    pub product: u16,
    /// bcdDevice.
    #[serde(serialize_with = "serialize_hex16")]
    pub device: u16,
    /// bcdDFU.
    #[serde(serialize_with = "serialize_hex16")]
    pub dfu_version: u16,
    /// Whether the CRC matches.
    pub crc_ok: bool,
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
pub struct FileResult<'a> {
    /// `"ok"`.
    pub result: &'static str,
    /// The file read (or changed in place).
    pub file: &'a str,
    /// The file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<&'a str>,
    /// Its format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Its first address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Addr>,
    /// Bytes in the file written (or left).
    pub length: usize,
    /// The suffix it has now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<SuffixJson>,
    /// What the user should know.
    pub notes: Vec<String>,
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
            target,
            force,
            json,
        } => {
            let mut out = NewFile::create(&output, force)?;
            let mut f = Firmware::load(&input)?;
            let all_targets = select_target(&mut f, target, to)?;
            let flat = matches!(to, ConvertTo::Bin | ConvertTo::Suffixed);
            if !(flat && address.is_none() && f.image.needs_address) {
                // A flat output has no address: a raw binary needs none to become one.
                dfu::place(&mut f, address, None)?;
            }
            let length = write_converted(&f, to, (vid, pid, did), target_alt, all_targets, &mut out)?;
            out.commit()?;
            if json {
                out::json(&FileResult {
                    result: "ok",
                    file: &f.name,
                    output: Some(&output.display().to_string()),
                    format: Some(name(to)),
                    start: f.image.start().filter(|_| !f.image.needs_address).map(Addr),
                    length: length as usize,
                    suffix: None,
                    notes: Vec::new(),
                });
                return Ok(());
            }
            let at = match f.image.start() {
                Some(a) if !f.image.needs_address => format!(" at 0x{a:08x}"),
                _ => String::new(),
            };
            outln!(
                "{} ({}, {} bytes{at}) -> {} ({length} bytes)",
                f.name,
                f.image.format,
                f.image.total_len(),
                output.display(),
            );
            Ok(())
        }
    }
}

/// Writes the converted image into `out`; returns the bytes written. `all_targets`: a
/// DfuSe input whose targets all go into the DfuSe output as they are.
fn write_converted(
    f: &Firmware,
    to: ConvertTo,
    ids: (u16, u16, u16),
    target_alt: u8,
    all_targets: bool,
    out: &mut NewFile,
) -> Result<u64, Failure> {
    let (vid, pid, did) = ids;
    let bytes = match to {
        ConvertTo::Bin | ConvertTo::Suffixed => {
            let (_, len) = f.image.bin_span().map_err(|e| {
                Failure::usage(
                    format!("{}: --to {} cannot hold this image: {e}", f.name, name(to)),
                    "convert to a format with addresses (--to hex, srec or dfuse), or split the image",
                )
            })?;
            let suffix = matches!(to, ConvertTo::Suffixed).then_some((vid, pid, did));
            f.image
                .write_bin(0xFF, suffix, out.writer())
                .map_err(|e| out.failed(&e))?;
            return Ok(len + if suffix.is_some() { 16 } else { 0 });
        }
        ConvertTo::Hex => f.image.to_ihex().into_bytes(),
        ConvertTo::Srec => f.image.to_srec().into_bytes(),
        ConvertTo::Dfuse if all_targets => {
            dfu_image::dfuse::write(&f.image.dfuse_targets, vid, pid, did)
        }
        ConvertTo::Dfuse => f.image.to_dfuse(vid, pid, did, target_alt, "ST..."),
    };
    out.write(&bytes)?;
    Ok(bytes.len() as u64)
}

/// Picks the DfuSe target to convert. A DfuSe file with targets for several alt settings
/// becomes one file per target (`--target ALT`): their addresses are separate memories, and
/// merging them into one address space would put them in the wrong place. Without
/// `--target`, such a file converts only to DfuSe (all targets kept); any other format is
/// refused, naming the targets. Returns whether all targets are to be kept.
fn select_target(f: &mut Firmware, target: Option<u8>, to: ConvertTo) -> Result<bool, Failure> {
    let targets = &f.image.dfuse_targets;
    let mut alts: Vec<u8> = targets.iter().map(|t| t.alt).collect();
    alts.sort_unstable();
    alts.dedup();
    let Some(alt) = target else {
        if alts.len() > 1 && !matches!(to, ConvertTo::Dfuse) {
            return Err(Failure::usage(
                format!(
                    "{} holds DfuSe targets for {} alt settings:\n{}\na {} file has one address space, so they cannot go into one file",
                    f.name,
                    alts.len(),
                    describe_targets(&f.image.dfuse_targets),
                    name(to)
                ),
                format!(
                    "convert one target per file: {}",
                    alts.iter()
                        .map(|a| format!("--target {a} -o FILE{a}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        return Ok(alts.len() > 1);
    };
    if targets.is_empty() {
        return Err(Failure::usage(
            format!("--target picks a DfuSe target, and {} is {}", f.name, f.image.format.name()),
            "leave out --target",
        ));
    }
    let image = f.image.target_image(alt).map_err(|e| Failure::file(format!("{}: {e}", f.name), "the file is damaged"))?;
    let Some(image) = image else {
        return Err(Failure::usage(
            format!(
                "{} has no DfuSe target for alt {alt}; its targets:\n{}",
                f.name,
                describe_targets(targets)
            ),
            format!("use --target {}", alts.iter().map(u8::to_string).collect::<Vec<_>>().join(" or --target ")),
        )
        .with_code(dfu::Code::NoSuchAlt));
    };
    f.image = image;
    Ok(false)
}

/// The name of an output format, as `--to` takes it.
fn name(to: ConvertTo) -> String {
    format!("{to:?}").to_lowercase()
}

/// One line per DfuSe target: alt, name, elements and where they go.
fn describe_targets(targets: &[dfu_image::DfuseTarget]) -> String {
    targets
        .iter()
        .map(|t| {
            let len: u64 = t.segments.iter().map(|s| s.data.len() as u64).sum();
            let range = match (t.segments.first(), t.segments.last()) {
                (Some(a), Some(b)) => format!(", 0x{:08x}-0x{:08x}", a.address, b.end() - 1),
                _ => String::new(),
            };
            format!(
                "  alt {} {:?}: {} element(s), {len} bytes{range}",
                t.alt,
                t.name.as_deref().unwrap_or(""),
                t.segments.len()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn inspect(file: &Path, json: bool) -> Result<(), Failure> {
    let f = Firmware::load(file)?;
    let img = &f.image;
    let module = img.particle_module();
    let vectors = img.vector_table();
    if json {
        out::json(&InspectJson {
            result: "ok",
            file: &f.name,
            format: img.format.name(),
            needs_address: img.needs_address,
            total_len: img.total_len(),
            segments: img
                .segments
                .iter()
                .map(|s| SegmentJson {
                    address: Addr(s.address),
                    length: s.data.len(),
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
        f.name,
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
