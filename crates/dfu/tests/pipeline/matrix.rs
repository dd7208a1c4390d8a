//! The fault matrix: every fault kind (disconnect, stall, timeout, each DFU error status)
//! in every phase of a flash (connect, reading Particle modules, compare, erase, write,
//! verify, leave, manifestation), on a DfuSe device (Photon, with system modules) and on
//! plain DFU devices that are manifestation tolerant (TinyUSB) and intolerant (dapboot).
//!
//! A clean run is traced first: each DFU class request with the phase it belongs to. A
//! cell's fault fires on one request of its phase (`fault=KIND@any:N`): the middle one, or
//! for a status fault the middle GETSTATUS or DNLOAD. For each cell the test checks that
//! the flash fails with a known code (or succeeds), that the report's erased and written
//! bytes match the simulator's ground truth (a difference only in the one block or sector
//! whose request failed, and only when the device did it before the failure), and that a
//! next run without the fault completes and verifies. The table goes to
//! docs/reliability.md: the test fails when the committed table is stale;
//! `DFU_UPDATE_DOCS=1 cargo test -p dfu --test pipeline matrix` rewrites it.

use dfu::backend::sim::SimBackend;
use dfu::backend::{Backend, UsbDevice};
use dfu::{DfuDevice, DfuError, Event, Firmware, FlashOptions, Op, Phase};
use dfu_proto::request::RequestKind;
use dfu_proto::{DfuseCommand, Setup, Transport, TransportError};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

const PHASES: [&str; 8] = [
    "connect",
    "modules",
    "compare",
    "erase",
    "write",
    "verify",
    "leave",
    "manifestation",
];

/// The devices: (profile and knobs, label, address).
const DEVICES: [(&str, &str, u32); 3] = [
    ("photon,system-version=1512", "DfuSe (photon)", 0x080A_0000),
    ("tinyusb", "plain, tolerant (tinyusb)", 0),
    ("dapboot", "plain, intolerant (dapboot)", 0x0800_2000),
];

fn faults() -> Vec<String> {
    let mut v: Vec<String> = ["disconnect", "stall", "timeout"].map(String::from).into();
    v.extend((1..=15).map(|n| format!("status={}", dfu_proto::Status::from_u8(n).name())));
    v
}

#[derive(Default)]
struct Trace {
    phase: &'static str,
    /// A plain DFU device that is manifestation tolerant (it manifests after the download;
    /// an intolerant one is read back first and manifests when reset, with no DFU request).
    manifests: bool,
    log: Vec<(&'static str, u8)>,
}

type Shared = Rc<RefCell<Trace>>;

struct Tracing {
    inner: Box<dyn Transport>,
    trace: Shared,
}

impl Tracing {
    fn note(&self, setup: &Setup) {
        if setup.kind() != RequestKind::Class || setup.dfu_request().is_none() {
            return;
        }
        let mut t = self.trace.borrow_mut();
        let phase = match t.phase {
            "survey" if matches!(setup.request, 1 | 2) => "modules",
            "survey" => "connect",
            p => p,
        };
        t.log.push((phase, setup.request));
    }
}

impl Transport for Tracing {
    fn control_in(&mut self, setup: Setup) -> Result<Vec<u8>, TransportError> {
        self.note(&setup);
        self.inner.control_in(setup)
    }
    fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), TransportError> {
        self.note(&setup);
        self.inner.control_out(setup, data)
    }
    fn set_alt_setting(&mut self, interface: u8, alt: u8) -> Result<(), TransportError> {
        self.inner.set_alt_setting(interface, alt)
    }
    fn reset(&mut self) -> Result<(), TransportError> {
        self.inner.reset()
    }
    fn wait(&mut self, d: Duration) {
        self.inner.wait(d)
    }
    fn now(&self) -> Duration {
        self.inner.now()
    }
    fn set_timeout(&mut self, t: Duration) {
        self.inner.set_timeout(t)
    }
    fn timeout(&self) -> Duration {
        self.inner.timeout()
    }
}

struct Traced {
    sim: SimBackend,
    trace: Shared,
}

impl Backend for Traced {
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
    fn open(&mut self, d: &UsbDevice, interface: u8) -> dfu::Result<Box<dyn Transport>> {
        let inner = self.sim.open(d, interface)?;
        Ok(Box::new(Tracing {
            inner,
            trace: self.trace.clone(),
        }))
    }
    fn wait(&mut self, d: Duration) {
        self.sim.wait(d)
    }
    fn now(&self) -> Duration {
        self.sim.now()
    }
    fn finish(&mut self) -> dfu::Result<()> {
        self.sim.finish()
    }
}

/// What one flash did.
struct Outcome {
    result: Result<dfu::FlashReport, dfu::FlashFailure>,
    stats: dfu_sim::Stats,
    log: Vec<(&'static str, u8)>,
}

fn flash(spec: &str, address: u32, image: &[u8]) -> Outcome {
    let trace: Shared = Rc::default();
    let sim = SimBackend::new(spec).unwrap();
    let mut b = Traced {
        sim,
        trace: trace.clone(),
    };
    let result = run(&mut b, &trace, address, image);
    let stats = b.sim.bus().stats(0);
    b.finish().unwrap();
    let log = std::mem::take(&mut trace.borrow_mut().log);
    Outcome { result, stats, log }
}

fn run(
    b: &mut Traced,
    trace: &Shared,
    address: u32,
    image: &[u8],
) -> Result<dfu::FlashReport, dfu::FlashFailure> {
    trace.borrow_mut().phase = "connect";
    let info = dfu::prepare::connect(b, &dfu::DeviceRequest::default(), &mut |_| {})?;
    trace.borrow_mut().manifests = !info.is_dfuse() && info.functional.manifestation_tolerant();
    let mut dev = DfuDevice::open(b, info, 0)?;
    trace.borrow_mut().phase = "survey";
    let view = dev.survey(None)?;
    trace.borrow_mut().phase = "connect";
    let opts = FlashOptions {
        address: Some(address),
        ..FlashOptions::default()
    };
    let fw = Firmware::parse("image.bin", image)?;
    let plan = dfu::plan(&view, vec![fw], &opts)?;
    let t = trace.clone();
    dev.execute(&plan, &mut |e| {
        let mut t = t.borrow_mut();
        match e {
            Event::Start { phase, .. } => {
                t.phase = match phase {
                    Phase::Compare => "compare",
                    Phase::Erase => "erase",
                    Phase::Write => "write",
                    Phase::Verify => "verify",
                    Phase::Leave => "leave",
                    Phase::Read => "read",
                }
            }
            Event::Done {
                phase: Phase::Write,
            } if t.manifests => t.phase = "manifestation",
            _ => {}
        }
    })
}

/// The 1-based index (among DFU class requests) the fault of `kind` fires on in `phase`.
fn target(log: &[(&'static str, u8)], phase: &str, kind: &str) -> Option<usize> {
    let in_phase: Vec<(usize, u8)> = log
        .iter()
        .enumerate()
        .filter(|(_, (p, _))| *p == phase)
        .map(|(i, (_, r))| (i + 1, *r))
        .collect();
    let wanted: Vec<usize> = if kind.starts_with("status=") {
        let s: Vec<usize> = in_phase
            .iter()
            .filter(|(_, r)| matches!(*r, 1 | 3))
            .map(|(i, _)| *i)
            .collect();
        if s.is_empty() {
            in_phase.iter().map(|(i, _)| *i).collect()
        } else {
            s
        }
    } else {
        in_phase.iter().map(|(i, _)| *i).collect()
    };
    wanted.get(wanted.len() / 2).copied()
}

/// Bytes the failed request itself may have erased or programmed before it failed.
fn in_flight(e: &DfuError) -> (u64, u64) {
    let op = match e {
        DfuError::Usb { op, .. }
        | DfuError::Status { op, .. }
        | DfuError::UnexpectedState { op, .. }
        | DfuError::Timeout { op }
        | DfuError::Protocol { op, .. } => *op,
        _ => return (0, 0),
    };
    match op {
        Op::Write { len, .. } | Op::Block { len, .. } => (1 << 17, len as u64),
        Op::Dfuse(DfuseCommand::ErasePage(_)) => (1 << 17, 0),
        _ => (0, 0),
    }
}

fn exit_code(kind: dfu::ErrorKind) -> u8 {
    use dfu::ErrorKind::*;
    match kind {
        Usage => 2,
        Input => 3,
        NoDevice => 4,
        Refused => 5,
        Device => 6,
        Verify => 7,
        Interrupted => 130,
    }
}

/// Runs one cell; returns the table entry or panics with what is wrong.
fn cell(dir: &Path, base: &str, address: u32, prefilled: &Path, fault: &str, n: usize) -> String {
    let state = dir.join(format!("cell-{n}-{}.json", fault.replace('=', "-")));
    std::fs::copy(prefilled, &state).unwrap();
    let spec = format!("{base},state={}", state.display());
    let image = image(2);
    let got = flash(&format!("{spec},fault={fault}@any:{n}"), address, &image);
    let (entry, report, slack) = match &got.result {
        Ok(r) => ("0 ok".to_string(), r.clone(), (0, 0)),
        Err(f) => {
            let code = f.error.code().to_string();
            let class = code.rsplit("::").next().unwrap_or_default();
            let entry = format!("{} {class}", exit_code(f.error.kind()));
            (entry, (*f.done).clone(), in_flight(&f.error))
        }
    };
    let written: u64 = report.written.iter().map(|(_, n)| n).sum();
    let erased: u64 = report.erased.iter().map(|(_, n)| u64::from(*n)).sum();
    let what = format!(
        "{base} {fault}@any:{n}: {entry}, report erased {erased} written {written}, {:?}",
        got.stats
    );
    let dfuse = !base.starts_with("tinyusb") && !base.starts_with("dapboot");
    let (pe, pw) = (got.stats.erased_bytes, got.stats.programmed_bytes);
    assert!(pw >= written && pw - written <= slack.1, "written: {what}");
    if dfuse {
        assert!(pe >= erased && pe - erased <= slack.0, "erased: {what}");
    }
    let extra = if pw > written || (dfuse && pe > erased) {
        "*"
    } else {
        ""
    };
    let again = flash(&spec, address, &image);
    match again.result {
        Ok(r) => assert!(r.verified, "next run not verified: {what}"),
        Err(f) => panic!("next run failed ({}): {what}", f.error),
    }
    format!("{entry}{extra}")
}

fn image(seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..6000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn device_table(dir: &Path, base: &str, label: &str, address: u32) -> String {
    let prefilled = dir.join(format!("{label}-pre.json").replace([' ', ',', '(', ')'], "_"));
    let spec = format!("{base},state={}", prefilled.display());
    flash(&spec, address, &image(1)).result.unwrap();
    // The trace of a clean run over the old image (the state is copied, not changed).
    let probe = dir.join("probe.json");
    std::fs::copy(&prefilled, &probe).unwrap();
    let clean = flash(
        &format!("{base},state={}", probe.display()),
        address,
        &image(2),
    );
    clean.result.unwrap();
    let phases: Vec<&str> = PHASES
        .into_iter()
        .filter(|p| clean.log.iter().any(|(q, _)| q == p))
        .collect();
    let mut t = format!("### {label}\n\n| fault |");
    for p in &phases {
        write!(t, " {p} |").unwrap();
    }
    t.push_str("\n|---|");
    t.push_str(&"---|".repeat(phases.len()));
    t.push('\n');
    for fault in faults() {
        write!(t, "| {fault} |").unwrap();
        for p in &phases {
            let n = target(&clean.log, p, &fault).unwrap();
            write!(t, " {} |", cell(dir, base, address, &prefilled, &fault, n)).unwrap();
        }
        t.push('\n');
    }
    t
}

const BEGIN: &str = "<!-- fault matrix: generated by crates/dfu/tests/pipeline/matrix.rs -->";
const END: &str = "<!-- end of fault matrix -->";

#[test]
fn the_fault_matrix_holds_and_docs_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut table = String::new();
    for (base, label, address) in DEVICES {
        table.push_str(&device_table(dir.path(), base, label, address));
        table.push('\n');
    }
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reliability.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/reliability.md lacks the fault matrix markers");
    };
    let fresh = format!("{}{BEGIN}\n\n{table}{}", &doc[..b], &doc[e..]);
    if std::env::var_os("DFU_UPDATE_DOCS").is_some() {
        std::fs::write(&doc_path, &fresh).unwrap();
    } else {
        assert!(
            fresh == doc,
            "docs/reliability.md's fault matrix is stale; regenerate it with\n  \
             DFU_UPDATE_DOCS=1 cargo test -p dfu --test pipeline matrix\nThe table now:\n{table}"
        );
    }
}
