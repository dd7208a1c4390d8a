//! The real memory of a device whose layout string overstates it (quirk
//! `layout-overstates-flash`), from the part code in its serial string. The GD32VF103 ROM
//! announces `512*002Kg` on every density; the real flash is 1 KiB pages, and how many
//! follows from the part number, whose flash-size letter the ROM puts in its serial string.

use crate::model::{Profile, Quirk};
use dfu_proto::{MemoryLayout, SectorFlags, Segment};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How to read a device's real layout from its serial string (`[part_layout]` in a profile).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartLayout {
    /// The alt setting whose layout is replaced.
    pub alt: u8,
    /// First address of the flash.
    pub start: u32,
    /// The real page size in bytes.
    pub page_size: u32,
    /// The serial strings that carry a part code: same length as this pattern, `?` matches
    /// any character, every other character must be equal (`3??J` for the GD32VF103).
    pub serial: String,
    /// Position (from 0) of the flash-size character in the serial string.
    pub size_at: usize,
    /// Flash-size character -> number of pages.
    pub pages: BTreeMap<String, u32>,
}

/// What applying a profile's `layout-overstates-flash` quirk gives for one alt setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutFix {
    /// The real layout, and one line saying where it came from.
    Fixed(MemoryLayout, String),
    /// The quirk applies, but the real layout cannot be known (why, in one line).
    Unknown(String),
}

/// `512 x 2048 bytes from 0x08000000`, one line.
pub fn compact(l: &MemoryLayout) -> String {
    l.segments
        .iter()
        .map(|s| {
            format!(
                "{} x {} bytes from 0x{:08x}",
                s.count, s.sector_size, s.start
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl PartLayout {
    fn size_code(&self, serial: &str) -> Option<char> {
        let s: Vec<char> = serial.chars().collect();
        let p: Vec<char> = self.serial.chars().collect();
        let fits = s.len() == p.len() && s.iter().zip(&p).all(|(c, p)| *p == '?' || c == p);
        fits.then(|| s.get(self.size_at).copied()).flatten()
    }
}

impl Profile {
    /// The real layout of `alt` on a device whose profile has the `layout-overstates-flash`
    /// quirk, from its serial string. `None` when the quirk does not concern `alt`.
    /// `announced` gives the name and access bits of the fixed layout.
    pub fn layout_fix(
        &self,
        alt: u8,
        serial: Option<&str>,
        announced: &MemoryLayout,
    ) -> Option<LayoutFix> {
        if !self.has_quirk(Quirk::LayoutOverstatesFlash) {
            return None;
        }
        let Some(rule) = self.part_layout.as_ref() else {
            let a = self.alts.get(usize::from(alt))?;
            if a.layout() != announced {
                let why = format!(
                    "the device announces {}, which overstates its flash; the {} profile gives its memory: {}",
                    compact(announced),
                    self.name,
                    compact(a.layout())
                );
                return Some(LayoutFix::Fixed(a.layout().clone(), why));
            }
            return (alt == 0).then(|| {
                LayoutFix::Unknown(format!(
                    "the {} profile says this device's layout overstates its flash, but gives neither its real `memory` nor a `[part_layout]` rule",
                    self.name
                ))
            });
        };
        if rule.alt != alt {
            return None;
        }
        let serial = serial.unwrap_or("");
        let code = rule.size_code(serial);
        let Some(pages) = code.and_then(|c| rule.pages.get(&c.to_string())) else {
            let known: Vec<&str> = rule.pages.keys().map(String::as_str).collect();
            return Some(LayoutFix::Unknown(format!(
                "the device announces {}, which overstates its flash, and its serial string {serial:?} carries no known part code (pattern {:?}, flash-size character at position {} one of {}), so the real page size and count are not known",
                compact(announced),
                rule.serial,
                rule.size_at,
                known.join(", ")
            )));
        };
        let flags = announced
            .segments
            .first()
            .map_or(SectorFlags(7), |s| s.flags);
        let layout = MemoryLayout {
            name: announced.name.clone(),
            segments: vec![Segment {
                start: rule.start,
                count: *pages,
                sector_size: rule.page_size,
                flags,
            }],
        };
        let why = format!(
            "the device announces {}, which overstates its flash; its part code {:?} (serial {serial:?}) gives {pages} pages of {} bytes",
            compact(announced),
            code.unwrap_or('?'),
            rule.page_size
        );
        Some(LayoutFix::Fixed(layout, why))
    }

    /// The memory a device with this serial really has behind `alt`: the profile's layout,
    /// or the one its part code gives when the profile has a `[part_layout]` rule for it.
    pub fn real_layout_for(&self, alt: u8, serial: &str) -> Option<MemoryLayout> {
        let a = self.alts.get(usize::from(alt))?;
        let announced = a.announced().unwrap_or(a.layout());
        match self.layout_fix(alt, Some(serial), announced) {
            Some(LayoutFix::Fixed(l, _)) => Some(l),
            _ => Some(a.layout().clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gd() -> (Profile, MemoryLayout) {
        let p = Profile::builtin("gd32vf103").unwrap();
        let a = p.alts[0].announced().unwrap().clone();
        (p, a)
    }

    #[test]
    fn every_density_of_the_gd32vf103() {
        let (p, a) = gd();
        for (serial, pages) in [("3CBJ", 128), ("3C8J", 64), ("3R6J", 32), ("3T4J", 16)] {
            let Some(LayoutFix::Fixed(l, why)) = p.layout_fix(0, Some(serial), &a) else {
                panic!("{serial}: not fixed");
            };
            assert_eq!(l.segments.len(), 1);
            let s = &l.segments[0];
            assert_eq!(
                (s.start, s.count, s.sector_size),
                (0x0800_0000, pages, 1024)
            );
            assert!(s.flags.erasable() && s.flags.writable());
            assert!(
                why.contains(&format!("{pages} pages of 1024 bytes")),
                "{why}"
            );
            assert_eq!(p.real_layout_for(0, serial), Some(l));
        }
    }

    #[test]
    fn an_unknown_part_code_is_not_guessed() {
        let (p, a) = gd();
        for serial in [Some("3CZJ"), Some("ABCD"), Some("3CBJX"), None] {
            match p.layout_fix(0, serial, &a) {
                Some(LayoutFix::Unknown(why)) => assert!(why.contains("part code"), "{why}"),
                other => panic!("{serial:?}: {other:?}"),
            }
        }
        // The simulator keeps the profile's memory for such a device.
        assert_eq!(
            p.real_layout_for(0, "ABCD").as_ref(),
            Some(p.alts[0].layout())
        );
        // Devices without the quirk are not concerned.
        let f4 = Profile::builtin("stm32f405").unwrap();
        let l = f4.alts[0].layout().clone();
        assert_eq!(f4.layout_fix(0, Some("x"), &l), None);
    }
}
