//! Each form of dfu-util's command line, read as dfu-util 0.11 reads it.

use super::*;

fn p(args: &[&str]) -> Result<UtilOptions, UsageError> {
    let v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    parse(&v)
}

#[test]
fn callers_command_lines() {
    let k = p(&[
        "-d",
        ",0483:df11",
        "-R",
        "-a",
        "0",
        "-s",
        "0x8000000:leave",
        "-D",
        "out/klipper.bin",
    ])
    .unwrap();
    assert_eq!(k.ids.vendor, Some(IMPOSSIBLE));
    assert_eq!(
        (k.ids.vendor_dfu, k.ids.product_dfu),
        (Some(0x0483), Some(0xdf11))
    );
    assert!(k.reset);
    assert_eq!(k.alt_index, Some(0));
    let d = k.dfuse.unwrap();
    assert_eq!((d.address, d.leave, d.length), (Some(0x0800_0000), true, 0));
    assert_eq!(k.action, Action::Download("out/klipper.bin".into()));

    let q = p(&[
        "-a",
        "0",
        "-d",
        "0483:DF11",
        "-s",
        "0x08000000:leave",
        "-D",
        "file.bin",
    ])
    .unwrap();
    assert_eq!((q.ids.vendor, q.ids.product), (Some(0x0483), Some(0xdf11)));
    assert_eq!((q.ids.vendor_dfu, q.ids.product_dfu), (None, None));

    let pio = p(&[
        "-d",
        "0x0483:0xDF11",
        "-a",
        "0",
        "-s",
        "0x08000000:leave",
        "-D",
        "f.bin",
    ])
    .unwrap();
    assert_eq!(
        (pio.ids.vendor, pio.ids.product),
        (Some(0x0483), Some(0xdf11))
    );
}

#[test]
fn device_ids_like_dfu_util() {
    let both = parse_ids("2b04:c006,2b04:d006");
    assert_eq!((both.vendor, both.product), (Some(0x2b04), Some(0xc006)));
    assert_eq!(
        (both.vendor_dfu, both.product_dfu),
        (Some(0x2b04), Some(0xd006))
    );
    // The DFU half defaults to the run-time half when it is left out.
    let half = parse_ids("2b04:c006,");
    assert_eq!(
        (half.vendor_dfu, half.product_dfu),
        (Some(0x2b04), Some(0xc006))
    );
    let star = parse_ids("*:d006");
    assert_eq!((star.vendor, star.product), (None, Some(0xd006)));
    let dash = parse_ids("-,0483:*");
    assert_eq!((dash.vendor, dash.product), (Some(IMPOSSIBLE), None));
    assert_eq!((dash.vendor_dfu, dash.product_dfu), (Some(0x0483), None));
    let vendor_only = parse_ids("0483");
    assert_eq!(
        (vendor_only.vendor, vendor_only.product),
        (Some(0x0483), None)
    );
    let junk = parse_ids("zz:qq");
    assert_eq!((junk.vendor, junk.product), (None, None));
}

#[test]
fn serial_pairs() {
    assert_eq!(
        parse_serial("ABC"),
        (Some("ABC".into()), Some("ABC".into()))
    );
    assert_eq!(parse_serial("A,B"), (Some("A".into()), Some("B".into())));
    assert_eq!(parse_serial(",B"), (None, Some("B".into())));
    assert_eq!(parse_serial("A,"), (Some("A".into()), None));
}

#[test]
fn dfuse_strings() {
    let d = parse_dfuse("0x08000000:0x1000:leave:force:force").unwrap();
    assert_eq!(
        (d.address, d.length, d.leave, d.force),
        (Some(0x0800_0000), 0x1000, true, 2)
    );
    let d = parse_dfuse(":leave").unwrap();
    assert_eq!((d.address, d.leave), (None, true));
    let d = parse_dfuse("0X0800C000:mass-erase:force").unwrap();
    assert_eq!(
        (d.address, d.mass_erase, d.force),
        (Some(0x0800_c000), true, 1)
    );
    let d = parse_dfuse("134217728:unprotect:will-reset").unwrap();
    assert_eq!(
        (d.address, d.unprotect, d.will_reset),
        (Some(0x0800_0000), true, true)
    );
    // dfu-util takes any prefix of a keyword, trying force first.
    let d = parse_dfuse("0x8000000:l:m:f").unwrap();
    assert!(d.leave && d.mass_erase && d.force == 1);
    assert_eq!(
        parse_dfuse("0x80zz:leave"),
        Err(UsageError::DfuseAddress("0x80zz:leave".into()))
    );
    assert_eq!(
        parse_dfuse("0x8000000:bogus"),
        Err(UsageError::DfuseModifier("bogus".into()))
    );
    assert!(p(&["-s", "nope", "-D", "x"]).is_err());
}

#[test]
fn numbers_and_alt_names() {
    let o = p(&[
        "-a", "0x1", "-c", "1", "-i", "0", "-t", "0x800", "-Z", "4096", "-n", "7", "-E", "2",
    ])
    .unwrap();
    assert_eq!(o.alt_index, Some(1));
    assert_eq!(
        (o.cfg, o.intf, o.transfer_size, o.upload_size),
        (Some(1), Some(0), Some(2048), Some(4096))
    );
    assert_eq!((o.devnum, o.detach_delay), (Some(7), Some(2)));
    let o = p(&["-a", "@Internal Flash"]).unwrap();
    assert_eq!(
        (o.alt_index, o.alt_name.as_deref()),
        (None, Some("@Internal Flash"))
    );
    // -c 0 is "any configuration".
    assert_eq!(p(&["-c", "0", "-l"]).unwrap().cfg, None);
    // parse_number wants the whole text to be a number; octal with a leading 0.
    assert_eq!(
        p(&["-t", "12x"]),
        Err(UsageError::Number("transfer-size", "12x".into()))
    );
    assert_eq!(p(&["-E", "010"]).unwrap().detach_delay, Some(8));
    // -n is atoi: junk is 0.
    assert_eq!(p(&["-n", "x"]).unwrap().devnum, Some(0));
}

#[test]
fn forms_getopt_accepts() {
    let o = p(&[
        "-lv",
        "--alt=1",
        "--device",
        "1209:db42",
        "--dfuse-address=0x8000000:leave",
    ])
    .unwrap();
    assert_eq!(
        (o.action.clone(), o.verbose, o.alt_index),
        (Action::List, 1, Some(1))
    );
    assert_eq!(o.ids.product, Some(0xdb42));
    assert!(o.dfuse.unwrap().leave);
    let o = p(&["-Ufile", "-Z4096", "-s0x08000000:4096"]).unwrap();
    assert_eq!(o.action, Action::Upload("file".into()));
    assert_eq!(o.dfuse.unwrap().length, 4096);
    let o = p(&[
        "--upload",
        "f",
        "--upload-size=16",
        "--reset",
        "--wait",
        "1",
        "--devnum=3",
        "--path",
        "1-1",
        "--serial",
        "a,b",
        "--cfg",
        "1",
        "--intf",
        "0",
        "--transfer-size",
        "64",
        "--detach-delay",
        "1",
        "--verbose",
    ])
    .unwrap();
    assert!(o.reset && o.wait);
    assert_eq!(
        (o.devnum, o.path.as_deref(), o.serial_dfu.as_deref()),
        (Some(3), Some("1-1"), Some("b"))
    );
    assert_eq!(p(&["--detach"]).unwrap().action, Action::Detach);
    assert_eq!(
        p(&["--download", "x", "--version"]).unwrap().action,
        Action::Version
    );
    assert!(
        p(&["--help", "--bogus"]).unwrap().help,
        "-h acts before getopt reaches --bogus"
    );
    assert!(p(&["--bogus", "--help"]).is_err());
    assert!(
        p(&["stray", "-h"]).unwrap().help,
        "operands are refused after the options"
    );
    assert!(p(&["-h"]).unwrap().help);
}

#[test]
fn usage_errors() {
    assert!(matches!(
        p(&["-D"]),
        Err(UsageError::Scan(ScanError::MissingValue(_)))
    ));
    assert!(matches!(
        p(&["-q"]),
        Err(UsageError::Scan(ScanError::Unknown(_)))
    ));
    assert!(matches!(p(&["-l", "stray"]), Err(UsageError::Operand(_))));
    assert!(matches!(p(&["-l", "--", "-v"]), Err(UsageError::Operand(a)) if a == "-v"));
    assert!(matches!(
        p(&["--wait"]),
        Err(UsageError::Scan(ScanError::MissingValue(_)))
    ));
}

#[test]
fn odd_input_never_panics() {
    let odd = [
        "",
        "-",
        "--",
        "---",
        "-é",
        "--é=1",
        "-dé:ü,ß",
        "-s",
        "-s:",
        "-s::::",
        "-s0x",
        "-s0xg:1",
        "-s-1:-1",
        "-a-",
        "-n-5",
        "-t99999999999999999999",
        "-d,",
        "-d:",
        "-d,:",
        "-S,",
        "--=",
        "-Z0x",
        "-E ",
        "-c\u{0}",
        "-p\u{ff}",
    ];
    for a in odd {
        let _ = p(&[a]);
        let _ = p(&[a, a]);
        let _ = p(&["-l", a, "x"]);
    }
    for w in ["", ":", "é", "0x8:é", "0x8:99999999999999999999"] {
        let _ = parse_dfuse(w);
        let _ = parse_ids(w);
        let _ = parse_serial(w);
        let _ = strtoul(w, 0);
        let _ = strtoul(w, 16);
    }
}
