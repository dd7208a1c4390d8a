//! DfuSe: commands, download/upload round trips, flash rules, leave behaviours, timing.

use crate::host::{after, pattern, Host};
use dfu_proto::{DfuRequest, DfuseCommand, State, Status};
use dfu_sim::UsbError;
use std::time::Duration;

#[test]
fn erase_set_address_download_upload_round_trip() {
    let h = Host::new("stm32f405");
    let data = pattern(5000, 7);
    let st = h.dfuse_write(&[0x0800_4000], 0x0800_4000, &data, 2048);
    assert_eq!((st.state, st.status), (State::DnloadIdle, Status::Ok));
    assert_eq!(h.bus.read_memory(0, 0, 0x0800_4000, 5000).unwrap(), data);
    let back = h.dfuse_read(0x0800_4000, 5000, 2048);
    assert_eq!(back, data);
    // Beyond the data the sector is erased.
    assert_eq!(h.dfuse_read(0x0800_4000 + 5000, 16, 2048), [0xFF; 16]);
    let s = h.bus.stats(0);
    assert_eq!(s.erases, 1);
    assert_eq!(s.erased_bytes, 16384);
    assert_eq!(s.programmed_bytes, 5000);
    assert_eq!(s.sectors_written, 1);
    assert_eq!(s.transfers_of("DNLOAD"), 3);
    assert_eq!(s.transfers_of("UPLOAD"), 4);
    assert!(s.transfers_of("DNLOAD_COMMAND") >= 4);
    assert_eq!(s.bytes_up, 5016);
    // 3 data blocks + (1 erase + 3 set address) 5-byte commands.
    assert_eq!(s.bytes_down, 5000 + 4 * 5);
}

#[test]
fn write_without_erase_fails_with_errprog_and_changes_nothing() {
    let h = Host::new("stm32f405");
    let first = pattern(2048, 1);
    h.dfuse_write(&[0x0800_0000], 0x0800_0000, &first, 2048);
    let second: Vec<u8> = first.iter().map(|b| !b).collect();
    let st = h.dfuse_write(&[], 0x0800_0000, &second, 2048);
    assert_eq!((st.state, st.status), (State::Error, Status::ErrProg));
    assert_eq!(h.bus.read_memory(0, 0, 0x0800_0000, 2048).unwrap(), first);
    // CLRSTATUS returns to dfuIDLE.
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
}

#[test]
fn read_only_sectors_refuse_writes_and_erases() {
    let h = Host::new("photon");
    // The DCT sectors at 0x08004000 are type 'a' (read-only).
    let st = h.dfuse_write(&[], 0x0800_4000, &pattern(4096, 3), 4096);
    assert_eq!((st.state, st.status), (State::Error, Status::ErrWrite));
    assert_eq!(
        h.bus.read_memory(0, 0, 0x0800_4000, 4096).unwrap(),
        vec![0xFF; 4096]
    );
    h.simple(DfuRequest::ClrStatus).unwrap();
    let st = h.command(DfuseCommand::ErasePage(0x0800_4000)).unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrTarget));
    h.simple(DfuRequest::ClrStatus).unwrap();
    let st = h.command(DfuseCommand::ErasePage(0x0900_0000)).unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrAddress));
    h.simple(DfuRequest::ClrStatus).unwrap();
    // A write running past the end of memory.
    let st = h.dfuse_write(&[0x080E_0000], 0x080F_F800, &pattern(4096, 1), 4096);
    assert_eq!((st.state, st.status), (State::Error, Status::ErrAddress));
    assert_eq!(h.bus.stats(0).programmed_bytes, 0);
}

#[test]
fn protocol_rules() {
    let h = Host::new("stm32f405");
    // Get commands.
    assert_eq!(h.upload(0, 4).unwrap(), [0x00, 0x21, 0x41, 0x92]);
    h.simple(DfuRequest::Abort).unwrap();
    // Block 1 is not a valid block number.
    assert_eq!(h.dnload(1, &[0; 16]), Err(UsbError::Stall));
    let st = h.status().unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrStalledPkt));
    h.simple(DfuRequest::ClrStatus).unwrap();
    // Unknown command bytes STALL.
    assert_eq!(h.dnload(0, &[0x55, 1, 2, 3, 4]), Err(UsbError::Stall));
    h.simple(DfuRequest::ClrStatus).unwrap();
    // Upload is refused in dfuDNLOAD-IDLE (ABORT first).
    h.command(DfuseCommand::SetAddress(0x0800_0000)).unwrap();
    assert_eq!(h.upload(2, 64), Err(UsbError::Stall));
    h.simple(DfuRequest::ClrStatus).unwrap();
    // Blocks larger than wTransferSize STALL.
    assert_eq!(h.dnload(2, &vec![0; 4096]), Err(UsbError::Stall));
    h.simple(DfuRequest::ClrStatus).unwrap();
    // CLRSTATUS outside dfuERROR is a protocol error; GETSTATE answers the state.
    assert_eq!(h.simple(DfuRequest::ClrStatus), Err(UsbError::Stall));
    assert_eq!(h.get_state().unwrap(), State::Error.as_u8());
    // DETACH in DFU mode STALLs.
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.simple(DfuRequest::Detach), Err(UsbError::Stall));
    h.simple(DfuRequest::ClrStatus).unwrap();
    // Reading unreadable or absent memory STALLs with an error status.
    h.command(DfuseCommand::SetAddress(0x0700_0000)).unwrap();
    h.simple(DfuRequest::Abort).unwrap();
    assert_eq!(h.upload(2, 64), Err(UsbError::Stall));
    assert_eq!(h.status().unwrap().status, Status::ErrAddress);
}

#[test]
fn f411_stalls_optional_requests() {
    let h = Host::new("stm32f411");
    assert_eq!(h.get_state(), Err(UsbError::Stall));
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.upload(0, 4), Err(UsbError::Stall));
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
}

#[test]
fn mass_erase_and_read_unprotect() {
    let h = Host::new("stm32f405");
    h.dfuse_write(&[0x0802_0000], 0x0802_0000, &pattern(64, 9), 2048);
    let st = h.command(DfuseCommand::MassErase).unwrap();
    assert_eq!(st.status, Status::Ok);
    assert_eq!(
        h.bus.read_memory(0, 0, 0x0802_0000, 64).unwrap(),
        vec![0xFF; 64]
    );
    // The F4 ROM reports 100 ms for a mass erase that takes up to 16 s.
    assert!(h.bus.stats(0).blocked_ms >= 15_000.0);
    h.dfuse_write(&[0x0802_0000], 0x0802_0000, &pattern(64, 9), 2048);
    h.dnload(0, &DfuseCommand::ReadUnprotect.encode()).unwrap();
    assert_eq!(h.status().unwrap().state, State::DnBusy);
    h.bus.advance(Duration::from_secs(20));
    assert!(h.view().is_none(), "the device reset");
    let again = Host::on(h.bus.clone(), 0);
    assert_ne!(again.dev, h.dev);
    assert_eq!(
        again.bus.read_memory(0, 0, 0x0802_0000, 64).unwrap(),
        vec![0xFF; 64]
    );
}

#[test]
fn busy_device_delays_requests_and_time_adds_up() {
    let h = Host::new("photon");
    // Photon reports poll 0 but a 128 KiB erase takes 1 s: the next GETSTATUS waits.
    h.dnload(0, &DfuseCommand::ErasePage(0x080A_0000).encode())
        .unwrap();
    let t0 = h.bus.now();
    let st = h.status().unwrap();
    assert_eq!((st.state, st.poll_timeout_ms), (State::DnBusy, 0));
    let st = h.status().unwrap();
    assert_eq!(st.state, State::DnloadIdle);
    assert!(h.bus.now() - t0 >= Duration::from_millis(1000));
    let s = h.bus.stats(0);
    assert!((s.blocked_ms - 1000.0).abs() < 0.01, "{s:?}");
    assert_eq!(s.device_busy_ms, 1000.0);
    // An ideal host matches physical_limit.
    let h = Host::new("stm32f405");
    let data = pattern(6000, 2);
    h.dfuse_write(&[0x0800_0000], 0x0800_0000, &data, 2048);
    let s = h.bus.stats(0);
    let profile = dfu_profiles::Profile::builtin("stm32f405").unwrap();
    let limit = dfu_sim::physical_limit(&profile, 0, &[(0x0800_0000, 6000)]);
    // The test host sleeps the reported poll (100 ms erase, 5 ms program) where the
    // device was already done or still busy: never faster than the limit.
    assert!(h.bus.now() >= limit, "{:?} < {limit:?}", h.bus.now());
    assert!(s.bus_ms > 0.0 && s.device_busy_ms >= 250.0);
}

#[test]
fn st_rom_leave_reports_manifest_then_leaves_for_good() {
    let h = Host::new("stm32f405");
    h.command(DfuseCommand::SetAddress(0x0800_0000)).unwrap();
    h.dnload(2, &[]).unwrap();
    let st = h.status().unwrap();
    assert_eq!((st.state, st.status), (State::Manifest, Status::Ok));
    assert_eq!(h.status(), Err(UsbError::NoDevice));
    assert!(
        after(&h.bus, Duration::from_secs(10), 0).is_none(),
        "no run-time mode: gone"
    );
    assert_eq!(h.bus.stats(0).resets, 1);
}

#[test]
fn particle_leave_depends_on_the_bootloader() {
    // Before 0.4.5: the device resets on the zero-length DNLOAD; the GETSTATUS fails.
    let old = Host::new("photon,bootloader=0.4.4");
    old.command(DfuseCommand::SetAddress(0x080A_0000)).unwrap();
    old.dnload(2, &[]).unwrap();
    assert_eq!(old.status(), Err(UsbError::NoDevice));
    let back = after(&old.bus, Duration::from_millis(300), 0).expect("re-enumerates");
    assert!(back.runtime_mode);
    assert_eq!(back.device_descriptor.product_id, 0xc006);
    // From 0.4.5: dfuDNLOAD-IDLE, status OK, poll 0; reset 500 ms later.
    for spec in ["photon,bootloader=0.4.5", "electron"] {
        let new = Host::new(spec);
        new.command(DfuseCommand::SetAddress(0x080A_0000)).unwrap();
        new.dnload(2, &[]).unwrap();
        let st = new.status().unwrap();
        assert_eq!(
            (st.state, st.status, st.poll_timeout_ms),
            (State::DnloadIdle, Status::Ok, 0)
        );
        assert!(after(&new.bus, Duration::from_millis(400), 0).is_some());
        assert!(after(&new.bus, Duration::from_millis(200), 0).is_none());
        assert!(
            after(&new.bus, Duration::from_millis(300), 0)
                .unwrap()
                .runtime_mode
        );
    }
}

#[test]
fn reset_on_leave_quirk() {
    for spec in ["core", "gd32vf103", "core,mode=dfu"] {
        let h = Host::new(spec);
        h.dnload(2, &[]).unwrap();
        assert_eq!(h.status(), Err(UsbError::NoDevice), "{spec}");
    }
}

#[test]
fn gd32_real_flash_is_smaller_than_announced() {
    let h = Host::new("gd32vf103");
    // Announced 512 x 2K; real 128 x 1K: the 2K "page" erase clears only 1K.
    h.dfuse_write(
        &[0x0800_0000, 0x0800_0400],
        0x0800_0000,
        &pattern(2048, 4),
        2048,
    );
    h.command(DfuseCommand::ErasePage(0x0800_0000)).unwrap();
    assert_eq!(
        h.bus.read_memory(0, 0, 0x0800_0000, 1024).unwrap(),
        vec![0xFF; 1024]
    );
    assert_ne!(
        h.bus.read_memory(0, 0, 0x0800_0400, 1024).unwrap(),
        vec![0xFF; 1024]
    );
    let st = h.command(DfuseCommand::ErasePage(0x0802_0000)).unwrap();
    assert_eq!(st.status, Status::ErrAddress);
}

#[test]
fn an_ideal_host_reaches_the_physical_limit_exactly() {
    for (name, dfuse, start, len) in [
        ("stm32f405", true, 0x0800_3000u32, 9000usize),
        ("photon", true, 0x080A_0000, 10_000),
        ("dapboot", false, 0x0800_2000, 3000),
        ("tinyusb", false, 0, 1000),
    ] {
        let h = Host::new(name);
        let p = dfu_profiles::Profile::builtin(name).unwrap();
        let xfer = usize::from(p.dfu.transfer_size);
        let layout = p.alts[0].real_layout().unwrap();
        let data = pattern(len, 1);
        // No sleeps: each request goes out as soon as the previous one returns.
        let exchange = |block: u16, payload: &[u8]| {
            h.dnload(block, payload).unwrap();
            h.status().unwrap();
            assert_eq!(h.status().unwrap().state, State::DnloadIdle, "{name}");
        };
        if dfuse {
            for s in layout.sectors_overlapping(start, len as u64) {
                exchange(0, &DfuseCommand::ErasePage(s.start).encode());
            }
            exchange(0, &DfuseCommand::SetAddress(start).encode());
        }
        for (i, chunk) in data.chunks(xfer).enumerate() {
            exchange(i as u16 + if dfuse { 2 } else { 0 }, chunk);
        }
        let limit = dfu_sim::physical_limit(&p, 0, &[(start, len as u64)]);
        assert_eq!(h.bus.now(), limit, "{name}");
        assert_eq!(h.bus.read_memory(0, 0, start, len).unwrap(), data, "{name}");
    }
}
