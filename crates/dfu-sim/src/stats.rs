//! Statistics of one run, per device slot (written to `stats=` files).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The transfer kinds counted in [`Stats::transfers`].
pub const TRANSFER_KINDS: &[&str] = &[
    "DNLOAD",
    "DNLOAD_COMMAND",
    "UPLOAD",
    "GETSTATUS",
    "CLRSTATUS",
    "GETSTATE",
    "ABORT",
    "DETACH",
    "STANDARD",
    "OTHER",
];

/// What one simulated device did during a run. Times are milliseconds of virtual time
/// (fractions are kept: programming is counted in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Virtual time since the bus was created.
    pub virtual_time_ms: f64,
    /// Time the device spent erasing, programming and manifesting.
    pub device_busy_ms: f64,
    /// Time the host spent waiting (sleeping) on the virtual clock.
    pub host_wait_ms: f64,
    /// Time requests were held because the device was busy.
    pub blocked_ms: f64,
    /// Time the control transfers to this device took on the bus.
    pub bus_ms: f64,
    /// Control transfers by kind: DNLOAD, DNLOAD_COMMAND (DfuSe wValue 0), UPLOAD,
    /// GETSTATUS, CLRSTATUS, GETSTATE, ABORT, DETACH, STANDARD, OTHER.
    pub transfers: BTreeMap<String, u64>,
    /// Bytes sent to the device in DNLOAD requests (commands included).
    pub bytes_down: u64,
    /// Bytes the device returned to UPLOAD requests.
    pub bytes_up: u64,
    /// Erase operations (a mass erase counts once).
    pub erases: u64,
    /// Bytes erased.
    pub erased_bytes: u64,
    /// Bytes programmed.
    pub programmed_bytes: u64,
    /// Distinct sectors that received data.
    pub sectors_written: u64,
    /// Times the device reset or left the bus (host resets, leave, detach, faults).
    pub resets: u64,
    /// Requests the host gave up on because the busy device held them longer than the
    /// transfer's timeout.
    #[serde(default)]
    pub timeouts: u64,
}

/// Running counters of one device slot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    pub device_busy: Duration,
    pub blocked: Duration,
    pub bus: Duration,
    pub transfers: BTreeMap<&'static str, u64>,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub erases: u64,
    pub erased_bytes: u64,
    pub programmed_bytes: u64,
    pub sectors: BTreeSet<(u8, u32)>,
    pub resets: u64,
    pub timeouts: u64,
}

impl Counters {
    pub(crate) fn count(&mut self, kind: &'static str) {
        *self.transfers.entry(kind).or_default() += 1;
    }

    pub(crate) fn snapshot(&self, now: Duration, host_wait: Duration) -> Stats {
        let ms = |d: Duration| (d.as_nanos() as f64 / 1000.0).round() / 1000.0;
        let mut transfers: BTreeMap<String, u64> =
            TRANSFER_KINDS.iter().map(|k| (k.to_string(), 0)).collect();
        for (k, v) in &self.transfers {
            transfers.insert(k.to_string(), *v);
        }
        Stats {
            virtual_time_ms: ms(now),
            device_busy_ms: ms(self.device_busy),
            host_wait_ms: ms(host_wait),
            blocked_ms: ms(self.blocked),
            bus_ms: ms(self.bus),
            transfers,
            bytes_down: self.bytes_down,
            bytes_up: self.bytes_up,
            erases: self.erases,
            erased_bytes: self.erased_bytes,
            programmed_bytes: self.programmed_bytes,
            sectors_written: self.sectors.len() as u64,
            resets: self.resets,
            timeouts: self.timeouts,
        }
    }
}

impl Stats {
    /// Transfers of one kind (0 when none).
    pub fn transfers_of(&self, kind: &str) -> u64 {
        self.transfers.get(kind).copied().unwrap_or(0)
    }

    /// All control transfers.
    pub fn total_transfers(&self) -> u64 {
        self.transfers.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_lists_every_kind_and_converts_times() {
        let mut c = Counters::default();
        c.count("GETSTATUS");
        c.count("GETSTATUS");
        c.count("DNLOAD");
        c.device_busy = Duration::from_micros(1500);
        c.sectors.insert((0, 0x0800_0000));
        c.sectors.insert((0, 0x0800_4000));
        let s = c.snapshot(Duration::from_secs(2), Duration::from_millis(10));
        assert_eq!(s.transfers.len(), TRANSFER_KINDS.len());
        assert_eq!(s.transfers_of("GETSTATUS"), 2);
        assert_eq!(s.transfers_of("UPLOAD"), 0);
        assert_eq!(s.transfers_of("nonsense"), 0);
        assert_eq!(s.total_transfers(), 3);
        assert_eq!(s.virtual_time_ms, 2000.0);
        assert_eq!(s.host_wait_ms, 10.0);
        assert!((s.device_busy_ms - 1.5).abs() < 1e-9);
        assert_eq!(s.sectors_written, 2);
        let json = serde_json::to_string(&s).unwrap();
        let back: Stats = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
