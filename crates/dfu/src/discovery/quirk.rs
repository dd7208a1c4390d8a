//! Layouts that a device's string overstates (quirk `layout-overstates-flash`): the real
//! one from the part code in the serial string, or from the profile's `memory`. Where
//! neither is known, the plan refuses before anything is erased rather than erase on a guess.

use crate::code::{Code, Finding};
use crate::discover::DeviceInfo;
use dfu_profiles::LayoutFix;
use dfu_proto::MemoryLayout;

/// What the device's profile says about `announced`, the layout alt setting `alt`
/// announces: `None` when it is to be trusted.
pub(crate) fn fix(info: &DeviceInfo, alt: u8, announced: &MemoryLayout) -> Option<LayoutFix> {
    let p = info.profile.as_ref()?;
    let serial = info.serial.as_deref().map(|s| serial_text(p, s));
    p.layout_fix(alt, serial.as_deref(), announced)
}

/// The serial string as the device meant it: a device with the `utf8-serial` quirk puts
/// UTF-8 bytes where UTF-16 code units belong, so each code unit read holds two of them
/// (low byte first).
fn serial_text(p: &dfu_profiles::Profile, read: &str) -> String {
    if !p.has_quirk(dfu_profiles::Quirk::Utf8Serial) || read.is_ascii() {
        return read.to_string();
    }
    let bytes: Vec<u8> = read
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .filter(|b| *b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The layout to use for `alt` when it announces `announced`, and why when it differs.
pub(crate) fn real(
    info: &DeviceInfo,
    alt: u8,
    announced: &MemoryLayout,
) -> (MemoryLayout, Option<String>) {
    match fix(info, alt, announced) {
        Some(LayoutFix::Fixed(l, why)) => (l, Some(why)),
        _ => (announced.clone(), None),
    }
}

/// A refusal when the layout of `alt` is known to be wrong and the real one is not known.
pub(crate) fn unknown_layout(info: &DeviceInfo, alt: u8) -> Option<Finding> {
    let announced = info.alts.iter().find(|a| a.alt == alt)?.layout.as_ref()?;
    match fix(info, alt, announced)? {
        LayoutFix::Unknown(why) => Some(Finding::hard(
            Code::LayoutUnknown,
            format!(
                "alt setting {alt}'s layout cannot be trusted: {why}; erasing by it could leave pages unerased or clear pages the image does not replace"
            ),
            "give the real layout: a profile file whose alt has `memory = \"@Name/0xADDR/N*SIZEKg\"` (`dfu profile new` writes one to start from), passed with --profile FILE",
        )),
        LayoutFix::Fixed(..) => None,
    }
}
