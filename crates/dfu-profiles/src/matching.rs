//! Which profile describes a device: the ids must match, and every alt setting the profile
//! names must agree with what the device announces, compared by meaning (the parsed map:
//! start addresses, sector sizes and counts, access), not by the exact string, so name
//! padding does not matter. A device no profile agrees with gets none, or a generic profile
//! built from its own map ([`Profile::generic`]).

use crate::builtin_profiles;
use crate::model::{Profile, Quirk};
use dfu_proto::{MemoryLayout, Segment};

/// The profile chosen for a device, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileMatch {
    /// The profile.
    pub profile: Profile,
    /// Why it applies, for humans (`matched by ids and layout`).
    pub reason: String,
}

/// What the device says about itself, as profile matching needs it.
#[derive(Debug, Clone, Copy)]
pub struct DeviceFacts<'a> {
    /// idVendor.
    pub vendor: u16,
    /// idProduct.
    pub product: u16,
    /// bcdDevice, when known.
    pub bcd_device: Option<u16>,
    /// The alt settings' interface strings in order; `None` for one the device did not
    /// return. Empty when the device was not asked (run-time mode).
    pub alt_names: &'a [Option<String>],
}

/// How one alt of the device compares with the profile's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AltAgreement {
    /// Same map (DfuSe) or same name (plain DFU).
    Agrees,
    /// The device's string is missing or not a layout where the profile has one.
    Unknown,
    /// A different map or name.
    Contradicts,
}

/// The segments of a layout with adjacent runs of equal sectors merged, so that
/// `47*004Kg,192*004Kg` and `239*004Kg` compare equal.
fn normalized(l: &MemoryLayout) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for s in &l.segments {
        match out.last_mut() {
            Some(last)
                if last.sector_size == s.sector_size
                    && last.flags == s.flags
                    && last.end() == u64::from(s.start) =>
            {
                last.count += s.count
            }
            _ => out.push(*s),
        }
    }
    out
}

/// True when two layouts mean the same memory: same name (padding and case aside) and the
/// same sectors with the same access.
pub fn same_layout(a: &MemoryLayout, b: &MemoryLayout) -> bool {
    a.display_name().eq_ignore_ascii_case(b.display_name()) && normalized(a) == normalized(b)
}

fn compare_alt(
    profile_name: &str,
    announced: Option<&MemoryLayout>,
    device: Option<&str>,
) -> AltAgreement {
    let Some(text) = device else {
        return AltAgreement::Unknown;
    };
    match (announced, MemoryLayout::parse(text)) {
        (Some(p), Ok(d)) if same_layout(p, &d) => AltAgreement::Agrees,
        (Some(_), Ok(_)) => AltAgreement::Contradicts,
        (Some(_), Err(_)) => AltAgreement::Unknown,
        (None, _) if text.trim() == profile_name.trim() => AltAgreement::Agrees,
        (None, _) => AltAgreement::Contradicts,
    }
}

/// Scores a profile against the device: `None` when anything contradicts it.
fn score(p: &Profile, d: &DeviceFacts) -> Option<(u32, bool)> {
    if !p.matches_ids(d.vendor, d.product) {
        return None;
    }
    let bcd = u32::from(d.bcd_device == Some(p.usb.bcd_device));
    if d.alt_names.is_empty() {
        return Some((bcd, false));
    }
    if d.alt_names.len() != p.alts.len() {
        return None;
    }
    let mut agree = 0;
    let mut unknown = false;
    for (alt, name) in p.alts.iter().zip(d.alt_names) {
        match compare_alt(&alt.name, alt.announced(), name.as_deref()) {
            AltAgreement::Agrees => agree += 1,
            AltAgreement::Unknown => unknown = true,
            AltAgreement::Contradicts => return None,
        }
    }
    if agree == 0 && !ids_unique(d) {
        // Nothing readable agrees, and other profiles share the ids: no way to tell.
        return None;
    }
    // A device whose strings cannot be read is most likely the board known for that.
    let quirk = u32::from(unknown && p.has_quirk(Quirk::GarbageAltName));
    Some((agree * 4 + quirk * 2 + bcd, unknown))
}

/// True when only one built-in profile has the device's ids.
fn ids_unique(d: &DeviceFacts) -> bool {
    builtin_profiles()
        .iter()
        .filter(|p| p.matches_ids(d.vendor, d.product))
        .count()
        == 1
}

impl Profile {
    /// The built-in profile that describes a device, and why; `Err` says why none does.
    /// A profile applies only when the ids match and every alt setting agrees with the
    /// device's (by meaning); among several, the best agreement wins, then bcdDevice; a
    /// tie is no match.
    pub fn match_facts(d: &DeviceFacts) -> Result<ProfileMatch, String> {
        let mut scored: Vec<((u32, bool), &Profile)> = builtin_profiles()
            .iter()
            .filter_map(|p| score(p, d).map(|s| (s, p)))
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0 .0));
        let best = match scored.as_slice() {
            [] => {
                let same_ids = builtin_profiles()
                    .iter()
                    .any(|p| p.matches_ids(d.vendor, d.product));
                return Err(if same_ids {
                    "no profile has this layout".into()
                } else {
                    "no profile has these ids".into()
                });
            }
            [(s, p)] => (*s, *p),
            [(a, p), (b, _), ..] if a.0 > b.0 => (*a, *p),
            _ => return Err("several profiles fit equally well".into()),
        };
        let ((points, unknown), p) = best;
        let reason = if d.alt_names.is_empty() {
            "matched by ids (no layouts to compare in this mode)"
        } else if points < 4 {
            "matched by ids (no alt string could be read)"
        } else if unknown {
            "matched by ids and the layouts it could read"
        } else {
            "matched by ids and layout"
        };
        Ok(ProfileMatch {
            profile: p.clone(),
            reason: reason.into(),
        })
    }
}
