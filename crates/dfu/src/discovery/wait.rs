//! Waiting for a device to be plugged in (dfu-util's `-w`), and how to put one into DFU
//! mode.

use crate::backend::{Backend, UsbDevice};
use crate::discover::Selector;
use crate::error::{DfuError, Result};
use dfu_profiles::Profile;
use dfu_proto::descriptor::PROTOCOL_DFU_MODE;
use std::time::Duration;

/// How often the bus is listed while waiting.
pub const POLL: Duration = Duration::from_millis(200);

/// How to put a device of this profile into DFU mode.
fn how(p: &Profile) -> &str {
    p.enter_dfu.as_deref().unwrap_or(GENERAL)
}

const GENERAL: &str = "start its DFU bootloader as the board's instructions say";

/// How to put a device into DFU mode, from what its profile says it is; a general line
/// when nothing is known.
pub fn dfu_mode_hint(profile: Option<&Profile>) -> String {
    match profile {
        Some(p) => format!("{}: {}", p.title, how(p)),
        None => GENERAL.into(),
    }
}

/// The hint for a selection before any device is there: from `--profile`, else from the
/// built-in profiles of the one VID:PID it names (each of their ways, when they differ:
/// 0483:df11 is the STM32 ROM's, and also the DSO Nano's own bootloader's).
pub fn hint_for(selector: &Selector, given: Option<&Profile>) -> String {
    if given.is_some() {
        return dfu_mode_hint(given);
    }
    let [(Some(v), Some(p))] = selector.ids.as_slice() else {
        return GENERAL.into();
    };
    let candidates: Vec<&Profile> = dfu_profiles::builtin_profiles()
        .iter()
        .filter(|x| x.matches_ids(*v, *p))
        .collect();
    if let [one] = candidates.as_slice() {
        return dfu_mode_hint(Some(one));
    }
    let mut ways: Vec<&str> = Vec::new();
    for w in candidates.iter().map(|x| how(x)) {
        if !ways.contains(&w) {
            ways.push(w);
        }
    }
    if ways.is_empty() {
        return GENERAL.into();
    }
    ways.join(", or ")
}

/// True when the device shows a DFU-mode interface (not only a run-time one).
pub fn in_dfu_mode(d: &UsbDevice) -> bool {
    d.dfu_interfaces
        .iter()
        .any(|(_, protocol)| *protocol == PROTOCOL_DFU_MODE)
}

/// True when a DFU-capable device that `selector` matches is attached now.
pub fn present(backend: &mut dyn Backend, selector: &Selector) -> Result<bool> {
    Ok(backend
        .devices()?
        .iter()
        .any(|d| d.is_dfu() && selector.matches(d, None)))
}

/// The one wait loop: asks `found` every `step` (on the backend's clock) until it finds
/// something, or `limit` has passed (`None`: no limit). Waiting for a device to be plugged
/// in, for a device to come back in DFU mode, and dfu-util's `-w` all wait here.
pub fn poll<T>(
    backend: &mut dyn Backend,
    limit: Option<Duration>,
    step: Duration,
    found: &mut dyn FnMut(&mut dyn Backend) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let start = backend.now();
    loop {
        if let Some(t) = found(backend)? {
            return Ok(Some(t));
        }
        let waited = backend.now().saturating_sub(start);
        if limit.is_some_and(|l| waited >= l) {
            return Ok(None);
        }
        let step = limit.map_or(step, |l| step.min(l - waited));
        backend.wait(step.max(Duration::from_millis(1)));
    }
}

/// Lists the bus every [`POLL`] until a DFU-capable device that `selector` matches is
/// attached, or `timeout` (on the backend's clock) has passed: then the error is
/// [`DfuError::NoDevice`].
pub fn wait_for_device(
    backend: &mut dyn Backend,
    selector: &Selector,
    timeout: Option<Duration>,
) -> Result<()> {
    let there = poll(backend, timeout, POLL, &mut |b| {
        Ok(present(b, selector)?.then_some(()))
    })?;
    if there.is_some() {
        return Ok(());
    }
    let seen = backend
        .devices()?
        .iter()
        .map(|d| format!("{} at {}", d.id(), d.path()))
        .collect();
    Err(DfuError::NoDevice {
        selector: selector.clone(),
        seen,
    })
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::backend::sim::SimBackend;

    #[test]
    fn waits_for_a_device_to_appear_and_gives_up_after_the_timeout() {
        let mut b = SimBackend::new("stm32f405,appear-after=1500,serial=LATE;dapboot").unwrap();
        let late = Selector {
            serial: Some("LATE".into()),
            ..Selector::default()
        };
        let r = wait_for_device(&mut b, &late, Some(Duration::from_secs(1)));
        assert!(matches!(r, Err(DfuError::NoDevice { .. })), "{r:?}");
        assert!(b.now() >= Duration::from_secs(1) && b.now() < Duration::from_millis(1500));
        wait_for_device(&mut b, &late, None).unwrap();
        assert!(b.now() >= Duration::from_millis(1500));
    }

    #[test]
    fn hints_follow_the_profile() {
        let photon = Profile::load("photon").unwrap();
        assert!(dfu_mode_hint(Some(&photon)).contains("blinks yellow"));
        let by_ids = Selector {
            ids: vec![(Some(0x0483), Some(0xdf11))],
            ..Selector::default()
        };
        assert!(hint_for(&by_ids, None).contains("BOOT0"));
        // The DSO Nano shares the ST ROM's ids: its own way is named as well.
        assert!(hint_for(&by_ids, None)
            .ends_with(", or start its DFU bootloader as the board's instructions say"));
        assert!(hint_for(&Selector::default(), Some(&photon)).contains("MODE"));
        assert!(dfu_mode_hint(None).contains("instructions"));
        // The way comes from the profile's own field, not its name: the stm32duino
        // bootloader runs on an STM32 but is not started with BOOT0.
        let duino = Profile::load("stm32duino").unwrap();
        assert_eq!(duino.enter_dfu, None);
        assert!(!dfu_mode_hint(Some(&duino)).contains("BOOT0"));
        let mut custom = duino.clone();
        custom.enter_dfu = Some("press the DFU button twice".into());
        assert!(dfu_mode_hint(Some(&custom)).ends_with(": press the DFU button twice"));
    }
}
