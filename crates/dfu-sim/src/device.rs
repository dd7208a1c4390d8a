//! One simulated device slot: its memory, its presence on the bus (which changes as it
//! resets and re-enumerates), the DFU protocol state of the current incarnation, and
//! the timed events (end of a busy operation, a delayed reset, re-appearance).

use crate::error::{DeviceId, UsbError};
use crate::fault::FaultCounter;
use crate::memory::Flash;
use crate::spec::{Mode, SimSpec, StartState};
use crate::stats::Counters;
use dfu_proto::request::RequestKind;
use dfu_proto::{DfuRequest, DfuseCommand, GetStatus, Setup, State, Status};
use std::collections::BTreeSet;
use std::time::Duration;

/// Allocates device ids and bus addresses.
#[derive(Debug)]
pub(crate) struct Ids {
    next_id: u32,
    next_address: u8,
}

impl Ids {
    pub(crate) fn new() -> Self {
        Ids {
            next_id: 1,
            next_address: 2,
        }
    }

    fn alloc(&mut self) -> (DeviceId, u8) {
        let id = DeviceId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let address = self.next_address;
        self.next_address = if address >= 127 { 2 } else { address + 1 };
        (id, address)
    }
}

/// Where the device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// On the bus.
    Attached {
        id: DeviceId,
        address: u8,
        mode: Mode,
    },
    /// Off the bus; back at `back_at` in `mode`, or never during this run.
    Away {
        back_at: Option<Duration>,
        mode: Mode,
    },
}

/// A device operation queued by DNLOAD (dfuDNLOAD-SYNC), started by GETSTATUS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// Write a block at an address.
    Data { address: u64, data: Vec<u8> },
    /// A DfuSe command.
    Command(DfuseCommand),
    /// A command block the device does not run (quirk `particle-dfuse-commands`).
    Unsupported,
}

/// What happens when the device stops being busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterBusy {
    /// dfuDNBUSY -> dfuDNLOAD-SYNC.
    ToSync,
    /// dfuMANIFEST ends.
    ManifestEnd,
    /// DfuSe read-unprotect: the device resets into DFU mode.
    UnprotectReset,
}

/// The DFU protocol state of the current incarnation.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub state: State,
    pub status: Status,
    pub alt: u8,
    pub configuration: u8,
    /// DfuSe address pointer.
    pub pointer: u32,
    /// Queued operation and a forced failure status (fault injection).
    pub pending: Option<(Op, Option<Status>)>,
    /// End of the current busy period (dfuDNBUSY, dfuMANIFEST).
    pub busy_until: Option<Duration>,
    pub after_busy: AfterBusy,
    /// Result of the finished operation, reported by the next GETSTATUS.
    pub outcome: Option<Status>,
    /// Plain DFU: manifestation has run, the next GETSTATUS returns to dfuIDLE.
    pub manifest_done: bool,
    /// DfuSe: a leave request is waiting for its GETSTATUS.
    pub leaving: bool,
    /// Plain DFU: sectors erased during this download.
    pub erased: BTreeSet<u32>,
    /// appDETACH: the USB reset must come before this time.
    pub detach_deadline: Option<Duration>,
}

impl Core {
    fn fresh(mode: Mode, pointer: u32) -> Self {
        Core {
            state: match mode {
                Mode::Dfu => State::DfuIdle,
                Mode::Runtime => State::AppIdle,
            },
            status: Status::Ok,
            alt: 0,
            configuration: 1,
            pointer,
            pending: None,
            busy_until: None,
            after_busy: AfterBusy::ToSync,
            outcome: None,
            manifest_done: false,
            leaving: false,
            erased: BTreeSet::new(),
            detach_deadline: None,
        }
    }
}

/// One device slot.
#[derive(Debug)]
pub(crate) struct Device {
    pub slot: usize,
    pub spec: SimSpec,
    pub flash: Vec<Flash>,
    pub presence: Presence,
    pub core: Core,
    pub counters: Counters,
    pub faults: FaultCounter,
    /// `start-state=error` applies to the first DFU-mode incarnation.
    pub start_error_pending: bool,
    /// A reset the device will do by itself (Particle bootloader >= 0.4.5 on leave).
    pub scheduled_reset: Option<Duration>,
    /// `hostile=SEED`: the liar.
    pub hostile: Option<crate::hostile::Hostile>,
    /// This process's claim on the device (devices with a state file only).
    pub claim: Option<crate::claim::Claim>,
    /// `unplug-after=`: when the device is pulled off the bus for good.
    pub unplug_at: Option<Duration>,
}

impl Device {
    /// Claims the device for this process at its first DFU request (when it has a state
    /// file), and reloads its memory from the file, which the previous owner may have
    /// changed since this bus loaded it.
    pub(crate) fn claim(&mut self) -> Result<(), crate::UsbError> {
        let Some(path) = self.spec.state.clone() else {
            return Ok(());
        };
        if self.claim.is_some() {
            return Ok(());
        }
        let claim = crate::claim::acquire(&path).map_err(|_| crate::UsbError::Busy)?;
        self.flash = crate::state::open(&self.spec).map_err(|_| crate::UsbError::Io)?;
        self.claim = Some(claim);
        Ok(())
    }

    pub(crate) fn new(slot: usize, spec: SimSpec, flash: Vec<Flash>) -> Self {
        let mode = spec.mode;
        // At read protection level 2 the ROM bootloader never runs: the device never shows.
        let level2 = crate::protect::rdp_level(&spec, &flash) == 2 && mode == Mode::Dfu;
        Device {
            slot,
            presence: Presence::Away {
                back_at: (!level2).then_some(spec.appear_after),
                mode,
            },
            unplug_at: spec.unplug_after.map(|d| spec.appear_after + d),
            core: Core::fresh(mode, 0),
            counters: Counters::default(),
            faults: FaultCounter::new(&spec.faults),
            start_error_pending: spec.start_state == StartState::Error,
            scheduled_reset: None,
            hostile: spec.hostile.map(crate::hostile::Hostile::new),
            claim: None,
            spec,
            flash,
        }
    }

    /// The id and mode when attached.
    pub(crate) fn attached(&self) -> Option<(DeviceId, u8, Mode)> {
        match self.presence {
            Presence::Attached { id, address, mode } => Some((id, address, mode)),
            Presence::Away { .. } => None,
        }
    }

    /// Leaves the bus, back in `mode` at `back_at` (never during this run if `None`).
    pub(crate) fn go_away(&mut self, back_at: Option<Duration>, mode: Mode) {
        self.presence = Presence::Away { back_at, mode };
        self.core.busy_until = None;
        self.scheduled_reset = None;
        self.counters.resets += 1;
    }

    /// The device starts its application at `at`: it re-enumerates in run-time mode when
    /// it has one, else it is gone for the rest of the run.
    pub(crate) fn run_app(&mut self, at: Duration) {
        let reset = Duration::from_millis(u64::from(self.spec.profile.timing.reset_ms));
        match self.spec.profile.runtime {
            Some(_) => self.go_away(Some(at + reset), Mode::Runtime),
            None => self.go_away(None, Mode::Dfu),
        }
    }

    /// The device reboots into its DFU bootloader at `at`.
    pub(crate) fn reboot_to_dfu(&mut self, at: Duration) {
        let reset = Duration::from_millis(u64::from(self.spec.profile.timing.reset_ms));
        // At read protection level 2 the ROM bootloader never runs again.
        let back = (self.rdp() < 2).then_some(at + reset);
        self.go_away(back, Mode::Dfu);
    }

    /// A USB bus reset from the host.
    pub(crate) fn usb_reset(&mut self, now: Duration) {
        let Some((_, _, mode)) = self.attached() else {
            return;
        };
        match (mode, self.core.state) {
            (Mode::Runtime, State::AppDetach) => self.reboot_to_dfu(now),
            (Mode::Dfu, State::ManifestWaitReset) => self.run_app(now),
            (mode, _) => self.go_away(Some(now), mode),
        }
    }

    /// Applies every timed event up to `now`.
    pub(crate) fn settle(&mut self, now: Duration, ids: &mut Ids) {
        loop {
            if let Some(t) = self.core.busy_until.filter(|t| *t <= now) {
                self.core.busy_until = None;
                match self.core.after_busy {
                    AfterBusy::ToSync => self.core.state = State::DnloadSync,
                    AfterBusy::ManifestEnd => self.manifest_end(t),
                    AfterBusy::UnprotectReset => self.reboot_to_dfu(t),
                }
                continue;
            }
            if let Some(t) = self.scheduled_reset.filter(|t| *t <= now) {
                self.run_app(t);
                continue;
            }
            if self.core.detach_deadline.is_some_and(|t| t <= now) {
                self.core.detach_deadline = None;
                if self.core.state == State::AppDetach {
                    self.core.state = State::AppIdle;
                }
                continue;
            }
            if let Presence::Away {
                back_at: Some(t),
                mode,
            } = self.presence
            {
                if t <= now {
                    self.attach(mode, ids);
                    continue;
                }
            }
            if self.unplug_at.is_some_and(|t| t <= now) {
                self.unplug_at = None;
                self.go_away(None, self.spec.mode);
                continue;
            }
            break;
        }
    }

    fn attach(&mut self, mode: Mode, ids: &mut Ids) {
        let (id, address) = ids.alloc();
        self.presence = Presence::Attached { id, address, mode };
        let pointer = self.flash.first().map_or(0, Flash::base);
        self.core = Core::fresh(mode, pointer);
        if mode == Mode::Dfu && self.start_error_pending {
            self.start_error_pending = false;
            self.core.state = State::Error;
            self.core.status = Status::ErrFirmware;
        }
    }

    /// Selects an alt setting (SET_INTERFACE).
    pub(crate) fn select_alt(&mut self, alt: u8) {
        self.core.alt = alt;
        self.core.pointer = self.flash.get(usize::from(alt)).map_or(0, Flash::base);
        self.core.erased.clear();
    }

    /// The GETSTATUS reply for the current state.
    pub(crate) fn status_reply(&self, poll_timeout_ms: u32) -> Vec<u8> {
        GetStatus {
            status: self.core.status,
            poll_timeout_ms,
            state: self.core.state,
            string_index: 0,
        }
        .encode()
        .to_vec()
    }

    /// The statistics kind of a request.
    pub(crate) fn kind_of(&self, setup: &Setup, data_len: usize) -> &'static str {
        match (setup.kind(), setup.dfu_request()) {
            (RequestKind::Standard, _) => "STANDARD",
            (_, Some(DfuRequest::Dnload))
                if self.spec.profile.is_dfuse() && setup.value == 0 && data_len > 0 =>
            {
                "DNLOAD_COMMAND"
            }
            (_, Some(r)) => r.name(),
            _ => "OTHER",
        }
    }

    /// Handles a control request that reached the attached device in `mode`.
    pub(crate) fn request(
        &mut self,
        now: Duration,
        mode: Mode,
        setup: Setup,
        data: &[u8],
        forced: Option<Status>,
    ) -> Result<Vec<u8>, UsbError> {
        if !setup.is_in() && data.len() != usize::from(setup.length) {
            return Err(UsbError::Stall);
        }
        let reply = match (setup.kind(), setup.dfu_request()) {
            (RequestKind::Standard, _) => self.standard_request(mode, setup),
            (_, Some(req))
                if setup.index == u16::from(self.dfu_interface(mode))
                    && self.core.configuration != 0 =>
            {
                match mode {
                    Mode::Dfu => self.dfu_request(now, req, setup, data, forced),
                    Mode::Runtime => self.runtime_request(now, req, setup),
                }
            }
            _ => Err(UsbError::Stall),
        }?;
        let mut reply = reply;
        reply.truncate(if setup.is_in() {
            usize::from(setup.length)
        } else {
            0
        });
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses_advance_and_wrap() {
        let mut ids = Ids::new();
        let (a, addr) = ids.alloc();
        assert_eq!((a, addr), (DeviceId(1), 2));
        for _ in 0..200 {
            let (_, addr) = ids.alloc();
            assert!((2..=127).contains(&addr));
        }
    }
}
