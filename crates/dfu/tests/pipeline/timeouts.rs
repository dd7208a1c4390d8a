//! The host's transfer timeouts: the simulator fails a request that a busy device holds
//! longer than the transfer's timeout, and the library sizes its timeouts to the operation
//! and polls again after a timeout while the device is busy.

use crate::Sim;
use dfu::backend::sim::SimBackend;
use dfu::{Backend, DfuDevice, DfuError, Op};
use dfu_proto::{DfuRequest, DfuseCommand, Setup, Transport, TransportError};
use std::time::Duration;

fn open(spec: &str) -> (SimBackend, DfuDevice) {
    let mut b = SimBackend::new(spec).unwrap();
    let info = dfu::prepare::connect(&mut b, &dfu::DeviceRequest::default(), &mut |_| {}).unwrap();
    let dev = DfuDevice::open(&mut b, info, 0).unwrap();
    (b, dev)
}

/// Plans and runs an erase, as `dfu erase` does.
fn erase(
    dev: &mut DfuDevice,
    range: Option<(u32, u64)>,
    force: bool,
) -> dfu::Result<Vec<(u32, u32)>> {
    let view = dev.survey(None)?;
    let plan = dfu::readerase::plan_erase(&view, range, force);
    assert!(
        plan.findings.iter().all(|f| !f.refuses()),
        "{:?}",
        plan.findings
    );
    let mut erased = Vec::new();
    dev.erase_planned(&plan, &mut erased, &mut |_| {})?;
    Ok(erased)
}

/// The raw transport, with nothing sized: DNLOAD mass erase, GETSTATUS (the erase starts,
/// dnBUSY), then a GETSTATUS that the device holds for the whole erase.
#[test]
fn a_request_held_longer_than_its_timeout_times_out() {
    let b = SimBackend::new("stm32f405").unwrap();
    let d = b.bus().devices()[0].id;
    let mut t = b.bus().transport(d, 0);
    assert_eq!(t.timeout(), Duration::from_secs(5));
    let erase = DfuseCommand::MassErase.encode();
    t.control_out(Setup::dfu_out(DfuRequest::Dnload, 0, 0, 1), &erase)
        .unwrap();
    let status = Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6);
    let first = t.control_in(status).unwrap();
    assert_eq!(first[4], 4, "dfuDNBUSY");
    let before = t.now();
    assert_eq!(t.control_in(status), Err(TransportError::Timeout));
    assert_eq!(t.now() - before, Duration::from_secs(5));
    assert_eq!(b.bus().stats(0).timeouts, 1);
    // Polled again (and again) it answers once the erase is done.
    assert_eq!(t.control_in(status), Err(TransportError::Timeout));
    t.set_timeout(Duration::from_secs(10));
    let done = t.control_in(status).unwrap();
    assert_eq!(done[4], 5, "dfuDNLOAD-IDLE");
    assert_eq!(b.bus().stats(0).timeouts, 2);
}

#[test]
fn mass_erase_gets_a_timeout_sized_to_it() {
    let sim = Sim::new("stm32f405");
    let (b, mut dev) = open(&sim.spec);
    assert_eq!(
        dev.expected_busy(Op::Dfuse(DfuseCommand::MassErase)),
        Duration::from_secs(16)
    );
    erase(&mut dev, None, true).unwrap();
    assert_eq!(dev.timeouts, 0, "one status request waited the whole erase");
    let st = b.bus().stats(0);
    assert_eq!((st.erases, st.timeouts), (1, 0));
    assert!(st.blocked_ms > 5000.0, "the device held a request {st:?}");
}

/// An H7 whose sectors erase four times slower than the profile says: the sized timeout
/// (2 x 1.5 s, at least 5 s) runs out, and the library asks again.
#[test]
fn slow_sector_erases_are_polled_again_after_a_timeout() {
    let sim = Sim::new("stm32h743,erase-factor=4");
    let (b, mut dev) = open(&sim.spec);
    let erased = erase(&mut dev, Some((0x0800_0000, 0x40000)), false).unwrap();
    assert_eq!(erased.len(), 2);
    assert_eq!(dev.timeouts, 2, "one timeout per 6 s erase");
    let st = b.bus().stats(0);
    assert_eq!((st.erases, st.timeouts), (2, 2));
}

/// A device that never finishes: the wait ends with a timeout error, within the bound.
#[test]
fn a_device_busy_beyond_the_bound_ends_with_a_timeout() {
    let sim = Sim::new("stm32h743,erase-factor=100");
    let (b, mut dev) = open(&sim.spec);
    let start = b.now();
    let op = Op::Dfuse(DfuseCommand::ErasePage(0x0800_0000));
    let limit = dev.busy_limit(op);
    let e = erase(&mut dev, Some((0x0800_0000, 1)), false).unwrap_err();
    assert!(matches!(e, DfuError::Timeout { op: o } if o == op), "{e}");
    let took = b.now() - start;
    assert!(
        took > limit && took < limit + Duration::from_secs(20),
        "{took:?}"
    );
}

mod liar_props {
    use crate::liar::{drive, drive_with};
    use proptest::prelude::*;
    use std::time::Duration;

    /// Mostly the truth (a zero byte), now and then a lie.
    fn script() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![12 => Just(0u8), 1 => any::<u8>()], 0..2000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        #[test]
        fn a_lying_dfuse_device_never_panics(script in script()) {
            drive("stm32f405", 0x0800_0000, &script);
        }

        #[test]
        fn a_lying_plain_device_never_panics(script in script()) {
            drive("dapboot", 0x0800_2000, &script);
        }
    }

    /// Past connect, every GETSTATUS says "dfuDNBUSY, poll 0xFFFFFF ms" (4.6 hours): the
    /// first wait for the device ends with a timeout after the bounded wait, not hours.
    #[test]
    fn busy_forever_with_hour_long_polls_ends_with_a_timeout() {
        let mut script = vec![0; 12];
        for _ in 0..200 {
            script.extend([255, 6, 0, 0xff, 0xff, 0xff, 4, 0]);
        }
        let status = dfu_proto::DfuRequest::GetStatus as u8;
        let (took, r) = drive_with("stm32f405", 0x0800_0000, &script, Some(status));
        assert!(matches!(r, Err(dfu::DfuError::Timeout { .. })), "{r:?}");
        assert!(took > Duration::from_secs(60), "{took:?}");
    }
}
