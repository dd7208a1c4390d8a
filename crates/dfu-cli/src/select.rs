//! Connecting to the device the user selected: the backend, the selector, the profile, the
//! alt setting and the memory layout, from the options every command shares.

use crate::args::{looks_like_serial_port, Global, LAYOUT_HELP, SIM_HELP};
use crate::exit::Failure;
use dfu::events::Sink;
use dfu::{AltChoice, Backend, DeviceInfo, DeviceRequest, Selector, WaitPolicy};
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
                    dfu::DfuError::Sim(m) => {
                        Failure::usage(format!("--sim: {m}"), SIM_HELP).with_code(dfu::Code::Sim)
                    }
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

    /// The options as the environment alone gives them (`DFU_SIM`), read by the same
    /// definitions as the command line: for the dfu-util drop-in, whose own command line
    /// has none of them.
    pub fn from_env() -> Global {
        #[derive(clap::Parser)]
        struct EnvOnly {
            #[command(flatten)]
            global: Global,
        }
        <EnvOnly as clap::Parser>::try_parse_from(["dfu"])
            .map(|e| e.global)
            .unwrap_or_default()
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

    /// The profile given with `--profile`.
    pub fn profile(&self) -> Result<Option<Profile>, Failure> {
        self.profile
            .as_deref()
            .map(Profile::load)
            .transpose()
            .map_err(|e| Failure::usage(e.to_string(), "use a built-in profile name (`dfu sim profiles`) or the path of a profile TOML file"))
    }

    /// What the selection options ask for: the device, its profile and layout, the alt
    /// setting and the wait policy, as the library's request.
    pub fn device_request(&self) -> Result<DeviceRequest, Failure> {
        Ok(DeviceRequest {
            selector: self.selector()?,
            known: None,
            profile: self.profile()?,
            layout: self.layout()?,
            alt: AltChoice::from_option(self.alt.as_deref())?,
            wait: self.wait.then_some(WaitPolicy {
                timeout: self.wait_timeout,
            }),
        })
    }

    /// A failure to find the device, with `--wait-timeout` named when it ran out.
    pub fn wait_failure(&self, e: dfu::DfuError, hint: &str) -> Failure {
        let timed_out = matches!(e, dfu::DfuError::NoDevice { .. }) && self.wait;
        let mut f = Failure::from(e);
        if let (true, Some(t)) = (timed_out, self.wait_timeout) {
            f.message = format!("{} within --wait-timeout {:?}", f.message, t);
            f.help = format!(
                "put the device in DFU mode ({hint}), or wait longer with a larger --wait-timeout"
            );
        }
        f
    }

    /// The one device the user means, in whatever mode it is (after `--wait`).
    pub fn select_one(
        &self,
        backend: &mut dyn Backend,
        events: Sink,
    ) -> Result<DeviceInfo, Failure> {
        let d = self.device_request()?;
        dfu::prepare::find_one(backend, &d, events).map_err(|e| self.hint_failure(&d, e))
    }

    /// The one device the user means, in DFU mode: a run-time device is detached first.
    pub fn connect(&self, backend: &mut dyn Backend, events: Sink) -> Result<DeviceInfo, Failure> {
        let d = self.device_request()?;
        dfu::prepare::connect(backend, &d, events).map_err(|e| self.hint_failure(&d, e))
    }

    /// [`Global::wait_failure`] with the hint for the request's device.
    pub fn hint_failure(&self, d: &DeviceRequest, e: dfu::DfuError) -> Failure {
        let hint = dfu::wait::hint_for(&d.selector, d.profile.as_ref());
        self.wait_failure(e, &hint)
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
