//! Plan, then execute: the one flash pipeline every front end uses. [`plan`] is pure: it
//! takes the device as [`DeviceView`], the files and the options, and returns a
//! [`FlashPlan`] (placements, findings, order, the target alt and sectors of every step).
//! [`DfuDevice::execute`](crate::DfuDevice::execute) then runs it.

use crate::checks::{self, dependency_order};
use crate::code::{Code, Finding};
use crate::error::{DfuError, Result};
use crate::firmware::{place, AddressSource, Firmware};
use crate::pipeline::steps::{dfuse_steps, plain_steps};
use crate::sectors::{Run, Step};
use crate::survey::DeviceView;
use dfu_profiles::Role;
use serde::Serialize;

/// How to flash.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlashOptions {
    /// Where a raw binary goes (default: its module header, else the device's default).
    #[serde(serialize_with = "crate::json::hex32_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<dfu_proto::num::Addr>"))]
    pub address: Option<u32>,
    /// Only this alt setting's DfuSe targets (default: every target to its own alt).
    pub alt: Option<u8>,
    /// Read back and compare what was written.
    pub verify: bool,
    /// Leave DFU mode and start the application at the end.
    pub leave: bool,
    /// Read sectors first and skip those that already hold the image.
    pub skip_unchanged: bool,
    /// Mass-erase instead of erasing the touched sectors.
    pub mass_erase: bool,
    /// Turn overridable refusals into notes (bootloader region, platform, suffix ids...).
    pub force: bool,
    /// Read what the real run would read, and stop before the first erase or write.
    pub dry_run: bool,
    /// Keep the bytes outside the image in the sectors that are erased: read them first
    /// and write them back with the image (verified like the rest). DfuSe and plain DFU;
    /// refused before anything is erased where it cannot keep them all (mass erase).
    pub preserve: bool,
    /// Allow writes that can never be undone (OTP memory, read protection level 2).
    #[serde(default)]
    pub irreversible: bool,
}

impl Default for FlashOptions {
    fn default() -> Self {
        FlashOptions {
            address: None,
            alt: None,
            verify: true,
            leave: true,
            skip_unchanged: true,
            mass_erase: false,
            force: false,
            dry_run: false,
            preserve: false,
            irreversible: false,
        }
    }
}

/// Where one file goes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Placement {
    /// The file.
    pub file: String,
    /// Its format.
    pub format: String,
    /// Why its address is what it is.
    pub source: AddressSource,
    /// Its bytes per alt setting: (alt, first address, length).
    pub parts: Vec<Part>,
}

/// Bytes of one file on one alt setting.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Part {
    /// The alt setting.
    pub alt: u8,
    /// First address.
    #[serde(serialize_with = "crate::json::hex32")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Addr"))]
    pub address: u32,
    /// Bytes (gaps not counted).
    pub length: u64,
}

/// Where the device is asked to start the application when it leaves DFU mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LeavePoint {
    /// The alt setting selected for the leave request.
    pub alt: u8,
    /// The address (DfuSe); the lowest address written on that alt setting.
    #[serde(serialize_with = "crate::json::hex32")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Addr"))]
    pub address: u32,
}

/// Everything that will be done, decided before anything is written.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlashPlan {
    /// The device, in one line.
    pub device: String,
    /// DfuSe (addressed) or plain DFU 1.1 (sequential blocks).
    pub dfuse: bool,
    /// Where each file goes, in the order they will be written.
    pub placements: Vec<Placement>,
    /// Every finding of every check, refusals first.
    pub findings: Vec<Finding>,
    /// The steps, in order: each erases and writes on one alt setting.
    pub steps: Vec<Step>,
    /// Regions a mass erase would remove (when asked for one).
    pub mass_erase_loses: Vec<String>,
    /// Where to leave, when leaving.
    pub leave: Option<LeavePoint>,
    /// The installed bootloader module version (Particle), for judging the leave.
    pub bootloader_version: Option<u16>,
    /// The options the plan was made with.
    pub options: FlashOptions,
}

impl FlashPlan {
    /// The first refusal, if any.
    pub fn refusal(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.refuses())
    }

    /// `Err` with the first refusal, if any.
    pub fn check(&self) -> Result<()> {
        match self.refusal() {
            Some(f) => Err(DfuError::refused(f.clone())),
            None => Ok(()),
        }
    }

    /// The findings that are not refusals (notes and overridden refusals).
    pub fn notes(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.refuses())
    }
}

/// Makes the plan: places every file, runs every check, orders the files, and works out
/// the steps. Pure: reads nothing from the device. Errors are problems with the request
/// itself (a raw binary with no address, files that overlap); refusals are findings.
pub fn plan(dev: &DeviceView, files: Vec<Firmware>, opts: &FlashOptions) -> Result<FlashPlan> {
    let mut files = files;
    let mut sources = Vec::new();
    for f in &mut files {
        sources.push((
            f.name.clone(),
            place(f, opts.address, default_address(dev))?,
        ));
    }
    overlap_check(&files)?;
    let mut findings = Vec::new();
    let device = checks::Device {
        profile: dev.info.profile.as_ref(),
        installed: &dev.installed,
        ids: dev.ids(),
    };
    findings.extend(checks::check(&files, &device));
    let files = dependency_order(files);
    let mut placements = Vec::new();
    let mut parts_of = Vec::new();
    for f in &files {
        let mut parts = f.parts(dev.alt, opts.alt)?;
        let addressed = f.image.dfuse_targets.is_empty() && !f.image.needs_address;
        if addressed && opts.alt.is_none() && dev.info.is_dfuse() {
            parts = by_alt(dev, parts);
        }
        let source = sources
            .iter()
            .find(|(n, _)| *n == f.name)
            .map(|(_, s)| s.clone());
        placements.push(placement(f, &parts, source.unwrap_or(AddressSource::File)));
        parts_of.push((f.name.clone(), parts));
    }
    let steps = if dev.info.is_dfuse() {
        let steps = dfuse_steps(dev, parts_of, &mut findings);
        findings.extend(crate::optbytes::plan_findings(
            dev,
            &steps,
            opts.irreversible,
        ));
        steps
    } else {
        let steps = plain_steps(dev, parts_of, &mut findings);
        findings.extend(crate::optbytes::plan_findings(
            dev,
            &steps,
            opts.irreversible,
        ));
        steps
    };
    findings.extend(crate::preserve::plan_findings(dev, opts, &steps));
    let mass_erase_loses = if opts.mass_erase {
        mass_erase_findings(dev, &mut findings)
    } else {
        Vec::new()
    };
    let mut findings: Vec<Finding> = findings.into_iter().map(|f| f.forced(opts.force)).collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(FlashPlan {
        device: dev.info.summary(),
        dfuse: dev.info.is_dfuse(),
        placements,
        leave: leave_point(dev, &steps).filter(|_| opts.leave),
        steps,
        findings,
        mass_erase_loses,
        bootloader_version: dev.bootloader_version(),
        options: opts.clone(),
    })
}

fn default_address(dev: &DeviceView) -> Option<(u32, AddressSource)> {
    let profile = dev.info.profile.as_ref();
    if !dev.info.is_dfuse() {
        let base = dev.info.plain_base(dev.alt);
        return Some((base, AddressSource::PlainBase));
    }
    if dev.alt != 0 {
        // Another alt setting is another memory (option bytes, OTP, SPI flash): a raw
        // binary goes to its start, never to the application address of alt 0.
        let base = dev.layout(dev.alt)?.segments.first()?.start;
        return Some((base, AddressSource::AltBase { alt: dev.alt }));
    }
    let p = profile?;
    let app = p.app_address?;
    Some((
        app,
        AddressSource::ProfileApp {
            profile: p.name.clone(),
        },
    ))
}

/// A file that carries its addresses (HEX, S-record, ELF) writes each segment to the alt
/// setting whose memory holds it: option bytes at 0x1FFFC000 go to the option-byte alt, as a
/// multi-target DfuSe file's would. A segment no other alt holds stays where it was (and is
/// judged there).
fn by_alt(
    dev: &DeviceView,
    parts: Vec<(u8, Vec<dfu_image::Segment>)>,
) -> Vec<(u8, Vec<dfu_image::Segment>)> {
    if parts.iter().all(|(_, s)| s.is_empty()) {
        // An empty file stays where it is, to be refused as empty.
        return parts;
    }
    let mut out: Vec<(u8, Vec<dfu_image::Segment>)> = Vec::new();
    for (default, segments) in parts {
        for seg in segments {
            let len = seg.data.len() as u64;
            let holds = |alt: u8| {
                dev.layout(alt)
                    .is_some_and(|l| len > 0 && l.first_uncovered(seg.address, len).is_none())
            };
            let alt = if holds(default) {
                default
            } else {
                dev.layouts
                    .iter()
                    .map(|(a, _)| *a)
                    .find(|a| holds(*a))
                    .unwrap_or(default)
            };
            match out.iter_mut().find(|(a, _)| *a == alt) {
                Some((_, v)) => v.push(seg),
                None => out.push((alt, vec![seg])),
            }
        }
    }
    out
}

fn overlap_check(files: &[Firmware]) -> Result<()> {
    crate::firmware::check_overlaps(files)
}

fn placement(
    f: &Firmware,
    parts: &[(u8, Vec<dfu_image::Segment>)],
    source: AddressSource,
) -> Placement {
    Placement {
        file: f.name.clone(),
        format: f.image.format.name().to_string(),
        source,
        parts: parts
            .iter()
            .map(|(alt, segs)| Part {
                alt: *alt,
                address: segs.first().map_or(0, |s| s.address),
                length: segs.iter().map(|s| s.data.len() as u64).sum(),
            })
            .collect(),
    }
}

/// A mass erase removes the bootloader, system firmware and settings the profile names.
fn mass_erase_findings(dev: &DeviceView, findings: &mut Vec<Finding>) -> Vec<String> {
    let lost = lost_by_mass_erase(dev.info.profile.as_ref());
    if !dev.info.is_dfuse() {
        findings.push(Finding::hard(
            Code::NoErase,
            "a plain DFU device has no mass erase (it erases as it writes)",
            "",
        ));
    } else if !lost.is_empty() {
        findings.push(Finding::refusal(
            Code::MassEraseSystem,
            format!("a mass erase would also remove {}", lost.join(", ")),
            "the device may not start, or not enter DFU mode again, until they are restored",
        ));
    }
    lost
}

/// What a mass erase removes besides the application, from the device's profile.
pub fn lost_by_mass_erase(profile: Option<&dfu_profiles::Profile>) -> Vec<String> {
    let Some(p) = profile else {
        return Vec::new();
    };
    p.regions
        .iter()
        .filter(|r| {
            r.alt == 0 && matches!(r.role, Role::Bootloader | Role::System | Role::Settings)
        })
        .map(|r| format!("the {} (0x{:08x}-0x{:08x})", r.name, r.start, r.end() - 1))
        .collect()
}

fn leave_point(dev: &DeviceView, steps: &[Step]) -> Option<LeavePoint> {
    let on = |alt: u8| {
        steps
            .iter()
            .filter(move |s| s.alt == alt)
            .flat_map(|s| &s.writes)
    };
    let alt = if on(dev.alt).next().is_some() {
        dev.alt
    } else {
        steps.first()?.alt
    };
    let address = on(alt).map(|r: &Run| r.address).min()?;
    Some(LeavePoint { alt, address })
}
