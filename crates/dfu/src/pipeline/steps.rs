//! The steps of a flash plan: for each alt setting, the runs to write and the sectors to
//! erase, with what the memory's checks find. [`plan`](crate::plan) calls these once the
//! files are placed.

use crate::code::{Code, Finding};
use crate::sectors::{pad_to_unit, runs_of, Memory, Step};
use crate::survey::DeviceView;

/// Each file's name and its segments, grouped by the alt setting they go to.
pub(crate) type FileParts = Vec<(String, Vec<(u8, Vec<dfu_image::Segment>)>)>;

/// The steps of a DfuSe device: per file and alt, the runs to write and the sectors to
/// erase (none on an alt that writes in place), with the memory's findings.
pub(crate) fn dfuse_steps(
    dev: &DeviceView,
    files: FileParts,
    findings: &mut Vec<Finding>,
) -> Vec<Step> {
    let profile = dev.info.profile.as_ref();
    let mut steps: Vec<Step> = Vec::new();
    for (name, parts) in files {
        for (alt, segments) in parts {
            let mut writes = runs_of(&segments);
            if writes.iter().all(|r| r.data.is_empty()) {
                findings.push(empty(&name));
                continue;
            }
            if !dev.info.alts.iter().any(|a| a.alt == alt) {
                findings.push(Finding::hard(
                    Code::NoSuchAlt,
                    format!("{name} has a DfuSe target for alt setting {alt}, which this device does not have"),
                    alt_list(dev),
                ));
                continue;
            }
            let Some(layout) = dev.layout(alt) else {
                findings.push(Finding::hard(
                    Code::NoLayout,
                    format!("alt setting {alt} has no usable memory layout, so addresses cannot be checked"),
                    "give the device's layout (\"@Name/0xADDR/N*SIZEKg\") or a profile file",
                ));
                continue;
            };
            if let Some(f) = crate::quirk::unknown_layout(&dev.info, alt) {
                findings.push(f);
                continue;
            }
            // An alt that writes in place (Particle's DCT) takes the bytes as they are: no
            // padding, and no erase (its erase does nothing).
            let in_place = profile
                .and_then(|p| p.alts.get(usize::from(alt)))
                .is_some_and(|a| a.in_place);
            let unit = match in_place {
                true => 1,
                false => profile.map_or(1, |p| p.timing.program_unit),
            };
            let mut padding = Vec::new();
            if let Some((n, pad)) = pad_to_unit(&mut writes, unit) {
                findings.push(Finding::note(Code::Padded, format!("{name}: {n}")));
                padding.push(pad);
            }
            let ranges: Vec<(u32, u64)> = writes
                .iter()
                .map(|r| (r.address, r.data.len() as u64))
                .collect();
            let (erase, found) = Memory {
                layout,
                profile,
                alt,
            }
            .sectors(&ranges, "the image");
            let erase = if in_place { Vec::new() } else { erase };
            findings.extend(found);
            steps.push(Step {
                alt,
                files: vec![name.clone()],
                erase,
                writes,
                skipped: Vec::new(),
                padding,
            });
        }
    }
    merge_shared_sectors(steps)
}

/// Steps on the same alt setting that erase a common sector are erased and written together.
fn merge_shared_sectors(mut steps: Vec<Step>) -> Vec<Step> {
    while let Some((i, j)) = shared_sector(&steps) {
        let b = steps.remove(j);
        let a = &mut steps[i];
        a.files.extend(b.files);
        a.writes.extend(b.writes);
        a.padding.extend(b.padding);
        a.writes.sort_by_key(|r| r.address);
        for s in b.erase {
            if !a.erase.contains(&s) {
                a.erase.push(s);
            }
        }
        a.erase.sort_by_key(|s| s.start);
    }
    steps
}

fn shared_sector(steps: &[Step]) -> Option<(usize, usize)> {
    for i in 0..steps.len() {
        for j in i + 1..steps.len() {
            let same_alt = steps[i].alt == steps[j].alt;
            if same_alt && steps[i].erase.iter().any(|s| steps[j].erase.contains(s)) {
                return Some((i, j));
            }
        }
    }
    None
}

/// The one step of a plain DFU device: one contiguous image from the device's base.
pub(crate) fn plain_steps(
    dev: &DeviceView,
    files: FileParts,
    findings: &mut Vec<Finding>,
) -> Vec<Step> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let segments: Vec<dfu_image::Segment> = files
        .into_iter()
        .flat_map(|(_, parts)| parts.into_iter().flat_map(|(_, s)| s))
        .collect();
    let mut sorted = segments;
    sorted.sort_by_key(|s| s.address);
    let writes = runs_of(&sorted);
    let base = dev.info.plain_base(dev.alt);
    let mut erase = Vec::new();
    let profile = dev.info.profile.as_ref();
    if let Some(layout) = profile.and_then(|p| p.alts.get(usize::from(dev.alt))) {
        // The same memory and region checks as DfuSe: a plain alt setting can be the
        // bootloader partition (SimTrace alt 1), whatever put the image there.
        let ranges: Vec<(u32, u64)> = writes
            .iter()
            .map(|r| (r.address, r.data.len() as u64))
            .collect();
        let memory = Memory {
            layout: layout.layout(),
            profile,
            alt: dev.alt,
        };
        let (pages, found) = memory.sectors(&ranges, "the image");
        findings.extend(found);
        // The device erases each page as the download first reaches it.
        erase = pages;
    }
    match writes.as_slice() {
        [] => findings.push(empty(&names.join(", "))),
        [run] if run.data.is_empty() => findings.push(empty(&names.join(", "))),
        [run] if run.address != base => findings.push(Finding::hard(
            Code::PlainAddress,
            format!("the image starts at 0x{:08x}, but this plain DFU device writes from 0x{base:08x}", run.address),
            format!("plain DFU has no addresses: build the image for 0x{base:08x}, or pass a raw binary"),
        )),
        [_] => {}
        more => findings.push(Finding::hard(
            Code::PlainRuns,
            format!("the image has {} separate runs; a plain DFU device takes one contiguous image", more.len()),
            "convert it to one raw binary first",
        )),
    }
    vec![Step {
        alt: dev.alt,
        files: names,
        erase,
        writes,
        skipped: Vec::new(),
        padding: Vec::new(),
    }]
}

fn empty(name: &str) -> Finding {
    Finding::hard(
        Code::Empty,
        format!("the image is empty (0 bytes): there is nothing to write ({name})"),
        "the build probably failed without saying so: rebuild and check the size of the output file",
    )
}

fn alt_list(dev: &DeviceView) -> String {
    let alts: Vec<String> = dev
        .info
        .alts
        .iter()
        .map(|a| format!("alt {} {:?}", a.alt, a.display_name()))
        .collect();
    format!("the device has: {}", alts.join(", "))
}
