//! The strip `dfu flash` ends with: one cell per sector the image touched, saying what
//! happened to it (erased and written, written without erasing, unchanged and skipped).

use dfu::{FlashPlan, FlashReport, Step};
use dfu_proto::Sector;

/// Cells per line.
const WIDTH: usize = 64;

/// What happened to one sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Erased,
    Blank,
    Skipped,
}

impl Cell {
    fn letter(self) -> char {
        match self {
            Cell::Erased => 'E',
            Cell::Blank => 'W',
            Cell::Skipped => '=',
        }
    }

    fn ansi(self) -> &'static str {
        match self {
            Cell::Erased => "33",
            Cell::Blank => "32",
            Cell::Skipped => "2",
        }
    }
}

/// The sectors of a planned step (every erasable sector its image touches) and what the run
/// did to each, given the step as it ran (after the compare).
fn cells(planned: &Step, ran: &Step) -> Vec<(Sector, Cell)> {
    planned
        .erase
        .iter()
        .map(|s| {
            let cell = if ran.erase.contains(s) {
                Cell::Erased
            } else if ran.skipped.contains(s) {
                Cell::Skipped
            } else {
                Cell::Blank
            };
            (*s, cell)
        })
        .collect()
}

/// The strip's lines, or none for a plain DFU device, a dry run or a mass erase.
pub fn lines(plan: &FlashPlan, report: &FlashReport, colour: bool) -> Vec<String> {
    if report.dry_run || report.mass_erased || !plan.dfuse {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (planned, ran) in plan.steps.iter().zip(&report.steps) {
        let cells = cells(planned, ran);
        if cells.is_empty() {
            continue;
        }
        out.push(format!("sectors of alt {} ({}):", planned.alt, cells.len()));
        // A new row at every gap, so that each row's address is the first cell's and the
        // cells after it are the sectors that follow it.
        let rows = cells
            .chunk_by(|a, b| a.0.end() == u64::from(b.0.start))
            .flat_map(|run| run.chunks(WIDTH));
        for row in rows {
            let text: String = row
                .iter()
                .map(|(_, c)| match colour {
                    true => format!("\x1b[{}m{}\x1b[0m", c.ansi(), c.letter()),
                    false => c.letter().to_string(),
                })
                .collect();
            out.push(format!("  0x{:08x} {text}", row[0].0.start));
        }
    }
    if !out.is_empty() {
        out.push(
            "  E erased and written, W written without erasing (was blank), = unchanged, skipped"
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfu_proto::SectorFlags;

    fn sector(start: u32) -> Sector {
        Sector {
            start,
            size: 0x4000,
            flags: SectorFlags(7),
        }
    }

    #[test]
    fn each_sector_says_what_happened_to_it() {
        let all = vec![sector(0), sector(0x4000), sector(0x8000)];
        let planned = Step {
            alt: 0,
            files: vec![],
            erase: all.clone(),
            writes: vec![],
            skipped: vec![],
            padding: vec![],
        };
        let ran = Step {
            erase: vec![sector(0x4000)],
            skipped: vec![sector(0x8000)],
            ..planned.clone()
        };
        let got: Vec<Cell> = cells(&planned, &ran).into_iter().map(|(_, c)| c).collect();
        assert_eq!(got, [Cell::Blank, Cell::Erased, Cell::Skipped]);
    }

    #[test]
    fn a_gap_between_sectors_starts_a_new_row() {
        let planned = Step {
            alt: 0,
            files: vec![],
            erase: vec![sector(0), sector(0x4000), sector(0x10000)],
            writes: vec![],
            skipped: vec![],
            padding: vec![],
        };
        let ran = Step {
            erase: vec![],
            skipped: vec![sector(0), sector(0x4000)],
            ..planned.clone()
        };
        let plan = FlashPlan {
            device: String::new(),
            dfuse: true,
            placements: vec![],
            findings: vec![],
            steps: vec![planned],
            mass_erase_loses: vec![],
            leave: None,
            bootloader_version: None,
            options: dfu::FlashOptions::default(),
        };
        let report = FlashReport {
            steps: vec![ran],
            ..FlashReport::default()
        };
        let got = lines(&plan, &report, false);
        assert_eq!(got[1], "  0x00000000 ==");
        assert_eq!(got[2], "  0x00010000 W");
    }
}
