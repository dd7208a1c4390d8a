//! The flash plan: which sectors to erase and which runs to write, and the checks that
//! refuse a plan before anything is written.

use crate::error::{DfuError, Result};
use dfu_profiles::{Profile, Role};
use dfu_proto::{MemoryLayout, Sector};
use serde::Serialize;

/// A contiguous run of bytes to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// First address.
    pub address: u32,
    /// The bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Their count (for JSON).
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

/// What will be done to the device.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Sectors to erase, in address order.
    pub erase: Vec<Sector>,
    /// Runs to write, in address order.
    pub writes: Vec<Run>,
    /// Things the user should know (padding).
    pub notes: Vec<String>,
}

impl Plan {
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

/// Builds the plan for writing `runs` (sorted, non-overlapping) through a DfuSe layout.
/// Refuses: an empty image; bytes outside the memory; sectors the layout marks not
/// writable (even with `force`: the device would reject them); the profile's bootloader
/// and settings regions (unless `force`).
pub fn plan_dfuse(
    layout: &MemoryLayout,
    profile: Option<&Profile>,
    alt: u8,
    mut runs: Vec<Run>,
    force: bool,
) -> Result<Plan> {
    let map = || describe_map(layout, profile, alt);
    let total: u64 = runs.iter().map(|r| r.data.len() as u64).sum();
    if total == 0 {
        return Err(DfuError::Refused {
            reason: "the image is empty (0 bytes): there is nothing to write".into(),
            help: "the build probably failed without saying so: rebuild and check the size of the output file".into(),
        });
    }
    let mut notes = Vec::new();
    let unit = profile.map_or(1, |p| p.timing.program_unit.max(1)) as usize;
    if let Some(last) = runs.last_mut() {
        let rem = last.data.len() % unit;
        if rem != 0 {
            let pad = unit - rem;
            last.data.extend(std::iter::repeat_n(0xFF, pad));
            last.len = last.data.len() as u64;
            notes.push(format!(
                "padded the last run with {pad} byte(s) of 0xFF to the device's {unit}-byte programming unit"
            ));
        }
    }
    let mut erase: Vec<Sector> = Vec::new();
    for r in &runs {
        if let Some(at) = layout.first_uncovered(r.address, r.data.len() as u64) {
            return Err(DfuError::Refused {
                reason: format!(
                    "0x{at:08x} is outside the device's memory (the image covers 0x{:08x}-0x{:08x})",
                    r.address,
                    r.end() - 1
                ),
                help: format!("the device's memory:\n{}", map()),
            });
        }
        for s in layout.sectors_overlapping(r.address, r.data.len() as u64) {
            if !s.flags.writable() {
                return Err(DfuError::Refused {
                    reason: format!(
                        "page at 0x{:08x} is not writable ({}, {} bytes); the image writes 0x{:08x}-0x{:08x}",
                        s.start,
                        s.flags.describe(),
                        s.size,
                        r.address.max(s.start),
                        r.end().min(s.end()) - 1
                    ),
                    help: format!(
                        "the device itself refuses writes there, even with --force; write where applications go:\n{}",
                        map()
                    ),
                });
            }
            if s.flags.erasable() && !erase.contains(&s) {
                erase.push(s);
            }
        }
        if let Some(p) = profile {
            for reg in p
                .regions
                .iter()
                .filter(|g| g.alt == alt && g.overlaps(r.address, r.data.len() as u64))
            {
                if matches!(reg.role, Role::Bootloader | Role::Settings) && !force {
                    return Err(DfuError::Refused {
                        reason: format!(
                            "the image writes 0x{:08x}-0x{:08x}, which overlaps the {} ({:?} region 0x{:08x}-0x{:08x}); a bad write there can leave the device unable to enter DFU mode",
                            r.address,
                            r.end() - 1,
                            reg.name,
                            reg.role,
                            reg.start,
                            reg.end() - 1
                        ),
                        help: format!(
                            "check the address; if you really mean to replace it, add --force.\n{}",
                            map()
                        ),
                    });
                }
            }
        }
    }
    erase.sort_by_key(|s| s.start);
    Ok(Plan {
        erase,
        writes: runs,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photon() -> (MemoryLayout, Profile) {
        let p = Profile::builtin("photon").unwrap();
        (p.alts[0].announced_layout().unwrap(), p)
    }

    #[test]
    fn erases_only_touched_sectors() {
        let (l, p) = photon();
        let plan = plan_dfuse(
            &l,
            Some(&p),
            0,
            vec![Run::new(0x080A_0000, vec![1; 20_000])],
            false,
        )
        .unwrap();
        assert_eq!(plan.erase.len(), 1);
        assert_eq!(plan.erase[0].start, 0x080A_0000);
    }

    #[test]
    fn refusals() {
        let (l, p) = photon();
        let e = plan_dfuse(
            &l,
            Some(&p),
            0,
            vec![Run::new(0x0800_5000, vec![1; 78_172])],
            true,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("page at 0x08004000 is not writable (read-only"),
            "{e}"
        );
        assert!(
            e.help().contains("applications go at 0x080a0000"),
            "{}",
            e.help()
        );
        let e =
            plan_dfuse(&l, Some(&p), 0, vec![Run::new(0x080A_0000, vec![])], false).unwrap_err();
        assert!(e.to_string().contains("empty"));
        let e = plan_dfuse(
            &l,
            Some(&p),
            0,
            vec![Run::new(0x080F_FFF0, vec![0; 32])],
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("0x08100000 is outside"), "{e}");
        let core = Profile::builtin("core").unwrap();
        let cl = core.alts[0].announced_layout().unwrap();
        let plan = plan_dfuse(
            &cl,
            Some(&core),
            0,
            vec![Run::new(0x0800_5000, vec![0; 3])],
            false,
        )
        .unwrap();
        assert_eq!(plan.writes[0].data, vec![0, 0, 0, 0xFF]);
    }

    #[test]
    fn bootloader_region_needs_force() {
        let p = Profile::builtin("photon").unwrap();
        let l = MemoryLayout::parse("@Internal Flash   /0x08000000/04*016Kg,01*064Kg,07*128Kg")
            .unwrap();
        let run = || vec![Run::new(0x0800_0000, vec![0; 16])];
        let e = plan_dfuse(&l, Some(&p), 0, run(), false).unwrap_err();
        assert!(e.to_string().contains("bootloader"), "{e}");
        assert!(plan_dfuse(&l, Some(&p), 0, run(), true).is_ok());
    }
}
