//! `dfu-util -l`: every profile shows its USB ids, release, serial and exact alt strings.

use crate::harness::{dfu_util_run, scratch};
use crate::PROFILES;
use dfu_profiles::Profile;

/// What `dfu-util -l` prints for one alt setting, without the device number (an address
/// the bus assigns) and with the path of the first device on the simulated bus.
fn expected_line(
    kind: &str,
    vid: u16,
    pid: u16,
    profile: &Profile,
    alt: usize,
    name: &str,
) -> String {
    format!(
        "Found {kind}: [{vid:04x}:{pid:04x}] ver={:04x}, devnum=#, cfg=1, intf={}, path=\"1-1\", \
         alt={alt}, name=\"{name}\", serial=\"{}\"",
        profile.usb.bcd_device,
        profile.dfu.interface,
        // A device without a serial string (the LPC17xx bootloader): dfu-util says UNKNOWN.
        if profile.usb.serial.is_empty() {
            "UNKNOWN"
        } else {
            &profile.usb.serial
        }
    )
}

/// `Found ...` lines with the devnum value replaced by `#`.
fn found_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("Found "))
        .map(|l| {
            let (head, rest) = l.split_once("devnum=").expect("devnum field");
            let (_, tail) = rest.split_once(',').expect("field after devnum");
            format!("{head}devnum=#,{tail}")
        })
        .collect()
}

#[test]
fn every_profile_lists_its_ids_and_exact_alt_strings() {
    let dir = scratch();
    for name in PROFILES {
        let profile = Profile::builtin(name).expect("built-in profile");
        let run = dfu_util_run(name, &["-l"], dir.path());
        run.expect_code(0);
        // dfu-util prepends each interface it finds, so it lists the last alt first.
        let expected: Vec<String> = profile
            .alts
            .iter()
            .enumerate()
            .rev()
            .map(|(i, alt)| {
                let (vid, pid) = (profile.usb.vendor_id, profile.usb.product_id);
                // The ESP32-S2/S3 ROM's DFU interface says run-time and names no string.
                if profile.has_quirk(dfu_profiles::Quirk::DfuModeAsRuntime) {
                    return expected_line("Runtime", vid, pid, &profile, i, "UNKNOWN");
                }
                expected_line("DFU", vid, pid, &profile, i, &alt.name)
            })
            .collect();
        assert_eq!(found_lines(&run.stdout), expected, "{name}\n{run}");
    }
}

#[test]
fn listed_strings_are_the_real_devices_strings() {
    // Spot checks against DEVICE-FACTS.md, independent of the profile files.
    let dir = scratch();
    let photon = dfu_util_run("photon", &["-l"], dir.path());
    let lines = found_lines(&photon.stdout);
    assert!(lines[1].starts_with("Found DFU: [2b04:d006] "), "{photon}");
    assert!(lines[1].contains(
        "alt=0, name=\"@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg\""
    ));
    assert!(lines[0].contains("alt=1, name=\"@DCT Flash   /0x00000000/01*016Kg\""));
    let f405 = dfu_util_run("stm32f405", &["-l"], dir.path());
    let lines = found_lines(&f405.stdout);
    assert_eq!(lines.len(), 4, "{f405}");
    assert!(
        lines[3].starts_with("Found DFU: [0483:df11] ver=2200, "),
        "{f405}"
    );
    assert!(lines[3].contains("name=\"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg\""));
    assert!(lines[2].contains("name=\"@Option Bytes  /0x1FFFC000/01*016 e\""));
    let dapboot = dfu_util_run("dapboot", &["-l"], dir.path());
    assert!(
        dapboot.stdout.contains("[1209:db42]") && dapboot.stdout.contains("name=\"DAPBoot DFU\"")
    );
    let tinyusb = dfu_util_run("tinyusb", &["-l"], dir.path());
    assert_eq!(found_lines(&tinyusb.stdout).len(), 2, "{tinyusb}");
    assert!(tinyusb.stdout.contains("[cafe:400b]") && tinyusb.stdout.contains("name=\"EEPROM\""));
}

#[test]
fn run_time_devices_list_with_their_run_time_ids() {
    let dir = scratch();
    for name in ["photon", "p1", "electron", "core"] {
        let profile = Profile::builtin(name).expect("built-in profile");
        let rt = profile.runtime.as_ref().expect("run-time identity");
        let run = dfu_util_run(&format!("{name},mode=runtime"), &["-l"], dir.path());
        run.expect_code(0);
        // The run-time interface has no string: dfu-util shows "UNKNOWN".
        let expected = vec![expected_line(
            "Runtime",
            rt.vendor_id,
            rt.product_id,
            &profile,
            0,
            "UNKNOWN",
        )];
        assert_eq!(found_lines(&run.stdout), expected, "{name}\n{run}");
    }
}

#[test]
fn several_devices_get_their_own_address_and_port() {
    let dir = scratch();
    let run = dfu_util_run("core,mode=runtime;stm32f405", &["-l"], dir.path());
    run.expect_code(0);
    let found: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Found "))
        .collect();
    assert_eq!(found.len(), 5, "{run}");
    let core = found
        .iter()
        .find(|l| l.contains("[1d50:607d]"))
        .expect("core listed");
    let f405 = found
        .iter()
        .find(|l| l.contains("[0483:df11]"))
        .expect("f405 listed");
    assert!(
        core.contains("path=\"1-1\"") && f405.contains("path=\"1-2\""),
        "{run}"
    );
    let devnum = |l: &str| {
        l.split("devnum=")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .map(str::to_string)
    };
    assert_ne!(devnum(core), devnum(f405), "{run}");
}

#[test]
fn unreadable_and_garbage_alt_names_show_as_dfu_util_shows_them() {
    let dir = scratch();
    let unreadable = dfu_util_run("stm32f446,alt-name=unreadable", &["-l"], dir.path());
    unreadable.expect_code(0);
    let alt0 = found_lines(&unreadable.stdout).pop().expect("alt 0 listed");
    assert!(alt0.contains("alt=0, name=\"UNKNOWN\""), "{unreadable}");
    let garbage = dfu_util_run("stm32f446,alt-name=garbage", &["-l"], dir.path());
    garbage.expect_code(0);
    let alt0 = found_lines(&garbage.stdout).pop().expect("alt 0 listed");
    assert!(
        alt0.contains("alt=0, name=\"") && !alt0.contains("name=\"@"),
        "{garbage}"
    );
}
