//! Option bytes and read protection as an ST ROM handles them (ST AN3156, RM0090 section
//! 3.6): the option bytes start at the family's factory state (with `rdp=` applied when the
//! state is created); while read protection is active the ROM refuses every command but
//! read-unprotect (errVENDOR for commands and writes, a STALL for uploads: the exact status
//! is assumed); an option-byte write replaces the bytes and resets the device; read-unprotect
//! erases the flash, clears read protection and resets. At level 2 the ROM never runs, so
//! the device does not appear.

use crate::device::{AfterBusy, Device};
use crate::memory::Flash;
use crate::spec::SimSpec;
use dfu_profiles::{OptionBytesFormat, Role};
use dfu_proto::DfuseCommand;
use dfu_proto::Status;
use std::time::Duration;

/// RDP byte values (STM32F4, RM0090): 0xAA level 0, 0xCC level 2, anything else level 1.
const RDP_LEVEL0: u8 = 0xAA;
const RDP_LEVEL1: u8 = 0x55;
const RDP_LEVEL2: u8 = 0xCC;

/// The option-byte region of a profile with a known encoding: (alt, start, size).
fn region(spec: &SimSpec) -> Option<(usize, u64, usize)> {
    spec.profile.option_bytes.as_ref()?;
    let r = spec.profile.regions_with(Role::OptionBytes).next()?;
    Some((usize::from(r.alt), u64::from(r.start), r.size as usize))
}

/// Writes the factory option bytes (with `rdp=` applied) into fresh memory.
pub(crate) fn install_option_bytes(spec: &SimSpec, flash: &mut [Flash]) {
    let (Some((alt, start, _)), Some(ob)) = (region(spec), spec.profile.option_bytes.as_ref())
    else {
        return;
    };
    let Some(mut bytes) = ob.factory_bytes() else {
        return;
    };
    match (ob.format, spec.rdp) {
        (OptionBytesFormat::Stm32f4, Some(1)) => bytes[1] = RDP_LEVEL1,
        (OptionBytesFormat::Stm32f4, Some(2)) => bytes[1] = RDP_LEVEL2,
        _ => {}
    }
    if let Some(f) = flash.get_mut(alt) {
        f.store(start, &bytes);
    }
}

/// The read protection level stored in `flash` (0 for devices without known option bytes).
pub(crate) fn rdp_level(spec: &SimSpec, flash: &[Flash]) -> u8 {
    let Some((alt, start, _)) = region(spec) else {
        return 0;
    };
    match flash.get(alt).map(|f| f.read(start + 1, 1)[0]) {
        Some(RDP_LEVEL0) | None => 0,
        Some(RDP_LEVEL2) => 2,
        Some(_) => 1,
    }
}

impl Device {
    /// The current read protection level.
    pub(crate) fn rdp(&self) -> u8 {
        rdp_level(&self.spec, &self.flash)
    }

    /// A DfuSe data write into the option bytes: the ROM replaces them whole and resets to
    /// apply them. `None` when `address` is not in the option bytes.
    pub(crate) fn option_byte_write(
        &mut self,
        address: u64,
        data: &[u8],
    ) -> Option<(Duration, Status)> {
        let (alt, start, size) = region(&self.spec)?;
        if usize::from(self.core.alt) != alt || address < start || address >= start + size as u64 {
            return None;
        }
        if address != start || data.len() != size {
            return Some((Duration::ZERO, Status::ErrAddress));
        }
        self.flash[alt].store(start, data);
        self.core.after_busy = AfterBusy::UnprotectReset;
        self.counters.programmed_bytes += data.len() as u64;
        Some((
            Duration::from_millis(u64::from(self.spec.profile.timing.poll_erase_ms)),
            Status::Ok,
        ))
    }

    /// True when `address` on the selected alt is in a flash sector the option bytes
    /// write-protect (STM32F4: nWRP bit n clear protects sector n of alt 0).
    pub(crate) fn write_protected(&self, address: u64) -> bool {
        let f4 = self.spec.profile.option_bytes.as_ref().map(|o| o.format)
            == Some(OptionBytesFormat::Stm32f4);
        let Some((alt, start, _)) = region(&self.spec).filter(|_| f4 && self.core.alt == 0) else {
            return false;
        };
        let b = self.flash[alt].read(start + 8, 2);
        let nwrp = u16::from_le_bytes([b[0], b[1]]);
        let sector = self.flash[0]
            .layout
            .sectors()
            .position(|s| u64::from(s.start) <= address && address < s.end());
        sector.is_some_and(|i| i < 16 && nwrp & (1 << i) == 0)
    }

    /// What the ROM answers to an erase or write of a write-protected sector (the statuses,
    /// errERASE and errWRITE, are assumed), or `None` when the sector is not protected.
    pub(crate) fn refused_by_write_protection(
        &self,
        cmd: Option<DfuseCommand>,
        address: u64,
    ) -> Option<Status> {
        if !self.write_protected(address) {
            return None;
        }
        Some(match cmd {
            Some(DfuseCommand::ErasePage(_)) => Status::ErrErase,
            _ => Status::ErrWrite,
        })
    }

    /// Read-unprotect: erases every erasable sector outside the option bytes and OTP,
    /// sets read protection level 0, and resets.
    pub(crate) fn read_unprotect(&mut self) -> (Duration, Status) {
        let keep: Vec<usize> = self
            .spec
            .profile
            .regions
            .iter()
            .filter(|r| matches!(r.role, Role::OptionBytes | Role::Otp | Role::DeviceInfo))
            .map(|r| usize::from(r.alt))
            .collect();
        for (i, f) in self.flash.iter_mut().enumerate() {
            if !keep.contains(&i) {
                self.counters.erased_bytes += f.erase_all();
            }
        }
        self.counters.erases += 1;
        if let Some((alt, start, _)) = region(&self.spec) {
            self.flash[alt].store(start + 1, &[RDP_LEVEL0]);
        }
        self.core.after_busy = AfterBusy::UnprotectReset;
        let mass = self.spec.profile.timing.mass_erase_ms;
        (Duration::from_millis(u64::from(mass)), Status::Ok)
    }
}
