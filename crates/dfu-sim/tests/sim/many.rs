//! Many devices: `PROFILE*N`, `hub=`, devices that come and go (`appear-after=`,
//! `unplug-after=`), and a paced bus (`time-scale=`) used from several threads at once.

use crate::host::{after, pattern, Host};
use dfu_proto::{State, Status};
use dfu_sim::Bus;
use std::time::Duration;

#[test]
fn devices_appear_and_are_unplugged_on_the_virtual_clock() {
    let bus = Bus::from_spec("stm32f405,appear-after=1000,unplug-after=500;dapboot").unwrap();
    let slots = |bus: &Bus| bus.devices().iter().map(|d| d.slot).collect::<Vec<_>>();
    assert_eq!(slots(&bus), [1]);
    assert!(after(&bus, Duration::from_millis(999), 0).is_none());
    let first = after(&bus, Duration::from_millis(1), 0).expect("plugged in at 1000 ms");
    assert!(!first.runtime_mode);
    assert!(after(&bus, Duration::from_millis(499), 0).is_some());
    assert!(after(&bus, Duration::from_millis(1), 0).is_none());
    // Unplugged for good; the other device stays.
    assert!(after(&bus, Duration::from_secs(3600), 0).is_none());
    assert_eq!(slots(&bus), [1]);
    assert_eq!(
        bus.control(first.id, dfu_proto::Setup::get_descriptor(1, 0, 0, 18), &[]),
        Err(dfu_sim::UsbError::NoDevice)
    );
}

#[test]
fn copies_have_their_own_serials_and_hubs_their_own_ports() {
    let bus = Bus::from_spec("stm32f405*3,hub=line;dapboot;stm32f405,hub=other").unwrap();
    let views = bus.devices();
    let serials: Vec<&str> = views.iter().map(|v| v.serial.as_str()).collect();
    assert_eq!(views.len(), 5);
    assert!(serials[0].ends_with("-1") && serials[2].ends_with("-3"));
    let ports: Vec<Vec<u8>> = views.iter().map(|v| v.port_numbers.clone()).collect();
    assert_eq!(
        ports,
        [vec![1, 1], vec![1, 2], vec![1, 3], vec![4], vec![5, 1]]
    );
    assert_eq!(bus.time_scale(), None);
}

/// Erases the first sector of the device in `slot`, writes `data`, reads it back.
fn write_and_read(bus: Bus, slot: usize, data: &[u8]) -> Result<Vec<u8>, String> {
    let h = Host::on(bus, slot);
    let st = h.dfuse_write(&[0x0800_0000], 0x0800_0000, data, 2048);
    if (st.state, st.status) != (State::DnloadIdle, Status::Ok) {
        return Err(format!("{st:?}"));
    }
    Ok(h.dfuse_read(0x0800_0000, data.len(), 2048))
}

#[test]
fn a_paced_bus_serves_threads_at_once_and_a_fault_stays_on_its_device() {
    let bus = Bus::from_spec(
        "stm32f405*3,time-scale=2000,hub=h;stm32f405,serial=BAD,time-scale=2000,fault=status=errWRITE@dnload:3",
    )
    .unwrap();
    assert_eq!(bus.time_scale(), Some(2000.0));
    let threads: Vec<_> = (0..4)
        .map(|slot| {
            let bus = bus.clone();
            std::thread::spawn(move || {
                let data = pattern(6000, slot as u8);
                std::panic::catch_unwind(|| write_and_read(bus, slot, &data))
                    .map_err(|_| "panicked".to_string())
                    .and_then(|r| r)
                    .map(|back| back == data)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results[..3], [Ok(true), Ok(true), Ok(true)]);
    assert!(results[3].is_err(), "{:?}", results[3]);
    for slot in 0..3 {
        let data = pattern(6000, slot as u8);
        assert_eq!(bus.read_memory(slot, 0, 0x0800_0000, 6000).unwrap(), data);
    }
    // The clock follows real time: it moved while the threads worked.
    assert!(bus.now() > Duration::ZERO);
}
