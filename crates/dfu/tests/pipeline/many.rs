//! Many devices at once (`dfu::many`) and the production line (`dfu::watch`), against
//! simulated devices on one bus.

use dfu::backend::sim::SimBackend;
use dfu::many::{flash_many, select, Job, Target};
use dfu::watch::{watch, WatchNews, WatchOptions};
use dfu::{Backend, ErrorKind, Event, Firmware, FlashOptions, Selector};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

fn image(seed: u8) -> Vec<u8> {
    (0..20_000u32)
        .map(|i| (i as u8).wrapping_mul(7) ^ seed)
        .collect()
}

fn job(data: &[u8]) -> Job {
    Job {
        files: vec![Firmware::parse("app.bin", data).unwrap()],
        options: FlashOptions {
            address: Some(0x0800_0000),
            ..FlashOptions::default()
        },
        ..Job::default()
    }
}

#[test]
fn every_device_is_flashed_in_its_own_thread_and_failures_stay_on_theirs() {
    let spec = "stm32f405*3;stm32f405,serial=CUT,fault=disconnect@dnload:4;photon";
    let mut b = SimBackend::new(spec).unwrap();
    let targets = select(&mut b, &Selector::default(), &[], &[], None).unwrap();
    assert_eq!(targets.len(), 5);
    let data = image(1);
    let events = Mutex::new(vec![0usize; targets.len()]);
    let results = flash_many(&b, &targets, &job(&data), &|i, e: &Event| {
        if matches!(e, Event::Done { .. }) {
            events.lock().unwrap()[i] += 1;
        }
    });
    assert_eq!(results.len(), 5);
    for (slot, r) in results.iter().enumerate().take(3) {
        let report = r
            .result
            .as_ref()
            .unwrap_or_else(|f| panic!("{}: {f}", r.target.label()));
        assert!(report.verified);
        assert_eq!(
            b.bus()
                .read_memory(slot, 0, 0x0800_0000, data.len())
                .unwrap(),
            data
        );
        assert!(
            events.lock().unwrap()[slot] >= 2,
            "each device reports its own phases"
        );
    }
    let cut = results[3].result.as_ref().unwrap_err();
    assert_eq!(results[3].target.serial.as_deref(), Some("CUT"));
    assert_eq!(cut.error.kind(), ErrorKind::Device);
    // The photon's bootloader sits at 0x08000000: refused before anything is written.
    let refused = results[4].result.as_ref().unwrap_err();
    assert_eq!(
        refused.error.kind(),
        ErrorKind::Refused,
        "{}",
        refused.error
    );
    assert!(refused.done.written.is_empty() && refused.done.erased.is_empty());
}

#[test]
fn named_devices_are_exactly_the_set_and_a_missing_one_is_an_error() {
    let mut b = SimBackend::new("dapboot*3").unwrap();
    let all = select(&mut b, &Selector::default(), &[], &[], None).unwrap();
    let serial = |t: &Target| t.serial.clone().unwrap();
    let named = vec![serial(&all[2]), serial(&all[0])];
    let picked = select(&mut b, &Selector::default(), &named, &[], None).unwrap();
    assert_eq!(paths(&picked), paths(&[all[2].clone(), all[0].clone()]));
    let by_path = select(
        &mut b,
        &Selector::default(),
        &named[..1],
        &[all[1].path.clone()],
        None,
    );
    assert_eq!(
        paths(&by_path.unwrap()),
        paths(&[all[2].clone(), all[1].clone()])
    );
    let missing = vec![serial(&all[1]), "NOPE".to_string()];
    let err = select(&mut b, &Selector::default(), &missing, &[], None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoDevice);
    assert!(err.to_string().contains("NOPE"), "{err}");
}

/// Runs a watch to its count; returns the keys started and the results' keys and outcomes.
fn run_watch(spec: &str, count: usize, leave: bool) -> (Vec<String>, Vec<(String, bool)>) {
    let mut b = SimBackend::new(spec).unwrap();
    let mut j = job(&image(2));
    j.options.leave = leave;
    let opts = WatchOptions {
        count: Some(count),
        ..WatchOptions::default()
    };
    let (mut started, mut finished) = (Vec::new(), Vec::new());
    let n = watch(
        &mut b,
        &j,
        &opts,
        &AtomicBool::new(false),
        &|_, _| {},
        &mut |news| match news {
            WatchNews::Started(t) => started.push(t.key().to_string()),
            WatchNews::Finished(r) => finished.push((r.target.key().to_string(), r.ok())),
        },
    )
    .unwrap();
    assert_eq!(n, count);
    (started, finished)
}

#[test]
fn watch_flashes_each_plug_in_once() {
    // A stays plugged in, in DFU mode (no leave): it is not flashed a second time.
    let spec = "stm32f405,serial=A;stm32f405,serial=B,appear-after=3000;\
                stm32f405,serial=C,appear-after=6000,unplug-after=60000";
    let (started, finished) = run_watch(spec, 3, false);
    assert_eq!(started, ["A", "B", "C"]);
    assert_eq!(finished.len(), 3);
    assert!(finished.iter().all(|(_, ok)| *ok), "{finished:?}");
}

#[test]
fn watch_flashes_a_device_again_after_it_was_unplugged_and_a_failure_once() {
    let spec = "stm32f405,serial=A,unplug-after=5000;stm32f405,serial=A,appear-after=12000;\
                stm32f405,serial=BAD,appear-after=1000,fault=status=errWRITE@dnload:2";
    let (started, finished) = run_watch(spec, 3, false);
    assert_eq!(started, ["A", "BAD", "A"]);
    assert_eq!(finished.iter().filter(|(k, ok)| k == "A" && *ok).count(), 2);
    assert!(finished.contains(&("BAD".to_string(), false)));
}

#[test]
fn a_backend_hands_out_handles_on_the_same_devices() {
    let b = SimBackend::new("stm32f405,appear-after=100").unwrap();
    let mut h = b.handle();
    assert!(h.devices().unwrap().is_empty());
    h.wait(std::time::Duration::from_millis(100));
    assert_eq!(h.devices().unwrap().len(), 1);
    assert!(b.clock_is_virtual());
}

#[test]
fn a_paced_bus_flashes_devices_at_once_each_with_its_own_image_checks() {
    // Real (scaled) time: each device's waits are real sleeps, taken at the same time.
    let mut b = SimBackend::new("stm32f405*4,time-scale=200;dapboot,time-scale=200").unwrap();
    assert!(!b.clock_is_virtual());
    let targets = select(&mut b, &Selector::default(), &[], &[], None).unwrap();
    let data = image(5);
    let results = flash_many(&b, &targets, &job(&data), &|_, _| {});
    for (slot, r) in results.iter().enumerate().take(4) {
        assert!(r.result.as_ref().unwrap().verified, "{}", r.target.label());
        assert_eq!(
            b.bus()
                .read_memory(slot, 0, 0x0800_0000, data.len())
                .unwrap(),
            data
        );
    }
    // dapboot writes from its own start address only: refused, nothing written.
    let refused = results[4].result.as_ref().unwrap_err();
    assert_eq!(
        refused.error.kind(),
        ErrorKind::Refused,
        "{}",
        refused.error
    );
}

fn paths(t: &[dfu::many::Target]) -> Vec<(String, Option<String>)> {
    t.iter()
        .map(|t| (t.path.clone(), t.serial.clone()))
        .collect()
}
