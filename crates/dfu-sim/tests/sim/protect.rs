//! Option bytes and read protection as the ST ROM handles them: factory state, `rdp=`,
//! refusals while protected, the reset after an option-byte write, read-unprotect.

use crate::host::{pattern, Host};
use dfu_proto::{DfuRequest, DfuseCommand, State, Status};
use dfu_sim::UsbError;
use std::time::Duration;

const FACTORY: [u8; 16] = [
    0xEC, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

#[test]
fn option_bytes_start_at_the_f4_factory_state_and_rdp_applies_at_creation() {
    let h = Host::new("stm32f405");
    assert_eq!(h.bus.read_memory(0, 1, 0x1FFF_C000, 16).unwrap(), FACTORY);
    let h = Host::new("stm32f405,rdp=1");
    let ob = h.bus.read_memory(0, 1, 0x1FFF_C000, 16).unwrap();
    assert_eq!((ob[0], ob[1], ob[9]), (0xEC, 0x55, 0x0F));
    // Profiles without a sourced encoding keep erased option bytes.
    let h = Host::new("stm32g474");
    assert!(h
        .bus
        .read_memory(0, 1, 0x1FFF_7800, 48)
        .unwrap()
        .iter()
        .all(|b| *b == 0xFF));
}

#[test]
fn while_read_protected_the_rom_refuses_all_but_read_unprotect() {
    let h = Host::new("stm32f405,rdp=1");
    h.dnload(0, &DfuseCommand::SetAddress(0x0800_0000).encode())
        .unwrap();
    h.status().unwrap();
    let st = h.poll().unwrap();
    assert_eq!((st.state, st.status), (State::Error, Status::ErrVendor));
    h.simple(DfuRequest::ClrStatus).unwrap();
    assert_eq!(h.upload(2, 64), Err(UsbError::Stall));
    assert_eq!(h.status().unwrap().status, Status::ErrVendor);
    h.simple(DfuRequest::ClrStatus).unwrap();
    h.dnload(0, &DfuseCommand::MassErase.encode()).unwrap();
    h.status().unwrap();
    assert_eq!(h.poll().unwrap().status, Status::ErrVendor);
    h.simple(DfuRequest::ClrStatus).unwrap();
    // Read-unprotect: erases, clears protection, resets.
    h.dnload(0, &DfuseCommand::ReadUnprotect.encode()).unwrap();
    assert_eq!(h.status().unwrap().state, State::DnBusy);
    h.bus.advance(Duration::from_secs(20));
    assert!(h.view().is_none(), "the device reset");
    let again = Host::on(h.bus.clone(), 0);
    let ob = again.bus.read_memory(0, 1, 0x1FFF_C000, 16).unwrap();
    assert_eq!(ob[1], 0xAA);
    let st = again.dfuse_write(&[0x0800_0000], 0x0800_0000, &pattern(64, 1), 2048);
    assert_eq!(st.status, Status::Ok);
}

#[test]
fn an_option_byte_write_replaces_them_and_resets_the_device() {
    let h = Host::new("stm32f405");
    h.simple(DfuRequest::Abort).unwrap();
    let mut ob = FACTORY;
    ob[0] = 0xE0;
    // Alt 1 is the option bytes; type `e`: written without an erase.
    h.bus.set_interface(h.dev, 0, 1).unwrap();
    assert_eq!(
        h.command(DfuseCommand::SetAddress(0x1FFF_C000))
            .unwrap()
            .status,
        Status::Ok
    );
    h.dnload(2, &ob).unwrap();
    assert_eq!(h.status().unwrap().state, State::DnBusy);
    h.bus.advance(Duration::from_secs(1));
    assert!(
        h.view().is_none(),
        "the ROM resets to apply the option bytes"
    );
    let again = Host::on(h.bus.clone(), 0);
    assert_ne!(again.dev, h.dev);
    assert_eq!(again.bus.read_memory(0, 1, 0x1FFF_C000, 16).unwrap(), ob);
}

#[test]
fn at_level_2_the_device_never_appears() {
    let bus = dfu_sim::Bus::from_spec("stm32f405,rdp=2").unwrap();
    bus.advance(Duration::from_secs(5));
    assert!(bus.devices().is_empty());
}
