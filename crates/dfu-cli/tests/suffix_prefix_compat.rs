//! `dfu` called as dfu-suffix and dfu-prefix writes the same bytes and exits with the same
//! codes as Debian's dfu-suffix and dfu-prefix 0.11 (which must be installed: scripts/setup).
//! Unix by nature: the references are Linux programs and the names are symlinks.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory holding `dfu-suffix`, `dfu-prefix` and `dfu-util` links to the built binary.
fn links() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("temp dir");
        for name in ["dfu-suffix", "dfu-prefix", "dfu-util"] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dfu"), d.path().join(name))
                .expect("symlink");
        }
        d
    })
    .path()
}

fn reference(tool: &str) -> PathBuf {
    let p = PathBuf::from("/usr/bin").join(tool);
    assert!(
        p.is_file(),
        "{} is missing: dfu-util 0.11 is not installed; run scripts/setup",
        p.display()
    );
    p
}

/// Runs `program args` in `dir` where every `@` in args is the file name; returns the
/// exit code and the file's bytes afterwards.
fn run(program: &Path, args: &[&str], dir: &Path, file: &str) -> (i32, Option<Vec<u8>>) {
    let args: Vec<String> = args.iter().map(|a| a.replace('@', file)).collect();
    let out = Command::new(program)
        .args(&args)
        .current_dir(dir)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        std::fs::read(dir.join(file)).ok(),
    )
}

/// Each tool on its own copy of `content`: same exit code, same bytes afterwards.
fn same(tool: &str, args: &[&str], content: Option<&[u8]>) {
    let ours = links().join(tool);
    let theirs = reference(tool);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    if let Some(c) = content {
        std::fs::write(a.path().join("f.bin"), c).unwrap();
        std::fs::write(b.path().join("f.bin"), c).unwrap();
    }
    let want = run(&theirs, args, a.path(), "f.bin");
    let got = run(&ours, args, b.path(), "f.bin");
    assert_eq!(got.0, want.0, "exit code of {tool} {args:?}");
    assert!(got.1 == want.1, "file after {tool} {args:?} differs");
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn with_reference(tool: &str, args: &[&str], content: &[u8]) -> Vec<u8> {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("f.bin"), content).unwrap();
    run(&reference(tool), args, d.path(), "f.bin")
        .1
        .expect("file")
}

#[test]
fn dfu_suffix_matches_debian() {
    let raw = data(1000);
    let suffixed = with_reference("dfu-suffix", &["-v", "0483", "-p", "df11", "-a", "@"], &raw);
    let mut bad_crc = suffixed.clone();
    bad_crc[3] ^= 0xff;
    let cases: &[(&[&str], &[u8])] = &[
        (
            &["-v", "0x0483", "-p", "0xDF11", "-d", "0xffff", "-a", "@"],
            &raw,
        ),
        (&["-a", "@"], &raw),
        (
            &["--vid=2b04", "--pid", "d006", "--did=0250", "--add", "@"],
            &raw,
        ),
        (&["-S", "011a", "-a", "@"], &raw),
        (&["-S", "0200", "-a", "@"], &raw),
        (&["-v", "zz", "-a", "@"], &raw),
        (&["-a", "@"], &suffixed),
        (&["-c", "@"], &suffixed),
        (&["-c", "@"], &raw),
        (&["-c", "@"], &bad_crc),
        (&["-D", "@"], &suffixed),
        (&["--delete", "@"], &raw),
        (&["-D", "@"], &bad_crc),
        (&["-a", "@"], &[1, 2, 3]),
        (&["-a", "@"], &[]),
        (&["-c", "@"], &[]),
        (&["-h"], &raw),
        (&["-V"], &raw),
        (&["-x", "@"], &raw),
        (&["-T", "@"], &raw),
        (&["-s", "1", "-a", "@"], &raw),
        (&[], &raw),
        (&["-a"], &raw),
    ];
    for (args, content) in cases {
        same("dfu-suffix", args, Some(content));
    }
    same("dfu-suffix", &["-a", "@"], None);
    same("dfu-suffix", &["-c", "@"], None);
}

#[test]
fn dfu_prefix_matches_debian() {
    let raw = data(3000);
    let suffixed = with_reference("dfu-suffix", &["-v", "1cbe", "-p", "00ff", "-a", "@"], &raw);
    let stellaris = with_reference("dfu-prefix", &["-s", "0x2800", "-a", "@"], &raw);
    let lpc = with_reference("dfu-prefix", &["-L", "-a", "@"], &suffixed);
    let both = with_reference("dfu-suffix", &["-a", "@"], &stellaris);
    let cases: &[(&[&str], &[u8])] = &[
        (&["-s", "0x2800", "-a", "@"], &raw),
        (&["--stellaris-address=10240", "--add", "@"], &raw),
        (&["-s", "0x2800", "-a", "@"], &suffixed),
        (&["-L", "-a", "@"], &raw),
        (&["-L", "-a", "@"], &suffixed),
        (&["-a", "@"], &raw),
        (&["-s", "12zz", "-a", "@"], &raw),
        (&["-T", "-a", "@"], &stellaris),
        (&["-c", "@"], &stellaris),
        (&["-T", "-c", "@"], &stellaris),
        (&["-L", "-c", "@"], &stellaris),
        (&["-c", "@"], &raw),
        (&["-D", "@"], &stellaris),
        (&["-T", "-D", "@"], &stellaris),
        (&["-L", "-D", "@"], &stellaris),
        (&["-D", "@"], &lpc),
        (&["-D", "@"], &both),
        (&["-D", "@"], &raw),
        (&["-D", "@"], &[1, 0, 3]),
        (&["-h"], &raw),
        (&["-V"], &raw),
        (&["-p", "1", "-a", "@"], &raw),
        (&["--LPC", "--add", "@"], &raw),
        (&[], &raw),
    ];
    for (args, content) in cases {
        same("dfu-prefix", args, Some(content));
    }
    same("dfu-prefix", &["-L", "-a", "@"], None);
}

#[test]
fn suffix_then_check_through_our_own_tools() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("f.bin"), data(64)).unwrap();
    let out = Command::new(links().join("dfu-suffix"))
        .args(["-v", "0483", "-p", "df11", "-a", "f.bin"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let check = Command::new(links().join("dfu-suffix"))
        .args(["-c", "f.bin"])
        .current_dir(d.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("0x0483") && text.contains("0xDF11"), "{text}");
}

#[test]
fn a_file_too_short_for_the_prefix_it_starts_like_is_refused() {
    // Debian's dfu-suffix crashes on this file; ours refuses and leaves it alone.
    let d = tempfile::tempdir().unwrap();
    let content = [0x1a, 0x3f, 0, 0, 0, 0, 0, 0, 0];
    std::fs::write(d.path().join("f.bin"), content).unwrap();
    let (code, after) = run(&links().join("dfu-suffix"), &["-a", "@"], d.path(), "f.bin");
    assert_eq!(code, 65);
    assert_eq!(after.as_deref(), Some(&content[..]));
}

#[test]
fn names_and_version() {
    let v = Command::new(links().join("dfu-util"))
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0));
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(
        text.starts_with(&format!(
            "dfu {}, dfu-util 0.11 compatible",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let bad = Command::new(links().join("dfu-util"))
        .args(["-l", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(64));
    let missing = Command::new(links().join("dfu-util"))
        .args(["-D"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(64));
    let main_name = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["util", "-V"])
        .output()
        .unwrap();
    assert_eq!(main_name.status.code(), Some(0));
    let sub = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(["suffix-compat", "-h"])
        .output()
        .unwrap();
    assert_eq!(sub.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&sub.stderr).contains("--add FILE"));
    let nofile = tempfile::tempdir().unwrap();
    let gone = Command::new(links().join("dfu-util"))
        .args(["-D", "nope.bin"])
        .current_dir(nofile.path())
        .env("DFU_SIM", "stm32f405")
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(66));
}
