//! `dfu image inspect|convert`.

use crate::args::{ConvertTo, ImageCmd};
use crate::cmd_read::write_new;
use crate::exit::Failure;
use crate::out::{self, outln};
use crate::render;
use dfu::Firmware;
use dfu_image::{suffix, ModuleInfo};
use dfu_proto::num::{serialize_hex16, Addr};
use serde::Serialize;
use std::path::Path;

/// The JSON of `dfu image inspect`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct InspectJson<'a> {
    #[schemars(extend("enum" = ["ok"]))]
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
#[derive(Serialize, schemars::JsonSchema)]
struct SegmentJson {
    address: Addr,
    length: usize,
}

/// A DFU suffix.
#[derive(Serialize, schemars::JsonSchema)]
pub struct SuffixJson {
    /// idVendor.
    #[serde(serialize_with = "serialize_hex16")]
    #[schemars(with = "dfu_proto::num::Hex16")]
    pub vendor: u16,
    /// idProduct.
    #[serde(serialize_with = "serialize_hex16")]
    #[schemars(with = "dfu_proto::num::Hex16")]
    pub product: u16,
    /// bcdDevice.
    #[serde(serialize_with = "serialize_hex16")]
    #[schemars(with = "dfu_proto::num::Hex16")]
    pub device: u16,
    /// bcdDFU.
    #[serde(serialize_with = "serialize_hex16")]
    #[schemars(with = "dfu_proto::num::Hex16")]
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
#[derive(Serialize, schemars::JsonSchema)]
struct TargetJson<'a> {
    alt: u8,
    name: Option<&'a str>,
    elements: usize,
}

/// A Particle module header.
#[derive(Serialize, schemars::JsonSchema)]
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
#[derive(Serialize, schemars::JsonSchema)]
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
#[derive(Serialize, schemars::JsonSchema)]
struct VectorJson {
    initial_sp: Addr,
    reset_handler: Addr,
    likely_link_base: Addr,
}

/// The JSON result of `image convert` and `suffix add|check|remove`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct FileResult<'a> {
    /// `"ok"`.
    #[schemars(extend("enum" = ["ok"]))]
    pub result: &'static str,
    /// The file read (or changed in place).
    pub file: &'a str,
    /// The file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub output: Option<&'a str>,
    /// Its format.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub format: Option<String>,
    /// Its first address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Addr")]
    pub start: Option<Addr>,
    /// Bytes in the file written (or left).
    pub length: usize,
    /// The suffix it has now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "SuffixJson")]
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
            force,
            json,
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
            if json {
                out::json(&FileResult {
                    result: "ok",
                    file: &f.name,
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
