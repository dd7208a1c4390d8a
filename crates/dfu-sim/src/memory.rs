//! The flash model behind one alt setting: the alt's real memory layout, erased bytes
//! read 0xFF, programming can only clear bits, sectors carry the layout's access bits.
//!
//! Storage is sparse: 4 KiB pages (aligned to absolute addresses, independent of the
//! sector size) that are not entirely 0xFF.

use dfu_proto::{MemoryLayout, Sector, Status};
use std::collections::BTreeMap;

/// Size of a storage page (also the unit of the state file).
pub(crate) const PAGE: u64 = 4096;

/// What a successful or failed program operation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Programmed {
    /// Bytes of data written (programmed units' data bytes).
    pub bytes: u64,
    /// Start addresses of the sectors that received data.
    pub sectors: Vec<u32>,
}

/// One alt setting's memory.
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    pub layout: MemoryLayout,
    pages: BTreeMap<u64, Vec<u8>>,
}

impl Flash {
    pub(crate) fn new(layout: MemoryLayout) -> Self {
        Flash {
            layout,
            pages: BTreeMap::new(),
        }
    }

    /// First address of the memory.
    pub(crate) fn base(&self) -> u32 {
        self.layout.segments.first().map_or(0, |s| s.start)
    }

    pub(crate) fn sector_at(&self, address: u64) -> Option<Sector> {
        u32::try_from(address)
            .ok()
            .and_then(|a| self.layout.sector_at(a))
    }

    /// Reads bytes (0xFF where nothing was written); the caller checks the range.
    pub(crate) fn read(&self, address: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0xFF; len];
        let end = address + len as u64;
        let first = address / PAGE * PAGE;
        for (&base, page) in self.pages.range(first..end) {
            let lo = base.max(address);
            let hi = (base + PAGE).min(end);
            out[(lo - address) as usize..(hi - address) as usize]
                .copy_from_slice(&page[(lo - base) as usize..(hi - base) as usize]);
        }
        out
    }

    /// How many bytes from `address` (at most `max`) can be read: contiguous readable
    /// sectors. `Err(errADDRESS)` when the address is not in memory, `Err(errTARGET)`
    /// when its sector is not readable (assumed codes).
    pub(crate) fn readable_len(&self, address: u64, max: usize) -> Result<usize, Status> {
        let first = self.sector_at(address).ok_or(Status::ErrAddress)?;
        if !first.flags.readable() {
            return Err(Status::ErrTarget);
        }
        let end = address + max as u64;
        let mut pos = address;
        while pos < end {
            match self.sector_at(pos) {
                Some(s) if s.flags.readable() => pos = s.end(),
                _ => break,
            }
        }
        Ok((pos.min(end) - address) as usize)
    }

    /// Checks that every byte of `[address, address + len)` is in memory and writable:
    /// `errADDRESS` / `errWRITE` (assumed codes) otherwise.
    pub(crate) fn check_writable(&self, address: u64, len: u64) -> Result<(), Status> {
        let end = address + len;
        let mut pos = address;
        while pos < end {
            let s = self.sector_at(pos).ok_or(Status::ErrAddress)?;
            if !s.flags.writable() {
                return Err(Status::ErrWrite);
            }
            pos = s.end();
        }
        Ok(())
    }

    /// Sets a sector to 0xFF.
    pub(crate) fn erase(&mut self, sector: Sector) {
        self.fill_ff(u64::from(sector.start), sector.end());
    }

    /// Sets every erasable sector to 0xFF; returns the bytes erased.
    pub(crate) fn erase_all(&mut self) -> u64 {
        let sectors: Vec<Sector> = self
            .layout
            .sectors()
            .filter(|s| s.flags.erasable())
            .collect();
        for s in &sectors {
            self.erase(*s);
        }
        sectors.iter().map(|s| u64::from(s.size)).sum()
    }

    fn fill_ff(&mut self, start: u64, end: u64) {
        let first = start / PAGE * PAGE;
        let bases: Vec<u64> = self.pages.range(first..end).map(|(b, _)| *b).collect();
        for base in bases {
            if let Some(page) = self.pages.get_mut(&base) {
                let lo = base.max(start);
                let hi = (base + PAGE).min(end);
                page[(lo - base) as usize..(hi - base) as usize].fill(0xFF);
                if all_ff(page) {
                    self.pages.remove(&base);
                }
            }
        }
    }

    /// Number of program units `[address, address + len)` touches.
    pub(crate) fn units(address: u64, len: u64, unit: u32) -> u64 {
        if len == 0 {
            return 0;
        }
        let unit = u64::from(unit.max(1));
        (address + len).div_ceil(unit) - address / unit
    }

    /// Programs `data` at `address` unit by unit (units aligned to absolute addresses,
    /// padded with 0xFF, which leaves bytes as they are). A unit whose data needs a bit
    /// to go from 0 to 1 is left unchanged and programming stops there with `errPROG`;
    /// units before it stay programmed, as on real flash. The caller checks the range.
    pub(crate) fn program(
        &mut self,
        address: u64,
        data: &[u8],
        unit: u32,
    ) -> (Programmed, Result<(), Status>) {
        let unit = u64::from(unit.max(1));
        let end = address + data.len() as u64;
        let old = self.read(address, data.len());
        // Find the first unit that needs a 0 -> 1 change; everything before it is written.
        let mut ok_end = end;
        let mut u = if only_clears(&old, data) {
            end
        } else {
            address / unit * unit
        };
        while u < end {
            let lo = (u.max(address) - address) as usize;
            let hi = ((u + unit).min(end) - address) as usize;
            if old[lo..hi]
                .iter()
                .zip(&data[lo..hi])
                .any(|(o, n)| o & n != *n)
            {
                ok_end = u.max(address);
                break;
            }
            u += unit;
        }
        let n = (ok_end - address) as usize;
        self.store(address, &data[..n]);
        let mut done = Programmed {
            bytes: n as u64,
            sectors: Vec::new(),
        };
        let mut pos = address;
        while pos < ok_end {
            let Some(s) = self.sector_at(pos) else { break };
            done.sectors.push(s.start);
            pos = s.end();
        }
        let result = if ok_end < end {
            Err(Status::ErrProg)
        } else {
            Ok(())
        };
        (done, result)
    }

    /// Writes bytes without flash rules (installing modules into a fresh state).
    pub(crate) fn store(&mut self, address: u64, data: &[u8]) {
        let end = address + data.len() as u64;
        let mut pos = address;
        while pos < end {
            let base = pos / PAGE * PAGE;
            let hi = (base + PAGE).min(end);
            let src = &data[(pos - address) as usize..(hi - address) as usize];
            let existing = self.pages.contains_key(&base);
            let src_blank = all_ff(src);
            if existing || !src_blank {
                let page = self
                    .pages
                    .entry(base)
                    .or_insert_with(|| vec![0xFF; PAGE as usize]);
                page[(pos - base) as usize..(hi - base) as usize].copy_from_slice(src);
                // Only blank data can leave the page blank.
                if src_blank && all_ff(page) {
                    self.pages.remove(&base);
                }
            }
            pos = hi;
        }
    }

    /// Pages that hold something other than 0xFF, in address order.
    pub(crate) fn pages(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.pages.iter().map(|(b, p)| (*b, p.as_slice()))
    }

    /// Restores a page from a state file; `false` when it is misaligned, of the wrong
    /// size or outside the memory.
    pub(crate) fn load_page(&mut self, base: u64, data: &[u8]) -> bool {
        let inside = self
            .layout
            .segments
            .iter()
            .any(|s| base < s.end() && base + PAGE > u64::from(s.start));
        if base % PAGE != 0 || data.len() as u64 != PAGE || !inside {
            return false;
        }
        if data.iter().any(|&b| b != 0xFF) {
            self.pages.insert(base, data.to_vec());
        }
        true
    }
}

/// True when every byte is 0xFF (compared in blocks, which stays fast without
/// optimisation too).
fn all_ff(b: &[u8]) -> bool {
    const FF: [u8; 256] = [0xFF; 256];
    b.chunks(256).all(|c| c == &FF[..c.len()])
}

/// True when programming `new` over `old` only clears bits (`old & new == new` for every
/// byte), compared eight bytes at a time.
fn only_clears(old: &[u8], new: &[u8]) -> bool {
    let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or([0xFF; 8]));
    let (o8, n8) = (old.chunks_exact(8), new.chunks_exact(8));
    let tail = o8
        .remainder()
        .iter()
        .zip(n8.remainder())
        .all(|(o, n)| o & n == *n);
    tail && o8.zip(n8).all(|(o, n)| word(o) & word(n) == word(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photon() -> Flash {
        Flash::new(
            MemoryLayout::parse(
                "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg",
            )
            .unwrap(),
        )
    }

    #[test]
    fn only_clears_checks_every_byte_words_and_tail() {
        let old = [0xF0u8; 19];
        let mut new = [0x30u8; 19];
        assert!(only_clears(&old, &new));
        for i in [0, 7, 8, 15, 16, 18] {
            new[i] = 0x0F;
            assert!(!only_clears(&old, &new), "byte {i}");
            new[i] = 0x30;
        }
        assert!(only_clears(&[], &[]));
    }

    #[test]
    fn erased_reads_ff_and_program_clears_bits() {
        let mut f = photon();
        let a = 0x080A_0000u64;
        assert_eq!(f.read(a, 4), [0xFF; 4]);
        let (p, r) = f.program(a, &[1, 2, 3], 4);
        assert!(r.is_ok());
        assert_eq!(p.bytes, 3);
        assert_eq!(p.sectors, vec![0x080A_0000]);
        assert_eq!(f.read(a, 4), [1, 2, 3, 0xFF]);
        // Same data again is fine; the padding byte stays erased and can be written.
        assert!(f.program(a, &[1, 2, 3, 0x7F], 4).1.is_ok());
        // A 0 -> 1 change fails and leaves the unit alone.
        let (p, r) = f.program(a, &[0xFF, 0xFF, 0xFF, 0x00, 9, 9, 9, 9], 4);
        assert_eq!(r, Err(Status::ErrProg));
        assert_eq!(p.bytes, 0);
        assert_eq!(f.read(a, 8), [1, 2, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF]);
        f.erase(f.sector_at(a).unwrap());
        assert_eq!(f.read(a, 4), [0xFF; 4]);
        assert_eq!(f.pages().count(), 0);
    }

    #[test]
    fn access_bits_and_bounds() {
        let f = photon();
        assert_eq!(f.check_writable(0x0800_4000, 4), Err(Status::ErrWrite));
        assert_eq!(f.check_writable(0x080F_FFFE, 4), Err(Status::ErrAddress));
        assert!(f.check_writable(0x0800_C000, 0x14000).is_ok());
        assert_eq!(f.readable_len(0x080F_F000, 8192), Ok(4096));
        assert_eq!(f.readable_len(0x0700_0000, 16), Err(Status::ErrAddress));
        assert_eq!(f.base(), 0x0800_0000);
        assert_eq!(Flash::units(0x1001, 8, 4), 3);
        assert_eq!(Flash::units(0x1000, 0, 4), 0);
    }

    #[test]
    fn pages_round_trip_and_cross_boundaries() {
        let mut f = photon();
        let a = 0x0802_0FFE;
        assert!(f.program(a, &[0, 0, 0, 0], 2).1.is_ok());
        let pages: Vec<(u64, Vec<u8>)> = f.pages().map(|(b, p)| (b, p.to_vec())).collect();
        assert_eq!(pages.len(), 2);
        let mut g = photon();
        for (b, p) in &pages {
            assert!(g.load_page(*b, p));
        }
        assert_eq!(g.read(a, 4), [0; 4]);
        assert!(!g.load_page(0x0100_0000, &pages[0].1));
        assert!(!g.load_page(0x0802_0001, &pages[0].1));
        assert_eq!(g.erase_all(), 0x4000 + 0x10000 + 7 * 0x20000);
        assert_eq!(g.pages().count(), 0);
    }
}
