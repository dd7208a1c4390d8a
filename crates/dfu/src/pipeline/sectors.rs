//! The sector plan: which sectors to erase and which runs to write on one alt setting, and
//! the memory checks (the layout's pages and the profile's regions) that refuse a range
//! before anything is written.

use crate::code::{Code, Finding};
use dfu_profiles::{Profile, Role};
use dfu_proto::{MemoryLayout, Sector};
use serde::Serialize;

/// A contiguous run of bytes to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Run {
    /// First address.
    #[serde(serialize_with = "crate::json::hex32")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Addr"))]
    pub address: u32,
    /// The bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Their count (for JSON).
    #[serde(rename = "length")]
    pub len: u64,
}

impl Run {
    /// A run of `data` at `address`.
    pub fn new(address: u32, data: Vec<u8>) -> Self {
        let len = data.len() as u64;
        Run { address, data, len }
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        u64::from(self.address) + self.data.len() as u64
    }
}

/// What will be done to one alt setting, erased and written together: one file, or several
/// files that share a sector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Step {
    /// The alt setting written.
    pub alt: u8,
    /// The files whose bytes this step writes.
    pub files: Vec<String>,
    /// Sectors to erase, in address order.
    #[serde(serialize_with = "crate::json::sectors")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub erase: Vec<Sector>,
    /// Runs to write, in address order.
    pub writes: Vec<Run>,
    /// Sectors that already hold the image and are not written (known after the compare).
    #[serde(serialize_with = "crate::json::sectors")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::json::Range>"))]
    pub skipped: Vec<Sector>,
    /// The 0xFF bytes added to reach the programming unit (start, length): not the image's,
    /// so `--preserve` keeps what the device holds there.
    #[serde(skip)]
    pub padding: Vec<(u32, u64)>,
}

impl Step {
    /// Bytes to write.
    pub fn write_bytes(&self) -> u64 {
        self.writes.iter().map(|r| r.data.len() as u64).sum()
    }
}

/// The device's map as text, for refusals.
pub fn describe_map(layout: &MemoryLayout, profile: Option<&Profile>, alt: u8) -> String {
    let mut s = layout.to_string();
    if let Some(p) = profile {
        let regions: Vec<String> = p
            .regions
            .iter()
            .filter(|r| r.alt == alt)
            .map(|r| {
                format!(
                    "  0x{:08x}-0x{:08x}  {} ({:?})",
                    r.start,
                    r.end() - 1,
                    r.name,
                    r.role
                )
            })
            .collect();
        if !regions.is_empty() {
            s.push_str(&format!("{} regions:\n{}\n", p.name, regions.join("\n")));
        }
        if let Some(a) = p.app_address {
            s.push_str(&format!("applications go at 0x{a:08x}\n"));
        }
    }
    s
}

/// Where the ranges go on one alt setting, for the memory checks.
pub struct Memory<'a> {
    /// The alt setting's layout.
    pub layout: &'a MemoryLayout,
    /// The device's profile, for its regions.
    pub profile: Option<&'a Profile>,
    /// The alt setting.
    pub alt: u8,
}

impl Memory<'_> {
    /// The erasable sectors that `ranges` (start, length) touch, in address order, and a
    /// finding for every range that falls outside the memory, on pages the layout marks not
    /// writable, or in the profile's bootloader or settings regions. `what` names the ranges
    /// in messages ("the image", "the range").
    pub fn sectors(&self, ranges: &[(u32, u64)], what: &str) -> (Vec<Sector>, Vec<Finding>) {
        let mut erase: Vec<Sector> = Vec::new();
        let mut findings = Vec::new();
        for &(start, len) in ranges {
            let last = u64::from(start) + len.max(1) - 1;
            if let Some(at) = self.layout.first_uncovered(start, len) {
                findings.push(Finding::hard(
                    Code::OutsideMemory,
                    format!("0x{at:08x} is outside the device's memory ({what} covers 0x{start:08x}-0x{last:08x})"),
                    self.map(),
                ));
                continue;
            }
            let before = findings.len();
            for s in self.layout.sectors_overlapping(start, len) {
                if !s.flags.writable() {
                    findings.push(Finding::hard(
                        Code::ReadOnly,
                        format!(
                            "page at 0x{:08x} is not writable ({}, {} bytes); {what} writes 0x{:08x}-0x{:08x}",
                            s.start,
                            s.flags.describe(),
                            s.size,
                            start.max(s.start),
                            (u64::from(start) + len).min(s.end()) - 1
                        ),
                        self.map(),
                    ));
                } else if s.flags.erasable() && !erase.contains(&s) && !self.never_erased(s) {
                    erase.push(s);
                }
            }
            // A page the device refuses outright makes the region check moot.
            if findings.len() == before {
                findings.extend(self.protected_regions(start, len, what));
                findings.extend(self.overflow(start, len, what));
            }
        }
        erase.sort_by_key(|s| s.start);
        (erase, findings)
    }

    /// OTP and option bytes are never erased: OTP cannot be, and the ROM rewrites the option
    /// bytes whole (some ROMs type those pages erasable all the same).
    fn never_erased(&self, s: Sector) -> bool {
        self.profile.is_some_and(|p| {
            p.regions.iter().any(|g| {
                g.alt == self.alt
                    && matches!(g.role, Role::Otp | Role::OptionBytes)
                    && g.overlaps(s.start, u64::from(s.size))
            })
        })
    }

    fn protected_regions(&self, start: u32, len: u64, what: &str) -> Vec<Finding> {
        let Some(p) = self.profile else {
            return Vec::new();
        };
        let last = u64::from(start) + len.max(1) - 1;
        p.regions
            .iter()
            .filter(|g| g.alt == self.alt && g.overlaps(start, len))
            .filter(|g| matches!(g.role, Role::Bootloader | Role::Settings | Role::DeviceInfo))
            .map(|reg| {
                if reg.role == Role::DeviceInfo {
                    return Finding::hard(
                        Code::ReadOnly,
                        format!(
                            "{what} writes 0x{start:08x}-0x{last:08x}, which overlaps the {} (read-only device information, 0x{:08x}-0x{:08x})",
                            reg.name,
                            reg.start,
                            reg.end() - 1
                        ),
                        self.map(),
                    );
                }
                Finding::refusal(
                    Code::ProtectedRegion,
                    format!(
                        "{what} writes 0x{start:08x}-0x{last:08x}, which overlaps the {} ({:?} region 0x{:08x}-0x{:08x}); a bad write there can leave the device unable to enter DFU mode",
                        reg.name,
                        reg.role,
                        reg.start,
                        reg.end() - 1
                    ),
                    self.map(),
                )
            })
            .collect()
    }

    /// A range that starts in an application, system or factory region and runs past its
    /// end would overwrite what comes next (a Photon user part of 300 KB reaches the
    /// factory backup).
    fn overflow(&self, start: u32, len: u64, what: &str) -> Option<Finding> {
        let p = self.profile?;
        let end = u64::from(start) + len;
        let reg = p.regions.iter().find(|g| {
            g.alt == self.alt
                && matches!(g.role, Role::App | Role::System | Role::Factory)
                && g.overlaps(start, 1)
        })?;
        (end > reg.end()).then(|| {
            Finding::refusal(
                Code::RegionOverflow,
                format!(
                    "{what} is {len} bytes from 0x{start:08x}, but the {} region (0x{:08x}-0x{:08x}) ends {} bytes after its start: it would overwrite what follows",
                    reg.name,
                    reg.start,
                    reg.end() - 1,
                    reg.end() - u64::from(start)
                ),
                self.map(),
            )
        })
    }

    fn map(&self) -> String {
        describe_map(self.layout, self.profile, self.alt)
    }
}

/// Pads the last run with 0xFF to the device's programming unit; returns a note and the
/// padding (start, length) when it did.
pub(crate) fn pad_to_unit(runs: &mut [Run], unit: u32) -> Option<(String, (u32, u64))> {
    let unit = unit.max(1) as usize;
    let last = runs.last_mut()?;
    let rem = last.data.len() % unit;
    if rem == 0 {
        return None;
    }
    let pad = unit - rem;
    let at = last.end() as u32;
    last.data.extend(std::iter::repeat_n(0xFF, pad));
    last.len = last.data.len() as u64;
    let note = format!(
        "padded the last run with {pad} byte(s) of 0xFF to the device's {unit}-byte programming unit"
    );
    Some((note, (at, pad as u64)))
}

/// The image's segments as runs, adjacent ones merged.
pub(crate) fn runs_of(segments: &[dfu_image::Segment]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for s in segments {
        match runs.last_mut() {
            Some(r) if r.end() == u64::from(s.address) => {
                r.data.extend_from_slice(&s.data);
                r.len = r.data.len() as u64;
            }
            _ => runs.push(Run::new(s.address, s.data.clone())),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photon() -> (MemoryLayout, Profile) {
        let p = Profile::builtin("photon").unwrap();
        (p.alts[0].announced_layout().unwrap(), p)
    }

    fn check(l: &MemoryLayout, p: &Profile, start: u32, len: u64) -> (Vec<Sector>, Vec<Finding>) {
        Memory {
            layout: l,
            profile: Some(p),
            alt: 0,
        }
        .sectors(&[(start, len)], "the image")
    }

    #[test]
    fn erases_only_touched_sectors() {
        let (l, p) = photon();
        let (erase, findings) = check(&l, &p, 0x080A_0000, 20_000);
        assert!(findings.is_empty());
        assert_eq!(erase.len(), 1);
        assert_eq!(erase[0].start, 0x080A_0000);
    }

    #[test]
    fn refusals() {
        let (l, p) = photon();
        let (_, f) = check(&l, &p, 0x0800_5000, 78_172);
        assert_eq!(f[0].code, Code::ReadOnly);
        assert!(!f[0].overridable);
        assert!(
            f[0].message
                .contains("page at 0x08004000 is not writable (read-only"),
            "{}",
            f[0].message
        );
        assert!(f[0].detail.contains("applications go at 0x080a0000"));
        let (_, f) = check(&l, &p, 0x080F_FFF0, 32);
        assert_eq!(f[0].code, Code::OutsideMemory);
        assert!(
            f[0].message.contains("0x08100000 is outside"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn bootloader_region_is_an_overridable_refusal() {
        let p = Profile::builtin("photon").unwrap();
        let l = MemoryLayout::parse("@Internal Flash   /0x08000000/04*016Kg,01*064Kg,07*128Kg")
            .unwrap();
        let (_, f) = check(&l, &p, 0x0800_0000, 16);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::ProtectedRegion);
        assert!(f[0].message.contains("bootloader"), "{}", f[0].message);
        assert!(f[0].overridable);
    }

    #[test]
    fn padding_to_the_programming_unit() {
        let mut runs = vec![Run::new(0x0800_5000, vec![0; 3])];
        assert_eq!(
            pad_to_unit(&mut runs, 2).map(|p| p.1),
            Some((0x0800_5003, 1))
        );
        assert_eq!(runs[0].data, vec![0, 0, 0, 0xFF]);
        assert!(pad_to_unit(&mut runs, 2).is_none());
    }
}
