//! What the plan needs to know about an opened device, read once: its description, the
//! memory layout of every alt setting, and the Particle modules installed on it.

use crate::device::DfuDevice;
use crate::discover::DeviceInfo;
use crate::error::Result;
use crate::events::Phase;
use dfu_image::particle::HEADER_LEN;
use dfu_image::{ModuleFunction, ModuleInfo};
use dfu_proto::MemoryLayout;

/// The device as the plan sees it: plain data, read before planning.
#[derive(Debug, Clone)]
pub struct DeviceView {
    /// Descriptors, strings, alt settings and the matched profile.
    pub info: DeviceInfo,
    /// The alt setting that was selected (files without DfuSe targets go there).
    pub alt: u8,
    /// The layout of each alt setting that has one (announced, given, or the profile's).
    pub layouts: Vec<(u8, MemoryLayout)>,
    /// The Particle modules installed on the device (empty when not a Particle device or
    /// not readable).
    pub installed: Vec<ModuleInfo>,
    /// What was done or assumed while reading (a cleared error state, a stand-in layout).
    pub notes: Vec<crate::Note>,
    /// The device's current option bytes, read only when files write them
    /// ([`DfuDevice::read_option_bytes_for`]), so the plan can show the decoded difference.
    pub option_bytes: Option<Vec<u8>>,
}

impl DeviceView {
    /// The layout of `alt`.
    pub fn layout(&self, alt: u8) -> Option<&MemoryLayout> {
        self.layouts.iter().find(|(a, _)| *a == alt).map(|(_, l)| l)
    }

    /// The version of the installed Particle bootloader module.
    pub fn bootloader_version(&self) -> Option<u16> {
        self.installed
            .iter()
            .find(|m| m.function == ModuleFunction::Bootloader)
            .map(|m| m.version)
    }

    /// The device's USB ids in DFU mode, and in run-time mode when its profile knows them.
    pub fn ids(&self) -> Vec<(u16, u16)> {
        let mut ids = vec![(self.info.usb.vendor_id, self.info.usb.product_id)];
        if let Some(r) = self.info.profile.as_ref().and_then(|p| p.runtime.as_ref()) {
            ids.push((r.vendor_id, r.product_id));
        }
        ids
    }
}

impl DfuDevice {
    /// Brings the device to dfuIDLE and reads what planning needs. `given` is a layout for
    /// the selected alt setting, used when the device's own string is not one.
    pub fn survey(&mut self, given: Option<&MemoryLayout>) -> Result<DeviceView> {
        let mut notes = self.ensure_idle()?;
        let mut layouts = Vec::new();
        let alts: Vec<u8> = self.info.alts.iter().map(|a| a.alt).collect();
        for alt in alts {
            let (layout, note) = layout_for(&self.info, alt, given.filter(|_| alt == self.alt));
            if alt == self.alt {
                notes.extend(note);
                self.layout.clone_from(&layout);
            }
            if let Some(l) = layout {
                layouts.push((alt, l));
            }
        }
        self.decided = Some(layouts.clone());
        let installed = self.installed_modules()?;
        Ok(DeviceView {
            info: self.info.clone(),
            alt: self.alt,
            layouts,
            installed,
            notes,
            option_bytes: None,
        })
    }

    /// Reads the current option bytes into `view` when one of `files` writes them (a DfuSe
    /// target on the option-byte alt), so that the plan judges the change against them.
    pub fn read_option_bytes_for(
        &mut self,
        view: &mut DeviceView,
        files: &[crate::Firmware],
    ) -> Result<()> {
        let Ok(at) = self.option_bytes_at() else {
            return Ok(());
        };
        let hits = |s: &dfu_image::Segment| {
            let end = u64::from(s.address) + s.data.len() as u64;
            u64::from(s.address) < u64::from(at.address) + u64::from(at.size)
                && end > u64::from(at.address)
        };
        // A DfuSe target on the option-byte alt, or a file with addresses (HEX, ELF) whose
        // segments fall on the option bytes (the plan sends them to that alt).
        let writes = files.iter().any(|f| {
            f.image
                .dfuse_targets
                .iter()
                .any(|t| t.alt == at.alt && t.segments.iter().any(hits))
                || (f.image.dfuse_targets.is_empty()
                    && !f.image.needs_address
                    && f.image.segments.iter().any(hits))
        });
        if !writes {
            return Ok(());
        }
        let alt = self.alt;
        let (_, raw) = self.read_option_bytes(&mut |_| {})?;
        self.select_alt(alt)?;
        view.option_bytes = Some(raw);
        Ok(())
    }

    /// Reads the Particle module headers at the profile's module regions of the selected
    /// alt setting (the device must be idle).
    pub fn installed_modules(&mut self) -> Result<Vec<ModuleInfo>> {
        let Some(p) = self.info.profile.clone() else {
            return Ok(Vec::new());
        };
        if p.particle_platform.is_none() || !self.info.functional.can_upload() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let alt = self.alt;
        for r in p.regions.iter().filter(|r| r.alt == alt) {
            let Some(off) = r.module_header_offset else {
                continue;
            };
            let mut done = 0;
            let raw = self.dfuse_read(
                r.start + off,
                HEADER_LEN as u64,
                Phase::Compare,
                &mut done,
                &mut |_| {},
            );
            let Ok(Ok(h)) = raw.map(|raw| <[u8; HEADER_LEN]>::try_from(raw.as_slice())) else {
                continue;
            };
            let mut m = ModuleInfo::decode(&h);
            m.offset = off;
            if m.start == r.start && m.end > m.start && m.function.is_flashable() {
                found.push(m);
            }
        }
        self.end_upload()?;
        Ok(found)
    }
}

/// The layout to plan with for `alt` of `info`: the announced one, else `given`, else the
/// profile's. The second value says why a stand-in was used, or that `given` was not.
pub fn layout_for(
    info: &DeviceInfo,
    alt: u8,
    given: Option<&MemoryLayout>,
) -> (Option<MemoryLayout>, Option<crate::Note>) {
    let Some(a) = info.alts.iter().find(|a| a.alt == alt) else {
        return (None, None);
    };
    let why = a
        .layout_error
        .clone()
        .unwrap_or_else(|| "it is not a memory layout".into());
    if let Some(l) = &a.layout {
        let (l, fixed) = crate::quirk::real(info, alt, l);
        if fixed.is_some() {
            return (Some(l), fixed.map(layout_note));
        }
        let note = given.filter(|g| **g != l).map(|_| {
            layout_note(format!(
                "alt {alt} announces a valid layout ({l}); the layout given was not used",
                l = l.to_string().trim_end()
            ))
        });
        return (Some(l.clone()), note);
    }
    if !info.is_dfuse() {
        return (None, None);
    }
    if let Some(g) = given {
        let note = format!(
            "alt {alt} name {:?} is not a usable memory layout ({why}); using the layout given instead",
            a.display_name()
        );
        return (Some(g.clone()), Some(layout_note(note)));
    }
    let from_profile = info.profile.as_ref().and_then(|p| {
        let l = p.alts.get(usize::from(alt))?.announced_layout()?;
        Some((l, p.name.clone()))
    });
    match from_profile {
        Some((l, name)) => (
            Some(l),
            Some(layout_note(format!(
                "alt {alt} name {:?} is not a usable memory layout ({why}); using the {name} profile's layout",
                a.display_name()
            ))),
        ),
        None => (None, None),
    }
}

fn layout_note(message: String) -> crate::Note {
    crate::Note::new(crate::Code::Layout, message)
}
