//! Spec knobs: start-state, alt-name, serial, system-version, faults, bad specs.

use crate::host::{pattern, Host};
use dfu_proto::{DfuRequest, DfuseCommand, State, Status};
use dfu_sim::{Bus, UsbError};
use std::time::Duration;

#[test]
fn start_state_error_is_seen_at_connect_and_cleared() {
    let h = Host::new("stm32f446,start-state=error");
    let st = h.status().unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrFirmware));
    assert_eq!(st.status.as_u8(), 10);
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
    // Only the first connection: after a reset the device is idle.
    let h = Host::new("stm32f446,start-state=error");
    h.bus.reset(h.dev).unwrap();
    assert_eq!(
        Host::on(h.bus.clone(), 0).status().unwrap().state,
        State::DfuIdle
    );
}

#[test]
fn alt_name_garbage_and_unreadable() {
    let h = Host::new("stm32f446,alt-name=garbage");
    let name = h.string(4).unwrap();
    assert!(!name.starts_with('@') && !name.is_empty());
    assert_eq!(h.string(5).unwrap(), "@Option Bytes  /0x1FFFC000/01*016 e");
    // The memory behind the alt is unchanged.
    h.dfuse_write(&[0x0800_0000], 0x0800_0000, &pattern(16, 1), 2048);
    assert_eq!(
        h.bus.read_memory(0, 0, 0x0800_0000, 16).unwrap(),
        pattern(16, 1)
    );
    let h = Host::new("stm32f446,alt-name=unreadable");
    assert_eq!(h.string(4), Err(UsbError::Stall));
    assert!(h.string(5).is_ok());
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
}

#[test]
fn serial_override_and_gd32_utf8_serial() {
    let h = Host::new("photon,serial=MYSERIAL01");
    assert_eq!(h.string(3).unwrap(), "MYSERIAL01");
    assert_eq!(h.view().unwrap().serial, "MYSERIAL01");
    let h = Host::new("gd32vf103");
    let raw = h
        .bus
        .control(
            h.dev,
            dfu_proto::Setup::get_descriptor(3, 3, 0x409, 255),
            &[],
        )
        .unwrap();
    assert_eq!(&raw[2..], b"3CBJ");
}

#[test]
fn system_version_installs_parseable_modules() {
    for (profile, parts) in [("photon", 2usize), ("electron", 3), ("p1", 2)] {
        let h = Host::new(&format!("{profile},system-version=3"));
        let p = dfu_profiles::Profile::builtin(profile).unwrap();
        let mut seen = 0;
        for r in p.regions_with(dfu_profiles::Role::System) {
            let bytes = h.dfuse_read(r.start, 8192, 4096);
            let m = dfu_image::particle::find(&bytes, Some(r.start)).expect("module header");
            assert_eq!(m.function, dfu_image::ModuleFunction::SystemPart);
            assert_eq!(
                (m.version, m.platform_id),
                (3, p.particle_platform.unwrap())
            );
            assert_eq!(Some(m.index), r.module_index);
            assert_eq!(m.crc_ok, Some(true));
            assert_eq!(m.offset, r.module_header_offset.unwrap());
            match m.index {
                1 => assert!(m.dependencies.is_empty()),
                k => {
                    assert_eq!(m.dependencies.len(), 1);
                    assert_eq!(
                        (m.dependencies[0].index, m.dependencies[0].version),
                        (k - 1, 3)
                    );
                }
            }
            seen += 1;
        }
        assert_eq!(seen, parts);
    }
}

#[test]
fn fault_disconnect_on_the_nth_dnload() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("f405.json");
    let spec = format!(
        "stm32f405,state={},fault=disconnect@dnload:4",
        state.display()
    );
    let h = Host::new(&spec);
    // DNLOADs: 1 erase, 2 set address, 3 block 2, 4 block 3 -> gone.
    h.command(DfuseCommand::ErasePage(0x0800_0000)).unwrap();
    h.command(DfuseCommand::SetAddress(0x0800_0000)).unwrap();
    h.dnload(2, &pattern(2048, 1)).unwrap();
    h.poll().unwrap();
    assert_eq!(h.dnload(3, &pattern(2048, 2)), Err(UsbError::NoDevice));
    assert!(crate::host::after(&h.bus, Duration::from_secs(60), 0).is_none());
    drop(h);
    // The state file keeps what was written before the fault.
    let again = Bus::from_spec(&format!("stm32f405,state={}", state.display())).unwrap();
    assert_eq!(
        again.read_memory(0, 0, 0x0800_0000, 2048).unwrap(),
        pattern(2048, 1)
    );
    assert_eq!(again.read_memory(0, 0, 0x0800_0800, 4).unwrap(), [0xFF; 4]);
}

#[test]
fn fault_stall_timeout_and_status() {
    let h = Host::new(
        "stm32f405,fault=stall@getstatus:2,fault=timeout@upload:1,fault=status=errPROG@dnload:2",
    );
    assert_eq!(h.status().unwrap().state, State::DfuIdle);
    assert_eq!(h.status(), Err(UsbError::Stall));
    assert_eq!(
        h.status().unwrap().state,
        State::DfuIdle,
        "a stall fault leaves the state alone"
    );
    let t = h.bus.now();
    assert_eq!(h.upload(0, 4), Err(UsbError::Timeout));
    assert!(h.bus.now() - t >= Duration::from_secs(5));
    assert_eq!(h.upload(0, 4).unwrap().len(), 4);
    h.simple(DfuRequest::Abort).unwrap();
    h.command(DfuseCommand::ErasePage(0x0800_0000)).unwrap();
    let st = h.command(DfuseCommand::SetAddress(0x0800_0000)).unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrProg));
}

#[test]
fn fault_status_on_a_data_block() {
    let h = Host::new("stm32f405,fault=status=errVERIFY@dnload:3");
    let st = h.dfuse_write(&[0x0800_0000], 0x0800_0000, &pattern(4096, 1), 2048);
    assert_eq!((st.state, st.status), (State::Error, Status::ErrVerify));
    assert_eq!(h.bus.read_memory(0, 0, 0x0800_0000, 8).unwrap(), [0xFF; 8]);
    let h = Host::new("stm32f405,fault=status=errTARGET@getstatus:1");
    let st = h.status().unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrTarget));
}

#[test]
fn from_env_reads_dfu_sim() {
    // Only this test touches the variable.
    std::env::remove_var(dfu_sim::ENV_VAR);
    assert!(Bus::from_env().unwrap().is_none());
    std::env::set_var(dfu_sim::ENV_VAR, "dapboot;tinyusb");
    let bus = Bus::from_env().unwrap().unwrap();
    assert_eq!(bus.devices().len(), 2);
    std::env::set_var(dfu_sim::ENV_VAR, "dapboot,bogus=1");
    let e = Bus::from_env().unwrap_err().to_string();
    assert!(e.contains("unknown key \"bogus\""), "{e}");
    std::env::remove_var(dfu_sim::ENV_VAR);
}
