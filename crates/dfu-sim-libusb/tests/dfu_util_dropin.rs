//! `dfu` as a drop-in for dfu-util: each command line of the corpus runs from the same
//! simulated state once with the real dfu-util 0.11 (through this crate's libusb
//! drop-in) and once with `dfu` called `dfu-util`; exit codes, flash contents, uploaded
//! bytes and `Found` lines must agree, except where docs/dfu-util.md documents why not.

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

#[path = "dfu_util_dropin/corpus.rs"]
mod corpus;
#[path = "dfu_util_dropin/support.rs"]
mod support;

use support::{check, found_lines, Case};

fn run_all(cases: Vec<Case>) {
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn callers_command_lines() {
    run_all(corpus::callers());
}

#[test]
fn every_option() {
    run_all(corpus::options());
}

#[test]
fn found_lines_match_for_every_profile_in_dfu_and_run_time_mode() {
    let names = dfu_profiles::builtin_names();
    let mut compared = 0;
    for name in &names {
        let profile = dfu_profiles::Profile::builtin(name).expect("built-in profile");
        let mut specs = vec![name.to_string()];
        if profile.runtime.is_some() {
            specs.push(format!("{name},mode=runtime"));
        }
        for spec in specs {
            let case = Case::new("-l", "", &["-l"]).found();
            let dir = harness::scratch();
            let theirs = harness::dfu_util_run(&spec, &case.args, dir.path());
            let ours = std::process::Command::new(harness::dfu_cli())
                .args(["util", "-l"])
                .env("DFU_SIM", &spec)
                .output()
                .expect("run dfu util -l");
            let ours = harness::Run {
                code: ours.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&ours.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&ours.stderr).into_owned(),
            };
            assert_eq!((ours.code, theirs.code), (0, 0), "{spec}\n{ours}\n{theirs}");
            assert_eq!(found_lines(&ours), found_lines(&theirs), "{spec}");
            compared += found_lines(&theirs).len();
        }
    }
    // Every profile lists at least one alt in DFU mode; the Particle ones also at run time.
    assert!(compared >= names.len(), "only {compared} lines compared");
}
