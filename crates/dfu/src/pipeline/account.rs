//! What a failed flash had done, in lines for the user: the account every front end shows
//! after a failure, so that the user learns exactly what was and was not written.

use crate::flash::FlashReport;

/// Joins ranges (start, length) that follow on from each other.
pub fn merge(ranges: impl Iterator<Item = (u32, u64)>) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::new();
    for (s, n) in ranges {
        match out.last_mut() {
            Some((ls, ln)) if u64::from(*ls) + *ln == u64::from(s) => *ln += n,
            _ => out.push((s, n)),
        }
    }
    out
}

/// `0x08000000-0x0800ffff (65536 bytes)`.
pub fn range(start: u32, len: u64) -> String {
    format!("{} ({len} bytes)", span(start, len))
}

/// `0x08000400-0x08003fff, 0x08010000-0x0801ffff`.
pub fn ranges(list: &[(u32, u64)]) -> String {
    list.iter()
        .map(|&(s, n)| span(s, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `0x08000000-0x0800ffff`: first and last address.
fn span(start: u32, len: u64) -> String {
    format!("0x{start:08x}-0x{:08x}", u64::from(start) + len.max(1) - 1)
}

impl FlashReport {
    /// What had been done, one line each: the erased and written ranges, what was under
    /// way when the run failed, and what was erased and not written again. Empty when
    /// nothing was touched.
    pub fn account(&self) -> Vec<String> {
        let erased = self.erased.iter().map(|(s, n)| (*s, u64::from(*n)));
        let mut v: Vec<String> = merge(erased)
            .into_iter()
            .map(|(s, n)| format!("erased {}", range(s, n)))
            .collect();
        v.extend(
            merge(self.written.iter().copied())
                .into_iter()
                .map(|(s, n)| format!("wrote {}", range(s, n))),
        );
        if !self.unsure.is_empty() {
            v.push(format!(
                "under way when it failed: {} (holds the old bytes, the new ones, or some of each)",
                ranges(&merge(self.unsure.iter().copied()))
            ));
        }
        let lost = self.erased_not_written();
        if !lost.is_empty() {
            v.push(format!(
                "erased and not written again: {} (what the device held there is gone)",
                ranges(&lost)
            ));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_joins_adjacent_runs_and_names_what_is_gone() {
        let report = FlashReport {
            erased: vec![(0x0800_0000, 0x4000), (0x0800_4000, 0x4000)],
            written: vec![(0x0800_0000, 0x4000), (0x0800_4000, 100), (0x0801_0000, 1)],
            unsure: vec![(0x0800_4064, 0x100)],
            ..FlashReport::default()
        };
        assert_eq!(
            report.account(),
            [
                "erased 0x08000000-0x08007fff (32768 bytes)",
                "wrote 0x08000000-0x08004063 (16484 bytes)",
                "wrote 0x08010000-0x08010000 (1 bytes)",
                "under way when it failed: 0x08004064-0x08004163 (holds the old bytes, the new ones, or some of each)",
                "erased and not written again: 0x08004064-0x08007fff (what the device held there is gone)",
            ]
        );
        assert!(FlashReport::default().account().is_empty());
    }
}
