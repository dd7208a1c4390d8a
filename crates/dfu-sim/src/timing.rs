//! The timing model (virtual time; nothing sleeps).
//!
//! - Bus: every control transfer costs 1 ms per started KiB of its data stage (the
//!   OUT data, or the IN wLength asked for), at least 1 ms: full-speed USB moves 64-byte
//!   packets in 1 ms frames and a short control transfer fits one frame (assumed model).
//! - Device: an erase costs `timing.erase_ms(sector size)`, a mass erase
//!   `timing.mass_erase_ms`, programming `program_unit_ns` per program unit touched.
//!   DfuSe set-address costs nothing; manifestation costs `poll_command_ms` (assumed).
//!   The operation starts at the GETSTATUS that reports dfuDNBUSY; a request that
//!   arrives while the device is busy waits until it is done.
//!
//! [`physical_limit`] applies the same model to an ideal host: it sends each request as
//! soon as the device can take it and never sleeps longer than needed.

use crate::memory::Flash;
use dfu_profiles::{Profile, Timing};
use std::collections::BTreeSet;
use std::time::Duration;

/// Bus time of a control transfer with `bytes` in its data stage.
pub(crate) fn bus_time(bytes: usize) -> Duration {
    Duration::from_millis((bytes as u64).div_ceil(1024).max(1))
}

/// Time to erase one sector of `size` bytes.
pub(crate) fn erase_time(timing: &Timing, size: u32) -> Duration {
    Duration::from_millis(u64::from(timing.erase_ms(size)))
}

/// Time to program `len` bytes at `address` (units touched x unit time).
pub(crate) fn program_time(timing: &Timing, address: u64, len: u64) -> Duration {
    Duration::from_nanos(
        Flash::units(address, len, timing.program_unit)
            .saturating_mul(u64::from(timing.program_unit_ns)),
    )
}

/// bwPollTimeout reported while programming on `alt`.
pub(crate) fn poll_program_ms(profile: &Profile, alt: u8) -> u32 {
    profile
        .alts
        .get(usize::from(alt))
        .and_then(|a| a.poll_program_ms)
        .unwrap_or(profile.timing.poll_program_ms)
}

/// Bus time of the exchange around one device operation: the request itself (`bytes`
/// of data), the GETSTATUS that starts the operation and the GETSTATUS that finds it done.
fn exchange(bytes: usize) -> Duration {
    bus_time(bytes) + bus_time(6) * 2
}

/// The least time writing `runs` (address, length) to alt setting `alt` of a device can
/// take: erasing the sectors the runs touch, programming them and the bus time of the
/// transfers, computed with the simulator's own model for an ideal host (one erase per
/// sector, one DfuSe set-address per run, full transfer-size blocks, no wasted waits).
/// Plain DFU devices erase as they write, so their erase time is part of each block.
pub fn physical_limit(profile: &Profile, alt: u8, runs: &[(u32, u64)]) -> Duration {
    let Some(layout) = profile.alts.get(usize::from(alt)).map(|a| a.layout()) else {
        return Duration::ZERO;
    };
    let t = &profile.timing;
    let xfer = u64::from(profile.dfu.transfer_size.max(1));
    let mut total = Duration::ZERO;
    let mut erased: BTreeSet<u32> = BTreeSet::new();
    for &(start, len) in runs.iter().filter(|r| r.1 > 0) {
        if profile.is_dfuse() {
            for s in layout.sectors_overlapping(start, len) {
                if s.flags.erasable() && erased.insert(s.start) {
                    total += exchange(5) + erase_time(t, s.size);
                }
            }
            total += exchange(5);
        }
        let mut off = 0u64;
        while off < len {
            let n = (len - off).min(xfer);
            let addr = u64::from(start) + off;
            total += exchange(n as usize) + program_time(t, addr, n);
            if !profile.is_dfuse() {
                for s in u32::try_from(addr)
                    .map(|a| layout.sectors_overlapping(a, n))
                    .unwrap_or_default()
                {
                    if s.flags.erasable() && erased.insert(s.start) {
                        total += erase_time(t, s.size);
                    }
                }
            }
            off += n;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_time_is_one_ms_per_started_kib() {
        assert_eq!(bus_time(0), Duration::from_millis(1));
        assert_eq!(bus_time(6), Duration::from_millis(1));
        assert_eq!(bus_time(1024), Duration::from_millis(1));
        assert_eq!(bus_time(1025), Duration::from_millis(2));
        assert_eq!(bus_time(4096), Duration::from_millis(4));
    }

    #[test]
    fn photon_user_part_limit() {
        let p = Profile::builtin("photon").unwrap();
        // 4 KiB into the 128 KiB user-part sector: one erase (1 s), one set address,
        // one 4 KiB block (1024 words x 16 us).
        let d = physical_limit(&p, 0, &[(0x080A_0000, 4096)]);
        let expected = Duration::from_millis(3 + 1000)
            + Duration::from_millis(3)
            + Duration::from_millis(4 + 2)
            + Duration::from_micros(1024 * 16);
        assert_eq!(d, expected);
        assert_eq!(physical_limit(&p, 9, &[(0, 1)]), Duration::ZERO);
        assert_eq!(physical_limit(&p, 0, &[]), Duration::ZERO);
    }

    #[test]
    fn plain_dfu_erases_as_it_writes() {
        let p = Profile::builtin("dapboot").unwrap();
        let d = physical_limit(&p, 0, &[(0x0800_2000, 2048)]);
        let block = Duration::from_millis(1 + 2) + Duration::from_nanos(512 * 52_500);
        assert_eq!(d, block * 2 + Duration::from_millis(40));
        assert_eq!(poll_program_ms(&p, 0), 100);
        let t = Profile::builtin("tinyusb").unwrap();
        assert_eq!(poll_program_ms(&t, 1), 100);
    }
}
