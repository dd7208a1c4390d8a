//! Comparing an image with what the device holds, to skip sectors that already hold it
//! and to write blank sectors without erasing them; and the byte comparison of verify.

use crate::code::{Code, Note};
use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::{Event, Phase, Sink};
use crate::flash::{note, FlashReport};
use crate::sectors::{Run, Step};
use dfu_proto::Sector;

impl DfuDevice {
    /// Reads the touched sectors and drops from the plan the ones that already hold the
    /// image; a blank sector is written without an erase. Reads stream across sectors, and a
    /// sector's reading stops at the first block that proves it must be erased.
    pub(crate) fn compare(
        &mut self,
        plan: &mut Step,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let total = plan.write_bytes();
        events(&Event::Start {
            phase: Phase::Compare,
            total,
        });
        let mut done = 0;
        let mut keep_erase = Vec::new();
        let mut skipped: Vec<Sector> = Vec::new();
        let mut blank_sectors = 0;
        for s in plan.erase.clone() {
            let parts = sector_runs(&plan.writes, &s);
            let (same, blank) = self.compare_parts(&parts, &mut done, events)?;
            if same {
                skipped.push(s);
            } else if blank && self.rest_is_blank(&s, &parts)? {
                blank_sectors += 1;
            } else {
                keep_erase.push(s);
            }
        }
        self.end_upload()?;
        events(&Event::Done {
            phase: Phase::Compare,
        });
        if blank_sectors > 0 {
            note(
                report,
                events,
                Note::new(
                    Code::Skipped,
                    format!(
                        "{blank_sectors} sector(s) were already blank: written without erasing"
                    ),
                ),
            );
        }
        if !skipped.is_empty() {
            note(
                report,
                events,
                Note::new(
                    Code::Skipped,
                    format!(
                        "{} sector(s) already held the image: skipped",
                        skipped.len()
                    ),
                ),
            );
            let holes: Vec<(u32, u32)> = skipped.iter().map(|s| (s.start, s.size)).collect();
            let mut writes = Vec::new();
            for r in plan.writes.drain(..) {
                writes.extend(cut_out(r, &holes));
            }
            plan.writes = writes;
            report.skipped.extend(holes);
            plan.skipped = skipped;
        }
        plan.erase = keep_erase;
        Ok(())
    }

    /// Compares the image's bytes in one sector with the device, block by block. Returns
    /// (identical, blank where the image goes); stops early once it is neither.
    fn compare_parts(
        &mut self,
        parts: &[(u32, Vec<u8>)],
        done: &mut u64,
        events: Sink,
    ) -> Result<(bool, bool)> {
        let xfer = usize::from(self.transfer_size);
        let (mut same, mut blank) = (true, true);
        for (a, data) in parts {
            for (i, chunk) in data.chunks(xfer).enumerate() {
                let at = a + (i * xfer) as u32;
                let cur = self.dfuse_read(at, chunk.len() as u64, Phase::Compare, done, events)?;
                same &= cur == chunk;
                blank = blank && cur.chunks(256).all(|c| c == &[0xFF; 256][..c.len()]);
                if !same && !blank {
                    return Ok((false, false));
                }
            }
        }
        Ok((same, blank))
    }

    /// True when the bytes of sector `s` outside the image are all 0xFF.
    fn rest_is_blank(&mut self, s: &Sector, parts: &[(u32, Vec<u8>)]) -> Result<bool> {
        let xfer = u64::from(self.transfer_size);
        let mut pos = u64::from(s.start);
        let mut gaps = Vec::new();
        for (a, data) in parts {
            if u64::from(*a) > pos {
                gaps.push((pos, u64::from(*a) - pos));
            }
            pos = u64::from(*a) + data.len() as u64;
        }
        if s.end() > pos {
            gaps.push((pos, s.end() - pos));
        }
        for (start, len) in gaps {
            let mut off = 0;
            while off < len {
                let n = (len - off).min(xfer);
                let mut ignore = 0;
                let cur = self.dfuse_read(
                    (start + off) as u32,
                    n,
                    Phase::Compare,
                    &mut ignore,
                    &mut |_| {},
                )?;
                if cur.iter().any(|b| *b != 0xFF) {
                    return Ok(false);
                }
                off += n;
            }
        }
        Ok(true)
    }
}

fn sector_runs(runs: &[Run], s: &Sector) -> Vec<(u32, Vec<u8>)> {
    runs.iter()
        .filter_map(|r| {
            let a = u64::from(r.address).max(u64::from(s.start));
            let b = r.end().min(s.end());
            (a < b).then(|| {
                let off = (a - u64::from(r.address)) as usize;
                (a as u32, r.data[off..off + (b - a) as usize].to_vec())
            })
        })
        .collect()
}

fn cut_out(r: Run, holes: &[(u32, u32)]) -> Vec<Run> {
    let mut out = vec![r];
    for &(start, size) in holes {
        let hs = u64::from(start);
        let he = hs + u64::from(size);
        let mut next = Vec::new();
        for r in out {
            if r.end() <= hs || u64::from(r.address) >= he {
                next.push(r);
                continue;
            }
            if u64::from(r.address) < hs {
                let n = (hs - u64::from(r.address)) as usize;
                next.push(Run::new(r.address, r.data[..n].to_vec()));
            }
            if r.end() > he {
                let n = (he - u64::from(r.address)) as usize;
                next.push(Run::new(he as u32, r.data[n..].to_vec()));
            }
        }
        out = next;
    }
    out
}

pub(crate) fn compare_bytes(address: u32, want: &[u8], got: &[u8]) -> Result<()> {
    if want == got {
        return Ok(());
    }
    let mismatches =
        want.iter().zip(got).filter(|(a, b)| a != b).count() + want.len().saturating_sub(got.len());
    if mismatches == 0 {
        return Ok(());
    }
    let i = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len());
    Err(DfuError::Verify {
        address: address + i as u32,
        expected: want[i],
        found: got.get(i).copied().unwrap_or(0),
        mismatches,
        run_start: address,
        run_end: u64::from(address) + want.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_skipped_sectors_out_of_runs() {
        let r = Run::new(0x1000, (0..0x3000u32).map(|i| i as u8).collect());
        let parts = cut_out(r, &[(0x2000, 0x1000)]);
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].address, parts[0].data.len()), (0x1000, 0x1000));
        assert_eq!((parts[1].address, parts[1].data.len()), (0x3000, 0x1000));
        assert_eq!(parts[1].data[0], 0x00);
    }

    #[test]
    fn byte_comparison_names_the_first_difference() {
        assert!(compare_bytes(0x100, &[1, 2, 3], &[1, 2, 3]).is_ok());
        let e = compare_bytes(0x100, &[1, 2, 3], &[1, 9, 3]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("verify failed at 0x00000101: wrote 0x02, read back 0x09"),
            "{e}"
        );
        assert!(compare_bytes(0x100, &[1, 2, 3], &[1, 2]).is_err());
    }
}
