//! The JSON view of a [`DeviceInfo`]: flat, as `dfu list --json` shows it (docs/json.md).

use crate::discover::{AltInfo, DeviceInfo, Mode};
use dfu_proto::num::{serialize_hex16, Addr};
use dfu_proto::MemoryLayout;
use serde::{Serialize, Serializer};

/// A run of equal sectors of a DfuSe layout, as JSON shows it.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct SegmentView {
    /// First address.
    start: Addr,
    /// Number of sectors.
    count: u32,
    /// Bytes per sector.
    sector_size: u32,
    /// `"read/erase/write"`, `"read-only"`, ...
    access: String,
    /// The layout letter (`a` ... `g`).
    #[serde(rename = "type")]
    letter: String,
}

/// A DfuSe memory layout, as JSON shows it.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct LayoutView<'a> {
    /// The memory's name, padding included.
    name: &'a str,
    /// Runs of equal sectors.
    segments: Vec<SegmentView>,
}

/// How a layout shows in JSON: segment starts as addresses, access in words and letter.
pub(crate) fn serialize_layout<S: Serializer>(
    l: &Option<MemoryLayout>,
    s: S,
) -> Result<S::Ok, S::Error> {
    l.as_ref()
        .map(|l| LayoutView {
            name: &l.name,
            segments: l
                .segments
                .iter()
                .map(|g| SegmentView {
                    start: Addr(g.start),
                    count: g.count,
                    sector_size: g.sector_size,
                    access: g.flags.describe(),
                    letter: g.flags.letter().to_string(),
                })
                .collect(),
        })
        .serialize(s)
}

/// The flat JSON view of a [`DeviceInfo`]: its schema is the schema of a `DeviceInfo`.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct DeviceJson<'a> {
    id: String,
    #[serde(serialize_with = "serialize_hex16")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Hex16"))]
    vendor_id: u16,
    #[serde(serialize_with = "serialize_hex16")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Hex16"))]
    product_id: u16,
    #[serde(serialize_with = "serialize_hex16")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Hex16"))]
    bcd_device: u16,
    path: String,
    bus: u8,
    address: u8,
    mode: Mode,
    manufacturer: Option<&'a str>,
    product: Option<&'a str>,
    serial: Option<&'a str>,
    interface: u8,
    #[serde(serialize_with = "serialize_hex16")]
    #[cfg_attr(feature = "schema", schemars(with = "dfu_proto::num::Hex16"))]
    dfu_version: u16,
    dfuse: bool,
    transfer_size: u16,
    attributes: String,
    can_download: bool,
    can_upload: bool,
    manifestation_tolerant: bool,
    will_detach: bool,
    detach_timeout_ms: u16,
    profile: Option<&'a str>,
    profile_reason: &'a str,
    alts: &'a [AltInfo],
}

impl Serialize for DeviceInfo {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let f = &self.functional;
        DeviceJson {
            id: self.usb.id(),
            vendor_id: self.usb.vendor_id,
            product_id: self.usb.product_id,
            bcd_device: self.usb.bcd_device,
            path: self.usb.path(),
            bus: self.usb.bus,
            address: self.usb.address,
            mode: self.mode,
            manufacturer: self.manufacturer.as_deref(),
            product: self.product.as_deref(),
            serial: self.serial.as_deref(),
            interface: self.interface,
            dfu_version: f.dfu_version,
            dfuse: self.is_dfuse(),
            transfer_size: f.transfer_size,
            attributes: format!("0x{:02x}", f.attributes),
            can_download: f.can_download(),
            can_upload: f.can_upload(),
            manifestation_tolerant: f.manifestation_tolerant(),
            will_detach: f.will_detach(),
            detach_timeout_ms: f.detach_timeout_ms,
            profile: self.profile_name.as_deref(),
            profile_reason: &self.profile_reason,
            alts: &self.alts,
        }
        .serialize(s)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for DeviceInfo {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DeviceInfo".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        DeviceJson::json_schema(g)
    }
}

/// A profile as `dfu info --json` shows it (`profile_detail`, docs/json.md): what the
/// command line and the web page's device card both print.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProfileJson<'a> {
    /// Short name.
    name: &'a str,
    /// One line for humans.
    title: &'a str,
    /// Where applications go when nothing else says so.
    app_address: Option<Addr>,
    /// Known deviations from the specification.
    quirks: &'a [dfu_profiles::Quirk],
    /// Named regions of memory.
    regions: Vec<RegionJson<'a>>,
    /// Where the facts come from.
    sources: &'a [String],
}

/// A profile region in `dfu info --json`.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct RegionJson<'a> {
    /// Its name.
    name: &'a str,
    /// What it holds.
    role: dfu_profiles::Role,
    /// The alt setting it is on.
    alt: u8,
    /// First address.
    start: Addr,
    /// Bytes.
    size: u32,
}

impl<'a> ProfileJson<'a> {
    /// The JSON view of `p`.
    pub fn of(p: &'a dfu_profiles::Profile) -> Self {
        ProfileJson {
            name: &p.name,
            title: &p.title,
            app_address: p.app_address.map(Addr),
            quirks: &p.quirks,
            regions: p
                .regions
                .iter()
                .map(|r| RegionJson {
                    name: &r.name,
                    role: r.role,
                    alt: r.alt,
                    start: Addr(r.start),
                    size: r.size,
                })
                .collect(),
            sources: &p.sources,
        }
    }
}
