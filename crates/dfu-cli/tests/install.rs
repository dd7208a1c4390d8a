//! What installing `dfu` brings: shell completions and man pages generated from the command
//! line definition, `dfu doctor --fix` (the udev rule), and `dfu flash` as a cargo runner.

mod common;
use common::{dfu, dfu_in, pattern, read_file, Scratch};
#[cfg(unix)]
use std::io::Write;
use std::process::Command;
#[cfg(unix)]
use std::process::Stdio;

const SUBCOMMANDS: &[&str] = &[
    "list",
    "info",
    "flash",
    "read",
    "erase",
    "detach",
    "reset",
    "image",
    "suffix",
    "doctor",
    "sim",
    "completions",
    "manpage",
    "schema",
];

#[test]
fn every_shell_gets_a_completion_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = dfu(&["completions", shell]);
        r.ok();
        for sub in SUBCOMMANDS {
            assert!(r.stdout.contains(sub), "{shell}: {sub} missing");
        }
        assert!(
            r.stdout.contains("no-verify"),
            "{shell}: flash options missing"
        );
    }
    dfu(&["completions", "tcsh"])
        .code(2)
        .says("possible values");
}

// Unix by nature: runs bash.
#[cfg(unix)]
#[test]
fn the_bash_completion_script_is_valid_bash() {
    let script = dfu(&["completions", "bash"]).ok().stdout.clone();
    let mut child = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// Unix by nature: renders with man.
#[cfg(unix)]
#[test]
fn the_man_page_renders_and_names_every_subcommand() {
    let page = dfu(&["manpage"]).ok().stdout.clone();
    assert!(page.contains(".TH dfu 1"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SH \"dfu {sub}\"")),
            "{sub} missing"
        );
    }
    // man -l renders it (man-db, installed by scripts/setup).
    let s = Scratch::new();
    let file = s.file("dfu.1", page.as_bytes());
    let out = Command::new("man")
        .args(["-l", &file])
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man runs (scripts/setup installs man-db)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("SYNOPSIS") && text.contains("--device"),
        "{text}"
    );
}

/// `dfu doctor --fix` with the rules going to `dir`, standard input not a terminal.
#[cfg(target_os = "linux")]
fn fix(dir: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["doctor", "--fix", "--udev-rules-dir", dir];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into()
}

// Linux by nature: udev rules.
#[cfg(target_os = "linux")]
#[test]
fn doctor_fix_asks_first_and_refuses_without_a_terminal() {
    let s = Scratch::new();
    let dir = s.dir.path().display().to_string();
    fix(&dir, &["--access", "plugdev"])
        .code(5)
        .says("standard input is not a terminal: nothing was changed")
        .says("--yes")
        .says("code: dfu::refused::needs-confirmation");
    assert!(!s.path("70-dfu.rules").exists());
    dfu(&["doctor", "--yes"]).code(2);
}

// Linux by nature: udev rules.
#[cfg(target_os = "linux")]
#[test]
fn doctor_fix_installs_the_rule_says_how_to_undo_and_is_idempotent() {
    let s = Scratch::new();
    let dir = s.dir.path().display().to_string();
    let r = fix(&dir, &["--yes", "--access", "plugdev"]);
    r.ok()
        .says("wrote ")
        .says("To undo: sudo rm ")
        .says("plugdev");
    let rules = std::fs::read_to_string(s.path("70-dfu.rules")).unwrap();
    assert!(rules.contains(
        "SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"0483\", ATTRS{idProduct}==\"df11\", GROUP=\"plugdev\", MODE=\"0660\""
    ));
    assert!(rules.contains("ATTRS{idVendor}==\"2b04\", ATTRS{idProduct}==\"d006\""));
    assert!(!rules.contains("uaccess") && !rules.contains("0666"));
    fix(&dir, &["--yes", "--access", "plugdev"])
        .ok()
        .says("nothing to change");
    let s = Scratch::new();
    let dir = s.dir.path().display().to_string();
    fix(&dir, &["--yes", "--access", "uaccess"]).ok();
    let rules = std::fs::read_to_string(s.path("70-dfu.rules")).unwrap();
    assert!(rules.contains("ATTRS{idProduct}==\"df11\", TAG+=\"uaccess\""));
}

// Linux by nature: udev rules.
#[cfg(target_os = "linux")]
#[test]
fn doctor_fix_never_replaces_a_different_rule_file() {
    let s = Scratch::new();
    let dir = s.dir.path().display().to_string();
    let mine = "# my own rule\nSUBSYSTEM==\"usb\", ATTRS{idVendor}==\"0483\", MODE=\"0666\"\n";
    std::fs::write(s.path("70-dfu.rules"), mine).unwrap();
    fix(&dir, &["--yes", "--access", "uaccess"])
        .code(5)
        .says("exists and differs")
        .says("left unchanged")
        .says("move it away first");
    assert_eq!(
        std::fs::read_to_string(s.path("70-dfu.rules")).unwrap(),
        mine
    );
}

/// A Cortex-M ELF as a linker makes it for an STM32 (EM_ARM, one PT_LOAD at 0x08000000):
/// ELF32 little-endian header, one program header, the vector table and code.
fn cortex_m_elf(payload: &[u8]) -> Vec<u8> {
    let (ehsize, phsize) = (52u32, 32u32);
    let offset = ehsize + phsize;
    let mut e = Vec::new();
    e.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let h16 = |e: &mut Vec<u8>, v: u16| e.extend_from_slice(&v.to_le_bytes());
    let h32 = |e: &mut Vec<u8>, v: u32| e.extend_from_slice(&v.to_le_bytes());
    h16(&mut e, 2); // ET_EXEC
    h16(&mut e, 40); // EM_ARM
    h32(&mut e, 1); // EV_CURRENT
    h32(&mut e, 0x0800_0201); // entry: the reset handler, Thumb
    h32(&mut e, ehsize); // e_phoff
    h32(&mut e, 0); // e_shoff: no sections
    h32(&mut e, 0x0500_0400); // EABI5, hard float
    h16(&mut e, ehsize as u16);
    h16(&mut e, phsize as u16);
    h16(&mut e, 1); // e_phnum
    h16(&mut e, 40); // e_shentsize
    h16(&mut e, 0); // e_shnum
    h16(&mut e, 0); // e_shstrndx
    h32(&mut e, 1); // PT_LOAD
    h32(&mut e, offset);
    h32(&mut e, 0x0800_0000); // p_vaddr
    h32(&mut e, 0x0800_0000); // p_paddr
    h32(&mut e, payload.len() as u32); // p_filesz
    h32(&mut e, payload.len() as u32); // p_memsz
    h32(&mut e, 5); // R+X
    h32(&mut e, 4);
    e.extend_from_slice(payload);
    e
}

#[test]
fn dfu_flash_works_as_a_cargo_runner() {
    let s = Scratch::new();
    // The firmware: a vector table (initial SP in RAM, reset handler in flash) and code.
    let mut payload = pattern(6000, 3);
    payload[..4].copy_from_slice(&0x2002_0000u32.to_le_bytes());
    payload[4..8].copy_from_slice(&0x0800_0201u32.to_le_bytes());
    let elf = s.file("blinky", &cortex_m_elf(&payload));
    std::fs::create_dir(s.path(".cargo")).unwrap();
    let config = "[target.thumbv7em-none-eabihf]\nrunner = \"dfu flash --wait\"\n";
    std::fs::write(s.path(".cargo/config.toml"), config).unwrap();
    // What cargo does with it: split the runner on whitespace, run it with the executable's
    // path appended, `dfu` found on PATH.
    let runner = config
        .lines()
        .find_map(|l| l.strip_prefix("runner = "))
        .unwrap()
        .trim_matches('"');
    let mut words = runner.split_whitespace();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_dfu"))
        .parent()
        .unwrap();
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf()).chain(std::env::split_paths(&inherited)),
    )
    .unwrap();
    let state = s.state("f4.json");
    // The board comes up in DFU mode two seconds (simulated) after the runner starts.
    let sim = format!("stm32f405,state={state}");
    let appearing = format!("{sim},appear-after=2000");
    let out = Command::new(words.next().unwrap())
        .args(words)
        .arg(&elf)
        .current_dir(s.dir.path())
        .env("PATH", path)
        .env("DFU_SIM", &appearing)
        .output()
        .expect("the runner runs");
    let r: common::Run = out.into();
    r.ok().says("waiting for a DFU device").says("verified");
    let back = s.state("back.bin");
    dfu_in(
        s.dir.path(),
        &[],
        &[
            "--sim",
            &sim,
            "read",
            "-s",
            "0x08000000",
            "-n",
            "6000",
            "-o",
            &back,
        ],
    )
    .ok();
    assert_eq!(read_file(std::path::Path::new(&back)), payload);
}
