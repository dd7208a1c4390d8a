//! Pictures for `dfu info`: each alt setting's memory as a strip of its regions (bootloader,
//! settings, system parts, application, free space), proportional where the sizes allow,
//! with a numbered legend of addresses, sizes and what is installed. Plain ASCII, at most
//! 80 columns; the cells are coloured by role only on a terminal, and never with `NO_COLOR`.

use dfu::DeviceInfo;
use dfu_image::ModuleInfo;
use dfu_proto::layout::human_size;
use dfu_proto::MemoryLayout;

/// Width of the strip between its outer borders.
const WIDTH: usize = 76;
/// The narrowest cell: its number and a space.
const MIN_CELL: usize = 2;

/// One part of the strip: a profile region or the space between regions.
struct Part {
    start: u64,
    end: u64,
    name: String,
    role: Option<String>,
}

/// The strips of every alt setting that has a memory layout, as lines.
pub fn memory_strips(d: &DeviceInfo, modules: &[ModuleInfo]) -> Vec<String> {
    let colour = crate::out::colour_stdout();
    let mut lines = Vec::new();
    for a in &d.alts {
        // A plain DFU device announces no layout: the profile's map of its memory stands in.
        let from_profile = d
            .profile
            .as_ref()
            .and_then(|p| p.alts.get(usize::from(a.alt)))
            .map(|x| x.layout());
        let Some(layout) = a.layout.as_ref().or(from_profile) else {
            continue;
        };
        let (Some(start), Some(end)) = (
            layout.segments.iter().map(|s| u64::from(s.start)).min(),
            layout.segments.iter().map(|s| s.end()).max(),
        ) else {
            continue;
        };
        // An alt that announces no sectors (Portenta's `0*4Kg`) has nothing to draw; its
        // memory map already says so.
        if end <= start {
            continue;
        }
        let parts = parts(d, a.alt, start, end, layout.display_name());
        lines.push(format!(
            "alt {} \"{}\": 0x{start:08x}-0x{:08x}, {}{}",
            a.alt,
            layout.display_name(),
            end - 1,
            size(end - start),
            if a.layout.is_none() {
                " (the profile's map)"
            } else {
                ""
            }
        ));
        lines.extend(strip(&parts, colour));
        for (i, p) in parts.iter().enumerate() {
            lines.extend(legend(i, p, layout, modules));
        }
    }
    lines
}

/// The profile's regions of `alt` within [start, end), with the space between them.
fn parts(d: &DeviceInfo, alt: u8, start: u64, end: u64, memory: &str) -> Vec<Part> {
    let mut regions: Vec<Part> = d
        .profile
        .iter()
        .flat_map(|p| p.regions.iter())
        .filter(|r| r.alt == alt)
        .map(|r| Part {
            start: u64::from(r.start).max(start),
            end: (u64::from(r.start) + u64::from(r.size)).min(end),
            name: r.name.clone(),
            role: Some(role_name(r.role)),
        })
        .filter(|p| p.start < p.end)
        .collect();
    regions.sort_by_key(|p| p.start);
    let mut out = Vec::new();
    let mut at = start;
    for r in regions {
        if r.start < at {
            continue; // overlapping regions: the first one is drawn
        }
        if r.start > at {
            out.push(free(at, r.start, memory));
        }
        at = r.end;
        out.push(r);
    }
    if at < end {
        out.push(free(at, end, memory));
    }
    out
}

/// A role as the profile files spell it (`option-bytes`).
fn role_name(role: dfu_profiles::Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{role:?}").to_lowercase())
}

fn free(start: u64, end: u64, memory: &str) -> Part {
    Part {
        start,
        end,
        name: if memory.is_empty() {
            "(no region)".into()
        } else {
            format!("{memory} (no region)")
        },
        role: None,
    }
}

/// The three lines of the strip.
fn strip(parts: &[Part], colour: bool) -> Vec<String> {
    let labels: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{} {}", key(i), short_name(p)))
        .collect();
    let named: Vec<bool> = parts.iter().map(|p| p.role.is_some()).collect();
    let widths = fit_labels(widths(parts), &labels, &named);
    let border: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(*w)))
        .collect::<String>()
        + "+";
    let cells: String = labels
        .iter()
        .zip(&widths)
        .enumerate()
        .map(|(i, (full, w))| {
            let label = if full.chars().count() <= *w {
                full.clone()
            } else {
                key(i).to_string()
            };
            match paint(&parts[i], colour) {
                Some(code) => format!("|\x1b[{code}m{label:<w$}\x1b[0m"),
                None => format!("|{label:<w$}"),
            }
        })
        .collect::<String>()
        + "|";
    vec![border.clone(), cells, border]
}

/// The ANSI colour of a part's cell, when colour is on.
fn paint(p: &Part, colour: bool) -> Option<&'static str> {
    if !colour {
        return None;
    }
    Some(match p.role.as_deref() {
        Some("bootloader") => "41;97",
        Some("settings") => "43;30",
        Some("system") => "44;97",
        Some("app") => "42;30",
        Some(_) => "46;30",
        None => "2",
    })
}

/// Cell widths: proportional to the sizes, each at least [`MIN_CELL`], summing to what fits.
fn widths(parts: &[Part]) -> Vec<usize> {
    let room = WIDTH
        .saturating_sub(parts.len().saturating_sub(1))
        .max(parts.len() * MIN_CELL);
    let total: u64 = parts.iter().map(|p| p.end - p.start).sum::<u64>().max(1);
    let mut w: Vec<usize> = parts
        .iter()
        .map(|p| (((p.end - p.start) as f64 / total as f64) * room as f64).round() as usize)
        .map(|x| x.max(MIN_CELL))
        .collect();
    while w.iter().sum::<usize>() > room {
        let Some(widest) = (0..w.len()).max_by_key(|&i| w[i]) else {
            break;
        };
        if w[widest] <= MIN_CELL {
            break;
        }
        w[widest] -= 1;
    }
    let short = room.saturating_sub(w.iter().sum());
    if let Some(widest) = (0..w.len()).max_by_key(|&i| w[i]) {
        w[widest] += short;
    }
    w
}

/// Widens cells whose label does not fit, smallest shortfall first, with room taken from
/// cells wider than they need: region names are worth more than exact proportions.
fn fit_labels(mut w: Vec<usize>, labels: &[String], named: &[bool]) -> Vec<usize> {
    let len: Vec<usize> = labels.iter().map(|l| l.chars().count()).collect();
    // Free space keeps its label only where it happens to fit.
    let mut shown: Vec<bool> = (0..w.len()).map(|i| named[i] && w[i] >= len[i]).collect();
    let mut order: Vec<usize> = (0..w.len()).filter(|&i| named[i] && !shown[i]).collect();
    order.sort_by_key(|&i| len[i].saturating_sub(w[i]));
    for i in order {
        let need = |j: usize, shown: &[bool]| if shown[j] { len[j] } else { MIN_CELL };
        let slack: usize = (0..w.len())
            .filter(|&j| j != i)
            .map(|j| w[j].saturating_sub(need(j, &shown)))
            .sum();
        let mut deficit = len[i].saturating_sub(w[i]);
        if slack < deficit {
            continue;
        }
        while deficit > 0 {
            let Some(donor) = (0..w.len())
                .filter(|&j| j != i)
                .max_by_key(|&j| w[j].saturating_sub(need(j, &shown)))
            else {
                break;
            };
            w[donor] -= 1;
            w[i] += 1;
            deficit -= 1;
        }
        shown[i] = true;
    }
    w
}

/// The name in the strip: the region's, or nothing for free space (the legend says it).
fn short_name(p: &Part) -> &str {
    if p.role.is_some() {
        &p.name
    } else {
        "free"
    }
}

/// The legend line of part `i`, and a line for a Particle module installed there.
fn legend(i: usize, p: &Part, layout: &MemoryLayout, modules: &[ModuleInfo]) -> Vec<String> {
    let sectors = layout.sectors_overlapping(p.start as u32, p.end - p.start);
    let read_only = !sectors.is_empty() && sectors.iter().all(|s| !s.flags.writable());
    let mut lines = vec![format!(
        "{:>2} 0x{:08x}-0x{:08x} {:>8}  {}{}{}",
        key(i),
        p.start,
        p.end - 1,
        size(p.end - p.start),
        p.name,
        p.role
            .as_ref()
            .filter(|r| **r != p.name)
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        if read_only { ", read-only" } else { "" }
    )];
    for m in modules
        .iter()
        .filter(|m| (p.start..p.end).contains(&u64::from(m.start)))
    {
        lines.push(format!(
            "{:>5}installed: {}, {}",
            "",
            m.describe(),
            dependencies(m, modules)
        ));
    }
    lines
}

/// Whether the modules `m` needs are installed, in words.
fn dependencies(m: &ModuleInfo, installed: &[ModuleInfo]) -> String {
    let missing: Vec<String> = m
        .dependencies
        .iter()
        .filter(|d| {
            !installed
                .iter()
                .any(|x| x.function == d.function && x.index == d.index && x.version >= d.version)
        })
        .map(dfu_image::Dependency::describe)
        .collect();
    match (m.dependencies.is_empty(), missing.is_empty()) {
        (true, _) => "no dependencies".into(),
        (false, true) => "dependencies met".into(),
        (false, false) => format!("NOT MET: needs {}", missing.join(", ")),
    }
}

/// The number of a part in the strip and the legend: 1-9, then a-z.
fn key(i: usize) -> char {
    char::from_digit((i as u32 + 1) % 36, 36).unwrap_or('?')
}

fn size(n: u64) -> String {
    u32::try_from(n).map_or_else(|_| "4 GiB".into(), human_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64, name: &str, role: Option<&str>) -> Part {
        Part {
            start,
            end,
            name: name.into(),
            role: role.map(str::to_string),
        }
    }

    #[test]
    fn strips_are_proportional_where_names_fit_and_coloured_only_when_asked() {
        let parts = [
            part(0, 0x4000, "bootloader", Some("bootloader")),
            part(0x4000, 0x10_0000, "application", Some("app")),
        ];
        let plain = strip(&parts, false);
        assert_eq!(plain[1].chars().count(), WIDTH + 2);
        assert!(plain[1].starts_with("|1 bootloader|2 application "));
        assert!(!plain.concat().contains('\x1b'));
        let coloured = strip(&parts, true);
        assert!(coloured[1].contains("\x1b[41;97m1 bootloader\x1b[0m"));
        assert_eq!(coloured[0], plain[0]);
        // Without names to fit, sizes decide: 3/4 of the memory, 3/4 of the room.
        let w = widths(&[part(0, 3, "a", None), part(3, 4, "b", None)]);
        assert_eq!(w.iter().sum::<usize>(), WIDTH - 1);
        assert_eq!(w[0], 56);
    }
}
