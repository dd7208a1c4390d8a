//! Every code in the README's table of codes is produced by a real `dfu` command line: one
//! situation per code (several for a code with more than one exit), each run with `--json`
//! on simulated devices, asserting the code in the JSON error, findings or notes and the
//! exit the README gives for it. Refusals run on devices pre-filled with data and read the
//! memory back to show that nothing was erased or written. Device errors come from the
//! simulator's fault injection (`fault=`), a slow erase (`erase-factor=`) and an
//! unwritable statistics file; none depends on chance.
//!
//! The table and the README cannot drift: a README code without a situation, or a
//! situation whose code the README does not list, fails `the_table_covers_the_readme`.
//! The README's codes are also checked against `dfu::Code::ALL` and the `Code` of
//! `dfu schema` here (that every `Code` is in the README is
//! `code::tests::the_readme_lists_every_code` in the library).

mod common;
#[path = "support/contract.rs"]
mod contract;
#[path = "support/notes.rs"]
mod notes;
#[path = "support/situations.rs"]
mod situations;

use common::*;
use contract::Contract;
use notes::*;
use serde_json::Value;
use situations::*;
use std::collections::BTreeSet;

/// A situation: builds what it needs in the scratch directory, runs `dfu`, returns the run.
type Situation = fn(&Scratch) -> Run;

/// One row per situation: the code, the exit code the README gives for it, the situation.
/// A note (exit `-` in the README) comes with a run that succeeds: exit 0.
type Case = (&'static str, i32, Situation);

/// Every situation.
fn cases() -> Vec<Case> {
    [
        selection_and_device(),
        usage_and_files(),
        refused_places(),
        refused_files(),
        refused_protection(),
        unsupported_and_sim(),
        notes(),
    ]
    .concat()
}

/// No device or several; the device fails, lies, stays busy or is interrupted.
fn selection_and_device() -> Vec<Case> {
    vec![
        ("dfu::select::no-device", 4, |s| {
            let a = s.file("a.bin", &pattern(1000, 1));
            sim_json(
                "stm32f405",
                &["--device", "1234:5678", "flash", &a, "-s", APP],
            )
        }),
        ("dfu::select::ambiguous", 4, |s| {
            let a = s.file("a.bin", &pattern(1000, 1));
            sim_json("stm32f405*2", &["flash", &a, "-s", APP])
        }),
        ("dfu::device::usb", 6, |s| {
            faulted(s, "disconnect@dnload:12")
        }),
        ("dfu::device::status", 6, |s| {
            faulted(s, "status=errPROG@dnload:12")
        }),
        ("dfu::device::state", 6, stuck_in_error),
        ("dfu::device::timeout", 6, slow_erase),
        ("dfu::device::protocol", 6, |s| {
            at_last(s, "getstatus", "disconnect")
        }),
        ("dfu::verify::mismatch", 7, |s| {
            at_last(s, "upload", "corrupt")
        }),
        ("dfu::interrupted", 130, |s| {
            faulted(s, "interrupt@dnload:12")
        }),
    ]
}

/// Impossible arguments, files that cannot be read or used.
fn usage_and_files() -> Vec<Case> {
    vec![
        ("dfu::usage::argument", 2, |s| {
            let out = s.state("r.bin");
            sim_json(
                "stm32f405",
                &[
                    "--alt", "9", "read", "-s", APP, "--length", "16", "-o", &out,
                ],
            )
        }),
        ("dfu::usage::argument", 2, |s| {
            let out = s.state("r.bin");
            let args = ["read", "-s", APP, "--length", "0", "-o", &out];
            sim_json("stm32f405", &args)
        }),
        ("dfu::usage::no-address", 2, no_address),
        ("dfu::usage::address-conflict", 2, |s| {
            let f = s.file("a.hex", hex(&[(0x0800_8000, &pattern(256, 2))]).as_bytes());
            refused(s, "stm32f405", &[&f, "-s", "0x08010000"])
        }),
        ("dfu::input::read", 3, |s| {
            refused(s, "stm32f405", &[&s.state("missing.bin"), "-s", APP])
        }),
        ("dfu::input::parse", 3, |s| {
            let f = s.file("bad.hex", b":10000000zz\n");
            refused(s, "stm32f405", &[&f])
        }),
        ("dfu::input::overlap", 3, |s| {
            let a = s.file("a.hex", hex(&[(0x0800_8000, &pattern(256, 2))]).as_bytes());
            let b = s.file("b.hex", hex(&[(0x0800_8080, &pattern(256, 3))]).as_bytes());
            refused(s, "stm32f405", &[&a, &b])
        }),
        ("dfu::output::file", 3, |s| {
            let out = s.file("exists.bin", b"keep me");
            let r = sim_json(
                "stm32f405",
                &["read", "-s", APP, "--length", "16", "-o", &out],
            );
            assert_eq!(read_file(&s.path("exists.bin")), b"keep me");
            r
        }),
    ]
}

/// Refused before anything is written: where the bytes would go.
fn refused_places() -> Vec<Case> {
    vec![
        ("dfu::refused::empty", 5, |s| {
            let f = s.file("empty.hex", b":00000001FF\n");
            refused(s, "stm32f405", &[&f])
        }),
        ("dfu::refused::outside-memory", 5, |s| {
            let a = s.file("a.bin", &pattern(1000, 1));
            refused(s, "stm32f405", &[&a, "-s", "0x09000000"])
        }),
        ("dfu::refused::read-only", 5, |s| {
            let a = s.file("a.bin", &pattern(4096, 1));
            refused(s, "photon", &[&a, "-s", "0x08000000", "--force"])
        }),
        ("dfu::refused::layout-unknown", 5, layout_unknown),
        ("dfu::refused::protected-region", 5, |s| {
            let a = s.file("a.bin", &pattern(1000, 1));
            refused(s, "photon", &["--alt", "1", &a])
        }),
        ("dfu::refused::region-overflow", 5, |s| {
            let a = s.file("big.bin", &pattern(200 * 1024, 1));
            refused(s, "photon", &[&a, "-s", "0x080A0000"])
        }),
        ("dfu::refused::mass-erase-system", 5, |s| {
            let a = s.file("a.bin", &pattern(1000, 1));
            refused(s, "photon", &[&a, "--mass-erase"])
        }),
    ]
}

/// Refused before anything is written: what the files say about themselves.
fn refused_files() -> Vec<Case> {
    vec![
        ("dfu::refused::suffix-ids", 5, |s| {
            let photon = dfu_image::suffix::add(&pattern(4096, 2), 0x2b04, 0xd006, 0xffff);
            let f = s.file("photon.dfu", &photon);
            refused(s, "stm32f405", &[&f, "-s", APP])
        }),
        ("dfu::refused::platform", 5, |s| {
            let f = s.file("user.bin", &user_part(ELECTRON, 0x080A_0000, &[]));
            refused(s, "photon", &[&f])
        }),
        ("dfu::refused::module-address", 5, |s| {
            let f = s.file("user.bin", &user_part(PHOTON, 0x080A_0000, &[]));
            refused(s, "photon", &[&f, "-s", "0x080A8000"])
        }),
        ("dfu::refused::module-crc", 5, |s| {
            let mut m = user_part(PHOTON, 0x080A_0000, &[]);
            let last = m.len() - 10;
            m[last] ^= 0xFF;
            let f = s.file("user.bin", &m);
            refused(s, "photon", &[&f])
        }),
        ("dfu::refused::dependency", 5, |s| {
            let needs = [needs_system(2, 2)];
            let f = s.file("user.bin", &user_part(PHOTON, 0x080A_0000, &needs));
            refused(s, "photon,system-version=1", &[&f])
        }),
        ("dfu::refused::vector-table", 5, |s| {
            let f = s.file("linked-at-0.bin", &vectors_for(0x0800_0000));
            refused(s, "stm32f405", &[&f, "-s", APP])
        }),
        ("dfu::refused::elf-machine", 5, |s| {
            refused(s, "stm32f405", &[&fixture("fw64.elf")])
        }),
        ("dfu::refused::no-such-alt", 5, |s| {
            let f = s.file("alt5.dfu", &dfuse(5, 0x0800_8000, &pattern(256, 4)));
            refused(s, "stm32f405", &[&f])
        }),
        ("dfu::refused::no-such-alt", 2, |s| {
            let f = s.file("alt0.dfu", &dfuse(0, 0x0800_8000, &pattern(256, 4)));
            refused(s, "stm32f405", &["--alt", "1", &f])
        }),
        ("dfu::refused::no-layout", 5, no_layout),
        ("dfu::refused::plain-runs", 5, |s| {
            let two = [
                (0x0800_2000, &pattern(256, 5)[..]),
                (0x0800_4000, &pattern(256, 6)),
            ];
            let f = s.file("two.hex", hex(&two).as_bytes());
            refused(s, "dapboot", &[&f])
        }),
        ("dfu::refused::plain-address", 5, |s| {
            let f = s.file(
                "late.hex",
                hex(&[(0x0800_3000, &pattern(256, 5))]).as_bytes(),
            );
            refused(s, "dapboot", &[&f])
        }),
    ]
}

/// Refused before anything is written: protection, and what needs confirming.
fn refused_protection() -> Vec<Case> {
    vec![
        ("dfu::refused::raises-protection", 5, |s| {
            option_bytes(s, WRP0, &[])
        }),
        ("dfu::refused::irreversible", 5, |s| {
            option_bytes(s, LEVEL2, &["--force"])
        }),
        ("dfu::refused::preserve", 5, |s| {
            let a = s.file("a.bin", &pattern(1000, 1));
            refused(
                s,
                "stm32f405",
                &[&a, "-s", APP, "--mass-erase", "--preserve"],
            )
        }),
        ("dfu::refused::otp-bits", 5, otp_bits),
        ("dfu::refused::write-protected", 5, write_protected),
        ("dfu::refused::read-protected", 5, read_protected),
        ("dfu::refused::needs-confirmation", 5, |s| {
            let sim = filled(s, "stm32f405", 0x0800_8000);
            let r = sim_json(&sim, &["unprotect"]);
            untouched(&sim, s, 0x0800_8000);
            r
        }),
    ]
}

/// What the device cannot do, and the simulator's own errors.
fn unsupported_and_sim() -> Vec<Case> {
    vec![
        ("dfu::unsupported::upload", 5, |s| {
            let custom = custom_profile(s, "no-upload.toml", |t| {
                t.replace("attributes = 0x0b", "attributes = 0x09")
            });
            let out = s.state("r.bin");
            let r = sim_json(&custom, &["read", "-s", APP, "--length", "16", "-o", &out]);
            assert!(!s.path("r.bin").exists(), "no file is left behind");
            r
        }),
        ("dfu::unsupported::erase", 5, |s| {
            let sim = filled(s, "dapboot", 0x0800_2000);
            let r = sim_json(&sim, &["erase", "-s", "0x08002000", "--length", "1024"]);
            untouched(&sim, s, 0x0800_2000);
            r
        }),
        ("dfu::unsupported::option-bytes", 5, |_| {
            sim_json("dapboot", &["option-bytes"])
        }),
        ("dfu::sim::spec", 2, |_| {
            sim_json("stm32f405,erase-factor=1000", &["list"])
        }),
        ("dfu::sim::save", 6, |s| {
            // The statistics file's path is a directory: it cannot be written as a file.
            std::fs::create_dir(s.path("stats")).unwrap();
            let r = sim_json(&format!("stm32f405,stats={}", s.state("stats")), &["list"]);
            assert!(s.path("stats").is_dir(), "the directory is left as it was");
            r
        }),
    ]
}

/// Notes: the run succeeds (exit 0) and says something worth knowing.
fn notes() -> Vec<Case> {
    vec![
        ("dfu::note::padded", 0, padded),
        ("dfu::note::option-bytes", 0, option_byte_file),
        ("dfu::note::placed", 0, placed),
        ("dfu::note::config-unused", 0, config_unused),
        ("dfu::note::detached", 0, detached),
        ("dfu::note::cleared", 0, cleared),
        ("dfu::note::layout", 0, layout),
        ("dfu::note::sector-erase", 0, sector_erase),
        ("dfu::note::clears-nearby", 0, clears_nearby),
        ("dfu::note::kept", 0, kept),
        ("dfu::note::skipped", 0, skipped),
        ("dfu::note::not-verified", 0, not_verified),
        ("dfu::note::verified-early", 0, verified_early),
        ("dfu::note::left-early", 0, left_early),
        ("dfu::note::output-closed", 0, output_closed),
    ]
}

/// Codes that no simulated device produces through the command line, each with the test
/// that triggers it: (code, file, test). Simulated devices always have a DFU interface.
const ELSEWHERE: &[(&str, &str, &str)] = &[(
    "dfu::unsupported::mode",
    "crates/dfu/src/discovery/discover.rs",
    "a_device_without_a_dfu_interface_is_refused_by_its_mode",
)];

/// Situations that are Unix by nature, left out of the Windows build's run (docs/desks.md):
/// the simulator raises a signal in the `dfu` process.
const UNIX_ONLY: &[&str] = &["dfu::interrupted"];

#[test]
fn every_code_comes_from_its_situation_with_its_exit() {
    let readme = readme_codes();
    let mut cases = cases();
    if cfg!(windows) {
        cases.retain(|c| !UNIX_ONLY.contains(&c.0));
    }
    let contract = Contract::new();
    // Two workers, as the CI machine has two cores.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (cases, readme, contract) = (&cases, &readme, &contract);
                scope.spawn(move || {
                    let mine = cases.iter().skip(w).step_by(2);
                    let problems = mine.filter_map(|c| check(c, readme, contract));
                    problems.collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs one situation: what is wrong with it, if anything. Its last line (the result or
/// the error) must also be one that `dfu schema` describes.
fn check(
    &(code, exit, situation): &(&str, i32, Situation),
    readme: &[(String, Vec<i32>)],
    contract: &Contract,
) -> Option<String> {
    let s = Scratch::new();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| situation(&s)));
    let Ok(r) = run else {
        return Some(format!("{code}: the situation failed (its panic is above)"));
    };
    let found = codes_in(&r.stdout);
    let last: Value =
        serde_json::from_str(r.stdout.lines().last().unwrap_or_default()).unwrap_or_default();
    let invalid = contract.errors(None, &last);
    let allowed = readme.iter().find(|(c, _)| c == code).map(|(_, e)| e);
    if !found.contains(code) || r.code != exit {
        Some(format!(
            "{code}: expected exit {exit} and the code; got exit {} and {found:?}\nstdout:\n{}\nstderr:\n{}",
            r.code, r.stdout, r.stderr
        ))
    } else if !invalid.is_empty() {
        Some(format!(
            "{code}: {last}\ndoes not match `dfu schema`: {invalid:#?}"
        ))
    } else if allowed.is_some_and(|e| !e.contains(&exit)) {
        Some(format!(
            "{code}: exit {exit} is not the README's {allowed:?}"
        ))
    } else {
        None
    }
}

#[test]
fn the_table_covers_the_readme() {
    let readme: BTreeSet<String> = readme_codes().into_iter().map(|(c, _)| c).collect();
    let mut table: BTreeSet<String> = cases().iter().map(|c| c.0.to_string()).collect();
    for (code, file, test) in ELSEWHERE {
        let text = std::fs::read_to_string(format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{code}: {file}: {e}"));
        assert!(
            text.contains(&format!("fn {test}()")),
            "{code}: {file} has no test {test}"
        );
        table.insert(code.to_string());
    }
    let no_case: Vec<_> = readme.difference(&table).collect();
    let not_in_readme: Vec<_> = table.difference(&readme).collect();
    assert!(
        no_case.is_empty(),
        "README codes without a situation: {no_case:?}"
    );
    assert!(
        not_in_readme.is_empty(),
        "situations for codes the README lacks: {not_in_readme:?}"
    );
    let enumerated: BTreeSet<String> = dfu::Code::ALL.iter().map(|c| c.to_string()).collect();
    let stale: Vec<_> = readme.difference(&enumerated).collect();
    assert!(
        stale.is_empty(),
        "README codes that dfu::Code lacks: {stale:?}"
    );
    let schema: Value = serde_json::from_str(&dfu(&["schema"]).ok().stdout).unwrap();
    let in_schema: BTreeSet<String> = schema["$defs"]["Code"]["enum"]
        .as_array()
        .expect("the schema defines Code")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        in_schema, readme,
        "`dfu schema` and the README list other codes"
    );
}

/// The README's table of codes: each `dfu::...` code with the exit codes its row allows
/// (`5 (2 with --alt)` allows 5 and 2; a note's `-` means the run succeeds: 0).
fn readme_codes() -> Vec<(String, Vec<i32>)> {
    let readme = include_str!("../../../README.md");
    let rows: Vec<(String, Vec<i32>)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.strip_prefix("`dfu::")?.strip_suffix('`')?;
            let exits: Vec<i32> = cells
                .get(2)?
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            let exits = if exits.is_empty() { vec![0] } else { exits };
            Some((format!("dfu::{code}"), exits))
        })
        .collect();
    assert!(rows.len() > 40, "the README's table of codes was not found");
    rows
}

/// Every `"code"` value, and every code of a `"note_codes"` list, anywhere in the JSON
/// lines of `stdout`.
fn codes_in(stdout: &str) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("code", Value::String(c)) => {
                            out.insert(c.clone());
                        }
                        ("note_codes", Value::Array(a)) => {
                            out.extend(a.iter().filter_map(|c| c.as_str().map(String::from)));
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for line in stdout.lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            walk(&v, &mut out);
        }
    }
    out
}
