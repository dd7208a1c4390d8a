//! Particle's STM32F2 bootloader runs three DfuSe commands only (quirk
//! `particle-dfuse-commands`): device-os
//! `platform/MCU/STM32F2xx/STM32_USB_Device_Driver/src/usbd_dfu_core.c`, `EP0_TxSent`, in
//! its 2015 (d3cee2ce8) and 2022 (811ff60cd) versions. A 1-byte mass erase is not run: the
//! GETSTATUS that would start it fails (STALL in the status stage), nothing is erased, and
//! the device goes on from dfuDNLOAD-SYNC to dfuDNLOAD-IDLE with status OK.

use crate::host::{pattern, Host};
use dfu_proto::{DfuRequest, DfuseCommand, State, Status};
use dfu_sim::UsbError;

#[test]
fn a_one_byte_mass_erase_erases_nothing_and_the_device_goes_on() {
    for profile in ["photon", "p1", "electron"] {
        let h = Host::new(profile);
        let image = pattern(4096, 5);
        h.dfuse_write(&[0x080A_0000], 0x080A_0000, &image, 4096);
        let erases = h.bus.stats(0).erases;
        h.dnload(0, &DfuseCommand::MassErase.encode()).unwrap();
        assert_eq!(h.status(), Err(UsbError::Stall), "{profile}");
        assert_eq!(
            h.get_state().unwrap(),
            State::DnloadSync.as_u8(),
            "{profile}"
        );
        let st = h.status().unwrap();
        assert_eq!(
            (st.state, st.status),
            (State::DnloadIdle, Status::Ok),
            "{profile}"
        );
        assert_eq!(h.bus.read_memory(0, 0, 0x080A_0000, 4096).unwrap(), image);
        assert_eq!(
            h.bus.stats(0).erases,
            erases,
            "{profile}: something was erased"
        );
        // The device is still usable: a page erase with an address runs.
        let st = h.command(DfuseCommand::ErasePage(0x080A_0000)).unwrap();
        assert_eq!((st.state, st.status), (State::DnloadIdle, Status::Ok));
        assert_eq!(
            h.bus.read_memory(0, 0, 0x080A_0000, 16).unwrap(),
            [0xFF; 16]
        );
    }
}

#[test]
fn read_unprotect_and_unknown_commands_are_refused_the_same_way() {
    let h = Host::new("photon");
    for block in [vec![0x92], vec![0x55, 0, 0, 0, 0], vec![0x41, 0, 0]] {
        h.dnload(0, &block).unwrap();
        assert_eq!(h.status(), Err(UsbError::Stall), "{block:02x?}");
        assert_eq!(h.status().unwrap().state, State::DnloadIdle);
    }
    assert_eq!(h.bus.stats(0).erases, 0);
    // GET_COMMANDS by DNLOAD is a no-op there; by UPLOAD it lists three commands.
    let st = h.command(DfuseCommand::GetCommands).unwrap();
    assert_eq!((st.state, st.status), (State::DnloadIdle, Status::Ok));
    h.simple(DfuRequest::Abort).unwrap();
    assert_eq!(h.upload(0, 4).unwrap(), [0x00, 0x21, 0x41]);
}

#[test]
fn st_roms_still_run_the_mass_erase() {
    let h = Host::new("stm32f405");
    h.dfuse_write(&[0x0800_0000], 0x0800_0000, &pattern(64, 2), 2048);
    let st = h.command(DfuseCommand::MassErase).unwrap();
    assert_eq!(st.status, Status::Ok);
    assert_eq!(
        h.bus.read_memory(0, 0, 0x0800_0000, 64).unwrap(),
        [0xFF; 64]
    );
}
