//! The Cortex-M vector table at the start of an application image.
//!
//! Word 0 is the initial stack pointer, word 1 the reset handler, words 2..=15 the
//! system exception handlers (NMI, HardFault, MemManage, BusFault, UsageFault,
//! reserved x4, SVCall, DebugMonitor, reserved, PendSV, SysTick). A flashing tool
//! can use it to see whether an image is written where it was linked: the handlers
//! are absolute addresses inside the image as linked.
//!
//! # What is accepted as a vector table
//!
//! - word 0 is 4-aligned and in SRAM: `0x1000_0000..=0x1001_0000` (CCM),
//!   `0x2000_0000..=0x2060_0000` (SRAM, DTCM) or `0x2400_0000..=0x2410_0000`
//!   (STM32H7 AXI SRAM); a stack pointer may point one past the end of RAM;
//! - word 1 (reset) is odd (Thumb) and not 0xFFFF_FFFF;
//! - every other non-zero word among 2..=6, 11, 12, 14, 15 is odd, not 0xFFFF_FFFF,
//!   and in the same 16 MiB region (`address >> 24`) as the reset handler. Words 7..=10
//!   and 13 are reserved and ignored (NXP LPC parts keep a checksum in word 7).
//!
//! Anything else (erased flash, a Particle user part, a RISC-V image) is not a
//! vector table: no check can be made, and `None` is returned.

/// Handler slots checked besides reset (the others are reserved).
const HANDLER_SLOTS: [usize; 9] = [2, 3, 4, 5, 6, 11, 12, 14, 15];

/// SRAM ranges (inclusive) an initial stack pointer may point into.
pub const SRAM_RANGES: [(u32, u32); 3] = [
    (0x1000_0000, 0x1001_0000),
    (0x2000_0000, 0x2060_0000),
    (0x2400_0000, 0x2410_0000),
];

/// Alignment [`VectorTable::likely_link_base`] rounds down to (4 KiB).
pub const LINK_BASE_ALIGN: u32 = 0x1000;

/// A plausible Cortex-M vector table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VectorTable {
    /// Word 0: initial main stack pointer.
    pub initial_sp: u32,
    /// Word 1: reset handler as stored (odd: Thumb bit set).
    pub reset_handler: u32,
    /// Addresses of the reset handler and every non-zero system exception
    /// handler, Thumb bit cleared, in table order.
    pub handlers: Vec<u32>,
}

fn word(bytes: &[u8], i: usize) -> Option<u32> {
    let b = bytes.get(i * 4..i * 4 + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether `sp` is a plausible initial stack pointer (4-aligned, in [`SRAM_RANGES`]).
pub fn is_stack_pointer(sp: u32) -> bool {
    sp % 4 == 0 && SRAM_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&sp))
}

impl VectorTable {
    /// Read the table at the start of `bytes` (at least 8 bytes; the exception
    /// handlers are checked as far as `bytes` reaches). `None` if it is not one.
    pub fn parse(bytes: &[u8]) -> Option<VectorTable> {
        let initial_sp = word(bytes, 0)?;
        let reset_handler = word(bytes, 1)?;
        if !is_stack_pointer(initial_sp) || reset_handler & 1 == 0 || reset_handler == u32::MAX {
            return None;
        }
        let region = reset_handler >> 24;
        let mut handlers = vec![reset_handler & !1];
        for slot in HANDLER_SLOTS {
            match word(bytes, slot) {
                None | Some(0) => {}
                Some(h) if h & 1 == 1 && h != u32::MAX && h >> 24 == region => {
                    handlers.push(h & !1)
                }
                Some(_) => return None,
            }
        }
        Some(VectorTable {
            initial_sp,
            reset_handler,
            handlers,
        })
    }

    /// The reset handler's address (Thumb bit cleared).
    pub fn reset_address(&self) -> u32 {
        self.reset_handler & !1
    }

    /// The lowest handler address.
    pub fn lowest_handler(&self) -> u32 {
        self.handlers
            .iter()
            .copied()
            .min()
            .unwrap_or(self.reset_address())
    }

    /// Whether every handler lies inside an image placed at `base` with `len`
    /// bytes. False means the image was linked for another address: written at
    /// `base` it would jump outside itself on reset.
    pub fn fits(&self, base: u32, len: u32) -> bool {
        let end = u64::from(base) + u64::from(len);
        self.handlers
            .iter()
            .all(|&h| h >= base && u64::from(h) < end)
    }

    /// A guess at the address the image was linked for: the lowest handler
    /// rounded down to 4 KiB ([`LINK_BASE_ALIGN`]).
    ///
    /// Handlers follow the table, which is at least 0x40 bytes, so the lowest one
    /// lies a little above the link base. Application bases are 4 KiB-aligned
    /// in practice (0x08002000 dapboot, 0x08005000 Core, 0x08008000 Klipper,
    /// 0x080A0000 Photon user part, 0xD4000 Gen3); the guess is wrong when the
    /// first handler is more than 4 KiB into the image or the base is only 1 KiB
    /// aligned. Use it for messages; decide with [`VectorTable::fits`].
    pub fn likely_link_base(&self) -> u32 {
        self.lowest_handler() & !(LINK_BASE_ALIGN - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn core_app_at_wrong_address() {
        let t = table(&[0x2000_5000, 0x0800_5135, 0x0800_5181, 0x0800_5183]);
        let v = VectorTable::parse(&t).unwrap();
        assert_eq!(v.likely_link_base(), 0x0800_5000);
        assert!(v.fits(0x0800_5000, 0x1000));
        assert!(!v.fits(0x080A_0000, 0x2_0000));
    }

    #[test]
    fn not_a_table() {
        assert!(VectorTable::parse(&table(&[0xFFFF_FFFF, 0xFFFF_FFFF])).is_none());
        assert!(VectorTable::parse(&table(&[0x2000_5000, 0x0800_5134])).is_none());
        assert!(VectorTable::parse(&table(&[0x2000_5000, 0x0800_5135, 0x0900_0001])).is_none());
        assert!(VectorTable::parse(&[0, 0, 0x20]).is_none());
        // Reserved word 7 holds an LPC checksum: still a table.
        let mut w = [0u32; 8];
        w[0] = 0x1000_2000;
        w[1] = 0x0000_0101;
        w[7] = 0xEFFF_9C6E;
        assert!(VectorTable::parse(&table(&w)).is_some());
    }
}
