//! State files persist memory across runs; stats files describe one run.

use crate::host::{pattern, Host};
use dfu_proto::{DfuseCommand, Setup};
use dfu_sim::{Bus, SimError, Stats};

#[test]
fn state_persists_across_two_buses() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("photon.json");
    let spec = format!("photon,state={}", state.display());
    let data = pattern(10_000, 3);
    {
        let h = Host::new(&spec);
        assert!(state.exists(), "created at once");
        h.dfuse_write(&[0x080A_0000], 0x080A_0000, &data, 4096);
        // Dropping the last handle writes the file.
    }
    let text = std::fs::read_to_string(&state).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["profile"], "photon");
    // The bootloader's module header page (0x08000000) and the three pages written.
    let pages: Vec<&str> = json["alts"][0]["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        pages,
        ["0x08000000", "0x080A0000", "0x080A1000", "0x080A2000"]
    );
    assert!(json["alts"][1]["pages"].as_array().unwrap().is_empty());
    // The next run starts fresh in DFU mode with the same memory.
    let h = Host::new(&spec);
    assert_eq!(h.status().unwrap().state, dfu_proto::State::DfuIdle);
    assert_eq!(h.dfuse_read(0x080A_0000, 10_000, 4096), data);
    // Flush explicitly, then a third bus sees the same.
    h.bus.flush().unwrap();
    let third = Bus::from_spec(&spec).unwrap();
    assert_eq!(
        third.read_memory(0, 0, 0x080A_0000, 16).unwrap(),
        data[..16]
    );
    assert!(matches!(
        third.read_memory(0, 7, 0, 1),
        Err(SimError::NoSuchSlot { .. })
    ));
}

#[test]
fn state_for_another_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("dev.json");
    drop(Bus::from_spec(&format!("photon,state={}", state.display())).unwrap());
    let e = Bus::from_spec(&format!("electron,state={}", state.display())).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SimError::StateProfileMismatch { .. }));
    assert!(msg.contains("photon") && msg.contains("electron"), "{msg}");
}

#[test]
fn system_modules_are_installed_only_when_the_state_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("p.json");
    let spec = format!("photon,state={},system-version=2", state.display());
    {
        let h = Host::new(&spec);
        // Overwrite part 1's first sector with an erase.
        h.command(DfuseCommand::ErasePage(0x0802_0000)).unwrap();
    }
    let bus = Bus::from_spec(&spec).unwrap();
    assert_eq!(bus.read_memory(0, 0, 0x0802_0184, 4).unwrap(), [0xFF; 4]);
    assert_ne!(bus.read_memory(0, 0, 0x0806_0184, 4).unwrap(), [0xFF; 4]);
}

#[test]
fn stats_file_counts_the_run_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let spec = format!("stm32f405,stats={}", stats.display());
    std::fs::write(&stats, "old contents").unwrap();
    {
        let h = Host::new(&spec);
        h.bus
            .control(h.dev, Setup::get_descriptor(1, 0, 0, 18), &[])
            .unwrap();
        h.dfuse_write(
            &[0x0800_0000, 0x0800_4000],
            0x0800_3000,
            &pattern(8192, 1),
            2048,
        );
        h.bus.advance(std::time::Duration::from_millis(250));
    }
    let s: Stats = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(s.transfers_of("STANDARD"), 1);
    assert_eq!(s.transfers_of("DNLOAD"), 4);
    assert_eq!(s.transfers_of("DNLOAD_COMMAND"), 3);
    assert_eq!(s.transfers_of("GETSTATUS"), 14);
    assert_eq!(s.erases, 2);
    assert_eq!(s.erased_bytes, 32768);
    assert_eq!(s.programmed_bytes, 8192);
    assert_eq!(s.sectors_written, 2);
    assert_eq!(s.bytes_down, 8192 + 15);
    assert_eq!(s.resets, 0);
    assert!(s.host_wait_ms >= 250.0);
    assert!(s.device_busy_ms >= 500.0);
    let total = s.bus_ms + s.blocked_ms + s.host_wait_ms;
    assert!((total - s.virtual_time_ms).abs() < 1e-6, "{s:?}");
    // Each run replaces the file.
    drop(Bus::from_spec(&spec).unwrap());
    let s: Stats = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(s.total_transfers(), 0);
}

#[test]
fn transport_trait_drives_the_device() {
    use dfu_proto::{DfuRequest, GetStatus, State, Transport, TransportError};
    let bus = Bus::from_spec("stm32f405").unwrap();
    let dev = bus.devices()[0].id;
    let mut t = bus.transport(dev, 0);
    assert_eq!(t.device(), dev);
    let s = t
        .control_in(Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6))
        .unwrap();
    assert_eq!(GetStatus::parse(&s).unwrap().state, State::DfuIdle);
    t.control_out(
        Setup::dfu_out(DfuRequest::Dnload, 0, 0, 5),
        &DfuseCommand::SetAddress(0x0800_0000).encode(),
    )
    .unwrap();
    t.set_alt_setting(0, 1).unwrap();
    assert_eq!(t.set_alt_setting(0, 9), Err(TransportError::Stall));
    let before = t.now();
    t.wait(std::time::Duration::from_millis(40));
    assert_eq!(t.now() - before, std::time::Duration::from_millis(40));
    t.reset().unwrap();
    assert_eq!(
        t.control_in(Setup::dfu_in(DfuRequest::GetStatus, 0, 0, 6)),
        Err(TransportError::Disconnected)
    );
    assert_eq!(bus.devices().len(), 1);
}

#[test]
fn the_bus_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Bus>();
    assert_send_sync::<dfu_sim::SimTransport>();
    let bus = Bus::from_spec("stm32f405;dapboot").unwrap();
    let handles: Vec<_> = (0..2)
        .map(|slot| {
            let bus = bus.clone();
            std::thread::spawn(move || {
                let h = Host::on(bus, slot);
                for _ in 0..50 {
                    h.status().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(bus.stats(0).transfers_of("GETSTATUS"), 50);
    assert_eq!(bus.stats(1).transfers_of("GETSTATUS"), 50);
    assert_eq!(bus.now(), std::time::Duration::from_millis(100));
}
