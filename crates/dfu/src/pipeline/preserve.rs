//! What an erase takes with it. A sector is erased whole, so the bytes of an erased sector
//! that the image does not cover are lost (dfu-util does the same). With
//! [`FlashOptions::preserve`](crate::FlashOptions::preserve) they are read first and written
//! back with the image, and verified with it (as probe-rs's keep-unwritten-bytes does);
//! without it, a note names the ranges lost.

use crate::account::ranges;
use crate::code::{Code, Finding, Note};
use crate::device::DfuDevice;
use crate::error::Result;
use crate::events::{Phase, Sink};
use crate::flash::{note, FlashReport};
use crate::sectors::{Run, Step};

/// The image's runs of `step` without the padding to the programming unit.
fn unpadded(step: &Step) -> Vec<Run> {
    step.writes
        .iter()
        .map(|r| {
            let pad = step
                .padding
                .iter()
                .find(|&&(a, n)| {
                    u64::from(a) + n == r.end() && u64::from(a) >= u64::from(r.address)
                })
                .map_or(0, |&(_, n)| n as usize);
            Run::new(r.address, r.data[..r.data.len() - pad].to_vec())
        })
        .filter(|r| !r.data.is_empty())
        .collect()
}

/// The parts of `step`'s erased sectors that its image does not cover (padding to the
/// programming unit is not the image's), in address order.
pub(crate) fn uncovered(step: &Step) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let writes = unpadded(step);
    for s in &step.erase {
        let mut at = u64::from(s.start);
        let end = s.end();
        let start = at;
        for r in writes
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

/// Why `--preserve` cannot keep every byte outside the image, found before anything is
/// erased: a mass erase clears the whole flash, a device that cannot upload cannot be read
/// first, and a plain DFU device whose page size is not known erases what it likes.
pub(crate) fn plan_findings(
    dev: &crate::DeviceView,
    opts: &crate::FlashOptions,
    steps: &[Step],
) -> Vec<Finding> {
    if !opts.preserve {
        return Vec::new();
    }
    let refuse = |why: &str, how: &str| vec![Finding::hard(Code::Preserve, why, how)];
    if opts.mass_erase {
        return refuse(
            "--preserve keeps the bytes outside the image, but a mass erase clears the whole flash",
            "leave out --mass-erase: then only the sectors the image touches are erased, and --preserve writes the rest of them back",
        );
    }
    if !dev.info.functional.can_upload() {
        return refuse(
            "--preserve reads what erasing would clear before it erases, but this device cannot upload (bmAttributes bit 1 clear)",
            "leave out --preserve; the notes say which bytes next to the image are cleared",
        );
    }
    let plain = !dev.info.is_dfuse();
    if plain
        && steps
            .iter()
            .any(|s| s.erase.is_empty() && s.write_bytes() > 0)
    {
        return refuse(
            "--preserve needs the device's page size, and this plain DFU device has no profile that gives it",
            "give a profile with the alt's `memory` (--profile FILE), or leave out --preserve",
        );
    }
    Vec::new()
}

/// A note naming the bytes next to the image that erasing `step`'s sectors clears, when
/// there are any (and they are not kept).
pub(crate) fn loss_note(step: &Step) -> Option<Note> {
    let lost = uncovered(step);
    let outside: u64 = lost.iter().map(|(_, n)| n).sum();
    (outside > 0).then(|| {
        Note::new(
            Code::ClearsNearby,
            format!(
                "erasing whole sectors also clears {outside} byte(s) next to the image: {}",
                ranges(&lost)
            ),
        )
    })
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
    /// What happens to the bytes next to the image, decided before the first erase (and
    /// the same in a dry run): with `--preserve` they are read and added to the writes;
    /// without it a note names them; a mass erase says what it clears.
    pub(crate) fn before_erase(
        &mut self,
        steps: &mut [Step],
        plan: &crate::FlashPlan,
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let opts = &plan.options;
        self.guard(steps, events)?;
        if opts.mass_erase {
            let alt = steps.first().map_or(self.alt, |s| s.alt);
            self.select_alt(alt)?;
            let size: u64 = self.layout.as_ref().map_or(0, |l| {
                l.sectors()
                    .filter(|s| s.flags.erasable())
                    .map(|s| u64::from(s.size))
                    .sum()
            });
            let image: u64 = steps
                .iter()
                .filter(|s| s.alt == alt)
                .map(Step::write_bytes)
                .sum();
            note(
                report,
                events,
                Note::new(Code::ClearsNearby, format!(
                    "mass erase: all {size} erasable byte(s) of alt {alt} are cleared first; {} byte(s) of them are not rewritten by the image",
                    size.saturating_sub(image)
                )),
            );
        } else if opts.preserve {
            self.preserve(steps, events, report)?;
        } else {
            for s in steps.iter() {
                if let Some(n) = loss_note(s) {
                    note(report, events, n);
                }
            }
        }
        Ok(())
    }

    /// Reads `len` bytes at `address` of the selected alt (plain DFU: from the start of its
    /// memory, which is where a plain upload begins).
    pub(crate) fn read_kept(
        &mut self,
        address: u32,
        len: u64,
        done: &mut u64,
        events: Sink,
    ) -> Result<Vec<u8>> {
        if self.info.is_dfuse() {
            return self.dfuse_read(address, len, Phase::Compare, done, events);
        }
        let base = self.info.plain_base(self.alt);
        let skip = u64::from(address - base);
        let all = self.plain_upload(skip + len, Phase::Compare, done, events)?;
        match all.get(skip as usize..) {
            Some(kept) if kept.len() as u64 == len => Ok(kept.to_vec()),
            _ => Err(crate::DfuError::Protocol {
                op: crate::error::Op::Read {
                    address: u64::from(address),
                    len: len as usize,
                },
                what: format!(
                    "the upload ended after {} bytes, before the bytes to keep",
                    all.len()
                ),
            }),
        }
    }

    /// Reads the bytes of each step's erased sectors that the image does not cover, and adds
    /// those that are not blank to the step's writes, merged with the image's runs (on plain
    /// DFU all of them: its download is one contiguous run).
    pub(crate) fn preserve(
        &mut self,
        steps: &mut [Step],
        events: Sink,
        report: &mut FlashReport,
    ) -> Result<()> {
        let plain = !self.info.is_dfuse();
        for step in steps.iter_mut() {
            let gaps = uncovered(step);
            if gaps.is_empty() {
                continue;
            }
            self.select_alt(step.alt)?;
            let mut kept = Vec::new();
            let mut done = 0;
            for &(address, len) in &gaps {
                let data = self.read_kept(address, len, &mut done, events)?;
                if plain {
                    kept.push(Run::new(address, data));
                } else {
                    kept.extend(not_blank(address, &data));
                }
            }
            self.end_upload()?;
            let bytes: u64 = kept.iter().map(|r| r.len).sum();
            note(
                report,
                events,
                Note::new(Code::Kept, format!(
                    "kept {bytes} byte(s) next to the image in the erased sectors ({}): read first, written back",
                    ranges(&gaps)
                )),
            );
            step.writes = unpadded(step);
            step.padding.clear();
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
