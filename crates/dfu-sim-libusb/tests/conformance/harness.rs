//! Running the real programs: dfu-util 0.11 (Debian's /usr/bin/dfu-util) with this
//! crate's libusb drop-in preloaded, and our own `dfu` CLI.
//!
//! Where the pieces come from:
//! - `libdfu_sim_libusb.so`: `cargo test -p dfu-sim-libusb` builds the library (it is
//!   also an rlib, which integration tests depend on), and its cdylib lands in the same
//!   `deps/` directory as this test binary. The profile directory above it (where
//!   `cargo build` puts it) is the fallback. The test never links the library itself, so
//!   its `nanosleep` does not replace the test process's own.
//! - `dfu`: built on first use with `cargo build -p dfu-cli` into the same target
//!   directory and profile as this test (cargo releases its build lock while tests run),
//!   so the cross-tool tests always run the current CLI, never a stale binary.
//! - dfu-util: must be installed; a missing or different dfu-util fails the tests with
//!   "run scripts/setup", it never skips them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The dfu-util the expected outputs were taken from.
pub const DFU_UTIL: &str = "/usr/bin/dfu-util";

/// Exit status of dfu-util for usage errors (`EX_USAGE`).
pub const EX_USAGE: i32 = 64;
/// Exit status of dfu-util for USB and I/O errors (`EX_IOERR`).
pub const EX_IOERR: i32 = 74;

/// What a program run printed and returned.
#[derive(Debug)]
pub struct Run {
    /// Exit status (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from_output(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Stdout split into lines, with dfu-util's progress bars (which redraw with `\r`
    /// on one line) reduced to their last state.
    pub fn out_lines(&self) -> Vec<&str> {
        lines(&self.stdout)
    }

    /// Stderr lines.
    pub fn err_lines(&self) -> Vec<&str> {
        lines(&self.stderr)
    }

    /// Panics with the whole output unless the exit status is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit status\n{self}");
        self
    }

    /// Panics unless stdout has exactly this line.
    pub fn expect_out(&self, line: &str) -> &Self {
        assert!(
            self.out_lines().contains(&line),
            "stdout lacks {line:?}\n{self}"
        );
        self
    }

    /// Panics unless stderr has exactly this line.
    pub fn expect_err(&self, line: &str) -> &Self {
        assert!(
            self.err_lines().contains(&line),
            "stderr lacks {line:?}\n{self}"
        );
        self
    }

    /// Panics unless the stdout lines appear in this order (not necessarily adjacent).
    pub fn expect_out_sequence(&self, wanted: &[&str]) -> &Self {
        let lines = self.out_lines();
        let mut at = 0;
        for w in wanted {
            match lines[at..].iter().position(|l| l == w) {
                Some(i) => at += i + 1,
                None => panic!("stdout lacks {w:?} (in order {wanted:?})\n{self}"),
            }
        }
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.rsplit('\r').next().unwrap_or(l).trim_end())
        .collect()
}

/// The directory of this test binary (`target/<profile>/deps`).
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    exe.parent().expect("test binary directory").to_path_buf()
}

/// The preloadable library built by this `cargo test` run.
pub fn shim_library() -> &'static Path {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| {
        let deps = deps_dir();
        let name = "libdfu_sim_libusb.so";
        let candidates = [deps.join(name), deps.join("..").join(name)];
        candidates
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "{name} not found in {} or its parent; run `cargo build -p dfu-sim-libusb`",
                    deps.display()
                )
            })
    })
}

/// Checks once that the reference dfu-util is installed.
fn dfu_util() -> &'static str {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let out = Command::new(DFU_UTIL).arg("-V").output().unwrap_or_else(|e| {
            panic!("{DFU_UTIL} cannot run ({e}): dfu-util 0.11 is not installed; run scripts/setup")
        });
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("dfu-util 0.11\n"),
            "{DFU_UTIL} is not dfu-util 0.11 (says {:?}); run scripts/setup",
            text.lines().next().unwrap_or_default()
        );
    });
    DFU_UTIL
}

/// Runs dfu-util against the simulated devices of `spec` (given as `DFU_SIM`).
pub fn dfu_util_run(spec: &str, args: &[&str], dir: &Path) -> Run {
    let out = Command::new(dfu_util())
        .args(args)
        .current_dir(dir)
        .env("LD_PRELOAD", shim_library())
        .env("DFU_SIM", spec)
        .output()
        .expect("run dfu-util");
    Run::from_output(out)
}

/// Reads `len` bytes of alt 0 from `address` with dfu-util (`-s ADDR:LEN -U`), checks that
/// the upload succeeded, and returns what it read with the run (for failure messages).
pub fn dfu_util_upload(spec: &str, address: u32, len: usize, dir: &Path) -> (Vec<u8>, Run) {
    let range = format!("0x{address:08X}:{len}");
    let up = dfu_util_run(spec, &["-a", "0", "-s", &range, "-U", "upload.bin"], dir);
    up.expect_code(0).expect_out("Upload done.");
    let back = std::fs::read(dir.join("upload.bin")).expect("file uploaded by dfu-util");
    (back, up)
}

/// The `dfu` CLI of this workspace, built for this test run.
pub fn dfu_cli() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile_dir = deps_dir().join("..");
        let profile = match profile_dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        {
            Some(name) if name != "debug" => name,
            _ => "dev".to_string(),
        };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "dfu-cli",
                "--bin",
                "dfu",
                "--profile",
                &profile,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build -p dfu-cli");
        assert!(status.success(), "cargo build -p dfu-cli failed");
        let bin = profile_dir.join("dfu");
        assert!(bin.is_file(), "{} missing after cargo build", bin.display());
        bin
    })
}

/// Runs `dfu --sim SPEC ARGS...`.
pub fn dfu_run(spec: &str, args: &[&str], dir: &Path) -> Run {
    let out = Command::new(dfu_cli())
        .arg("--sim")
        .arg(spec)
        .args(args)
        .current_dir(dir)
        .env_remove("DFU_SIM")
        .output()
        .expect("run dfu");
    Run::from_output(out)
}

/// A fresh scratch directory for one test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// `len` bytes that differ from one position to the next and from one `seed` to the
/// next (no two 4-byte words alike within a test image), never all 0xFF.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// Writes `bytes` to `dir/name` and returns the name (tests run dfu-util in `dir`).
pub fn file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    std::fs::write(dir.join(name), bytes).expect("write test file");
    name.to_string()
}

/// A `key=path` spec item for a file in `dir`.
pub fn path_in(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// The numbers of a stats file written by the simulator.
pub fn stats(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("stats file {}: {e}", path.display()));
    serde_json::from_str(&text).expect("stats file is JSON")
}
