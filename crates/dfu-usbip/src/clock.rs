//! Mapping the simulator's virtual clock onto real time.
//!
//! The simulator never sleeps: an erase or a program step moves its clock forward at
//! once. A real host on the other side of a socket, though, waits in real time (it sleeps
//! the poll timeout a device reports, waits for a device to come back after a reset). The
//! server keeps the two clocks in step at a fixed ratio, `scale` = real seconds per
//! virtual second:
//!
//! * before a request, the virtual clock is moved forward to
//!   `virtual_start + real_elapsed / scale` (the device "lived" while the host waited);
//! * after a request that consumed virtual time beyond that point (a sector erase), the
//!   server sleeps `lead * scale` before answering, so the host sees a busy period of
//!   realistic shape but `1/scale` times shorter.
//!
//! With `scale = 1` the device keeps real-hardware timing; the default `0.05` makes a
//! 1.5 s sector erase take 75 ms.

use std::time::{Duration, Instant};

/// The default ratio of real time to virtual time.
pub const DEFAULT_TIME_SCALE: f64 = 0.05;

/// The longest single catch-up sleep (a safety bound; no device is busy this long).
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Keeps a virtual clock in step with a real one.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    real_start: Instant,
    virtual_start: Duration,
    scale: f64,
}

impl Clock {
    /// A clock whose virtual time is `virtual_now` at this instant. `scale` must be
    /// finite and positive (the server's options check it).
    pub fn new(virtual_now: Duration, scale: f64) -> Self {
        Clock {
            real_start: Instant::now(),
            virtual_start: virtual_now,
            scale,
        }
    }

    /// Real seconds per virtual second.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The virtual time that corresponds to real time `at`.
    pub fn virtual_at(&self, at: Instant) -> Duration {
        let real = at.saturating_duration_since(self.real_start);
        self.virtual_start + Duration::from_secs_f64(real.as_secs_f64() / self.scale)
    }

    /// How far the virtual clock must move forward so it is not behind real time
    /// (zero when it is level or ahead).
    pub fn catch_up(&self, virtual_now: Duration) -> Duration {
        self.virtual_at(Instant::now()).saturating_sub(virtual_now)
    }

    /// How long to sleep (real time) so real time reaches `virtual_now`.
    pub fn lead(&self, virtual_now: Duration) -> Duration {
        let ahead = virtual_now.saturating_sub(self.virtual_at(Instant::now()));
        Duration::from_secs_f64(ahead.as_secs_f64() * self.scale).min(MAX_SLEEP)
    }

    /// A device-reported poll timeout (milliseconds) in real time: scaled and rounded
    /// up, so a non-zero timeout stays non-zero.
    pub fn scale_poll_ms(&self, ms: u32) -> u32 {
        if ms == 0 {
            return 0;
        }
        let scaled = (f64::from(ms) * self.scale).ceil();
        if scaled >= f64::from(0x00FF_FFFF) {
            0x00FF_FFFF
        } else {
            // Positive, finite and below 2^24: the conversion is exact.
            (scaled as u32).max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeouts_scale_and_never_vanish() {
        let c = Clock::new(Duration::ZERO, 0.05);
        assert_eq!(c.scale_poll_ms(0), 0);
        assert_eq!(c.scale_poll_ms(1), 1);
        assert_eq!(c.scale_poll_ms(100), 5);
        assert_eq!(c.scale_poll_ms(1000), 50);
        let one = Clock::new(Duration::ZERO, 1.0);
        assert_eq!(one.scale_poll_ms(0xFF_FFFF), 0xFF_FFFF);
        let big = Clock::new(Duration::ZERO, 1000.0);
        assert_eq!(big.scale_poll_ms(0xFF_FFFF), 0xFF_FFFF);
    }

    #[test]
    fn virtual_time_runs_faster_than_real_time() {
        let c = Clock::new(Duration::from_secs(7), 0.05);
        let later = c.real_start + Duration::from_millis(100);
        assert_eq!(c.virtual_at(later), Duration::from_secs(9));
        // A clock far ahead asks for a sleep, bounded; one behind asks for none.
        assert!(c.lead(Duration::from_secs(3600)) <= MAX_SLEEP);
        assert_eq!(c.lead(Duration::ZERO), Duration::ZERO);
        assert_eq!(c.catch_up(Duration::from_secs(3600)), Duration::ZERO);
    }
}
