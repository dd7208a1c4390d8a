//! The DfuSe memory layout: the alt setting's interface string, e.g.
//! `@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg`.
//!
//! Grammar (ST UM0424, as real devices send it): `@NAME` then one or more groups
//! `/0xADDRESS/SEG[,SEG]...`, where `SEG` is `COUNT*SIZE[UNIT]TYPE`: decimal digits with any
//! number of leading zeros, a unit `B`, `K`, `M` or a space (bytes; absent also means bytes),
//! and a type letter `a`-`g` whose low three bits mean readable (1), erasable (2), writable (4).

use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// Why a layout string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("memory layout {text:?}: {reason}")]
pub struct LayoutError {
    /// The string as the device sent it.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Access bits of a sector (the type letter's low three bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SectorFlags(pub u8);

impl SectorFlags {
    /// The sector can be read (UPLOAD).
    pub fn readable(self) -> bool {
        self.0 & 1 != 0
    }
    /// The sector can be erased.
    pub fn erasable(self) -> bool {
        self.0 & 2 != 0
    }
    /// The sector can be written.
    pub fn writable(self) -> bool {
        self.0 & 4 != 0
    }
    /// The type letter (`a`..`g`).
    pub fn letter(self) -> char {
        char::from(b'`' + (self.0 & 7))
    }
    /// A short human description ("read-only", "read/erase/write", ...).
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if self.readable() {
            parts.push("read");
        }
        if self.erasable() {
            parts.push("erase");
        }
        if self.writable() {
            parts.push("write");
        }
        match parts.as_slice() {
            ["read"] => "read-only".into(),
            [] => "no access".into(),
            p => p.join("/"),
        }
    }
}

/// A run of equal sectors: `count` sectors of `sector_size` bytes from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Address of the first sector.
    pub start: u32,
    /// Number of sectors.
    pub count: u32,
    /// Size of each sector in bytes.
    pub sector_size: u32,
    /// Access bits.
    pub flags: SectorFlags,
}

impl Segment {
    /// One past the last byte (saturating at 4 GiB).
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.count) * u64::from(self.sector_size)
    }
}

/// One sector of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sector {
    /// First address.
    pub start: u32,
    /// Size in bytes.
    pub size: u32,
    /// Access bits.
    pub flags: SectorFlags,
}

impl Sector {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.size)
    }
}

/// A parsed DfuSe memory layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryLayout {
    /// The name between `@` and the first `/`, padding spaces kept.
    pub name: String,
    /// Runs of sectors in the order the string gives them.
    pub segments: Vec<Segment>,
}

impl MemoryLayout {
    /// Parses a layout string.
    pub fn parse(text: &str) -> Result<Self, LayoutError> {
        let err = |reason: String| LayoutError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim_end_matches(['\0', '\r', '\n']);
        let rest = trimmed.strip_prefix('@').ok_or_else(|| {
            err("it does not start with '@', so it is not a DfuSe memory layout".into())
        })?;
        let mut parts = rest.split('/');
        let name = parts.next().unwrap_or_default().to_string();
        let mut segments = Vec::new();
        while let Some(addr) = parts.next() {
            let addr = addr.trim();
            if addr.is_empty() && segments.is_empty() {
                return Err(err("no address after the name".into()));
            }
            let hex = addr
                .strip_prefix("0x")
                .or_else(|| addr.strip_prefix("0X"))
                .ok_or_else(|| err(format!("address {addr:?} does not start with 0x")))?;
            let mut cursor = u64::from(
                u32::from_str_radix(hex, 16)
                    .map_err(|_| err(format!("address {addr:?} is not a 32-bit hex number")))?,
            );
            let list = parts
                .next()
                .ok_or_else(|| err(format!("no sector list after address {addr}")))?;
            for seg in list.split(',') {
                let s = parse_segment(seg).map_err(|r| err(format!("sector list {seg:?}: {r}")))?;
                let start = u32::try_from(cursor)
                    .map_err(|_| err("the sectors run past the 4 GiB address space".into()))?;
                let seg = Segment {
                    start,
                    count: s.0,
                    sector_size: s.1,
                    flags: s.2,
                };
                if seg.end() > 1 << 32 {
                    return Err(err(format!(
                        "sectors from 0x{start:08x} run past the 4 GiB address space"
                    )));
                }
                cursor = seg.end();
                segments.push(seg);
            }
        }
        if segments.is_empty() {
            return Err(err("it names no address and sectors".into()));
        }
        Ok(MemoryLayout { name, segments })
    }

    /// The name with its padding removed.
    pub fn display_name(&self) -> &str {
        self.name.trim()
    }

    /// Every sector, in order.
    pub fn sectors(&self) -> impl Iterator<Item = Sector> + '_ {
        self.segments.iter().flat_map(|s| {
            (0..s.count).map(move |i| Sector {
                start: s.start + i * s.sector_size,
                size: s.sector_size,
                flags: s.flags,
            })
        })
    }

    /// The sector holding `address`.
    pub fn sector_at(&self, address: u32) -> Option<Sector> {
        let seg = self
            .segments
            .iter()
            .find(|s| u64::from(address) >= u64::from(s.start) && u64::from(address) < s.end())?;
        let i = (address - seg.start) / seg.sector_size;
        Some(Sector {
            start: seg.start + i * seg.sector_size,
            size: seg.sector_size,
            flags: seg.flags,
        })
    }

    /// Every sector that shares at least one byte with `[start, start + len)`.
    pub fn sectors_overlapping(&self, start: u32, len: u64) -> Vec<Sector> {
        let end = u64::from(start) + len;
        self.sectors()
            .filter(|s| s.end() > u64::from(start) && u64::from(s.start) < end)
            .collect()
    }

    /// The first byte of `[start, start + len)` that no sector covers, if any.
    pub fn first_uncovered(&self, start: u32, len: u64) -> Option<u64> {
        let end = u64::from(start) + len;
        let mut pos = u64::from(start);
        while pos < end {
            match u32::try_from(pos).ok().and_then(|p| self.sector_at(p)) {
                Some(s) => pos = s.end(),
                None => return Some(pos),
            }
        }
        None
    }

    /// Total bytes described.
    pub fn total_size(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| u64::from(s.count) * u64::from(s.sector_size))
            .sum()
    }
}

impl fmt::Display for MemoryLayout {
    /// A readable map, one line per run of sectors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}:", self.display_name())?;
        for s in &self.segments {
            if s.count == 0 {
                writeln!(
                    f,
                    "  0x{:08x}  no sectors (the device announces 0 x {}): no memory here",
                    s.start,
                    human_size(s.sector_size)
                )?;
                continue;
            }
            writeln!(
                f,
                "  0x{:08x}-0x{:08x}  {:>3} x {:>6}  {}",
                s.start,
                s.end() - 1,
                s.count,
                human_size(s.sector_size),
                s.flags.describe()
            )?;
        }
        Ok(())
    }
}

/// `16 KiB`, `128 KiB`, `512 B`, `1 MiB`.
pub fn human_size(n: u32) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n % 1024 == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

fn parse_segment(seg: &str) -> Result<(u32, u32, SectorFlags), String> {
    let (count, rest) = seg
        .split_once('*')
        .ok_or("expected COUNT*SIZE followed by a type letter")?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| format!("sector count {count:?} is not a number"))?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!("sector size missing in {rest:?}"));
    }
    let size: u64 = rest[..digits]
        .parse()
        .map_err(|_| format!("sector size {:?} is too large", &rest[..digits]))?;
    let mut tail = rest[digits..].chars();
    let (unit, kind) = match (tail.next(), tail.next(), tail.next()) {
        (Some(u @ ('B' | 'K' | 'M' | ' ')), Some(t), None) => (u, t),
        (Some(t), None, None) => ('B', t),
        _ => {
            return Err(format!(
            "expected a unit (B, K, M or space) and a type letter a-g after the size, found {:?}",
            &rest[digits..]
        ))
        }
    };
    let mult: u64 = match unit {
        'K' => 1024,
        'M' => 1024 * 1024,
        _ => 1,
    };
    if !('a'..='g').contains(&kind) {
        return Err(format!("type letter {kind:?} is not one of a-g"));
    }
    let size = size
        .checked_mul(mult)
        .ok_or_else(|| "sector size over 4 GiB".to_string())?;
    // A count of 0 is an empty run: the Arduino Portenta H7 bootloader names alts that have
    // no memory behind them so (`/0x00000000/0*4Kg`). It describes no bytes.
    if size == 0 {
        return Err("a sector needs at least one byte".into());
    }
    let size = u32::try_from(size).map_err(|_| "sector size over 4 GiB".to_string())?;
    Ok((count, size, SectorFlags(kind as u8 - b'`')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACTS: &[&str] = &[
        "@Internal Flash   /0x08000000/20*001Ka,108*001Kg",
        "@SPI Flash : SST25x/0x00000000/512*04Kg",
        "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg",
        "@DCT Flash   /0x00000000/01*016Kg",
        "@Serial Flash   /0x00000000/256*004Kg",
        "@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka",
        "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
        "@Option Bytes  /0x1FFFC000/01*016 g",
        "@OTP Memory /0x1FFF7800/01*512 g,01*016 g",
        "@Device Feature/0xFFFF0000/01*004 g",
        "@Internal Flash /0x08000000/16*128Kg",
        "@Internal Flash   /0x08000000/256*02Kg",
        "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
        "@Internal Flash  /0x08000000/512*002Kg",
    ];

    #[test]
    fn every_string_in_the_device_facts_parses() {
        for s in FACTS {
            let l = MemoryLayout::parse(s).unwrap_or_else(|e| panic!("{e}"));
            assert!(l.total_size() > 0, "{s}");
        }
    }

    #[test]
    fn a_run_of_zero_sectors_is_empty_memory() {
        // The Arduino Portenta H7 bootloader's alts 2 and 3 (public `dfu-util -l` capture).
        for text in [
            "@Arduino  boot  v.25   /0x00000000/0*4Kg",
            "@Ext File Flash  0MB   /0x00000000/0*4Kg",
        ] {
            let l = MemoryLayout::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(l.total_size(), 0, "{text}");
            assert_eq!(l.sectors().count(), 0, "{text}");
            assert_eq!(l.sector_at(0), None, "{text}");
            assert_eq!(l.first_uncovered(0, 1), Some(0), "{text}");
            assert!(l.to_string().contains("no sectors"), "{l}");
        }
        let l = MemoryLayout::parse("@Ext RAW  Flash 16MB   /0x90000000/4096*4Kg").unwrap();
        assert_eq!(l.total_size(), 16 << 20);
    }

    #[test]
    fn photon_map() {
        let l = MemoryLayout::parse(FACTS[2]).unwrap();
        assert_eq!(l.name, "Internal Flash   ");
        assert_eq!(l.display_name(), "Internal Flash");
        assert_eq!(l.total_size(), 1024 * 1024);
        let s = l.sector_at(0x0800_5000).unwrap();
        assert_eq!((s.start, s.size), (0x0800_4000, 0x4000));
        assert!(!s.flags.writable() && s.flags.readable());
        let app = l.sector_at(0x080A_0000).unwrap();
        assert_eq!(
            (app.start, app.size, app.flags.letter()),
            (0x080A_0000, 0x20000, 'g')
        );
        assert_eq!(l.sector_at(0x0810_0000), None);
        let over = l.sectors_overlapping(0x0800_FFFF, 2);
        assert_eq!(over.len(), 2);
        assert_eq!(l.first_uncovered(0x080E_0000, 0x20001), Some(0x0810_0000));
        assert_eq!(l.first_uncovered(0x0800_0000, 0x100000), None);
    }

    #[test]
    fn units_and_groups() {
        let l = MemoryLayout::parse(FACTS[12]).unwrap();
        assert_eq!(l.segments.len(), 2);
        assert_eq!(l.segments[1].start, 0x1FFF_F800);
        assert_eq!(l.segments[0].sector_size, 48);
        assert_eq!(l.segments[0].flags.describe(), "read/write");
        let otp = MemoryLayout::parse(FACTS[8]).unwrap();
        assert_eq!(otp.segments[1].start, 0x1FFF_7800 + 512);
        let m = MemoryLayout::parse("@X/0x0/2*1Mg").unwrap();
        assert_eq!(m.total_size(), 2 << 20);
        let bare = MemoryLayout::parse("@X/0x0/2*64g").unwrap();
        assert_eq!(bare.segments[0].sector_size, 64);
    }

    #[test]
    fn bad_strings_are_clear_errors() {
        for bad in [
            "DAPBoot DFU",
            "FLASH",
            "",
            "@",
            "@Name",
            "@Name/",
            "@Name/08000000/1*1Kg",
            "@Name/0x08000000",
            "@Name/0x08000000/",
            "@Name/0x08000000/1*1Kz",
            "@Name/0x08000000/1*Kg",
            "@Name/0x08000000/x*1Kg",
            "@Name/0x08000000/1*0Kg",
            "@Name/0xFFFFFFFF/2*1Kg",
            "@Name/0x0/1*99999999999999999999Kg",
            "@Name/0x0/1*4194304Kg",
            "\u{fffd}\u{fffd}garbage",
        ] {
            let e = MemoryLayout::parse(bad).unwrap_err();
            assert!(!e.reason.is_empty(), "{bad}");
        }
    }

    #[test]
    fn display_lists_the_map() {
        let l = MemoryLayout::parse(FACTS[2]).unwrap();
        let text = l.to_string();
        assert!(
            text.contains("0x08000000-0x0800bfff    3 x 16 KiB  read-only"),
            "{text}"
        );
        assert!(text.contains("0x08020000-0x080fffff    7 x 128 KiB  read/erase/write"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = MemoryLayout::parse(&s);
        }

        #[test]
        fn structured_strings_parse(
            addr in 0u32..0x1000_0000,
            runs in proptest::collection::vec((1u32..64, 1u32..256, proptest::sample::select(vec!['B','K',' ']), 0u8..7), 1..5)
        ) {
            let list: Vec<String> = runs.iter().map(|(n, s, u, t)| format!("{n:02}*{s:03}{u}{}", char::from(b'a' + t))).collect();
            let text = format!("@Flash /0x{addr:08X}/{}", list.join(","));
            let l = MemoryLayout::parse(&text).unwrap();
            proptest::prop_assert_eq!(l.segments.len(), runs.len());
            proptest::prop_assert_eq!(l.segments[0].start, addr);
        }
    }
}
