//! Particle system firmware installed by `system-version=N` when a state is created:
//! a valid module (header, small payload, CRC trailer) at every `system` region, built by
//! `dfu_image::particle::build_module`. Part k depends on part k-1 at version N.

use crate::error::SimError;
use crate::memory::Flash;
use crate::spec::{BootloaderVersion, SimSpec};
use dfu_image::particle::build_module;
use dfu_image::{Dependency, ModuleFunction};
use dfu_profiles::Role;

/// Payload bytes of each simulated system module (small, so state files stay small).
pub(crate) const PAYLOAD: usize = 2048;

/// Installs the system modules the spec asks for (nothing without `system-version=`).
pub(crate) fn install_system(spec: &SimSpec, flash: &mut [Flash]) -> Result<(), SimError> {
    let Some(version) = spec.system_version else {
        return Ok(());
    };
    let profile = &spec.profile;
    let fail = |message: String| SimError::Setup {
        device: profile.name.clone(),
        message,
    };
    let platform = profile
        .particle_platform
        .ok_or_else(|| fail("system-version= needs a Particle profile".into()))?;
    for region in profile.regions_with(Role::System) {
        let index = region.module_index.ok_or_else(|| {
            fail(format!(
                "system region {} has no module_index in the profile",
                region.name
            ))
        })?;
        let deps: Vec<Dependency> = match index.checked_sub(1).filter(|i| *i > 0) {
            Some(prev) => vec![Dependency {
                function: ModuleFunction::SystemPart,
                index: prev,
                version,
            }],
            None => Vec::new(),
        };
        let module = build_module(
            platform,
            ModuleFunction::SystemPart,
            index,
            version,
            region.start,
            &deps,
            PAYLOAD,
        );
        if module.len() as u64 > u64::from(region.size) {
            return Err(fail(format!(
                "a {}-byte module does not fit region {}",
                module.len(),
                region.name
            )));
        }
        let f = flash.get_mut(usize::from(region.alt)).ok_or_else(|| {
            fail(format!(
                "region {} names alt {}, which does not exist",
                region.name, region.alt
            ))
        })?;
        if f.check_writable(u64::from(region.start), module.len() as u64)
            .is_err()
        {
            return Err(fail(format!(
                "region {} at 0x{:08x} is not writable memory",
                region.name, region.start
            )));
        }
        f.store(u64::from(region.start), &module);
    }
    Ok(())
}

/// The bootloader module version a release has (assumed mapping, see the profile's
/// `[leave]` table): below `fixed_in`, one less than `fixed_in_module`; the fixed release up
/// to 0.6.x, `fixed_in_module`; 0.7.0 and later, 100 (device-os system-versions.md).
pub(crate) fn bootloader_module_version(spec: &SimSpec) -> Option<u16> {
    let leave = spec.profile.leave.as_ref()?;
    let v = spec.effective_bootloader()?;
    let fixed = BootloaderVersion::parse(&leave.fixed_in)?;
    let modern = BootloaderVersion::parse("0.7.0")?;
    Some(if v < fixed {
        leave.fixed_in_module.saturating_sub(1)
    } else if v < modern {
        leave.fixed_in_module
    } else {
        100
    })
}

/// Writes the bootloader's module header (every run, so it follows the `bootloader=`
/// knob) into the bootloader region of Particle profiles that describe one.
pub(crate) fn install_bootloader(spec: &SimSpec, flash: &mut [Flash]) -> Result<(), SimError> {
    let profile = &spec.profile;
    let (Some(platform), Some(version)) =
        (profile.particle_platform, bootloader_module_version(spec))
    else {
        return Ok(());
    };
    let Some(region) = profile
        .regions_with(Role::Bootloader)
        .find(|r| r.module_header_offset.is_some())
    else {
        return Ok(());
    };
    let module = build_module(
        platform,
        ModuleFunction::Bootloader,
        0,
        version,
        region.start,
        &[],
        256,
    );
    if let Some(f) = flash.get_mut(usize::from(region.alt)) {
        if module.len() as u64 <= u64::from(region.size) {
            f.store(u64::from(region.start), &module);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::blank_memory;
    use dfu_profiles::Profile;

    #[test]
    fn electron_gets_three_chained_parts() {
        let mut spec = SimSpec::new(Profile::builtin("electron").unwrap());
        spec.system_version = Some(3);
        let mut flash = blank_memory(&spec);
        install_system(&spec, &mut flash).unwrap();
        for r in spec.profile.regions_with(Role::System) {
            let data = flash[0].read(u64::from(r.start), 0x184 + 24 + PAYLOAD + 4);
            let m = dfu_image::particle::find(&data, Some(r.start)).unwrap();
            assert_eq!(m.version, 3);
            assert_eq!(m.platform_id, 10);
            assert_eq!(Some(m.index), r.module_index);
            assert_eq!(m.crc_ok, Some(true));
            let want: Vec<u8> = r.module_index.into_iter().filter(|i| *i > 1).collect();
            let got: Vec<u8> = m.dependencies.iter().map(|d| d.index + 1).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn nothing_without_the_knob() {
        let spec = SimSpec::new(Profile::builtin("photon").unwrap());
        let mut flash = blank_memory(&spec);
        install_system(&spec, &mut flash).unwrap();
        assert_eq!(flash[0].pages().count(), 0);
    }
}
