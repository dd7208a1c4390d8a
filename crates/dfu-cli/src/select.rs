//! Connecting to the device the user selected: the backend, the selector, the profile, the
//! alt setting and the memory layout, from the options every command shares.

use crate::args::{looks_like_serial_port, Global, LAYOUT_HELP, SIM_HELP};
use crate::exit::Failure;
use dfu::{Backend, DeviceInfo, Selector};
use dfu_profiles::Profile;

impl Global {
    /// The backend (see [`Global::plain_backend`]), tracing every USB request with
    /// `--verbose`.
    pub fn backend(&self) -> Result<Box<dyn Backend>, Failure> {
        let backend = self.plain_backend()?;
        if !self.verbose {
            return Ok(backend as Box<dyn Backend>);
        }
        let sink: dfu::backend::trace::TraceSink = std::sync::Arc::new(|line: &str| {
            crate::out::errln!("usb: {line}");
        });
        Ok(Box::new(dfu::backend::trace::Tracing::new(backend, sink)))
    }

    /// The backend without tracing: simulated devices when `--sim`/`DFU_SIM` is given,
    /// else real USB.
    fn plain_backend(&self) -> Result<Box<dyn Backend + Send>, Failure> {
        if let Some(spec) = &self.sim {
            #[cfg(feature = "sim")]
            return dfu::backend::sim::SimBackend::new(spec)
                .map(|b| Box::new(b) as Box<dyn Backend + Send>)
                .map_err(|e| match e {
                    dfu::DfuError::Sim(m) => Failure::usage(format!("--sim: {m}"), SIM_HELP),
                    e => e.into(),
                });
            #[cfg(not(feature = "sim"))]
            return Err(Failure::usage(
                format!("--sim {spec}: this build has no simulator"),
                "build with the `sim` feature",
            ));
        }
        #[cfg(feature = "usb")]
        return Ok(Box::new(dfu::backend::usb::UsbBackend::new()));
        #[cfg(not(feature = "usb"))]
        Err(Failure::usage(
            "this build has no USB support",
            "use --sim, or build with the `usb` feature",
        ))
    }

    /// The selection options as a library selector.
    pub fn selector(&self) -> Result<Selector, Failure> {
        let ids = match &self.device {
            Some(d) if looks_like_serial_port(d) => {
                return Err(Failure::usage(
                    format!("--device {d} is a serial port, not a USB VID:PID"),
                    "serial ports are used by `dfu detach --device PORT` to put a board into DFU mode; to flash, select the DFU device by its USB id (e.g. --device 2b04:d006) or leave --device out",
                ))
            }
            Some(d) => Selector::parse_ids(d)?,
            None => Vec::new(),
        };
        if self.serial.len() > 1 || self.path.len() > 1 {
            return Err(Failure::usage(
                "several --serial or --path values select several devices",
                "only `dfu flash` works on several devices at once; give one device to this command",
            ));
        }
        Ok(Selector {
            ids,
            serial: self.serial.first().cloned(),
            path: self.path.first().cloned(),
        })
    }

    /// With `--wait`: waits (a spinner on a terminal) until a device `selector` matches is
    /// plugged in, or `--wait-timeout` passes (exit 4). Without it, does nothing.
    pub fn wait_for(
        &self,
        backend: &mut dyn Backend,
        selector: &Selector,
        profile: Option<&Profile>,
    ) -> Result<(), Failure> {
        if !self.wait || dfu::wait::present(backend, selector)? {
            return Ok(());
        }
        let hint = dfu::wait::hint_for(selector, profile);
        let message = format!("waiting for a DFU device: put it in DFU mode ({hint})");
        let spinner = crate::render::spinner(&message);
        let r = dfu::wait::wait_for_device(backend, selector, self.wait_timeout, &mut |_| {});
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        r.map_err(|e| {
            let mut f = Failure::from(e);
            if let Some(t) = self.wait_timeout {
                f.message = format!("{} within --wait-timeout {:?}", f.message, t);
                f.help = format!("put the device in DFU mode ({hint}), or wait longer with a larger --wait-timeout");
            }
            f
        })
    }

    /// The profile given with `--profile`.
    pub fn profile(&self) -> Result<Option<Profile>, Failure> {
        self.profile
            .as_deref()
            .map(Profile::load)
            .transpose()
            .map_err(|e| Failure::usage(e.to_string(), "use a built-in profile name (`dfu sim profiles`) or the path of a profile TOML file"))
    }

    /// The one device the user means, in whatever mode it is (after `--wait`).
    pub fn select_one(&self, backend: &mut dyn Backend) -> Result<DeviceInfo, Failure> {
        let selector = self.selector()?;
        let profile = self.profile()?;
        self.wait_for(backend, &selector, profile.as_ref())?;
        Ok(dfu::select_one(backend, &selector, profile.as_ref())?)
    }

    /// The one device the user means, in DFU mode: a run-time device is detached first.
    pub fn connect(
        &self,
        backend: &mut dyn Backend,
        notes: &mut Vec<String>,
    ) -> Result<DeviceInfo, Failure> {
        let selector = self.selector()?;
        let profile = self.profile()?;
        self.wait_for(backend, &selector, profile.as_ref())?;
        Ok(dfu::connect(backend, &selector, profile.as_ref(), notes)?)
    }

    /// The alt setting the user asked for (number or name), default 0.
    pub fn alt_for(&self, info: &DeviceInfo) -> Result<u8, Failure> {
        Ok(dfu::many::resolve_alt(info, self.alt.as_deref())?)
    }

    /// The device the user means, opened on the alt they asked for and read for planning
    /// (its memory layouts resolved: the one each alt announces, else `--layout`, else the
    /// profile's). Each fallback, and a `--layout` that an announced layout overrides, is a
    /// note.
    pub fn open(
        &self,
        backend: &mut dyn Backend,
        notes: &mut Vec<String>,
    ) -> Result<(dfu::DfuDevice, dfu::DeviceView), Failure> {
        let info = self.connect(backend, notes)?;
        let alt = self.alt_for(&info)?;
        let mut dev = dfu::DfuDevice::open(backend, info, alt)?;
        let view = dev.survey(self.layout()?.as_ref())?;
        notes.extend(view.notes.iter().cloned());
        Ok((dev, view))
    }

    /// When `--layout` is given but alt `alt` announces a layout of its own: a note saying
    /// that the announced one is used.
    pub fn layout_note(&self, info: &DeviceInfo, alt: u8) -> Option<String> {
        let given = self.layout.as_ref()?;
        let a = info.alts.iter().find(|a| a.alt == alt)?;
        a.layout.as_ref().map(|_| {
            format!(
                "--layout {given:?} is not used: alt {alt} announces its own memory layout {:?}",
                a.display_name()
            )
        })
    }

    /// The layout given with --layout.
    pub fn layout(&self) -> Result<Option<dfu_proto::MemoryLayout>, Failure> {
        self.layout
            .as_deref()
            .map(dfu_proto::MemoryLayout::parse)
            .transpose()
            .map_err(|e| Failure::usage(format!("--layout: {e}"), LAYOUT_HELP))
    }
}
