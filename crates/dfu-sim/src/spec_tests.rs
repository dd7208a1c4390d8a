//! Tests of the spec grammar.

use super::*;

#[test]
fn versions_order() {
    let v = |s| BootloaderVersion::parse(s).unwrap();
    assert!(v("0.4.4") < v("0.4.5"));
    assert!(v("0.4.5-rc.2") < v("0.4.5"));
    assert!(v("0.4.5") <= v("0.4.5.0"));
    assert!(v("0.7.0") > v("0.4.5"));
    assert!(v("1") > v("0.9.9"));
    assert!(BootloaderVersion::parse("abc").is_none());
    assert!(BootloaderVersion::parse("0.4.").is_none());
    assert!(BootloaderVersion::parse("0.4-").is_none());
}

#[test]
fn parses_knobs() {
    let s = parse_specs(
        "photon,state=/tmp/a.json,stats=/tmp/b.json,bootloader=0.4.4,system-version=3,\
         alt-name=garbage,start-state=error,mode=runtime,serial=ABC,\
         fault=stall@dnload:2,fault=disconnect@any:9; stm32f405",
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    let p = &s[0];
    assert_eq!(p.profile.name, "photon");
    assert_eq!(
        p.state.as_deref(),
        Some(std::path::Path::new("/tmp/a.json"))
    );
    assert_eq!(p.bootloader, BootloaderVersion::parse("0.4.4"));
    assert_eq!(p.system_version, Some(3));
    assert_eq!(p.alt_name, AltNameKnob::Garbage);
    assert_eq!(p.start_state, StartState::Error);
    assert_eq!(p.mode, Mode::Runtime);
    assert_eq!(p.serial_string(), "ABC");
    assert_eq!(p.faults.len(), 2);
    assert_eq!(s[1].profile.name, "stm32f405");
    assert_eq!(s[1].serial_string(), s[1].profile.usb.serial);
    assert_eq!(
        s[0].effective_bootloader(),
        BootloaderVersion::parse("0.4.4")
    );
    let d = parse_specs("electron").unwrap();
    assert_eq!(
        d[0].effective_bootloader(),
        BootloaderVersion::parse("0.7.0")
    );
}

#[test]
fn bad_specs_are_clear() {
    let msg = |s: &str| parse_specs(s).unwrap_err().to_string();
    assert!(msg("nosuchboard").contains("unknown profile"));
    assert!(msg("photon,colour=red").contains("valid keys: state, stats"));
    assert!(msg("photon,state").contains("expected key=value"));
    assert!(msg("photon,mode=sideways").contains("expected dfu or runtime"));
    assert!(msg("stm32f405,mode=runtime").contains("no run-time mode"));
    assert!(msg("stm32f405,bootloader=0.4.5").contains("[leave]"));
    assert!(msg("photon,bootloader=new").contains("expected a version"));
    assert!(msg("dapboot,system-version=3").contains("not a Particle"));
    assert!(msg("photon,fault=explode@dnload:1").contains("unknown fault kind"));
    assert!(msg("photon,state=a.json;p1,state=a.json").contains("already used"));
    assert!(msg("photon,mode=dfu,mode=runtime").contains("twice"));
    assert!(msg("").contains("no device"));
    assert!(msg(" ; ").contains("no device"));
    assert!(msg("state=x").contains("profile name"));
    assert!(msg("/nonexistent/board.toml").contains("cannot read profile file"));
    assert!(msg("photon,stats=/nonexistent/s.json").contains("/nonexistent does not exist"));
}

#[test]
fn every_valid_key_has_a_setter() {
    for key in VALID_KEYS.iter().filter(|k| **k != "fault") {
        let mut s = SimSpec::new(Profile::load("photon").unwrap());
        if let Err(e) = s.set(key, "\u{1}") {
            assert!(!e.contains("valid keys"), "{key}: {e}");
        }
    }
}
