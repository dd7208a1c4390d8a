//! What an erase takes with it. A sector is erased whole, so the bytes of an erased sector
//! that the image does not cover are lost (dfu-util does the same). With
//! [`FlashOptions::preserve`](crate::FlashOptions::preserve) they are read first and written
//! back with the image, and verified with it (as probe-rs's keep-unwritten-bytes does);
//! without it, a note names the ranges lost.

use crate::device::DfuDevice;
use crate::error::Result;
use crate::events::{Phase, Sink};
use crate::flash::{note, FlashReport};
use crate::sectors::{Run, Step};

/// The parts of `step`'s erased sectors that its writes do not cover, in address order.
pub(crate) fn uncovered(step: &Step) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for s in &step.erase {
        let mut at = u64::from(s.start);
        let end = s.end();
        let start = at;
        for r in step
            .writes
            .iter()
            .filter(|r| r.end() > start && u64::from(r.address) < end)
        {
            if u64::from(r.address) > at {
                out.push((at as u32, u64::from(r.address) - at));
            }
            at = at.max(r.end());
        }
        if at < end {
            out.push((at as u32, end - at));
        }
    }
    out
}

/// `0x08000400-0x08003fff, ...`.
pub(crate) fn ranges(list: &[(u32, u64)]) -> String {
    list.iter()
        .map(|(a, n)| format!("0x{a:08x}-0x{:08x}", u64::from(*a) + n - 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs of `data` (read at `address`) that are not blank (0xFF): what must be written back.
fn not_blank(address: u32, data: &[u8]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0xff {
            i += 1;
            continue;
        }
        let start = i;
        while i < data.len() && data[i] != 0xff {
            i += 1;
        }
        // Short blank gaps are written too: one set-address per run costs more than a few
        // 0xFF bytes.
        while i < data.len() {
            let next = data[i..].iter().position(|b| *b != 0xff);
            match next {
                Some(k) if k < 64 => {
                    i += k;
                    while i < data.len() && data[i] != 0xff {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
        runs.push(Run::new(address + start as u32, data[start..i].to_vec()));
    }
    runs
}

impl DfuDevice {
    /// Reads the bytes of each step's erased sectors that the image does not cover, and adds
    /// those that are not blank to the step's writes, merged with the image's runs.
    pub(crate) fn preserve(
        &mut self,
        steps: &mut [Step],
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        for step in steps.iter_mut() {
            let gaps = uncovered(step);
            if gaps.is_empty() {
                continue;
            }
            self.select_alt(step.alt)?;
            let mut kept = Vec::new();
            let mut done = 0;
            for &(address, len) in &gaps {
                let data = self.dfuse_read(address, len, Phase::Compare, &mut done, events)?;
                kept.extend(not_blank(address, &data));
            }
            let bytes: u64 = kept.iter().map(|r| r.len).sum();
            note(
                report,
                events,
                format!(
                    "kept {bytes} byte(s) next to the image in the erased sectors ({}): read first, written back",
                    ranges(&gaps)
                ),
            );
            step.writes.extend(kept);
            step.writes.sort_by_key(|r| r.address);
            step.writes = merge(std::mem::take(&mut step.writes));
        }
        Ok(())
    }
}

/// Joins runs that touch.
fn merge(runs: Vec<Run>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for r in runs {
        match out.last_mut() {
            Some(last) if last.end() == u64::from(r.address) => {
                last.data.extend_from_slice(&r.data);
                last.len = last.data.len() as u64;
            }
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_bytes_are_not_written_back_but_short_gaps_are() {
        let mut d = vec![0xff; 300];
        d[10..20].fill(1);
        d[40..50].fill(2);
        d[250] = 3;
        let runs = not_blank(0x100, &d);
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].address, runs[0].len), (0x100 + 10, 40));
        assert_eq!((runs[1].address, runs[1].len), (0x100 + 250, 1));
        assert!(not_blank(0, &[0xff; 10]).is_empty());
    }

    #[test]
    fn merge_joins_touching_runs_only() {
        let m = merge(vec![
            Run::new(0, vec![1; 4]),
            Run::new(4, vec![2; 4]),
            Run::new(10, vec![3]),
        ]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].len, m[1].address), (8, 10));
    }
}
