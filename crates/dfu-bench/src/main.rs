//! `dfu-bench`: the simulator-model helper of `bench/run`.
//!
//! ```text
//! dfu-bench limit --profile P --state STATE --image FILE --address A [--alt N]
//!     JSON: which sectors the image changes and must erase over what STATE holds now,
//!     and the physical limit of that work (ms) from dfu_sim::physical_limit.
//! dfu-bench check --profile P --state STATE --image FILE --address A [--alt N]
//!         [--before STATE0]
//!     Compares the image with the simulated flash in STATE (ground truth, no protocol),
//!     and with --before, the rest of the alt's memory with STATE0: outside the sectors the
//!     image touches nothing may change. JSON {"ok", "mismatches", "first_mismatch",
//!     "collateral", "first_collateral"}; exit status 1 when anything differs.
//! ```
//!
//! STATE files are only read (through a private copy); a missing one is a blank device.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

struct Args {
    profile: String,
    state: PathBuf,
    image: Vec<u8>,
    address: u32,
    alt: u8,
    before: Option<PathBuf>,
}

fn number(s: &str) -> Result<u64, String> {
    dfu_proto::num::parse_u64(s).map_err(|e| e.to_string())
}

fn parse(rest: &[String]) -> Result<Args, String> {
    let (mut profile, mut state, mut image, mut address, mut alt) = (None, None, None, None, 0);
    let mut before = None;
    let mut it = rest.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--profile" => profile = Some(v.clone()),
            "--state" => state = Some(PathBuf::from(v)),
            "--image" => {
                image = Some(std::fs::read(v).map_err(|e| format!("reading {v}: {e}"))?);
            }
            "--address" => {
                address =
                    Some(u32::try_from(number(v)?).map_err(|_| format!("{v} is over 32 bits"))?)
            }
            "--alt" => alt = u8::try_from(number(v)?).map_err(|_| format!("alt {v}"))?,
            "--before" => before = Some(PathBuf::from(v)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Args {
        profile: profile.ok_or("--profile is required")?,
        state: state.ok_or("--state is required")?,
        image: image.ok_or("--image is required")?,
        address: address.ok_or("--address is required")?,
        alt,
        before,
    })
}

fn run(argv: &[String]) -> Result<bool, String> {
    let usage =
        "usage: dfu-bench limit|check --profile P --state STATE --image FILE --address A [--alt N]";
    let (cmd, rest) = argv.split_first().ok_or(usage)?;
    let a = parse(rest)?;
    let current = dfu_bench::read_state(&a.profile, &a.state, a.alt, a.address, a.image.len())?;
    match cmd.as_str() {
        "limit" => {
            let profile = dfu_profiles::Profile::load(&a.profile).map_err(|e| e.to_string())?;
            let r = dfu_bench::report(&profile, a.alt, a.address, &a.image, &current)?;
            println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
            Ok(true)
        }
        "check" => {
            let bad: Vec<usize> = (0..a.image.len())
                .filter(|&i| current.get(i) != Some(&a.image[i]))
                .collect();
            let first = bad
                .first()
                .map(|&i| format!("0x{:08x}", u64::from(a.address) + i as u64));
            let (collateral, first_collateral) = match &a.before {
                Some(b) => {
                    dfu_bench::collateral(&a.profile, b, &a.state, a.alt, a.address, a.image.len())?
                }
                None => (0, None),
            };
            let ok = bad.is_empty() && collateral == 0;
            let out = serde_json::json!({
                "ok": ok, "mismatches": bad.len(), "first_mismatch": first,
                "collateral": collateral,
                "first_collateral": first_collateral.map(|a| format!("0x{a:08x}")),
            });
            println!("{out}");
            Ok(ok)
        }
        _ => Err(usage.into()),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("dfu-bench: {e}");
            ExitCode::from(2)
        }
    }
}
