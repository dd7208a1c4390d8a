//! `hostile=SEED`: a device that lies. Seeded, so a failing seed can be replayed. Now and
//! then, and more often where the host parses what it gets, the device answers with
//! garbage or extreme values instead of the truth:
//!
//! - descriptors and strings (GET_DESCRIPTOR): random bytes, truncated or padded replies,
//!   flipped bytes, impossible length fields;
//! - GETSTATUS: any state and status byte, poll timeouts up to 0xFFFFFF ms; from some point
//!   on it may report dfuDNBUSY forever;
//! - UPLOAD: replies longer or shorter than asked, garbage;
//! - any request: a STALL, a timeout, or the device leaves the bus for good.
//!
//! The enumeration data the bus reports for listing (the configuration descriptor) is
//! distorted the same way, with its own generator so that listing does not shift what the
//! requests see.

use crate::device::Device;
use crate::error::{DeviceId, UsbError};
use crate::fault::FAULT_TIMEOUT;
use crate::spec::Mode;
use dfu_proto::request::{RequestKind, STD_GET_DESCRIPTOR};
use dfu_proto::{DfuRequest, Setup};
use std::time::Duration;

/// What a hostile device (if `dev` is one) makes of its true answer `reply` to `setup`;
/// the second value is the virtual time a timeout costs the host.
pub(crate) fn tell(
    dev: &mut Device,
    mode: Mode,
    setup: &Setup,
    reply: Result<Vec<u8>, UsbError>,
) -> (Result<Vec<u8>, UsbError>, Duration) {
    let (Some(h), Ok(truth)) = (dev.hostile.as_mut(), &reply) else {
        return (reply, Duration::ZERO);
    };
    match h.lie(setup, truth) {
        Lie::Reply(r) if setup.is_in() => (Ok(r), Duration::ZERO),
        Lie::Truth | Lie::Reply(_) => (reply, Duration::ZERO),
        Lie::Stall => (Err(UsbError::Stall), Duration::ZERO),
        Lie::Timeout => {
            dev.counters.timeouts += 1;
            (Err(UsbError::Timeout), FAULT_TIMEOUT)
        }
        Lie::Disconnect => {
            dev.go_away(None, mode);
            (Err(UsbError::NoDevice), Duration::ZERO)
        }
    }
}

/// The configuration descriptor the bus reports for listing: distorted when the device is
/// hostile (the same way for one incarnation `id`).
pub(crate) fn enumerated(seed: Option<u64>, id: DeviceId, config: Vec<u8>) -> Vec<u8> {
    match seed {
        Some(seed) => {
            let len = config.len();
            Hostile::new(seed ^ u64::from(id.0)).distort(&config, len)
        }
        None => config,
    }
}

/// What the hostile device does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lie {
    /// Nothing: the true answer goes out.
    Truth,
    /// This reply instead of the true one (IN requests).
    Reply(Vec<u8>),
    /// A STALL.
    Stall,
    /// The transfer times out.
    Timeout,
    /// The device leaves the bus.
    Disconnect,
}

/// A seeded liar (xorshift64*).
#[derive(Debug, Clone)]
pub(crate) struct Hostile {
    state: u64,
    /// Once set, every GETSTATUS reports dfuDNBUSY with a huge poll timeout.
    busy_forever: bool,
}

impl Hostile {
    pub(crate) fn new(seed: u64) -> Self {
        Hostile {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            busy_forever: false,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True once in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Decides what happens to `setup`, whose true IN reply is `truth`.
    pub(crate) fn lie(&mut self, setup: &Setup, truth: &[u8]) -> Lie {
        if self.one_in(400) {
            return Lie::Disconnect;
        }
        if self.one_in(60) {
            return Lie::Stall;
        }
        if self.one_in(150) {
            return Lie::Timeout;
        }
        let class = setup.kind() == RequestKind::Class;
        let asked = usize::from(setup.length);
        match setup.dfu_request().filter(|_| class) {
            Some(DfuRequest::GetStatus) => self.status(truth),
            Some(DfuRequest::Upload) if self.one_in(8) => Lie::Reply(self.resized(truth, asked)),
            Some(DfuRequest::GetState) if self.one_in(8) => Lie::Reply(self.bytes(1)),
            None if setup.request == STD_GET_DESCRIPTOR && setup.is_in() && self.one_in(4) => {
                Lie::Reply(self.distort(truth, asked))
            }
            _ => Lie::Truth,
        }
    }

    fn status(&mut self, truth: &[u8]) -> Lie {
        if !self.busy_forever && self.one_in(300) {
            self.busy_forever = true;
        }
        if self.busy_forever {
            return Lie::Reply(vec![0, 0xff, 0xff, 0xff, 4, 0]);
        }
        if !self.one_in(12) {
            return Lie::Truth;
        }
        let mut b = truth.to_vec();
        b.resize(6, 0);
        match self.below(5) {
            0 => b[0] = self.next() as u8,
            1 => b[4] = self.next() as u8,
            2 => b[1..4].copy_from_slice(&[0xff, 0xff, 0xff]),
            3 => b[1..4].copy_from_slice(&self.bytes(3)),
            _ => b.truncate(self.below(6) as usize),
        }
        Lie::Reply(b)
    }

    /// An UPLOAD reply shorter or longer than asked, or garbage of the asked length.
    fn resized(&mut self, truth: &[u8], asked: usize) -> Vec<u8> {
        match self.below(3) {
            0 => truth[..truth.len().min(self.below(asked as u64 + 1) as usize)].to_vec(),
            1 => {
                let extra = 1 + self.below(64) as usize;
                let mut b = truth.to_vec();
                b.extend(self.bytes(extra));
                b
            }
            _ => self.bytes(asked),
        }
    }

    /// A descriptor reply distorted: garbage, truncated, padded, flipped, or with an
    /// impossible length byte.
    pub(crate) fn distort(&mut self, truth: &[u8], asked: usize) -> Vec<u8> {
        let mut b = truth.to_vec();
        match self.below(6) {
            0 => {
                let n = self.below(asked as u64 + 1) as usize;
                b = self.bytes(n);
            }
            1 => b.truncate(self.below(b.len() as u64 + 1) as usize),
            2 => {
                let n = 1 + self.below(32) as usize;
                b.extend(self.bytes(n));
            }
            3 if !b.is_empty() => {
                for _ in 0..1 + self.below(4) {
                    let i = self.below(b.len() as u64) as usize;
                    b[i] = self.next() as u8;
                }
            }
            4 if !b.is_empty() => b[0] = [0, 1, 2, 0xff][self.below(4) as usize],
            _ if b.len() > 2 => {
                // Odd UTF-16: an unpaired surrogate or an odd byte count.
                let i = 2 + (self.below(b.len() as u64 - 2) as usize & !1);
                b[i..]
                    .iter_mut()
                    .take(2)
                    .zip([0x00, 0xd8])
                    .for_each(|(x, y)| *x = y);
                if self.one_in(2) {
                    b.push(0x41);
                }
            }
            _ => {}
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_tells_the_same_lies() {
        let setup = Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6);
        let truth = [0, 0, 0, 0, 2, 0];
        let run = |seed| {
            let mut h = Hostile::new(seed);
            (0..500).map(|_| h.lie(&setup, &truth)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let lies = run(7).iter().filter(|l| **l != Lie::Truth).count();
        assert!(lies > 10 && lies < 500, "{lies}");
    }
}
