//! Byte-for-byte agreement with dfu-util's `dfu-suffix`, both directions.
//!
//! These tests need `/usr/bin/dfu-suffix` (Debian package dfu-util). Without it they
//! FAIL on purpose, telling you to run `scripts/setup`; they are not skipped.

use crate::util::fixture;
use dfu_image::{suffix, Format, Image};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dfu_suffix_tool() -> PathBuf {
    let fixed = Path::new("/usr/bin/dfu-suffix");
    if fixed.exists() {
        return fixed.to_owned();
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("dfu-suffix"))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!("dfu-suffix (from dfu-util) is not installed; run `scripts/setup` (or `apt-get install dfu-util`) and re-run the tests")
    })
}

fn run(args: &[&str], file: &Path) -> Output {
    let out = Command::new(dfu_suffix_tool())
        .args(args)
        .arg(file)
        .output()
        .expect("running dfu-suffix");
    out
}

/// (vid, pid, did) combinations, `None` = let dfu-suffix use its default.
const IDS: [(Option<u16>, Option<u16>, Option<u16>); 4] = [
    (None, None, None),
    (Some(0x1234), Some(0x5678), Some(0x0200)),
    (Some(0x0483), Some(0xdf11), None),
    (Some(0x2b04), Some(0xd006), Some(0x0000)),
];

fn args(ids: (Option<u16>, Option<u16>, Option<u16>)) -> Vec<String> {
    let mut a = Vec::new();
    for (flag, v) in [("-v", ids.0), ("-p", ids.1), ("-d", ids.2)] {
        if let Some(v) = v {
            a.push(flag.to_owned());
            a.push(format!("{v:#06x}"));
        }
    }
    a
}

fn payloads() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"x".to_vec(),
        fixture("fw-a.bin"),
        fixture("fw.bin"),
    ]
}

#[test]
fn our_add_equals_theirs_and_they_accept_ours() {
    let dir = tempfile::tempdir().unwrap();
    for (i, data) in payloads().iter().enumerate() {
        for ids in IDS {
            let path = dir.path().join(format!("theirs-{i}.bin"));
            std::fs::write(&path, data).unwrap();
            let mut a: Vec<String> = args(ids);
            a.push("-a".into());
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let out = run(&a, &path);
            assert!(out.status.success(), "dfu-suffix -a failed: {out:?}");
            let theirs = std::fs::read(&path).unwrap();
            // Default vendor/product/device is 0xFFFF, as dfu-suffix does.
            let ours = suffix::add(
                data,
                ids.0.unwrap_or(0xffff),
                ids.1.unwrap_or(0xffff),
                ids.2.unwrap_or(0xffff),
            );
            assert_eq!(ours, theirs, "payload {i}, ids {ids:?}");

            // Their file passes our reader.
            let s = suffix::read(&theirs).unwrap().unwrap();
            assert!(s.crc_ok);
            assert_eq!(s.vendor, ids.0.unwrap_or(0xffff));
            let image = Image::parse(&theirs, None).unwrap();
            assert_eq!(image.format, Format::Suffixed);
            assert_eq!(image.total_len(), data.len() as u64);

            // `dfu-suffix -c` accepts ours.
            let ours_path = dir.path().join(format!("ours-{i}.bin"));
            std::fs::write(&ours_path, &ours).unwrap();
            let out = run(&["-c"], &ours_path);
            assert!(
                out.status.success(),
                "dfu-suffix -c rejected our file: {out:?}"
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let vid = format!("Vendor ID:\t{:#06X}", ids.0.unwrap_or(0xffff)).replace("0X", "0x");
            assert!(text.contains(&vid), "{text}");
        }
    }
}

#[test]
fn our_remove_equals_theirs() {
    let dir = tempfile::tempdir().unwrap();
    for (i, data) in payloads().iter().enumerate() {
        let with = suffix::add(data, 0x1d50, 0x607f, 0x0200);
        let path = dir.path().join(format!("f{i}.dfu"));
        std::fs::write(&path, &with).unwrap();
        let out = run(&["-D"], &path);
        assert!(out.status.success(), "dfu-suffix -D failed: {out:?}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            suffix::remove(&with).unwrap()
        );
        assert_eq!(&suffix::remove(&with).unwrap(), data);
    }
}

#[test]
fn dfuse_spec_and_bad_crc_agree() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("fw-b.bin");
    let path = dir.path().join("s.bin");
    std::fs::write(&path, &data).unwrap();
    assert!(run(
        &["-S", "0x011a", "-v", "0x0483", "-p", "0xdf11", "-a"],
        &path
    )
    .status
    .success());
    let theirs = std::fs::read(&path).unwrap();
    assert_eq!(
        theirs,
        suffix::add_with_spec(&data, 0x0483, 0xdf11, 0xffff, 0x011a)
    );

    // Both refuse a file whose CRC no longer matches.
    let mut bad = suffix::add(&data, 1, 2, 3);
    bad[0] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    assert!(!run(&["-c"], &path).status.success());
    assert!(suffix::remove(&bad).is_err());
    assert!(Image::parse(&bad, None).is_err());
}
