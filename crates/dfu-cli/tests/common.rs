//! Helpers for the CLI tests: run the real `dfu` binary against simulated devices.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The result of one `dfu` run.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success.
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// Asserts the exit code.
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// Asserts that stdout or stderr contains `text`.
    pub fn says(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text) || self.stderr.contains(text),
            "expected {text:?} in the output\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `dfu` with `args` and no DFU_SIM from the environment.
pub fn dfu(args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(args)
        .env_remove("DFU_SIM")
        .output()
        .expect("the dfu binary runs")
        .into()
}

/// A scratch directory with helpers for files.
pub struct Scratch {
    /// The directory (removed on drop).
    pub dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    /// A new empty directory.
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    /// A path inside it.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// Writes a file and returns its path.
    pub fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p.display().to_string()
    }
    /// A path for a state or output file, as a string.
    pub fn state(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

/// Reads `len` bytes at `address` from the simulated device `sim` with `dfu read` into the
/// scratch file `name`, and returns them.
pub fn read_back(sim: &str, s: &Scratch, name: &str, address: u32, len: usize) -> Vec<u8> {
    let out = s.state(name);
    let address = format!("0x{address:08x}");
    let len = len.to_string();
    dfu(&[
        "--sim",
        sim,
        "read",
        "--address",
        &address,
        "--length",
        &len,
        "-o",
        &out,
    ])
    .ok();
    read_file(&s.path(name))
}

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Reads a file.
pub fn read_file(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

/// Runs `dfu args`, reads `keep` bytes of its standard output, closes the pipe and waits:
/// (exit code, stderr).
pub fn with_closed_pipe(args: &[&str], keep: usize) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args(args)
        .env_remove("DFU_SIM")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dfu binary runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0; keep];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The data [`prefilled`] writes.
pub fn prefill_data(len: usize) -> Vec<u8> {
    pattern(len, 99)
}

/// A simulated `profile` (with knobs) whose memory at `address` holds [`prefill_data`],
/// written by a first flash, with a state file and a stats file in `s`. Refusal tests use
/// it: a refused flash must leave known data in place, which a blank device cannot show.
pub fn prefilled(s: &Scratch, profile: &str, address: u32, len: usize) -> String {
    let sim = format!(
        "{profile},state={},stats={}",
        s.state("prefilled.json"),
        s.state("stats.json")
    );
    let f = s.file("prefill.bin", &prefill_data(len));
    let at = format!("0x{address:08x}");
    dfu(&[
        "--sim",
        &sim,
        "flash",
        &f,
        "--address",
        &at,
        "--no-leave",
        "--force",
    ])
    .ok();
    sim
}

/// After a refused run on a [`prefilled`] device: the simulator saw no erase and no
/// programmed byte, and the data is still there.
pub fn assert_untouched(sim: &str, s: &Scratch, address: u32, len: usize) {
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    assert_eq!(st["erases"], 0, "{st}");
    assert_eq!(st["programmed_bytes"], 0, "{st}");
    assert_eq!(
        read_back(sim, s, "untouched.bin", address, len),
        prefill_data(len)
    );
}

/// Runs `dfu args` in `dir` with exactly the `DFU_*` variables in `env` (none inherited), as
/// a user's shell in a project directory would.
pub fn dfu_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dfu"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("DFU_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied())
        .output()
        .expect("the dfu binary runs")
        .into()
}
