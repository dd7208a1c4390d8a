//! Judging how a DfuSe leave went: a lost status is expected from some bootloaders.

use crate::code::{Code, Note};
use crate::device::DfuDevice;
use crate::dfuse::LeaveOutcome;
use crate::error::{DfuError, Op, Result};
use crate::events::Sink;
use crate::flash::{note, FlashReport};
use dfu_profiles::Quirk;

impl DfuDevice {
    /// Decides whether a lost status after leave is expected for this device, given the
    /// version of its installed Particle bootloader module (when known).
    pub(crate) fn judge_leave(
        &self,
        outcome: &LeaveOutcome,
        bootloader: Option<u16>,
        report: &mut FlashReport,
        events: Sink,
    ) -> Result<()> {
        let LeaveOutcome::StatusLost { error } = outcome else {
            return Ok(());
        };
        let profile = self.info.profile.as_ref();
        // Devices that always reset, and Particle bootloaders older than the fix (or whose
        // version could not be read) lose the status; a fixed one must answer.
        let expected = profile.is_some_and(|p| {
            p.has_quirk(Quirk::ResetOnLeave)
                || p.leave
                    .as_ref()
                    .is_some_and(|l| bootloader.is_none_or(|v| v < l.fixed_in_module))
        });
        let verified = if report.verified {
            "verified before leaving"
        } else {
            "written"
        };
        if !expected {
            return Err(DfuError::Protocol {
                op: Op::Leave,
                what: format!(
                    "the image was {verified}, but the device did not answer after the leave request ({error}){}; it may not have started the application",
                    bootloader
                        .map(|v| format!(" although its bootloader (module version {v}) is one that answers"))
                        .unwrap_or_default()
                ),
            });
        }
        let p = profile.map(|p| p.name.as_str()).unwrap_or_default();
        let why = match (profile.and_then(|p| p.leave.as_ref()), bootloader) {
            (Some(l), Some(v)) => format!(
                "this {p} has bootloader module version {v}; bootloaders before {} (module version {}) reset without answering",
                l.fixed_in, l.fixed_in_module
            ),
            (Some(l), None) => format!(
                "{p} bootloaders before {} reset without answering; this one's version could not be read",
                l.fixed_in
            ),
            (None, _) => format!("the {p} bootloader resets without answering"),
        };
        note(
            report,
            events,
            Note::new(Code::LeftEarly, format!("the device restarted before answering the last status request ({why}); the image was {verified}, so this is harmless")),
        );
        Ok(())
    }
}
