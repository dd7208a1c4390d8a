//! Benchmark helper for `bench/run`: what a flash must cost at least, and whether a run
//! really wrote the image.
//!
//! The physical limit comes from the simulator's own model ([`dfu_sim::physical_limit`]):
//! erase of the sectors that must be erased, programming, and full-speed bus time for an
//! ideal host. `physical_limit` erases every sector its runs touch; a real re-flash often
//! needs less, so [`needs`] first works out, from what the device holds now, which sectors
//! must change at all ("changed") and which of those must be erased (some bit of the
//! image is 1 where flash holds 0: programming can only clear bits). [`limit`] then feeds
//! `physical_limit` the image bytes of the changed sectors only, on a copy of the profile
//! whose layout marks the sectors that need no erase as not erasable, so the same code
//! prices exactly the needed erases.
#![forbid(unsafe_code)]

use dfu_profiles::Profile;
use dfu_proto::{MemoryLayout, Sector};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// What writing an image over the current flash contents needs, sector by sector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Needs {
    /// Start addresses of the sectors the image touches.
    pub touched: Vec<u32>,
    /// Sectors whose contents differ from the image where the image has bytes.
    pub changed: Vec<u32>,
    /// Changed sectors that must be erased first (a bit must go from 0 to 1).
    pub erase: Vec<u32>,
    /// What an ideal host writes: the image bytes of the changed sectors, as merged
    /// (address, length) runs.
    pub runs: Vec<(u32, u64)>,
}

/// Compares `image` (to go at `address`) with `current` (the flash contents over the same
/// range, same length) sector by sector, using `layout`'s sectors.
pub fn needs(layout: &MemoryLayout, address: u32, image: &[u8], current: &[u8]) -> Needs {
    let mut n = Needs::default();
    for s in layout.sectors_overlapping(address, image.len() as u64) {
        let (a, b) = clip(&s, address, image.len());
        let (new, cur) = (
            &image[a..b],
            &current[a.min(current.len())..b.min(current.len())],
        );
        n.touched.push(s.start);
        if new == cur {
            continue;
        }
        n.changed.push(s.start);
        if cur.len() < new.len() || new.iter().zip(cur).any(|(w, c)| w & c != *w) {
            n.erase.push(s.start);
        }
        let start = address + a as u32;
        match n.runs.last_mut() {
            Some((ra, rl)) if u64::from(*ra) + *rl == u64::from(start) => *rl += (b - a) as u64,
            _ => n.runs.push((start, (b - a) as u64)),
        }
    }
    n
}

/// The part `[a, b)` of an image at `address` of `len` bytes that lies in sector `s`.
fn clip(s: &Sector, address: u32, len: usize) -> (usize, usize) {
    let start = u64::from(address);
    let a = u64::from(s.start).max(start) - start;
    let b = s.end().min(start + len as u64) - start;
    (a as usize, b as usize)
}

/// `profile` with alt `alt`'s real layout rewritten sector by sector, the erasable flag
/// kept only on the sectors in `erasable`.
pub fn erase_only(profile: &Profile, alt: u8, erasable: &[u32]) -> Result<Profile, String> {
    let mut p = profile.clone();
    let a = p
        .alts
        .get_mut(usize::from(alt))
        .ok_or_else(|| format!("{} has no alt setting {alt}", profile.name))?;
    let layout = a.layout().clone();
    let keep: BTreeSet<u32> = erasable.iter().copied().collect();
    let segments = layout
        .sectors()
        .map(|s| dfu_proto::Segment {
            start: s.start,
            count: 1,
            sector_size: s.size,
            flags: if keep.contains(&s.start) {
                s.flags
            } else {
                dfu_proto::SectorFlags(s.flags.0 & !2)
            },
        })
        .collect();
    a.set_memory(dfu_proto::MemoryLayout {
        name: layout.name,
        segments,
    });
    Ok(p)
}

/// The physical limit of writing what `needs` says under the simulator's model: erase of
/// `needs.erase`, one set-address per run, programming and bus time of `needs.runs`.
pub fn limit(profile: &Profile, alt: u8, needs: &Needs) -> Result<Duration, String> {
    if !profile.is_dfuse() {
        return Err(format!(
            "{} is a plain DFU device: it erases as it writes, so every sector is needed",
            profile.name
        ));
    }
    let p = erase_only(profile, alt, &needs.erase)?;
    Ok(dfu_sim::physical_limit(&p, alt, &needs.runs))
}

/// The whole picture for one scenario, as `dfu-bench limit` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct LimitReport {
    /// Profile name.
    pub profile: String,
    /// Sector analysis.
    pub needs: Needs,
    /// Physical limit of the needed work (ms).
    pub limit_ms: f64,
    /// Of which erasing (ms): the limit minus the same writes without any erase.
    pub limit_erase_ms: f64,
    /// Physical limit of erasing and writing every touched sector (a host that neither
    /// reads nor skips), ms.
    pub erase_all_limit_ms: f64,
}

/// Builds the [`LimitReport`] of writing `image` at `address` over `current`.
pub fn report(
    profile: &Profile,
    alt: u8,
    address: u32,
    image: &[u8],
    current: &[u8],
) -> Result<LimitReport, String> {
    let layout = profile
        .alts
        .get(usize::from(alt))
        .and_then(|a| a.real_layout())
        .ok_or_else(|| format!("alt {alt} of {} has no memory layout", profile.name))?;
    let n = needs(&layout, address, image, current);
    let lim = limit(profile, alt, &n)?;
    let no_erase = limit(
        profile,
        alt,
        &Needs {
            erase: Vec::new(),
            ..n.clone()
        },
    )?;
    let all = dfu_sim::physical_limit(profile, alt, &[(address, image.len() as u64)]);
    Ok(LimitReport {
        profile: profile.name.clone(),
        needs: n,
        limit_ms: ms(lim),
        limit_erase_ms: ms(lim.saturating_sub(no_erase)),
        erase_all_limit_ms: ms(all),
    })
}

/// Milliseconds with microsecond precision.
pub fn ms(d: Duration) -> f64 {
    (d.as_nanos() as f64 / 1000.0).round() / 1000.0
}

/// Reads `len` bytes at `address` of alt `alt` from a simulator state file without
/// changing it (a missing file reads as a blank device). The simulator opens a private
/// copy: a `Bus` writes its state back when it is dropped.
pub fn read_state(
    profile: &str,
    state: &Path,
    alt: u8,
    address: u32,
    len: usize,
) -> Result<Vec<u8>, String> {
    let copy = std::env::temp_dir().join(format!("dfu-bench-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&copy);
    if state.exists() {
        std::fs::copy(state, &copy).map_err(|e| format!("copying {}: {e}", state.display()))?;
    }
    let spec = format!("{profile},state={}", copy.display());
    let out = dfu_sim::Bus::from_spec(&spec)
        .map_err(|e| e.to_string())
        .and_then(|bus| {
            bus.read_memory(0, alt, address, len)
                .map_err(|e| e.to_string())
        });
    let _ = std::fs::remove_file(&copy);
    out
}

/// Bytes of alt `alt` that differ between the `before` and `after` state files outside the
/// sectors an image at `address` of `len` bytes touches: collateral writes or erases no
/// flash tool should make. Returns (count, first such address).
pub fn collateral(
    profile: &str,
    before: &Path,
    after: &Path,
    alt: u8,
    address: u32,
    len: usize,
) -> Result<(usize, Option<u32>), String> {
    let p = Profile::load(profile).map_err(|e| e.to_string())?;
    let layout = p
        .alts
        .get(usize::from(alt))
        .ok_or_else(|| format!("profile {profile} has no alt {alt}"))?
        .layout();
    let touched = layout.sectors_overlapping(address, len as u64);
    let inside = |a: u64| {
        touched
            .iter()
            .any(|s| u64::from(s.start) <= a && a < s.end())
    };
    let (mut count, mut first) = (0, None);
    for seg in &layout.segments {
        let size = usize::try_from(seg.end() - u64::from(seg.start)).map_err(|e| e.to_string())?;
        let b = read_state(profile, before, alt, seg.start, size)?;
        let a = read_state(profile, after, alt, seg.start, size)?;
        for (i, (x, y)) in b.iter().zip(&a).enumerate() {
            let at = u64::from(seg.start) + i as u64;
            if x != y && !inside(at) {
                count += 1;
                first = first.or(u32::try_from(at).ok());
            }
        }
    }
    Ok((count, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f405() -> Profile {
        Profile::builtin("stm32f405").unwrap()
    }

    fn image(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) & 0x7F)
            .collect()
    }

    #[test]
    fn unchanged_blank_and_changed_sectors_are_told_apart() {
        let p = f405();
        let layout = p.alts[0].real_layout().unwrap();
        // 64 KiB over the four 16 KiB sectors: same, blank, bits-only-cleared, changed.
        let mut img = image(64 * 1024, 3);
        img[0xC000] = 0x55;
        let mut cur = img.clone();
        cur[0x4000..0x8000].fill(0xFF);
        cur[0x8000] |= 0x80; // the image clears that bit: no erase needed
        cur[0xC000] = 0x00; // the image needs bits set that flash has cleared
        let n = needs(&layout, 0x0800_0000, &img, &cur);
        assert_eq!(n.touched.len(), 4);
        assert_eq!(n.changed, vec![0x0800_4000, 0x0800_8000, 0x0800_C000]);
        assert_eq!(n.erase, vec![0x0800_C000]);
        assert_eq!(n.runs, vec![(0x0800_4000, 0xC000)]);
    }

    #[test]
    fn the_limit_matches_the_simulator_when_every_sector_is_erased() {
        let p = f405();
        let layout = p.alts[0].real_layout().unwrap();
        let img = image(100_000, 1);
        let other = image(100_000, 2);
        let n = needs(&layout, 0x0800_0000, &img, &other);
        assert_eq!(n.erase.len(), n.touched.len());
        let all = dfu_sim::physical_limit(&p, 0, &[(0x0800_0000, 100_000)]);
        assert_eq!(limit(&p, 0, &n).unwrap(), all);
        // A blank device needs the same writes without the erases: 4 x 16 KiB (250 ms)
        // and 1 x 64 KiB (550 ms), each with a 3 ms command exchange.
        let blank = needs(&layout, 0x0800_0000, &img, &vec![0xFF; img.len()]);
        assert!(blank.erase.is_empty());
        let saved = all - limit(&p, 0, &blank).unwrap();
        assert_eq!(saved, Duration::from_millis(4 * 253 + 553));
        // Nothing changed: nothing to do.
        let same = needs(&layout, 0x0800_0000, &img, &img);
        assert!(same.runs.is_empty());
        assert_eq!(limit(&p, 0, &same).unwrap(), Duration::ZERO);
    }

    #[test]
    fn report_and_state_reading() {
        let p = f405();
        let dir = std::env::temp_dir().join(format!("dfu-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let blank = read_state("stm32f405", &dir.join("none.json"), 0, 0x0800_0000, 16).unwrap();
        assert_eq!(blank, vec![0xFF; 16]);
        assert!(!dir.join("none.json").exists());
        let img = image(20_000, 5);
        let r = report(&p, 0, 0x0800_0000, &img, &blank_of(&img)).unwrap();
        assert_eq!(r.needs.erase.len(), 0);
        assert_eq!(r.limit_erase_ms, 0.0);
        assert!(r.erase_all_limit_ms > r.limit_ms + 500.0);
        assert!(limit(&Profile::builtin("dapboot").unwrap(), 0, &r.needs).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Writes `data` at `address` of a simulated F405 whose state is `state`, over the
    /// DfuSe protocol (blank flash takes it without an erase).
    fn write_state(state: &Path, address: u32, data: &[u8]) {
        use dfu_proto::{DfuRequest, DfuseCommand, Setup};
        let bus = dfu_sim::Bus::from_spec(&format!("stm32f405,state={}", state.display())).unwrap();
        let dev = bus.devices()[0].id;
        let dnload = |block: u16, d: &[u8]| {
            bus.control(
                dev,
                Setup::dfu_out(DfuRequest::Dnload, block, 0, d.len() as u16),
                d,
            )
            .unwrap();
            for _ in 0..2 {
                bus.control(dev, Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6), &[])
                    .unwrap();
            }
        };
        dnload(0, &DfuseCommand::SetAddress(address).encode());
        dnload(2, data);
        bus.flush().unwrap();
    }

    #[test]
    fn collateral_writes_outside_the_touched_sectors_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let (before, after) = (dir.path().join("b.json"), dir.path().join("a.json"));
        write_state(&before, 0x0800_0000, &[1; 16]);
        std::fs::copy(&before, &after).unwrap();
        // Inside the sector an image at 0x08000000 touches: not collateral.
        write_state(&after, 0x0800_0100, &[2; 16]);
        let c = collateral("stm32f405", &before, &after, 0, 0x0800_0000, 16).unwrap();
        assert_eq!(c, (0, None));
        // In the next sector: collateral.
        write_state(&after, 0x0800_4010, &[3; 8]);
        let c = collateral("stm32f405", &before, &after, 0, 0x0800_0000, 16).unwrap();
        assert_eq!(c, (8, Some(0x0800_4010)));
    }

    fn blank_of(img: &[u8]) -> Vec<u8> {
        vec![0xFF; img.len()]
    }
}
