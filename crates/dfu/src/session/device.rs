//! The session with an opened DFU interface: requests, status, waits, recovery to dfuIDLE,
//! alt setting selection, detach. DfuSe (dfuse.rs) and plain DFU (plain.rs) operations are
//! built on it.

use crate::backend::Backend;
use crate::code::{Code, Note};
use crate::dfuse::Stream;
use crate::discover::{DeviceInfo, Mode};
use crate::error::{DfuError, Op, Result};
use dfu_profiles::Profile;
use dfu_proto::{DfuRequest, GetStatus, MemoryLayout, Setup, State, Status, Transport};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The longest a device may stay busy on one request (mass erase of a 2 MiB part takes
/// ~16-20 s on STM32F4/H7).
pub const BUSY_LIMIT: Duration = Duration::from_secs(60);

/// An opened DFU interface with an alt setting selected.
pub struct DfuDevice {
    pub(crate) t: Box<dyn Transport>,
    /// What is known about the device.
    pub info: DeviceInfo,
    /// The selected alt setting.
    pub alt: u8,
    /// The memory layout of the selected alt (announced, or the one given, or the profile's).
    pub layout: Option<MemoryLayout>,
    /// wTransferSize.
    pub transfer_size: u16,
    /// The layout of every alt setting as the survey decided it (announced, given, or the
    /// profile's); until the survey, each alt's announced layout is used.
    pub(crate) decided: Option<Vec<(u8, MemoryLayout)>>,
    /// Where a streamed DfuSe read can continue.
    pub(crate) stream: Stream,
    /// Status requests that timed out while the device was busy and were sent again.
    pub timeouts: u64,
    /// Set by the caller to stop at the next safe point (see [`DfuDevice::cancel_on`]).
    pub(crate) cancel: Option<Arc<AtomicBool>>,
    /// True once the device answered the last DNLOAD's first GETSTATUS without an error:
    /// it has started the operation; see [`DfuDevice::settled`].
    pub(crate) started: bool,
    /// Ranges whose erase or write failed after the device had started it: they hold the
    /// old bytes, the new ones, or some of each.
    pub(crate) unsure: Vec<(u32, u64)>,
}

impl DfuDevice {
    /// Opens the device's DFU interface and selects `alt`.
    pub fn open(backend: &mut dyn Backend, info: DeviceInfo, alt: u8) -> Result<DfuDevice> {
        check_alt(&info, alt)?;
        let t = backend.open(&info.usb, info.interface)?;
        let mut dev = DfuDevice {
            t,
            transfer_size: info.functional.transfer_size.max(1),
            info,
            alt,
            layout: None,
            decided: None,
            stream: Stream::default(),
            timeouts: 0,
            cancel: None,
            started: false,
            unsure: Vec::new(),
        };
        dev.set_alt(alt)?;
        Ok(dev)
    }

    /// Selects another alt setting (SET_INTERFACE; nothing to do when it is the selected
    /// one); its announced layout becomes [`DfuDevice::layout`].
    pub fn select_alt(&mut self, alt: u8) -> Result<()> {
        if alt == self.alt {
            return Ok(());
        }
        self.end_upload()?;
        self.set_alt(alt)
    }

    /// SET_INTERFACE to `alt`, and its announced layout.
    fn set_alt(&mut self, alt: u8) -> Result<()> {
        check_alt(&self.info, alt)?;
        self.t
            .set_alt_setting(self.info.interface, alt)
            .map_err(|e| DfuError::usb(Op::SelectAlt(alt), e))?;
        self.alt = alt;
        self.layout = match &self.decided {
            Some(d) => d.iter().find(|(a, _)| *a == alt).map(|(_, l)| l.clone()),
            None => self
                .info
                .alts
                .iter()
                .find(|a| a.alt == alt)
                .and_then(|a| a.layout.as_ref())
                .map(|l| crate::quirk::real(&self.info, alt, l).0),
        };
        Ok(())
    }

    /// Cancels on `flag`: once it is set (by a Ctrl-C handler, another thread), the next
    /// DNLOAD or UPLOAD is not sent and the operation fails with
    /// [`DfuError::Interrupted`]. That point is safe: the block or sector before it is
    /// complete, and [`DfuDevice::execute`] then ABORTs to dfuIDLE, so the next run starts
    /// from a clean state and the report says exactly what was erased and written.
    pub fn cancel_on(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    /// Fails with [`DfuError::Interrupted`] when the cancel flag is set.
    pub(crate) fn check_cancel(&self, op: Op) -> Result<()> {
        match &self.cancel {
            Some(f) if f.load(Ordering::SeqCst) => Err(DfuError::Interrupted { op }),
            _ => Ok(()),
        }
    }

    /// The matched profile.
    pub fn profile(&self) -> Option<&Profile> {
        self.info.profile.as_ref()
    }

    /// Sends a DFU OUT request.
    pub(crate) fn out(&mut self, req: DfuRequest, value: u16, data: &[u8], op: Op) -> Result<()> {
        let setup = Setup::dfu_out(req, value, self.info.interface, data.len() as u16);
        self.t
            .control_out(setup, data)
            .map_err(|e| DfuError::usb(op, e))
    }

    /// Sends a DFU IN request.
    pub(crate) fn input(
        &mut self,
        req: DfuRequest,
        value: u16,
        len: u16,
        op: Op,
    ) -> Result<Vec<u8>> {
        let setup = Setup::dfu_in(req, value, self.info.interface, len);
        self.t.control_in(setup).map_err(|e| DfuError::usb(op, e))
    }

    /// Sends a DNLOAD and waits until the device has carried it out and is ready for the
    /// next one (dfuDNLOAD-IDLE).
    pub(crate) fn dnload_ready(&mut self, value: u16, data: &[u8], op: Op) -> Result<()> {
        self.check_cancel(op)?;
        self.started = false;
        self.out(DfuRequest::Dnload, value, data, op)?;
        let s = self.wait_ready(op)?;
        if s.state != State::DnloadIdle {
            return Err(DfuError::UnexpectedState {
                op,
                state: s.state,
                expected: "dfuDNLOAD-IDLE",
            });
        }
        Ok(())
    }

    /// True when the last DNLOAD's operation on `range` is done, given how waiting for it
    /// ended. When it failed after the device had started it (dfuDNBUSY), whether it
    /// changed the memory is not known: `range` goes to [`DfuDevice::unsure`].
    pub(crate) fn settled(&mut self, r: &Result<()>, range: (u32, u64)) -> bool {
        if r.is_err() && self.started {
            self.unsure.push(range);
        }
        r.is_ok()
    }

    /// GETSTATUS.
    pub fn get_status(&mut self) -> Result<GetStatus> {
        let b = self.input(DfuRequest::GetStatus, 0, 6, Op::GetStatus)?;
        GetStatus::parse(&b).ok_or_else(|| DfuError::Protocol {
            op: Op::GetStatus,
            what: format!("{}-byte reply, 6 expected", b.len()),
        })
    }

    /// CLRSTATUS.
    pub fn clear_status(&mut self) -> Result<()> {
        self.out(DfuRequest::ClrStatus, 0, &[], Op::ClearStatus)
    }

    /// ABORT.
    pub fn abort(&mut self) -> Result<()> {
        self.out(DfuRequest::Abort, 0, &[], Op::Abort)
    }

    /// Waits on the transport's clock.
    pub fn wait(&mut self, d: Duration) {
        self.t.wait(d);
    }

    /// Brings the device to dfuIDLE: clears dfuERROR, aborts unfinished transfers. Returns a
    /// note for each thing it had to do.
    pub fn ensure_idle(&mut self) -> Result<Vec<Note>> {
        self.end_upload()?;
        let mut notes = Vec::new();
        for _ in 0..4 {
            let s = self.get_status()?;
            match s.state {
                State::DfuIdle => return Ok(notes),
                State::Error => {
                    notes.push(Note::new(Code::Cleared, format!(
                        "the device was in dfuERROR with status {} (left over from an earlier session); cleared it",
                        s.status
                    )));
                    self.clear_status()?;
                }
                State::DnBusy | State::Manifest => {
                    self.wait(crate::patience::poll_wait(s.poll_timeout()))
                }
                State::AppIdle | State::AppDetach => {
                    return Err(DfuError::UnexpectedState {
                        op: Op::Connect,
                        state: s.state,
                        expected: "a DFU-mode state (the device is running its application)",
                    })
                }
                other => {
                    notes.push(Note::new(
                        Code::Cleared,
                        format!("the device was in {}; aborted to dfuIDLE", other.name()),
                    ));
                    self.abort()?;
                }
            }
        }
        let s = self.get_status()?;
        if s.state == State::DfuIdle {
            Ok(notes)
        } else {
            Err(DfuError::UnexpectedState {
                op: Op::Connect,
                state: s.state,
                expected: "dfuIDLE",
            })
        }
    }

    /// Polls GETSTATUS until the device is no longer busy, honouring the poll timeout it
    /// reports (and never sleeping after a status that is already final). Returns the final
    /// status; an error status becomes an error with `op` as context.
    /// The GETSTATUS requests get a transfer timeout sized to `op`; one that times out (the
    /// device still busy, NAKing) is sent again, until [`DfuDevice::busy_limit`].
    pub fn wait_ready(&mut self, op: Op) -> Result<GetStatus> {
        let before = self.t.timeout();
        self.t.set_timeout(self.busy_timeout(op, Duration::ZERO));
        let r = self.poll_until_ready(op);
        self.t.set_timeout(before);
        r
    }

    fn poll_until_ready(&mut self, op: Op) -> Result<GetStatus> {
        let start = self.t.now();
        let limit = self.busy_limit(op);
        loop {
            let s = match self.get_status() {
                Ok(s) => s,
                Err(DfuError::Usb {
                    source: dfu_proto::TransportError::Timeout,
                    ..
                }) if self.t.now().saturating_sub(start) <= limit => {
                    self.timeouts += 1;
                    continue;
                }
                Err(DfuError::Usb {
                    source: dfu_proto::TransportError::Timeout,
                    ..
                }) => return Err(DfuError::Timeout { op }),
                Err(DfuError::Usb { source, .. }) => return Err(DfuError::usb(op, source)),
                Err(e) => return Err(e),
            };
            if s.status == Status::ErrVendor && self.vendor_means_protected() {
                return Err(crate::protect::read_protected(op));
            }
            if s.state == State::Error || s.status != Status::Ok {
                return Err(DfuError::Status {
                    op,
                    status: s.status,
                    state: s.state,
                });
            }
            self.started = true;
            match s.state {
                State::DnBusy | State::DnloadSync | State::Manifest | State::ManifestSync => {
                    if self.t.now().saturating_sub(start) > limit {
                        return Err(DfuError::Timeout { op });
                    }
                    self.t.set_timeout(self.busy_timeout(op, s.poll_timeout()));
                    self.wait(crate::patience::poll_wait(s.poll_timeout()));
                }
                _ => return Ok(s),
            }
        }
    }
}

fn check_alt(info: &DeviceInfo, alt: u8) -> Result<()> {
    if info.alts.iter().any(|a| a.alt == alt) {
        return Ok(());
    }
    Err(DfuError::usage(format!(
        "{} has no alt setting {alt}; it has {}",
        info.usb.id(),
        info.alts
            .iter()
            .map(|a| format!("{} {:?}", a.alt, a.display_name()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Asks a run-time device to enter DFU mode, and waits for it to come back in DFU mode.
/// Returns the (USB-level) device after re-enumeration.
pub fn detach(backend: &mut dyn Backend, info: &DeviceInfo) -> Result<crate::backend::UsbDevice> {
    if info.mode != Mode::Runtime {
        return Err(DfuError::Unsupported {
            code: crate::Code::WrongMode,
            what: format!(
                "{} is already in DFU mode; nothing to detach",
                info.usb.id()
            ),
        });
    }
    let mut t = backend.open(&info.usb, info.interface)?;
    let timeout = info.functional.detach_timeout_ms;
    let setup = Setup::dfu_out(DfuRequest::Detach, timeout, info.interface, 0);
    match t.control_out(setup, &[]) {
        Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
        Err(e) => return Err(DfuError::usb(Op::Detach, e)),
    }
    if !info.functional.will_detach() {
        // The device waits for a bus reset within wDetachTimeOut.
        match t.reset() {
            Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
            Err(e) => return Err(DfuError::usb(Op::ResetAfterDetach, e)),
        }
    }
    drop(t);
    wait_for_dfu(backend, info, Duration::from_secs(10))
}

/// Waits for the device to re-appear in DFU mode (same serial where there is one).
pub fn wait_for_dfu(
    backend: &mut dyn Backend,
    before: &DeviceInfo,
    limit: Duration,
) -> Result<crate::backend::UsbDevice> {
    let dfu_ids = before
        .profile
        .as_ref()
        .map(|p| (p.usb.vendor_id, p.usb.product_id));
    let found = wait_for_dfu_mode(backend, limit, |d| {
        dfu_ids == Some((d.vendor_id, d.product_id))
            || (dfu_ids.is_none() && d.vendor_id == before.usb.vendor_id)
            || (before.serial.is_some() && d.serial == before.serial)
    })?;
    found.ok_or(DfuError::Timeout { op: Op::Reappear })
}

/// Polls the bus until a device with a DFU-mode interface that `wanted` accepts appears
/// (after a DETACH, a serial-port trigger or a reset). `None` when none has appeared within
/// `limit` of the backend's clock; the caller words the timeout.
pub fn wait_for_dfu_mode(
    backend: &mut dyn Backend,
    limit: Duration,
    wanted: impl Fn(&crate::backend::UsbDevice) -> bool,
) -> Result<Option<crate::backend::UsbDevice>> {
    let step = Duration::from_millis(50);
    crate::wait::poll(backend, Some(limit), step, &mut |b| {
        Ok(b.devices()?.into_iter().find(|d| {
            d.dfu_interfaces
                .iter()
                .any(|(_, proto)| *proto == dfu_proto::descriptor::PROTOCOL_DFU_MODE)
                && wanted(d)
        }))
    })
}
