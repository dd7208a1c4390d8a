//! Option bytes and read protection: decoding them for the families whose reference manual
//! is sourced (STM32F4, RM0090 section 3.6), the decoded difference a write makes, and what it
//! takes to allow it (`force` to raise protection, `irreversible` for level 2).

use crate::code::{Code, Finding};
use dfu_profiles::{OptionBytesFormat, Profile, Role};
use serde::Serialize;

/// Read protection level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Rdp {
    /// No protection.
    #[serde(rename = "level 0")]
    Level0,
    /// Flash cannot be read by the debugger or the bootloader; removing it erases the flash.
    #[serde(rename = "level 1")]
    Level1,
    /// Permanent: no bootloader, no debug, no way back.
    #[serde(rename = "level 2")]
    Level2,
}

impl Rdp {
    /// "level 0" ...
    pub fn describe(self) -> &'static str {
        match self {
            Rdp::Level0 => "level 0 (no read protection)",
            Rdp::Level1 => "level 1 (read-protected; removing it erases the flash)",
            Rdp::Level2 => "level 2 (permanent: no bootloader, no debug)",
        }
    }
}

/// Decoded option bytes (STM32F4 encoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Decoded {
    /// Read protection level.
    pub rdp: Rdp,
    /// The RDP byte as stored.
    pub rdp_byte: u8,
    /// The USER byte as stored.
    pub user: u8,
    /// Brown-out reset level (USER bits 3:2).
    pub bor_level: &'static str,
    /// Watchdog started by software (USER bit 5) rather than by hardware.
    pub watchdog_software: bool,
    /// No reset when entering Stop mode (USER bit 6).
    pub no_reset_on_stop: bool,
    /// No reset when entering Standby mode (USER bit 7).
    pub no_reset_on_standby: bool,
    /// nWRP as stored (bit n clear: sector n write-protected).
    pub nwrp: u16,
    /// Write-protected sectors.
    pub write_protected: Vec<u32>,
}

/// Decodes option bytes in `format`; `sectors` is how many flash sectors nWRP covers.
/// `None` when `raw` is too short.
pub fn decode(format: OptionBytesFormat, raw: &[u8], sectors: u32) -> Option<Decoded> {
    match format {
        OptionBytesFormat::Stm32f4 => {
            let (&user, &rdp_byte) = (raw.first()?, raw.get(1)?);
            let nwrp = u16::from_le_bytes([*raw.get(8)?, *raw.get(9)?]);
            let rdp = match rdp_byte {
                0xAA => Rdp::Level0,
                0xCC => Rdp::Level2,
                _ => Rdp::Level1,
            };
            Some(Decoded {
                rdp,
                rdp_byte,
                user,
                bor_level: match (user >> 2) & 3 {
                    0 => "level 3 (2.70-3.60 V)",
                    1 => "level 2 (2.40-2.70 V)",
                    2 => "level 1 (2.10-2.40 V)",
                    _ => "off (1.80-2.10 V)",
                },
                watchdog_software: user & 0x20 != 0,
                no_reset_on_stop: user & 0x40 != 0,
                no_reset_on_standby: user & 0x80 != 0,
                nwrp,
                write_protected: (0..sectors.min(16))
                    .filter(|i| nwrp & (1 << i) == 0)
                    .collect(),
            })
        }
    }
}

impl Decoded {
    /// One line per field, for humans.
    pub fn lines(&self) -> Vec<String> {
        let wp = if self.write_protected.is_empty() {
            "none".to_string()
        } else {
            list(&self.write_protected)
        };
        vec![
            format!(
                "read protection: {} (RDP 0x{:02x})",
                self.rdp.describe(),
                self.rdp_byte
            ),
            format!("write-protected sectors: {wp} (nWRP 0x{:04x})", self.nwrp),
            format!(
                "user: 0x{:02x}: brown-out reset {}, watchdog {}, reset on stop {}, reset on standby {}",
                self.user,
                self.bor_level,
                if self.watchdog_software { "software" } else { "hardware" },
                yes_no(!self.no_reset_on_stop),
                yes_no(!self.no_reset_on_standby)
            ),
        ]
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// The option bytes of a device: where they are and how they are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionBytesAt {
    /// The alt setting.
    pub alt: u8,
    /// First address.
    pub address: u32,
    /// Size in bytes.
    pub size: u32,
    /// The encoding, when the family's is known.
    pub format: Option<OptionBytesFormat>,
    /// Flash sectors of alt 0 (for nWRP).
    pub sectors: u32,
}

impl OptionBytesAt {
    /// Where a profile puts the option bytes (its first option-bytes region).
    pub fn of(p: &Profile) -> Option<OptionBytesAt> {
        let r = p.regions_with(Role::OptionBytes).next()?;
        Some(OptionBytesAt {
            alt: r.alt,
            address: r.start,
            size: r.size,
            format: p.option_bytes.as_ref().map(|o| o.format),
            sectors: p.alts[0].layout().sectors().count() as u32,
        })
    }

    /// Decodes `raw` when the encoding is known.
    pub fn decode(&self, raw: &[u8]) -> Option<Decoded> {
        decode(self.format?, raw, self.sectors)
    }
}

/// The decoded difference between two sets of option bytes, one line per change.
pub fn changes(old: &Decoded, new: &Decoded) -> Vec<String> {
    let mut out = Vec::new();
    if old.rdp != new.rdp || old.rdp_byte != new.rdp_byte {
        out.push(format!(
            "read protection: {} -> {}",
            old.rdp.describe(),
            new.rdp.describe()
        ));
    }
    let added: Vec<u32> = new
        .write_protected
        .iter()
        .filter(|s| !old.write_protected.contains(s))
        .copied()
        .collect();
    let removed: Vec<u32> = old
        .write_protected
        .iter()
        .filter(|s| !new.write_protected.contains(s))
        .copied()
        .collect();
    if !added.is_empty() {
        out.push(format!(
            "write protection added on sectors {}",
            list(&added)
        ));
    }
    if !removed.is_empty() {
        out.push(format!(
            "write protection removed from sectors {}",
            list(&removed)
        ));
    }
    if old.user != new.user {
        out.push(format!(
            "user byte: 0x{:02x} -> 0x{:02x}",
            old.user, new.user
        ));
    }
    out
}

/// What writing `new` over `old` takes: a note when it keeps the device unprotected, an
/// overridable refusal when it raises read protection or adds write protection, a refusal
/// only `irreversible` lifts for level 2. `old` is `None` when the current bytes are not
/// known (a file in the flash plan): then the new bytes are judged on their own.
pub fn judge(
    at: &OptionBytesAt,
    old: Option<&[u8]>,
    new: &[u8],
    irreversible: bool,
) -> Vec<Finding> {
    let Some(n) = at.decode(new) else {
        return vec![Finding::refusal(
            Code::RaisesProtection,
            format!(
                "writes {} option byte(s) at 0x{:08x} whose encoding this tool does not know for this device, so it cannot tell whether they protect it",
                new.len(),
                at.address
            ),
            "check them against the reference manual; force the write once you are sure",
        )];
    };
    let o = old.and_then(|o| at.decode(o));
    let before = o.clone().unwrap_or(Decoded {
        rdp: Rdp::Level0,
        write_protected: Vec::new(),
        ..n.clone()
    });
    let summary = match &o {
        Some(o) => changes(o, &n),
        None => n.lines(),
    };
    let summary = if summary.is_empty() {
        "no change".to_string()
    } else {
        summary.join("; ")
    };
    let mut out = Vec::new();
    if n.rdp == Rdp::Level2 && before.rdp != Rdp::Level2 {
        let f = Finding::hard(
            Code::Irreversible,
            format!("the option bytes set read protection level 2, which is permanent: the bootloader and debug are disabled for good ({summary})"),
            "there is no way back from level 2, not even for the factory",
        );
        out.push(if irreversible { overridden(f) } else { f });
        return out;
    }
    let added = n
        .write_protected
        .iter()
        .any(|s| !before.write_protected.contains(s));
    if n.rdp > before.rdp || added {
        out.push(Finding::refusal(
            Code::RaisesProtection,
            format!("the option bytes raise the device's protection ({summary})"),
            "read protection level 1 blocks reading and writing until it is removed, which erases the whole flash; write-protected sectors refuse writes",
        ));
        return out;
    }
    out.push(Finding::note(
        Code::OptionBytes,
        format!("option bytes: {summary}; the device resets to apply them"),
    ));
    out
}

/// A refusal the user lifted with an explicit option.
pub(crate) fn overridden(mut f: Finding) -> Finding {
    f.severity = crate::code::Severity::Overridden;
    f
}

/// Findings for a write into OTP memory (never erased; the write cannot be undone).
pub fn otp_write(name: &str, start: u32, len: u64, irreversible: bool) -> Finding {
    let f = Finding::hard(
        Code::Irreversible,
        format!(
            "{name} writes {len} byte(s) of one-time programmable memory at 0x{start:08x}: OTP can never be erased, so the write cannot be undone"
        ),
        "OTP is never erased by this tool; bits once programmed stay programmed",
    );
    if irreversible {
        overridden(f)
    } else {
        f
    }
}

/// Findings for steps that write option bytes (judged on their own: the plan reads nothing)
/// or OTP memory.
pub(crate) fn plan_findings(
    dev: &crate::DeviceView,
    steps: &[crate::Step],
    irreversible: bool,
) -> Vec<Finding> {
    let Some(p) = dev.info.profile.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in steps {
        for r in &s.writes {
            let len = r.data.len() as u64;
            let on = |role| {
                p.regions
                    .iter()
                    .any(|g| g.alt == s.alt && g.role == role && g.overlaps(r.address, len))
            };
            if on(Role::Otp) {
                let name = s.files.join(", ");
                out.push(otp_write(&name, r.address, len, irreversible));
            }
            if on(Role::OptionBytes) {
                match OptionBytesAt::of(p) {
                    Some(at) if at.alt == s.alt && r.address == at.address && len == u64::from(at.size) => {
                        let old = dev.option_bytes.as_deref();
                        out.extend(judge(&at, old, &r.data, irreversible));
                    }
                    _ => out.push(Finding::hard(
                        Code::Usage,
                        format!("{} writes part of the option bytes (0x{:08x}, {len} bytes); they are written whole", s.files.join(", "), r.address),
                        "give all of them, as `dfu option-bytes` shows them",
                    )),
                }
            }
        }
    }
    out
}

/// True when `step` writes the device's option bytes (the ROM resets after that write).
pub(crate) fn writes_option_bytes(dev: Option<&dfu_profiles::Profile>, step: &crate::Step) -> bool {
    dev.is_some_and(|p| {
        p.regions.iter().any(|g| {
            g.role == Role::OptionBytes
                && g.alt == step.alt
                && step
                    .writes
                    .iter()
                    .any(|r| g.overlaps(r.address, r.data.len() as u64))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACTORY: [u8; 16] = [
        0xEC, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF,
    ];

    fn at() -> OptionBytesAt {
        OptionBytesAt::of(&Profile::builtin("stm32f405").unwrap()).unwrap()
    }

    #[test]
    fn decodes_the_f4_factory_state() {
        let d = at().decode(&FACTORY).unwrap();
        assert_eq!(d.rdp, Rdp::Level0);
        assert!(d.write_protected.is_empty());
        assert_eq!(d.bor_level, "off (1.80-2.10 V)");
        assert!(d.watchdog_software);
        let mut b = FACTORY;
        b[1] = 0x00;
        b[8] = 0xFC;
        let d = at().decode(&b).unwrap();
        assert_eq!(d.rdp, Rdp::Level1);
        assert_eq!(d.write_protected, vec![0, 1]);
        b[1] = 0xCC;
        assert_eq!(at().decode(&b).unwrap().rdp, Rdp::Level2);
    }

    #[test]
    fn judging_writes() {
        let sev = |f: &[Finding]| (f[0].code, f[0].refuses(), f[0].overridable);
        let mut user = FACTORY;
        user[0] = 0xE0;
        let f = judge(&at(), Some(&FACTORY), &user, false);
        assert_eq!(sev(&f), (Code::OptionBytes, false, false));
        assert!(
            f[0].message.contains("user byte: 0xec -> 0xe0"),
            "{}",
            f[0].message
        );
        let mut rdp1 = FACTORY;
        rdp1[1] = 0x55;
        let f = judge(&at(), Some(&FACTORY), &rdp1, false);
        assert_eq!(sev(&f), (Code::RaisesProtection, true, true));
        let mut wrp = FACTORY;
        wrp[8] = 0xFE;
        let f = judge(&at(), None, &wrp, false);
        assert_eq!(sev(&f), (Code::RaisesProtection, true, true));
        let mut rdp2 = FACTORY;
        rdp2[1] = 0xCC;
        let f = judge(&at(), Some(&FACTORY), &rdp2, false);
        assert_eq!(sev(&f), (Code::Irreversible, true, false));
        assert!(
            f[0].clone().forced(true).refuses(),
            "--force does not lift level 2"
        );
        let f = judge(&at(), Some(&FACTORY), &rdp2, true);
        assert!(!f[0].refuses());
    }
}
