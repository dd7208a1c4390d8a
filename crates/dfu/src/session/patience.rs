//! How long to wait for a busy device. A device that erases or programs NAKs the requests
//! that follow until it is done, and the host gives each control transfer a timeout: 5 s
//! by default, which an STM32F4 mass erase (up to 16 s) or a slow H7 sector exceeds. So
//! the transfers that wait for an operation get a timeout sized to it (the profile's
//! timing, doubled for the datasheet maximum, plus the poll timeout the device reported),
//! and a transfer that still times out while the device is busy is sent again, within a
//! bound. Poll timeouts are capped: a device that asks for hours is asked again sooner.

use crate::device::{DfuDevice, BUSY_LIMIT};
use crate::error::Op;
use dfu_proto::{DfuseCommand, DEFAULT_TIMEOUT};
use std::time::Duration;

/// The longest single wait a reported poll timeout can cause (bwPollTimeout goes up to
/// 0xFFFFFF ms, 4.6 hours).
pub const MAX_POLL: Duration = Duration::from_secs(5);

impl DfuDevice {
    /// How long the device should be busy with `op`, from its profile (zero when unknown).
    pub fn expected_busy(&self, op: Op) -> Duration {
        let Some(p) = self.info.profile.as_ref() else {
            return Duration::ZERO;
        };
        let t = &p.timing;
        let sector = |address: u32| {
            self.layout
                .as_ref()
                .and_then(|l| l.sector_at(address))
                .map_or(0, |s| t.erase_ms(s.size))
        };
        let ms = match op {
            Op::Dfuse(DfuseCommand::MassErase) | Op::Dfuse(DfuseCommand::ReadUnprotect) => {
                u64::from(t.mass_erase_ms)
            }
            Op::Dfuse(DfuseCommand::ErasePage(a)) => u64::from(sector(a)),
            Op::Write { len, .. } => t.program_ns(len as u64) / 1_000_000,
            Op::Block { len, .. } => {
                let largest = t.erase.iter().map(|e| e.ms).max().unwrap_or(0);
                u64::from(largest) + t.program_ns(len as u64) / 1_000_000
            }
            Op::Manifest | Op::FinalDownload => u64::from(t.poll_command_ms),
            _ => 0,
        };
        Duration::from_millis(ms)
    }

    /// The transfer timeout for the requests that wait on `op`: the default, or twice the
    /// expected busy time plus the reported poll timeout when that is longer.
    pub fn busy_timeout(&self, op: Op, poll: Duration) -> Duration {
        DEFAULT_TIMEOUT.max(self.expected_busy(op) * 2 + poll.min(MAX_POLL))
    }

    /// How long the device may stay busy with `op` before the host gives up.
    pub fn busy_limit(&self, op: Op) -> Duration {
        BUSY_LIMIT + self.expected_busy(op) * 2
    }
}

/// The time to sleep after a status that asks for `poll`: at least 1 ms, at most
/// [`MAX_POLL`].
pub fn poll_wait(poll: Duration) -> Duration {
    poll.clamp(Duration::from_millis(1), MAX_POLL)
}
