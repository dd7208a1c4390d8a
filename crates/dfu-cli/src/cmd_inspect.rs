//! `dfu image inspect`: what a firmware file holds, reading only what it shows.

use crate::cmd_image::SuffixJson;
use crate::exit::Failure;
use crate::out::{self, outln};
use crate::render;
use dfu::Firmware;
use dfu_image::ModuleInfo;
use dfu_proto::num::Addr;
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

/// Reads what `inspect` shows: a raw binary's length, suffix and first 4 MiB (for the module
/// header and vector table), without holding the rest; any other file whole. Returns the
/// file and the length of its data.
fn load_for_inspect(file: &Path) -> Result<(Firmware, u64), Failure> {
    let name = file.display().to_string();
    let cannot = |e: std::io::Error| {
        Failure::file(
            format!("cannot read {name}: {e}"),
            "check the path and that the file is readable",
        )
    };
    let opened = std::fs::File::open(file).map_err(cannot)?;
    let head = dfu_image::Image::read_head_from(opened, Some(&name), &Default::default(), 4 << 20);
    match head {
        Ok(Some((image, total))) => Ok((
            Firmware {
                name,
                image,
                machine: None,
            },
            total,
        )),
        Ok(None) => {
            let f = Firmware::load(file)?;
            let total = f.image.total_len();
            Ok((f, total))
        }
        Err(source) => Err(dfu::DfuError::Input { file: name, source }.into()),
    }
}

/// `dfu image inspect FILE`.
pub fn inspect(file: &Path, json: bool) -> Result<(), Failure> {
    let (f, total) = load_for_inspect(file)?;
    if json {
        out::json(&inspect_json(&f, total));
    } else {
        print_inspect(&f, total);
    }
    Ok(())
}

/// A segment's length: a raw binary is one segment whose length is the file's data
/// (`total`), not the bytes read.
fn segment_len(img: &dfu_image::Image, total: u64, s: &dfu_image::Segment) -> u64 {
    if img.needs_address {
        total
    } else {
        s.data.len() as u64
    }
}

/// The JSON of `inspect` for file `f` with `total` bytes of data.
fn inspect_json(f: &Firmware, total: u64) -> InspectJson<'_> {
    let img = &f.image;
    InspectJson {
        result: "ok",
        file: &f.name,
        format: img.format.name(),
        needs_address: img.needs_address,
        total_len: total,
        segments: img
            .segments
            .iter()
            .map(|s| SegmentJson {
                address: Addr(s.address),
                length: segment_len(img, total, s) as usize,
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
        particle_module: img.particle_module().as_ref().map(ModuleJson::from),
        vector_table: img.vector_table().map(|v| VectorJson {
            initial_sp: Addr(v.initial_sp),
            reset_handler: Addr(v.reset_handler),
            likely_link_base: Addr(v.likely_link_base()),
        }),
    }
}

/// Prints what file `f` with `total` bytes of data holds: segments, DfuSe targets, suffix,
/// Particle module header, vector table.
fn print_inspect(f: &Firmware, total: u64) {
    let img = &f.image;
    outln!(
        "{}: {}, {} bytes in {} segment(s)",
        f.name,
        img.format,
        total,
        img.segments.len()
    );
    for s in &img.segments {
        if img.needs_address {
            outln!("  {} bytes, no address (a raw binary is placed with --address or the device's app address)", segment_len(img, total, s));
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
    match &img.particle_module() {
        Some(m) => outln!("Particle module: {}", module_line(m)),
        None => outln!("Particle module: none"),
    }
    match &img.vector_table() {
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
}
