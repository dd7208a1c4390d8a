//! A device whose every answer may be a lie chosen by the input bytes: the simulator gives
//! the true answer, and each byte of `script` decides whether it goes out as it is, as a
//! STALL, a timeout, a disconnect, or replaced by bytes from the script (any length, so
//! also longer or shorter than asked). Coverage-guided fuzzing (fuzz/fuzz_targets/device.rs)
//! and a proptest (pipeline `liar_props`) drive the whole library with it: connect, survey,
//! read and flash must end with a result or an error, never a panic, in bounded time.
//! Shared with the fuzz crate through `#[path]`: it uses only the library's public API.

use dfu::backend::sim::SimBackend;
use dfu::backend::{Backend, UsbDevice};
use dfu::{DfuDevice, Firmware, FlashOptions};
use dfu_proto::{Setup, Transport, TransportError};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// The bytes that decide the lies, shared by the backend and its transports.
#[derive(Clone)]
struct Script(Rc<RefCell<(Vec<u8>, usize)>>);

impl Script {
    fn byte(&self) -> Option<u8> {
        let mut s = self.0.borrow_mut();
        let b = s.0.get(s.1).copied();
        s.1 += 1;
        b
    }

    fn bytes(&self, n: usize) -> Vec<u8> {
        (0..n).map_while(|_| self.byte()).collect()
    }
}

enum Lie {
    Truth,
    Stall,
    Timeout,
    Gone,
    Replace,
}

fn decide(script: &Script) -> Lie {
    match script.byte() {
        None | Some(0..=159) => Lie::Truth,
        Some(160..=179) => Lie::Stall,
        Some(180..=189) => Lie::Timeout,
        Some(190) => Lie::Gone,
        Some(_) => Lie::Replace,
    }
}

struct LyingTransport {
    inner: Box<dyn Transport>,
    script: Script,
    gone: bool,
    /// Lie only to this request (bRequest), or to every request.
    only: Option<u8>,
}

impl LyingTransport {
    fn fail(&mut self, lie: &Lie) -> Option<TransportError> {
        match lie {
            Lie::Stall => Some(TransportError::Stall),
            Lie::Timeout => {
                self.inner.wait(Duration::from_secs(5));
                Some(TransportError::Timeout)
            }
            Lie::Gone => {
                self.gone = true;
                Some(TransportError::Disconnected)
            }
            _ => None,
        }
    }
}

impl Transport for LyingTransport {
    fn control_in(&mut self, setup: Setup) -> Result<Vec<u8>, TransportError> {
        if self.gone {
            return Err(TransportError::Disconnected);
        }
        let truth = self.inner.control_in(setup)?;
        if self.only.is_some_and(|r| r != setup.request) {
            return Ok(truth);
        }
        let lie = decide(&self.script);
        if let Some(e) = self.fail(&lie) {
            return Err(e);
        }
        match lie {
            Lie::Replace => {
                let n = usize::from(self.script.byte().unwrap_or(0));
                Ok(self.script.bytes(n))
            }
            _ => Ok(truth),
        }
    }

    fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), TransportError> {
        if self.gone {
            return Err(TransportError::Disconnected);
        }
        self.inner.control_out(setup, data)?;
        if self.only.is_some_and(|r| r != setup.request) {
            return Ok(());
        }
        let lie = decide(&self.script);
        self.fail(&lie).map_or(Ok(()), Err)
    }

    fn set_alt_setting(&mut self, interface: u8, alt: u8) -> Result<(), TransportError> {
        self.inner.set_alt_setting(interface, alt)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.inner.reset()
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

struct LyingBackend {
    sim: SimBackend,
    script: Script,
    only: Option<u8>,
}

impl Backend for LyingBackend {
    fn name(&self) -> &'static str {
        "sim"
    }

    /// One device, one thread: other handles see the plain simulator.
    fn handle(&self) -> Box<dyn Backend + Send> {
        self.sim.handle()
    }

    fn devices(&mut self) -> dfu::Result<Vec<UsbDevice>> {
        self.sim.devices()
    }

    fn open(&mut self, device: &UsbDevice, interface: u8) -> dfu::Result<Box<dyn Transport>> {
        Ok(Box::new(LyingTransport {
            inner: self.sim.open(device, interface)?,
            script: self.script.clone(),
            gone: false,
            only: self.only,
        }))
    }

    fn wait(&mut self, duration: Duration) {
        self.sim.wait(duration)
    }

    fn now(&self) -> Duration {
        self.sim.now()
    }
}

/// The longest a whole session against a liar may take in virtual time.
pub const MAX_SESSION: Duration = Duration::from_secs(600);

/// Connects to a simulated `profile` whose answers `script` distorts, then surveys it,
/// reads 6000 bytes at `address` and flashes 5000 bytes there. Panics only if the library
/// does, or if the session outlasts [`MAX_SESSION`].
pub fn drive(profile: &str, address: u32, script: &[u8]) {
    let _ = drive_with(profile, address, script, None);
}

/// [`drive`], lying only to request `only` (bRequest) when given. Returns the virtual time
/// the session took and how it ended.
pub fn drive_with(
    profile: &str,
    address: u32,
    script: &[u8],
    only: Option<u8>,
) -> (Duration, dfu::Result<()>) {
    let sim = SimBackend::new(profile).expect("a built-in profile");
    let script = Script(Rc::new(RefCell::new((script.to_vec(), 0))));
    let mut b = LyingBackend { sim, script, only };
    let r = session(&mut b, address);
    let took = b.now();
    assert!(took <= MAX_SESSION, "the session took {took:?}");
    (took, r)
}

fn session(b: &mut LyingBackend, address: u32) -> dfu::Result<()> {
    let info = dfu::prepare::connect(b, &dfu::DeviceRequest::default(), &mut |_| {})?;
    let mut dev = DfuDevice::open(b, info, 0)?;
    let view = dev.survey(None)?;
    let _ = dev.read(address, 6000, &mut |_| {});
    let image: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let fw = Firmware::parse("image.bin", &image)?;
    let opts = FlashOptions {
        address: Some(address),
        ..FlashOptions::default()
    };
    let plan = dfu::plan(&view, vec![fw], &opts)?;
    dev.execute(&plan, &mut |_| {}).map_err(|f| f.error)?;
    Ok(())
}
