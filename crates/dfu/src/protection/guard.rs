//! Refusals that need the device's current bytes, made after the compare and before the
//! first erase (the same in a dry run): a write into OTP that needs a bit to go from 0 to 1,
//! and sectors the option bytes write-protect (STM32F4 nWRP). Both would otherwise fail at
//! the device half-way through, after other sectors were erased.

use crate::code::{Code, Finding};
use crate::device::DfuDevice;
use crate::error::{DfuError, Result};
use crate::events::Sink;
use crate::optbytes::OptionBytesAt;
use crate::sectors::Step;
use dfu_profiles::Role;

impl DfuDevice {
    /// Refuses before anything is erased what the device would refuse half-way.
    pub(crate) fn guard(&mut self, steps: &[Step], events: Sink) -> Result<()> {
        self.otp_bits(steps, events)?;
        self.write_protection(steps)
    }

    /// Refuses a write into OTP memory whose bytes need a bit to go from 0 to 1 (OTP is
    /// never erased, and programming only clears bits): the first such address is named.
    fn otp_bits(&mut self, steps: &[Step], events: Sink) -> Result<()> {
        let Some(p) = self.info.profile.clone() else {
            return Ok(());
        };
        if !self.info.functional.can_upload() {
            return Ok(());
        }
        for s in steps {
            for r in &s.writes {
                let len = r.data.len() as u64;
                let otp = p.regions.iter().filter(|g| {
                    g.alt == s.alt && g.role == Role::Otp && g.overlaps(r.address, len)
                });
                for g in otp {
                    let start = r.address.max(g.start);
                    let end = (u64::from(r.address) + len).min(g.end());
                    let new = &r.data
                        [(start - r.address) as usize..(end - u64::from(r.address)) as usize];
                    self.select_alt(s.alt)?;
                    let mut done = 0;
                    let old = self.read_kept(start, new.len() as u64, &mut done, events)?;
                    self.end_upload()?;
                    if let Some(i) = old.iter().zip(new).position(|(o, n)| o & n != *n) {
                        return Err(DfuError::refused(otp_refusal(
                            start + i as u32,
                            old[i],
                            new[i],
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Refuses erasing or writing flash sectors that the option bytes write-protect.
    fn write_protection(&mut self, steps: &[Step]) -> Result<()> {
        let Some(at) = self.info.profile.as_ref().and_then(OptionBytesAt::of) else {
            return Ok(());
        };
        let Some(layout) = self
            .info
            .profile
            .as_ref()
            .map(|p| p.alts[0].layout().clone())
        else {
            return Ok(());
        };
        let touched: Vec<(u32, u64)> = steps
            .iter()
            .filter(|s| s.alt == 0)
            .flat_map(|s| {
                let erased = s.erase.iter().map(|x| (x.start, u64::from(x.size)));
                erased.chain(s.writes.iter().map(|r| (r.address, r.data.len() as u64)))
            })
            .collect();
        if at.format.is_none() || touched.is_empty() || !self.info.functional.can_upload() {
            return Ok(());
        }
        let alt = self.alt;
        let (_, raw) = self.read_option_bytes(&mut |_| {})?;
        self.select_alt(alt)?;
        let Some(decoded) = at.decode(&raw) else {
            return Ok(());
        };
        let sectors: Vec<(u32, dfu_proto::Sector)> = layout
            .sectors()
            .enumerate()
            .filter(|(i, _)| decoded.write_protected.contains(&(*i as u32)))
            .filter(|(_, sec)| {
                touched.iter().any(|&(a, n)| {
                    u64::from(a) < sec.end() && u64::from(a) + n > u64::from(sec.start)
                })
            })
            .map(|(i, sec)| (i as u32, sec))
            .collect();
        if sectors.is_empty() {
            return Ok(());
        }
        Err(DfuError::refused(wrp_refusal(&sectors, &raw, decoded.nwrp)))
    }
}

fn otp_refusal(at: u32, old: u8, new: u8) -> Finding {
    Finding::hard(
        Code::OtpBits,
        format!(
            "one-time programmable memory at 0x{at:08x} holds 0x{old:02x} and the image has 0x{new:02x} there: OTP bits go from 1 to 0 only, never back, so the write cannot succeed"
        ),
        "OTP is never erased: write only bytes that clear bits of what is there (`dfu read` on its alt setting shows it), or leave it as it is",
    )
}

fn wrp_refusal(sectors: &[(u32, dfu_proto::Sector)], raw: &[u8], nwrp: u16) -> Finding {
    let names: Vec<String> = sectors
        .iter()
        .map(|(i, s)| format!("{i} (0x{:08x}-0x{:08x})", s.start, s.end() - 1))
        .collect();
    let mask = sectors.iter().fold(0u16, |m, (i, _)| m | (1 << i));
    let mut lifted = raw.to_vec();
    let open = (nwrp | mask).to_le_bytes();
    lifted[8..10].copy_from_slice(&open);
    let hex: String = lifted.iter().map(|b| format!("{b:02X}")).collect();
    Finding::hard(
        Code::WriteProtected,
        format!(
            "sector(s) {} are write-protected by the option bytes (nWRP 0x{nwrp:04x}): the device would refuse to erase or write them",
            names.join(", ")
        ),
        format!(
            "`dfu option-bytes` shows the protection; `dfu option-bytes write {hex}` lifts it from these sectors (the same option bytes with their nWRP bits set), then flash again"
        ),
    )
}
