//! Running one command line twice from the same simulated state: with the real dfu-util
//! 0.11 (through the libusb drop-in) and with `dfu` called `dfu-util`, and comparing
//! exit codes, flash contents, uploaded bytes and `Found` lines.

use crate::harness::{dfu_cli, dfu_run, dfu_util_run, Run};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// What the two runs must show.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Same exit code, same flash, same uploads.
    Same,
    /// A documented difference (docs/dfu-util.md): each tool's exit code, whether the flash
    /// must still be the same, and why.
    Differs {
        /// dfu-util 0.11's code.
        theirs: i32,
        /// Ours.
        ours: i32,
        /// Whether the flash afterwards is the same all the same.
        flash_same: bool,
        /// The reason, shown when the case fails.
        why: &'static str,
    },
}

/// A step run before the command line under test, on both sides alike.
#[derive(Debug, Clone)]
pub enum Seed {
    /// `dfu --sim SPEC ARGS` (our CLI), e.g. to put an image on the device first.
    Dfu(Vec<String>),
    /// The side's own dfu-suffix (Debian's for dfu-util, ours for ours).
    Suffix(Vec<String>),
}

/// One command line of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// What it is (a caller, an option).
    pub name: &'static str,
    /// DFU_SIM, where `@0`, `@1` stand for state files in the run's directory.
    pub spec: &'static str,
    /// Files written into the run's directory first.
    pub files: Vec<(&'static str, Vec<u8>)>,
    /// Steps before the command line.
    pub seeds: Vec<Seed>,
    /// dfu-util's arguments.
    pub args: Vec<&'static str>,
    /// The outcome.
    pub expect: Expect,
    /// A file the command uploads, compared byte for byte.
    pub upload: Option<&'static str>,
    /// Compare the `Found ...` lines.
    pub found: bool,
}

impl Case {
    /// A case expected to behave the same.
    pub fn new(name: &'static str, spec: &'static str, args: &[&'static str]) -> Case {
        Case {
            name,
            spec,
            files: Vec::new(),
            seeds: Vec::new(),
            args: args.to_vec(),
            expect: Expect::Same,
            upload: None,
            found: false,
        }
    }

    /// Adds a file.
    pub fn file(mut self, name: &'static str, bytes: Vec<u8>) -> Case {
        self.files.push((name, bytes));
        self
    }

    /// Adds a `dfu` step run first.
    pub fn seed_dfu(mut self, args: &[&str]) -> Case {
        self.seeds
            .push(Seed::Dfu(args.iter().map(|s| s.to_string()).collect()));
        self
    }

    /// Adds a dfu-suffix step run first.
    pub fn seed_suffix(mut self, args: &[&str]) -> Case {
        self.seeds
            .push(Seed::Suffix(args.iter().map(|s| s.to_string()).collect()));
        self
    }

    /// Sets a documented difference.
    pub fn differs(mut self, theirs: i32, ours: i32, flash_same: bool, why: &'static str) -> Case {
        self.expect = Expect::Differs {
            theirs,
            ours,
            flash_same,
            why,
        };
        self
    }

    /// Compares this uploaded file.
    pub fn upload(mut self, name: &'static str) -> Case {
        self.upload = Some(name);
        self
    }

    /// Compares the `Found` lines.
    pub fn found(mut self) -> Case {
        self.found = true;
        self
    }
}

/// A directory with a `dfu-util` and a `dfu-suffix` link to the built `dfu`.
fn links() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("temp dir");
        for n in ["dfu-util", "dfu-suffix"] {
            std::os::unix::fs::symlink(dfu_cli(), d.path().join(n)).expect("symlink");
        }
        d
    })
    .path()
}

fn spec_in(template: &str, dir: &Path) -> String {
    template
        .replace("@0", &dir.join("state0.json").display().to_string())
        .replace("@1", &dir.join("state1.json").display().to_string())
}

fn run_ours(program: &str, spec: &str, args: &[String], dir: &Path) -> Run {
    let out = Command::new(links().join(program))
        .args(args)
        .current_dir(dir)
        .env("DFU_SIM", spec)
        .output()
        .expect("run dfu as dfu-util");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One side's run of a case: prepare the directory, run the seeds, run the command line.
fn side(case: &Case, real: bool) -> (tempfile::TempDir, Run) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in &case.files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write case file");
    }
    let spec = spec_in(case.spec, dir.path());
    // The device exists before either tool runs: its state (with the option bytes a fresh
    // ST ROM has) is created first, so that a tool that never touches it leaves the same.
    if spec.contains("state=") {
        let r = dfu_run(&spec, &["list"], dir.path());
        assert_eq!(r.code, 0, "{}: creating the state failed\n{r}", case.name);
    }
    for s in &case.seeds {
        let r = match s {
            Seed::Dfu(a) => dfu_run(
                &spec,
                &a.iter().map(String::as_str).collect::<Vec<_>>(),
                dir.path(),
            ),
            Seed::Suffix(a) if real => {
                let out = Command::new("/usr/bin/dfu-suffix")
                    .args(a)
                    .current_dir(dir.path())
                    .output()
                    .expect("dfu-suffix");
                Run {
                    code: out.status.code().unwrap_or(-1),
                    stdout: String::new(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                }
            }
            Seed::Suffix(a) => run_ours("dfu-suffix", &spec, a, dir.path()),
        };
        assert_eq!(r.code, 0, "{}: seed step {s:?} failed\n{r}", case.name);
    }
    let args: Vec<String> = case.args.iter().map(|s| s.to_string()).collect();
    let run = if real {
        dfu_util_run(&spec, case.args.as_slice(), dir.path())
    } else {
        run_ours("dfu-util", &spec, &args, dir.path())
    };
    (dir, run)
}

/// Flash contents of every state file in `dir`: (file, alt, page address) -> bytes,
/// erased (all 0xFF) pages left out.
pub fn memory(dir: &Path) -> BTreeMap<(String, u64, String), Vec<u8>> {
    let mut out = BTreeMap::new();
    for f in ["state0.json", "state1.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(f)) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("state file is JSON");
        for alt in v["alts"].as_array().into_iter().flatten() {
            for page in alt["pages"].as_array().into_iter().flatten() {
                let data = base64(page["data"].as_str().unwrap_or_default());
                if data.iter().all(|&b| b == 0xff) {
                    continue;
                }
                let key = (
                    f.to_string(),
                    alt["alt"].as_u64().unwrap_or(0),
                    page["address"].as_str().unwrap_or_default().to_string(),
                );
                out.insert(key, data);
            }
        }
    }
    out
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .map(val)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// The `Found ...` lines of a run.
pub fn found_lines(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("Found "))
        .map(str::to_string)
        .collect()
}

/// Lines of dfu-util's standard output that callers read (docs/dfu-util.md, "What callers
/// read"). Where dfu-util prints one and ours succeeds, ours prints it too.
const GREPPED: &[&str] = &["File downloaded successfully", "Found DFU", "Found Runtime"];

/// The success line particle-cli takes as proof of a download, even on a non-zero exit.
const DOWNLOADED: &str = "File downloaded successfully";

/// The caller-read lines one side prints and the other does not, where that matters.
fn grepped(theirs: &Run, ours: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    for line in GREPPED {
        if theirs.stdout.contains(line) && !ours.stdout.contains(line) && ours.code == 0 {
            problems.push(format!("dfu-util prints {line:?}, ours does not"));
        }
    }
    let ours_says = ours.stdout.contains(DOWNLOADED);
    if ours_says
        && (ours.code != 0 || !theirs.stdout.contains(DOWNLOADED))
        && theirs.code == ours.code
    {
        problems.push(format!(
            "ours prints {DOWNLOADED:?} where dfu-util does not"
        ));
    }
    if ours_says && ours.code != 0 {
        problems.push(format!("ours prints {DOWNLOADED:?} after a failure"));
    }
    problems
}

/// Runs a case on both sides and checks it; returns a failure description or None.
pub fn check(case: &Case) -> Option<String> {
    let (theirs_dir, theirs) = side(case, true);
    let (ours_dir, ours) = side(case, false);
    let mut problems = Vec::new();
    let flash_same = match case.expect {
        Expect::Same => {
            if theirs.code != ours.code {
                problems.push(format!(
                    "exit codes differ: dfu-util {} vs ours {}",
                    theirs.code, ours.code
                ));
            }
            true
        }
        Expect::Differs {
            theirs: t,
            ours: o,
            flash_same,
            why,
        } => {
            if theirs.code != t || ours.code != o {
                problems.push(format!(
                    "expected dfu-util {t} and ours {o} ({why}); got {} and {}",
                    theirs.code, ours.code
                ));
            }
            flash_same
        }
    };
    let (mem_theirs, mem_ours) = (memory(theirs_dir.path()), memory(ours_dir.path()));
    if flash_same && mem_theirs != mem_ours {
        problems.push("the flash contents differ afterwards".into());
    }
    if ours.code == 0 && case.args.contains(&"-D") && mem_ours.is_empty() {
        problems.push("a download succeeded but the state file shows nothing written".into());
    }
    if let Some(f) = case.upload {
        let a = std::fs::read(theirs_dir.path().join(f)).ok();
        let b = std::fs::read(ours_dir.path().join(f)).ok();
        if a != b {
            problems.push(format!(
                "uploaded {f} differs: dfu-util {:?} bytes, ours {:?} bytes",
                a.map(|x| x.len()),
                b.map(|x| x.len())
            ));
        }
    }
    if case.found && found_lines(&theirs) != found_lines(&ours) {
        problems.push("the Found lines differ".into());
    }
    problems.extend(grepped(&theirs, &ours));
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "case {:?} ({}):\n  {}\n=== dfu-util\n{theirs}\n=== ours\n{ours}",
        case.name,
        case.args.join(" "),
        problems.join("\n  ")
    ))
}
