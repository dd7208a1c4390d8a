//! Fault injection: `fault=KIND@REQUEST:N` makes the Nth request of a kind fail.

use dfu_proto::{DfuRequest, Status};
use std::fmt;

#[cfg(not(target_arch = "wasm32"))]
use signal_hook::consts::{SIGINT, SIGTERM};
/// SIGINT's number (wasm32 has no signals; the fault then only names it).
#[cfg(target_arch = "wasm32")]
const SIGINT: i32 = 2;
/// SIGTERM's number, likewise.
#[cfg(target_arch = "wasm32")]
const SIGTERM: i32 = 15;

/// Which requests a fault counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultTrigger {
    /// DFU_DNLOAD (data blocks, DfuSe commands and the final zero-length block).
    Dnload,
    /// DFU_UPLOAD.
    Upload,
    /// DFU_GETSTATUS.
    GetStatus,
    /// Any DFU class request (standard requests such as GET_DESCRIPTOR are not counted).
    Any,
}

impl FaultTrigger {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "dnload" => FaultTrigger::Dnload,
            "upload" => FaultTrigger::Upload,
            "getstatus" => FaultTrigger::GetStatus,
            "any" => FaultTrigger::Any,
            _ => return None,
        })
    }

    fn matches(self, request: DfuRequest) -> bool {
        match self {
            FaultTrigger::Dnload => request == DfuRequest::Dnload,
            FaultTrigger::Upload => request == DfuRequest::Upload,
            FaultTrigger::GetStatus => request == DfuRequest::GetStatus,
            FaultTrigger::Any => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            FaultTrigger::Dnload => "dnload",
            FaultTrigger::Upload => "upload",
            FaultTrigger::GetStatus => "getstatus",
            FaultTrigger::Any => "any",
        }
    }
}

/// What happens when a fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultAction {
    /// The device vanishes from the bus for the rest of the run; the request fails with
    /// [`crate::UsbError::NoDevice`] and is not executed. Memory written so far is kept.
    Disconnect,
    /// The request is not executed and fails with a STALL; the DFU state is unchanged
    /// (a transient pipe error).
    Stall,
    /// The request is not executed and fails with [`crate::UsbError::Timeout`] after
    /// [`FAULT_TIMEOUT`] of virtual time (the host's control timeout).
    Timeout,
    /// The device goes to dfuERROR with this status: a DNLOAD is accepted but its block
    /// or command fails (nothing is written) and the next GETSTATUS reports the error; a
    /// GETSTATUS reports it at once; any other request STALLs.
    Status(Status),
    /// The request is carried out, but the first byte of its reply comes back with every
    /// bit flipped: a transfer error that nothing caught (an UPLOAD that reads back other
    /// data than the memory holds). A request without reply data is unchanged.
    Corrupt,
    /// The simulator sends this signal (SIGINT `interrupt`, SIGTERM `terminate`) to its
    /// own process as the request arrives, then carries the request out normally: Ctrl-C
    /// at an exact point of a run, for tests of the program using the simulator.
    Signal(i32),
}

/// Virtual time an injected timeout costs (dfu-util's and libusb's usual 5 s).
pub const FAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One `fault=` knob: on the `nth` request counted by `trigger`, do `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fault {
    /// What to do.
    pub action: FaultAction,
    /// Which requests are counted.
    pub trigger: FaultTrigger,
    /// The 1-based count at which the fault fires.
    pub nth: u64,
}

impl Fault {
    /// Parses `KIND@REQUEST:N`, e.g. `disconnect@dnload:37` or `status=errPROG@dnload:3`.
    pub fn parse(s: &str) -> Result<Fault, String> {
        let usage = "expected KIND@REQUEST:N with KIND disconnect|stall|timeout|status=NAME \
                     (e.g. status=errPROG)|corrupt|interrupt|terminate, \
                     REQUEST dnload|upload|getstatus|any, N >= 1";
        let (kind, rest) = s
            .split_once('@')
            .ok_or_else(|| format!("fault {s:?}: {usage}"))?;
        let (req, n) = rest
            .split_once(':')
            .ok_or_else(|| format!("fault {s:?}: {usage}"))?;
        let action = match kind.to_ascii_lowercase().as_str() {
            "disconnect" => FaultAction::Disconnect,
            "stall" => FaultAction::Stall,
            "timeout" => FaultAction::Timeout,
            "corrupt" => FaultAction::Corrupt,
            "interrupt" => FaultAction::Signal(SIGINT),
            "terminate" => FaultAction::Signal(SIGTERM),
            k => match k.strip_prefix("status=") {
                Some(name) => FaultAction::Status(parse_status(name).ok_or_else(|| {
                    format!(
                        "fault {s:?}: unknown status {name:?}; use a DFU status name \
                         such as errPROG, errWRITE, errTARGET, errADDRESS, errFIRMWARE"
                    )
                })?),
                None => return Err(format!("fault {s:?}: unknown fault kind {kind:?}; {usage}")),
            },
        };
        let trigger = FaultTrigger::parse(req)
            .ok_or_else(|| format!("fault {s:?}: unknown request {req:?}; {usage}"))?;
        let nth: u64 = n
            .trim()
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("fault {s:?}: count {n:?} is not a number >= 1"))?;
        Ok(Fault {
            action,
            trigger,
            nth,
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            FaultAction::Disconnect => f.write_str("disconnect")?,
            FaultAction::Stall => f.write_str("stall")?,
            FaultAction::Timeout => f.write_str("timeout")?,
            FaultAction::Corrupt => f.write_str("corrupt")?,
            FaultAction::Status(s) => write!(f, "status={}", s.name())?,
            FaultAction::Signal(SIGTERM) => f.write_str("terminate")?,
            FaultAction::Signal(_) => f.write_str("interrupt")?,
        }
        write!(f, "@{}:{}", self.trigger.name(), self.nth)
    }
}

/// A DFU status by its specification name (`errPROG`, case-insensitive) or number.
pub(crate) fn parse_status(name: &str) -> Option<Status> {
    if let Ok(n) = name.parse::<u8>() {
        return Some(Status::from_u8(n));
    }
    (0..=0x0f)
        .map(Status::from_u8)
        .find(|s| s.name().eq_ignore_ascii_case(name))
}

/// Counts requests per trigger and says which fault fires.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultCounter {
    faults: Vec<Fault>,
    counts: [u64; 4],
}

impl FaultCounter {
    pub(crate) fn new(faults: &[Fault]) -> Self {
        FaultCounter {
            faults: faults.to_vec(),
            counts: [0; 4],
        }
    }

    /// Counts a DFU class request and returns the action of the first fault that fires.
    pub(crate) fn hit(&mut self, request: DfuRequest) -> Option<FaultAction> {
        let triggers = [
            FaultTrigger::Dnload,
            FaultTrigger::Upload,
            FaultTrigger::GetStatus,
            FaultTrigger::Any,
        ];
        for (i, t) in triggers.iter().enumerate() {
            if t.matches(request) {
                self.counts[i] += 1;
            }
        }
        self.faults
            .iter()
            .find(|f| {
                let i = triggers.iter().position(|t| *t == f.trigger).unwrap_or(3);
                f.trigger.matches(request) && self.counts[i] == f.nth
            })
            .map(|f| f.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let f = Fault::parse("disconnect@dnload:37").unwrap();
        assert_eq!(f.action, FaultAction::Disconnect);
        assert_eq!(f.trigger, FaultTrigger::Dnload);
        assert_eq!(f.nth, 37);
        assert_eq!(f.to_string(), "disconnect@dnload:37");
        let f = Fault::parse("status=errPROG@any:2").unwrap();
        assert_eq!(f.action, FaultAction::Status(Status::ErrProg));
        assert_eq!(f.to_string(), "status=errPROG@any:2");
        assert_eq!(
            Fault::parse("stall@GETSTATUS:1").unwrap().action,
            FaultAction::Stall
        );
        assert_eq!(
            Fault::parse("timeout@upload:4").unwrap().trigger,
            FaultTrigger::Upload
        );
        let f = Fault::parse("corrupt@upload:2").unwrap();
        assert_eq!(f.action, FaultAction::Corrupt);
        assert_eq!(f.to_string(), "corrupt@upload:2");
    }

    #[test]
    fn bad_faults_say_what_is_valid() {
        for bad in [
            "boom@dnload:1",
            "stall@write:1",
            "stall@dnload:0",
            "stall@dnload:x",
            "stall",
            "stall@dnload",
            "status=errNOPE@dnload:1",
        ] {
            let e = Fault::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn counter_fires_on_the_nth() {
        let mut c = FaultCounter::new(&[
            Fault::parse("stall@getstatus:2").unwrap(),
            Fault::parse("timeout@any:5").unwrap(),
        ]);
        assert_eq!(c.hit(DfuRequest::GetStatus), None);
        assert_eq!(c.hit(DfuRequest::Dnload), None);
        assert_eq!(c.hit(DfuRequest::GetStatus), Some(FaultAction::Stall));
        assert_eq!(c.hit(DfuRequest::Abort), None);
        assert_eq!(c.hit(DfuRequest::Abort), Some(FaultAction::Timeout));
        assert_eq!(c.hit(DfuRequest::GetStatus), None);
    }
}
