//! `dfu image inspect|convert`.

use crate::args::{ConvertTo, ImageCmd};
use crate::exit::Failure;
use crate::out::{self, outln};
use crate::output::NewFile;
use dfu::Firmware;
use dfu_image::suffix;
use dfu_proto::num::{serialize_hex16, Addr};
use serde::Serialize;

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

/// `dfu image ...`.
pub fn image(c: ImageCmd) -> Result<(), Failure> {
    match c {
        ImageCmd::Inspect { file, json } => crate::cmd_inspect::inspect(&file, json),
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
            let length =
                write_converted(&f, to, (vid, pid, did), target_alt, all_targets, &mut out)?;
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
        ConvertTo::Hex | ConvertTo::Srec => {
            let mut counted = Counted {
                inner: out.writer(),
                n: 0,
            };
            let written = match to {
                ConvertTo::Hex => f.image.write_ihex(&mut counted),
                _ => f.image.write_srec(&mut counted),
            };
            let n = counted.n;
            written.map_err(|e| out.failed(&e))?;
            return Ok(n);
        }
        ConvertTo::Dfuse if all_targets => {
            dfu_image::dfuse::write(&f.image.dfuse_targets, vid, pid, did)
        }
        ConvertTo::Dfuse => f.image.to_dfuse(vid, pid, did, target_alt, "ST..."),
    };
    out.write(&bytes)?;
    Ok(bytes.len() as u64)
}

/// A writer that counts the bytes through it.
struct Counted<'a> {
    inner: &'a mut dyn std::io::Write,
    n: u64,
}

impl std::io::Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
            format!(
                "--target picks a DfuSe target, and {} is {}",
                f.name,
                f.image.format.name()
            ),
            "leave out --target",
        ));
    }
    let image = f
        .image
        .target_image(alt)
        .map_err(|e| Failure::file(format!("{}: {e}", f.name), "the file is damaged"))?;
    let Some(image) = image else {
        return Err(Failure::usage(
            format!(
                "{} has no DfuSe target for alt {alt}; its targets:\n{}",
                f.name,
                describe_targets(targets)
            ),
            format!(
                "use --target {}",
                alts.iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(" or --target ")
            ),
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
