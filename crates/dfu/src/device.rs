//! An opened DFU interface: status requests, recovery to dfuIDLE, detach.

use crate::backend::Backend;
use crate::discover::{DeviceInfo, Mode};
use crate::error::{DfuError, Result};
use dfu_profiles::Profile;
use dfu_proto::{DfuRequest, GetStatus, MemoryLayout, Setup, State, Status, Transport};
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
    /// The memory layout used for checks and planning (announced, or the profile's).
    pub layout: Option<MemoryLayout>,
    /// wTransferSize.
    pub transfer_size: u16,
    /// Requests sent (for statistics).
    pub requests: u64,
    /// Particle modules read from the device by [`DfuDevice::installed_modules`].
    pub modules: Vec<dfu_image::ModuleInfo>,
    /// Where a streamed DfuSe read can continue: (next address, next block number).
    pub(crate) upload_cursor: Option<(u64, u16)>,
    /// True while the device is in dfuUPLOAD-IDLE after a streamed read.
    pub(crate) uploading: bool,
}

impl DfuDevice {
    /// Opens the device's DFU interface and selects `alt`.
    pub fn open(backend: &mut dyn Backend, info: DeviceInfo, alt: u8) -> Result<DfuDevice> {
        if !info.alts.iter().any(|a| a.alt == alt) {
            return Err(DfuError::Usage(format!(
                "{} has no alt setting {alt}; it has {}",
                info.usb.id(),
                info.alts
                    .iter()
                    .map(|a| format!("{} {:?}", a.alt, a.display_name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut t = backend.open(&info.usb, info.interface)?;
        t.set_alt_setting(info.interface, alt)
            .map_err(|e| DfuError::usb(format!("selecting alt setting {alt}"), e))?;
        let layout = info
            .alts
            .iter()
            .find(|a| a.alt == alt)
            .and_then(|a| a.layout.clone());
        Ok(DfuDevice {
            t,
            transfer_size: info.functional.transfer_size.max(1),
            info,
            alt,
            layout,
            requests: 0,
            modules: Vec::new(),
            upload_cursor: None,
            uploading: false,
        })
    }

    /// The matched profile.
    pub fn profile(&self) -> Option<&Profile> {
        self.info.profile.as_ref()
    }

    /// Sends a DFU OUT request.
    pub(crate) fn out(
        &mut self,
        req: DfuRequest,
        value: u16,
        data: &[u8],
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        self.requests += 1;
        let setup = Setup::dfu_out(req, value, self.info.interface, data.len() as u16);
        self.t
            .control_out(setup, data)
            .map_err(|e| DfuError::usb(op(), e))
    }

    /// Sends a DFU IN request.
    pub(crate) fn input(
        &mut self,
        req: DfuRequest,
        value: u16,
        len: u16,
        op: &dyn Fn() -> String,
    ) -> Result<Vec<u8>> {
        self.requests += 1;
        let setup = Setup::dfu_in(req, value, self.info.interface, len);
        self.t.control_in(setup).map_err(|e| DfuError::usb(op(), e))
    }

    /// Sends a DNLOAD and waits until the device has carried it out and is ready for the
    /// next one (dfuDNLOAD-IDLE).
    pub(crate) fn dnload_ready(
        &mut self,
        value: u16,
        data: &[u8],
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        self.out(DfuRequest::Dnload, value, data, op)?;
        let s = self.wait_ready(op)?;
        if s.state != State::DnloadIdle {
            return Err(DfuError::UnexpectedState {
                op: op(),
                state: s.state,
                expected: "dfuDNLOAD-IDLE".into(),
            });
        }
        Ok(())
    }

    /// GETSTATUS.
    pub fn get_status(&mut self) -> Result<GetStatus> {
        let b = self.input(DfuRequest::GetStatus, 0, 6, &|| "GETSTATUS".into())?;
        GetStatus::parse(&b).ok_or_else(|| {
            DfuError::usb(
                "GETSTATUS",
                dfu_proto::TransportError::Other(format!("{}-byte reply, 6 expected", b.len())),
            )
        })
    }

    /// CLRSTATUS.
    pub fn clear_status(&mut self) -> Result<()> {
        self.out(DfuRequest::ClrStatus, 0, &[], &|| "CLRSTATUS".into())
    }

    /// ABORT.
    pub fn abort(&mut self) -> Result<()> {
        self.out(DfuRequest::Abort, 0, &[], &|| "ABORT".into())
    }

    /// Waits on the transport's clock.
    pub fn wait(&mut self, d: Duration) {
        self.t.wait(d);
    }

    /// Brings the device to dfuIDLE: clears dfuERROR, aborts unfinished transfers. Returns a
    /// note for each thing it had to do.
    pub fn ensure_idle(&mut self) -> Result<Vec<String>> {
        self.end_upload()?;
        let mut notes = Vec::new();
        for _ in 0..4 {
            let s = self.get_status()?;
            match s.state {
                State::DfuIdle => return Ok(notes),
                State::Error => {
                    notes.push(format!(
                        "the device was in dfuERROR with status {} (left over from an earlier session); cleared it",
                        s.status
                    ));
                    self.clear_status()?;
                }
                State::DnBusy | State::Manifest => {
                    self.wait(s.poll_timeout().max(Duration::from_millis(1)))
                }
                State::AppIdle | State::AppDetach => {
                    return Err(DfuError::UnexpectedState {
                        op: "connecting".into(),
                        state: s.state,
                        expected: "a DFU-mode state (the device is running its application)".into(),
                    })
                }
                other => {
                    notes.push(format!(
                        "the device was in {}; aborted to dfuIDLE",
                        other.name()
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
                op: "connecting".into(),
                state: s.state,
                expected: "dfuIDLE".into(),
            })
        }
    }

    /// Polls GETSTATUS until the device is no longer busy, honouring the poll timeout it
    /// reports (and never sleeping after a status that is already final). Returns the final
    /// status; an error status becomes an error with `op` as context.
    pub fn wait_ready(&mut self, op: &dyn Fn() -> String) -> Result<GetStatus> {
        let start = self.t.now();
        loop {
            let s = self.get_status().map_err(|e| match e {
                DfuError::Usb { source, .. } => {
                    DfuError::usb(format!("{} (reading its status)", op()), source)
                }
                e => e,
            })?;
            if s.state == State::Error || s.status != Status::Ok {
                return Err(DfuError::Status {
                    op: op(),
                    status: s.status,
                    state: s.state,
                });
            }
            match s.state {
                State::DnBusy | State::DnloadSync | State::Manifest | State::ManifestSync => {
                    if self.t.now().saturating_sub(start) > BUSY_LIMIT {
                        return Err(DfuError::Timeout(op()));
                    }
                    self.wait(s.poll_timeout().max(Duration::from_millis(1)));
                }
                _ => return Ok(s),
            }
        }
    }

    /// The memory layout to use for the selected alt: the announced one, else the profile's.
    /// Returns a note when the profile's had to stand in.
    pub fn resolve_layout(&mut self, fallback: Option<MemoryLayout>) -> Option<String> {
        if self.layout.is_some() {
            return None;
        }
        let alt = self.info.alts.iter().find(|a| a.alt == self.alt)?;
        let why = alt
            .layout_error
            .clone()
            .unwrap_or_else(|| "it is not a memory layout".into());
        if let Some(l) = fallback {
            self.layout = Some(l);
            return Some(format!(
                "alt {} name {:?} is not a usable memory layout ({why}); using the layout given instead",
                self.alt,
                alt.display_name()
            ));
        }
        let profile = self.info.profile.as_ref()?;
        let l = profile
            .alts
            .get(usize::from(self.alt))?
            .announced_layout()?;
        self.layout = Some(l);
        Some(format!(
            "alt {} name {:?} is not a usable memory layout ({why}); using the {} profile's layout",
            self.alt,
            alt.display_name(),
            profile.name
        ))
    }
}

/// Asks a run-time device to enter DFU mode, and waits for it to come back in DFU mode.
/// Returns the (USB-level) device after re-enumeration.
pub fn detach(backend: &mut dyn Backend, info: &DeviceInfo) -> Result<crate::backend::UsbDevice> {
    if info.mode != Mode::Runtime {
        return Err(DfuError::Usage(format!(
            "{} is already in DFU mode; nothing to detach",
            info.usb.id()
        )));
    }
    let mut t = backend.open(&info.usb, info.interface)?;
    let timeout = info.functional.detach_timeout_ms;
    let setup = Setup::dfu_out(DfuRequest::Detach, timeout, info.interface, 0);
    match t.control_out(setup, &[]) {
        Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
        Err(e) => return Err(DfuError::usb("DETACH", e)),
    }
    if !info.functional.will_detach() {
        // The device waits for a bus reset within wDetachTimeOut.
        match t.reset() {
            Ok(()) | Err(dfu_proto::TransportError::Disconnected) => {}
            Err(e) => return Err(DfuError::usb("USB reset after DETACH", e)),
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
    let start = backend.now();
    let dfu_ids = before
        .profile
        .as_ref()
        .map(|p| (p.usb.vendor_id, p.usb.product_id));
    loop {
        let devices = backend.devices()?;
        let found = devices.into_iter().find(|d| {
            d.dfu_interfaces
                .iter()
                .any(|(_, proto)| *proto == dfu_proto::descriptor::PROTOCOL_DFU_MODE)
                && (dfu_ids == Some((d.vendor_id, d.product_id))
                    || (dfu_ids.is_none() && d.vendor_id == before.usb.vendor_id)
                    || (before.serial.is_some() && d.serial == before.serial))
        });
        if let Some(d) = found {
            return Ok(d);
        }
        if backend.now().saturating_sub(start) > limit {
            return Err(DfuError::Timeout(format!(
                "waiting for {} to re-appear in DFU mode after DETACH",
                before.usb.id()
            )));
        }
        backend.wait(Duration::from_millis(50));
    }
}
