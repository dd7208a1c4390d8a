//! `dfu image` converts exactly (no address a format cannot hold, one DfuSe target per
//! single-space file, 8-digit addresses, errors that name files and lines), output files are
//! written whole or not at all, and files larger than any image are refused at once. The
//! tests of full disks, memory limits and sparse files use Unix tools (`mount`, `ulimit`).

mod common;
use common::*;
use dfu_image::{Format, Image};
use std::path::Path;
#[cfg(unix)]
use std::time::{Duration, Instant};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfu-image/tests/fixtures");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// Files in `dir` whose names start with the temporary prefix of output files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dfu-"))
        .collect()
}

#[test]
fn a_suffixed_file_needs_no_address() {
    let s = Scratch::new();
    let data = pattern(3000, 7);
    let bin = s.file("app.bin", &data);
    let out = s.state("app.dfu");
    dfu(&[
        "image", "convert", &bin, "--to", "suffixed", "--vid", "0483", "--pid", "df11", "-o", &out,
    ])
    .ok()
    .says("3016 bytes");
    let written = read_file(&s.path("app.dfu"));
    let image = Image::parse(&written, None).unwrap();
    assert_eq!(image.format, Format::Suffixed);
    assert_eq!(image.segments[0].data, data);
    let suffix = image.suffix.unwrap();
    assert_eq!((suffix.vendor, suffix.product), (0x0483, 0xdf11));
    // Raw to raw: the bytes as they were.
    let out = s.state("copy.bin");
    dfu(&["image", "convert", &bin, "--to", "bin", "-o", &out]).ok();
    assert_eq!(read_file(&s.path("copy.bin")), data);
}

#[test]
fn a_dfuse_file_with_several_targets_is_never_merged() {
    let s = Scratch::new();
    let two = fixture("fw-2alt.dfu");
    for to in ["hex", "srec", "bin", "suffixed"] {
        let out = s.state(&format!("x.{to}"));
        dfu(&["image", "convert", &two, "--to", to, "-o", &out])
            .code(2)
            .says("DfuSe targets for 2 alt settings")
            .says("alt 0 \"ST...\": 1 element(s), 707 bytes, 0x08000000-0x080002c2")
            .says("alt 1 \"ST...\": 1 element(s), 256 bytes, 0x08000000-0x080000ff")
            .says("--target 0 -o FILE0, --target 1 -o FILE1");
        assert!(!s.path(&format!("x.{to}")).exists(), "{to}");
    }
    assert!(leftovers(&s.path("")).is_empty());
    let expected = [(0, "fw-a.bin"), (1, "fw-b.bin")];
    for (alt, part) in expected {
        let out = s.state(&format!("alt{alt}.hex"));
        dfu(&[
            "image",
            "convert",
            &two,
            "--to",
            "hex",
            "--target",
            &alt.to_string(),
            "-o",
            &out,
        ])
        .ok();
        let hex = Image::parse(&read_file(&s.path(&format!("alt{alt}.hex"))), None).unwrap();
        assert_eq!(hex.segments.len(), 1);
        assert_eq!(hex.segments[0].address, 0x0800_0000);
        assert_eq!(hex.segments[0].data, read_file(Path::new(&fixture(part))));
    }
    dfu(&[
        "image",
        "convert",
        &two,
        "--to",
        "hex",
        "--target",
        "5",
        "-o",
        &s.state("5.hex"),
    ])
    .code(2)
    .says("no DfuSe target for alt 5");
    // To DfuSe, every target is kept as it is.
    let out = s.state("again.dfu");
    dfu(&["image", "convert", &two, "--to", "dfuse", "-o", &out]).ok();
    let again = Image::parse(&read_file(&s.path("again.dfu")), None).unwrap();
    let alts: Vec<u8> = again.dfuse_targets.iter().map(|t| t.alt).collect();
    assert_eq!(alts, [0, 1]);
}

#[test]
fn a_binary_that_cannot_hold_the_image_says_so_with_8_digit_addresses() {
    let s = Scratch::new();
    // Flash at 0x08000000 and option bytes at 0x1fffc000, one alt: too far apart for a bin.
    let hex =
        ":020000040800F2\n:0400000001020304F2\n:020000041FFFDC\n:04C00000AABBCCDD2E\n:00000001FF\n";
    let file = s.file("far.hex", hex.as_bytes());
    let run = dfu(&[
        "image",
        "convert",
        &file,
        "--to",
        "bin",
        "-o",
        &s.state("far.bin"),
        "--json",
    ]);
    run.code(2).says("0x08000004").says("0x1fffc000");
    assert!(
        run.stdout.contains("dfu::usage::argument"),
        "{}",
        run.stdout
    );
    assert!(!s.path("far.bin").exists());
}

#[test]
fn errors_name_both_files_and_the_line_of_a_duplicated_record() {
    let s = Scratch::new();
    let hex = ":0400000001020304F2\n:0400040005060708DE\n:0400000001020304F2\n:00000001FF\n";
    let dup = s.file("dup.hex", hex.as_bytes());
    dfu(&["image", "inspect", &dup])
        .code(3)
        .says("line 3: 4 bytes at 0x00000000 overlap the data of lines 1-2");
    let a = s.file("a.bin", &pattern(100, 2));
    dfu(&[
        "--sim",
        "stm32f405",
        "flash",
        &fixture("fw.hex"),
        &a,
        "--address",
        "0x08000000",
    ])
    .code(3)
    .says("fw.hex (0x08000000-0x080002c2) and")
    .says("a.bin (0x08000000-0x08000063) overlap");
}

#[test]
fn output_files_are_written_whole_or_not_at_all() {
    let s = Scratch::new();
    let out = s.state("x.hex");
    std::fs::write(&out, b"keep").unwrap();
    dfu(&[
        "image",
        "convert",
        &fixture("fw.bin"),
        "--to",
        "hex",
        "-s",
        "0x08000000",
        "-o",
        &out,
    ])
    .code(3)
    .says("exists");
    assert_eq!(read_file(&s.path("x.hex")), b"keep");
    dfu(&[
        "image",
        "convert",
        &fixture("fw.bin"),
        "--to",
        "hex",
        "-s",
        "0x08000000",
        "-o",
        &out,
        "--force",
    ])
    .ok();
    let hex = Image::parse(&read_file(&s.path("x.hex")), None).unwrap();
    assert_eq!(hex.start(), Some(0x0800_0000));
    // A read that fails leaves nothing behind.
    let sim = prefilled(&s, "stm32f405", 0x0800_0000, 4096);
    dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x30000000",
        "--length",
        "16",
        "-o",
        &s.state("r.bin"),
    ])
    .code(5);
    assert!(!s.path("r.bin").exists());
    assert!(leftovers(&s.path("")).is_empty());
}

/// A device that cannot take the bytes is an output error, not an input one.
#[cfg(unix)]
#[test]
fn a_full_device_is_an_output_error() {
    let s = Scratch::new();
    let sim = prefilled(&s, "stm32f405", 0x0800_0000, 4096);
    let run = dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x08000000",
        "--length",
        "4096",
        "-o",
        "/dev/full",
        "--force",
        "--json",
    ]);
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("dfu::output::file"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_read_into_a_full_disk_leaves_no_file() {
    let s = Scratch::new();
    let mnt = s.path("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        assert_ne!(
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1)),
            Some("0"),
            "root could not mount a tmpfs"
        );
        eprintln!("not root: the full-disk test needs a small tmpfs and was not run");
        return;
    }
    let sim = prefilled(&s, "stm32f405", 0x0800_0000, 128 * 1024);
    let out = mnt.join("flash.bin");
    let run = dfu(&[
        "--sim",
        &sim,
        "read",
        "--address",
        "0x08000000",
        "--length",
        "131072",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    let files: Vec<_> = std::fs::read_dir(&mnt).unwrap().collect();
    std::process::Command::new("umount")
        .arg(&mnt)
        .status()
        .unwrap();
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("dfu::output::file"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(files.is_empty(), "left behind: {files:?}");
}

#[cfg(unix)]
#[test]
fn a_5_gib_file_is_refused_at_once_in_little_memory() {
    let s = Scratch::new();
    let huge = s.state("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(5 << 30)
        .unwrap(); // sparse: no disk used
    let bin = env!("CARGO_BIN_EXE_dfu");
    for args in [
        format!("{bin} --sim stm32f405 flash {huge} --address 0x08000000"),
        format!("{bin} image inspect {huge}"),
    ] {
        let started = Instant::now();
        // 100 MB of address space: reading the file would abort, not refuse.
        let run: Run = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v 100000 && exec {args}"))
            .output()
            .unwrap()
            .into();
        assert!(started.elapsed() < Duration::from_secs(1), "{args}");
        run.code(3)
            .says("5368709120 bytes is larger than 4294967551 bytes");
    }
}

#[cfg(unix)]
#[test]
fn inspect_reads_only_what_it_shows() {
    let s = Scratch::new();
    let big = s.state("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(3 << 30).unwrap(); // sparse
    std::os::unix::fs::FileExt::write_at(&f, &[0x00, 0x50, 0x00, 0x20, 0x01, 0x02, 0x00, 0x08], 0)
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_dfu");
    let run: Run = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 100000 && exec {bin} image inspect {big}"
        ))
        .output()
        .unwrap()
        .into();
    run.ok()
        .says("raw binary, 3221225472 bytes in 1 segment(s)")
        .says("reset handler 0x08000201");
}

#[test]
fn profile_new_writes_whole_or_not_at_all() {
    let s = Scratch::new();
    let file = s.state("board.toml");
    std::fs::write(&file, b"keep").unwrap();
    dfu(&["--sim", "stm32f405", "profile", "new", "-o", &file])
        .code(3)
        .says("exists; not overwriting it")
        .says("dfu::output::file");
    assert_eq!(read_file(&s.path("board.toml")), b"keep");
    // A device that cannot be described: the command fails and leaves no file.
    let none = s.state("none.toml");
    dfu(&["--sim", "dapboot", "profile", "new", "-o", &none]).code(5);
    assert!(!s.path("none.toml").exists());
    assert!(leftovers(&s.path("")).is_empty());
    dfu(&[
        "--sim",
        "stm32f405",
        "profile",
        "new",
        "-o",
        &file,
        "--force",
    ])
    .ok()
    .says("wrote profile");
    assert!(read_file(&s.path("board.toml")).starts_with(b"name"));
}

#[cfg(unix)]
#[test]
fn an_output_file_gets_the_mode_of_a_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let out = s.state("app.hex");
    let run: Run = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022 && exec {} image convert {} --to hex -s 0x08000000 -o {out}",
            env!("CARGO_BIN_EXE_dfu"),
            fixture("fw.bin")
        ))
        .output()
        .unwrap()
        .into();
    run.ok();
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}
