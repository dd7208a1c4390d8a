//! Which profile describes a device: the one the user gave, else the built-in profile whose
//! ids and every layout agree with the device, else (DfuSe) a generic profile built from the
//! device's own map.

use crate::backend::UsbDevice;
use crate::discover::AltInfo;
use dfu_profiles::Profile;
use dfu_proto::FunctionalDescriptor;

/// iManufacturer, iProduct, iSerialNumber.
pub(crate) type Strings<'a> = (&'a Option<String>, &'a Option<String>, &'a Option<String>);

/// The profile for a device, and why: the one given, else the built-in profile that agrees
/// with its ids and every layout, else (DfuSe) a generic profile built from its own map.
pub(crate) fn choose_profile(
    usb: &UsbDevice,
    given: Option<&Profile>,
    functional: &FunctionalDescriptor,
    alts: &[AltInfo],
    strings: Strings,
) -> std::result::Result<(Profile, String), String> {
    if let Some(p) = given {
        return Ok((p.clone(), "given by the user".into()));
    }
    let names: Vec<Option<String>> = alts.iter().map(|a| a.name.clone()).collect();
    let facts = dfu_profiles::DeviceFacts {
        vendor: usb.vendor_id,
        product: usb.product_id,
        bcd_device: Some(usb.bcd_device),
        alt_names: &names,
    };
    let why = match Profile::match_facts(&facts) {
        Ok(m) => return Ok((m.profile, m.reason)),
        Err(why) => why,
    };
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (m, p, sn) = (s(strings.0), s(strings.1), s(strings.2));
    let generic = Profile::generic(&dfu_profiles::GenericDevice {
        ids: (usb.vendor_id, usb.product_id, usb.bcd_device),
        strings: (&m, &p, &sn),
        dfu: dfu_profiles::DfuFunctional {
            attributes: functional.attributes,
            detach_timeout_ms: functional.detach_timeout_ms,
            transfer_size: functional.transfer_size,
            dfu_version: functional.dfu_version,
            interface: 0,
        },
        alt_names: &names,
    });
    match generic {
        Some(g) => Ok((
            g,
            format!("generic: {why}; built from the device's own memory map"),
        )),
        None => Err(why),
    }
}
