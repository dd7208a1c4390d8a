//! A backend that reports every USB request as it happens (request, wValue, length, and
//! for GETSTATUS the status, state and poll timeout), as `dfu-util -v` does. The lines go
//! to a callback: the library does not print.

use super::{Backend, UsbDevice};
use crate::error::Result;
use dfu_proto::{DfuRequest, GetStatus, Setup, Transport, TransportError};
use std::sync::Arc;
use std::time::Duration;

/// Where trace lines go.
pub type TraceSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Wraps a backend so that every transport it opens reports its requests to `sink`.
pub struct Tracing {
    inner: Box<dyn Backend + Send>,
    sink: TraceSink,
}

impl Tracing {
    /// Traces the transports `inner` opens.
    pub fn new(inner: Box<dyn Backend + Send>, sink: TraceSink) -> Self {
        Tracing { inner, sink }
    }
}

impl Backend for Tracing {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn devices(&mut self) -> Result<Vec<UsbDevice>> {
        self.inner.devices()
    }

    fn open(&mut self, device: &UsbDevice, interface: u8) -> Result<Box<dyn Transport>> {
        (self.sink)(&format!(
            "open {} at {}, interface {interface}",
            device.id(),
            device.path()
        ));
        let inner = self.inner.open(device, interface)?;
        Ok(Box::new(Traced {
            inner,
            sink: self.sink.clone(),
        }))
    }

    fn wait(&mut self, duration: Duration) {
        self.inner.wait(duration)
    }

    fn now(&self) -> Duration {
        self.inner.now()
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }

    fn handle(&self) -> Box<dyn Backend + Send> {
        Box::new(Tracing {
            inner: self.inner.handle(),
            sink: self.sink.clone(),
        })
    }

    fn clock_is_virtual(&self) -> bool {
        self.inner.clock_is_virtual()
    }

    fn simulated(&self) -> bool {
        self.inner.simulated()
    }
}

struct Traced {
    inner: Box<dyn Transport>,
    sink: TraceSink,
}

/// `DNLOAD wValue=2 wLength=2048`, or the standard request's numbers.
fn describe(setup: &Setup) -> String {
    let name = match (
        setup.request_type & 0x60,
        DfuRequest::from_u8(setup.request),
    ) {
        (0x20, Some(r)) => r.name().to_string(),
        (0x00, _) if setup.request == 6 => "GET_DESCRIPTOR".to_string(),
        _ => format!(
            "request 0x{:02x} (type 0x{:02x})",
            setup.request, setup.request_type
        ),
    };
    format!(
        "{name} wValue={} wIndex={} wLength={}",
        setup.value, setup.index, setup.length
    )
}

fn outcome<T>(r: &std::result::Result<T, TransportError>, ok: impl Fn(&T) -> String) -> String {
    match r {
        Ok(v) => ok(v),
        Err(e) => format!("failed: {e}"),
    }
}

impl Transport for Traced {
    fn control_in(&mut self, setup: Setup) -> std::result::Result<Vec<u8>, TransportError> {
        let r = self.inner.control_in(setup);
        let is_status = setup.request_type & 0x60 == 0x20
            && DfuRequest::from_u8(setup.request) == Some(DfuRequest::GetStatus);
        let result = outcome(&r, |b| match GetStatus::parse(b).filter(|_| is_status) {
            Some(s) => format!(
                "status {}, state {}, poll {} ms",
                s.status.name(),
                s.state.name(),
                s.poll_timeout().as_millis()
            ),
            None => format!("{} byte(s)", b.len()),
        });
        (self.sink)(&format!("{} -> {result}", describe(&setup)));
        r
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
    ) -> std::result::Result<(), TransportError> {
        let r = self.inner.control_out(setup, data);
        let result = outcome(&r, |_| "ok".into());
        (self.sink)(&format!("{} -> {result}", describe(&setup)));
        r
    }

    fn set_alt_setting(
        &mut self,
        interface: u8,
        alt: u8,
    ) -> std::result::Result<(), TransportError> {
        let r = self.inner.set_alt_setting(interface, alt);
        let result = outcome(&r, |_| "ok".into());
        (self.sink)(&format!(
            "SET_INTERFACE interface {interface} alt {alt} -> {result}"
        ));
        r
    }

    fn reset(&mut self) -> std::result::Result<(), TransportError> {
        let r = self.inner.reset();
        (self.sink)(&format!("USB reset -> {}", outcome(&r, |_| "ok".into())));
        r
    }

    fn wait(&mut self, duration: Duration) {
        self.inner.wait(duration)
    }

    fn now(&self) -> Duration {
        self.inner.now()
    }

    fn set_timeout(&mut self, timeout: Duration) {
        self.inner.set_timeout(timeout)
    }

    fn timeout(&self) -> Duration {
        self.inner.timeout()
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_request_is_reported_with_its_outcome() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let l2 = lines.clone();
        let sim = crate::backend::sim::SimBackend::new("stm32f405").unwrap();
        let mut b = Tracing::new(
            Box::new(sim),
            Arc::new(move |s| l2.lock().unwrap().push(s.into())),
        );
        let d = b.devices().unwrap().remove(0);
        let mut t = b.open(&d, 0).unwrap();
        let setup = Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6);
        t.control_in(setup).unwrap();
        let lines = lines.lock().unwrap();
        assert!(lines[0].starts_with("open 0483:df11"), "{lines:?}");
        assert!(
            lines[1].starts_with("GETSTATUS wValue=0 wIndex=0 wLength=6 -> status "),
            "{lines:?}"
        );
        assert!(lines[1].contains("state dfuIDLE, poll"), "{lines:?}");
    }
}
