//! The promise "nothing is lost without a flag that says so", as property tests: random
//! images, addresses, alt settings and options (`--force`, `--preserve`, `--mass-erase`,
//! `--irreversible`, dry run first) on every built-in profile, a part no profile knows and a
//! hostile device, with faults injected at random requests. After each run the simulator's
//! memory (ground truth, read without the protocol) must satisfy:
//!
//! 1. every byte outside the ranges the report says were erased or written is unchanged;
//! 2. no byte of a bootloader, settings, OTP, option-byte or device-information region
//!    changes unless the plan named the flag that allowed it and the flag was given;
//! 3. the dry run changes nothing, and its steps and notes are the real run's;
//! 4. with `--preserve`, every byte outside the image is unchanged, or the run was refused
//!    before anything was erased;
//! 5. the report's erased and written ranges are exact: written bytes hold the data, erased
//!    bytes not written since are 0xFF (after a failure as after a success); only the one
//!    operation under way when a run failed (the device had started it) is reported
//!    `unsure`, and may hold either;
//! 6. the same command run again after a failure completes, and the device holds the image.
//!
//! `INVARIANT_CASES` sets the number of cases (default 48; `scripts/invariants N`), and
//! `INVARIANT_PROFILE` (comma-separated kinds) restricts the devices.

use super::world::{noise, Memory, Ran, World};
use dfu::{Firmware, FlashOptions, FlashPlan, FlashReport, Severity};
use proptest::prelude::*;

/// One generated run.
#[derive(Debug, Clone)]
pub struct Case {
    /// Built-in profile name, `unknown` or `hostile:SEED`.
    pub kind: String,
    /// Extra knobs (a GD32VF103 density).
    pub extra: &'static str,
    /// Alt setting (an index into the profile's alts, wrapped).
    pub alt: u8,
    /// None: the default address; else an offset into the alt's memory (wrapped).
    pub offset: Option<u32>,
    /// Image length.
    pub len: usize,
    /// The options.
    pub opts: FlashOptions,
    /// A fault for the real run.
    pub fault: Option<String>,
    /// Seed of the fill and the image.
    pub seed: u64,
}

fn kinds() -> Vec<String> {
    if let Ok(only) = std::env::var("INVARIANT_PROFILE") {
        return only.split(',').map(String::from).collect();
    }
    let mut k: Vec<String> = dfu_profiles::builtin_names()
        .into_iter()
        .map(String::from)
        .collect();
    k.push("unknown".into());
    k.push("hostile:7".into());
    k.push("hostile:1234".into());
    k
}

fn fault() -> impl Strategy<Value = Option<String>> {
    let kind = prop_oneof![
        Just("disconnect"),
        Just("stall"),
        Just("timeout"),
        Just("status=errPROG"),
        Just("status=errWRITE"),
    ];
    let req = prop_oneof![
        Just("dnload"),
        Just("upload"),
        Just("getstatus"),
        Just("any")
    ];
    proptest::option::weighted(
        0.6,
        (kind, req, 1u32..120).prop_map(|(k, r, n)| format!("{k}@{r}:{n}")),
    )
}

fn options() -> impl Strategy<Value = FlashOptions> {
    let flags = proptest::collection::vec(proptest::bool::weighted(0.25), 6);
    flags.prop_map(|f| FlashOptions {
        force: f[0],
        preserve: f[1],
        mass_erase: f[2] && f[3],
        irreversible: f[3],
        skip_unchanged: !f[4],
        leave: !f[5],
        ..FlashOptions::default()
    })
}

prop_compose! {
    /// A random case.
    pub fn case()(
        kind in proptest::sample::select(kinds()),
        extra in proptest::sample::select(vec!["", ",serial=3C8J", ",serial=3C4J"]),
        alt in proptest::option::weighted(0.3, 0u8..4),
        offset in proptest::option::weighted(0.7, 0u32..300_000),
        aligned in any::<bool>(),
        len in prop_oneof![1usize..3000, 1usize..70_000],
        opts in options(),
        fault in fault(),
        seed in any::<u64>(),
    ) -> Case {
        let extra = if kind == "gd32vf103" { extra } else { "" };
        Case {
            kind, extra,
            alt: alt.unwrap_or(0),
            offset: offset.map(|o| if aligned { o & !3 } else { o }),
            len, opts, fault, seed,
        }
    }
}

/// Runs one case and checks every invariant; `Err` names the one that failed.
pub fn check(c: &Case) -> Result<(), String> {
    let w = World::new(&c.kind, c.extra, c.seed, c.alt, c.offset);
    if w.unmodelled_target() {
        return Ok(());
    }
    let mut opts = c.opts.clone();
    opts.alt = (w.alt != 0).then_some(w.alt);
    opts.address = w.address;
    let file = Firmware::parse("img.bin", &noise(c.len, c.seed.rotate_left(7))).unwrap();
    let before = w.memory();
    let dry = w.flash(
        None,
        &file,
        &FlashOptions {
            dry_run: true,
            ..opts.clone()
        },
    );
    let mid = w.memory();
    if mid != before {
        return Err(format!(
            "3: the dry run changed memory at {}",
            first_change(&before, &mid)
        ));
    }
    let real = w.flash(c.fault.as_deref(), &file, &opts);
    let after = w.memory();
    let Ran::Done(plan, result) = &real else {
        return same(
            &before,
            &after,
            "1: a run that planned nothing changed memory",
        );
    };
    let report = match result {
        Ok(r) => r,
        Err(f) => &f.done,
    };
    if plan.refusal().is_some() || report_is_empty(report) && result.is_err() {
        same(
            &before,
            &after,
            "1: a refused or failed-before-erase run changed memory",
        )?;
    }
    outside_reported(&before, &after, report)?;
    guarded(&w, &before, &after, plan, &opts)?;
    if w.hostile {
        return Ok(());
    }
    exact(&before, &after, report)?;
    dry_equals_real(&dry, result, c.fault.is_some())?;
    if opts.preserve && result.is_ok() {
        preserved(&before, &after, plan)?;
    }
    if let Err(f) = result {
        if !matches!(f.error, dfu::DfuError::Refused(_)) {
            rerun(&w, &file, &opts, plan)?;
        }
    }
    Ok(())
}

fn report_is_empty(r: &FlashReport) -> bool {
    r.erased.is_empty() && r.written.is_empty() && r.unsure.is_empty() && !r.mass_erased
}

fn same(a: &Memory, b: &Memory, what: &str) -> Result<(), String> {
    if a == b {
        Ok(())
    } else {
        Err(format!("{what}: {}", first_change(a, b)))
    }
}

fn first_change(a: &Memory, b: &Memory) -> String {
    changes(a, b)
        .next()
        .map(|(alt, at, x, y)| format!("alt {alt} 0x{at:08x}: 0x{x:02x} -> 0x{y:02x}"))
        .unwrap_or_else(|| "no byte".into())
}

/// Every changed byte: (alt, address, before, after).
fn changes<'a>(a: &'a Memory, b: &'a Memory) -> impl Iterator<Item = (u8, u64, u8, u8)> + 'a {
    a.iter().zip(b).flat_map(|((alt, start, x), (_, _, y))| {
        x.iter()
            .zip(y)
            .enumerate()
            .filter(|(_, (p, q))| p != q)
            .map(move |(i, (p, q))| (*alt, u64::from(*start) + i as u64, *p, *q))
    })
}

fn inside(list: &[(u32, u64)], at: u64) -> bool {
    list.iter()
        .any(|&(s, n)| u64::from(s) <= at && at < u64::from(s) + n)
}

fn erased_ranges(r: &FlashReport) -> Vec<(u32, u64)> {
    r.erased.iter().map(|&(s, n)| (s, u64::from(n))).collect()
}

/// Invariant 1.
fn outside_reported(a: &Memory, b: &Memory, r: &FlashReport) -> Result<(), String> {
    let erased = erased_ranges(r);
    let reported = |at| inside(&erased, at) || inside(&r.written, at) || inside(&r.unsure, at);
    match changes(a, b).find(|c| !reported(c.1)) {
        Some((alt, at, x, y)) => Err(format!(
            "1: alt {alt} 0x{at:08x} changed 0x{x:02x} -> 0x{y:02x} outside the reported ranges (erased {:x?}, written {:x?}, unsure {:x?})",
            r.erased, r.written, r.unsure
        )),
        None => Ok(()),
    }
}

/// Invariant 2.
fn guarded(
    w: &World,
    a: &Memory,
    b: &Memory,
    plan: &FlashPlan,
    o: &FlashOptions,
) -> Result<(), String> {
    let regions = w.guarded();
    let named = plan
        .findings
        .iter()
        .any(|f| f.severity == Severity::Overridden)
        && (o.force || o.irreversible);
    let ob_note = plan
        .findings
        .iter()
        .any(|f| f.code == dfu::Code::OptionBytes);
    for (alt, at, x, y) in changes(a, b) {
        let hit = regions.iter().find(|g| g.0 == alt && g.1 <= at && at < g.2);
        if let Some(g) = hit {
            let allowed = named || (g.3 == dfu_profiles::Role::OptionBytes && ob_note);
            if !allowed {
                return Err(format!(
                    "2: {:?} region byte alt {alt} 0x{at:08x} changed 0x{x:02x} -> 0x{y:02x} with no flag named",
                    g.3
                ));
            }
        }
    }
    Ok(())
}

/// Invariant 5: written bytes hold what the steps wrote, erased bytes not written are 0xFF.
fn exact(_a: &Memory, b: &Memory, r: &FlashReport) -> Result<(), String> {
    let erased = erased_ranges(r);
    let data = |at: u64| {
        r.steps.iter().flat_map(|s| &s.writes).find_map(|w| {
            let off = at.checked_sub(u64::from(w.address))?;
            w.data.get(off as usize).copied()
        })
    };
    // The report's ranges are addresses on the alt settings its steps wrote.
    let alts: Vec<u8> = r.steps.iter().map(|s| s.alt).collect();
    for (alt, start, bytes) in b.iter().filter(|m| alts.contains(&m.0)) {
        for (i, &v) in bytes.iter().enumerate() {
            let at = u64::from(*start) + i as u64;
            if inside(&r.unsure, at) {
                continue;
            }
            if inside(&r.written, at) {
                if let Some(want) = data(at).filter(|w| *w != v) {
                    return Err(format!("5: alt {alt} 0x{at:08x} reported written with 0x{want:02x} holds 0x{v:02x}"));
                }
            } else if inside(&erased, at) && v != 0xFF {
                return Err(format!(
                    "5: alt {alt} 0x{at:08x} reported erased (not written) holds 0x{v:02x}"
                ));
            }
        }
    }
    Ok(())
}

/// Invariant 3 (the memory part is checked where the dry run ran).
fn dry_equals_real(
    dry: &Ran,
    real: &Result<FlashReport, dfu::FlashFailure>,
    faulted: bool,
) -> Result<(), String> {
    let Ran::Done(_, d) = dry else {
        return Ok(());
    };
    match (d, real) {
        (Ok(d), Ok(r)) => {
            if d.steps != r.steps {
                return Err(format!(
                    "3: dry-run steps {:?} differ from the real run's {:?}",
                    d.steps, r.steps
                ));
            }
            // A fault the run recovered from adds its own note (a state cleared at connect).
            let same = if faulted {
                d.notes.iter().all(|n| r.notes.contains(n))
            } else {
                r.notes.get(..d.notes.len()) == Some(&d.notes[..])
            };
            if !same {
                return Err(format!(
                    "3: dry-run notes {:?} are not the real run's {:?}",
                    d.notes, r.notes
                ));
            }
            Ok(())
        }
        (Err(d), Ok(_)) => Err(format!(
            "3: the dry run failed ({}) but the real run succeeded",
            d.error
        )),
        (Ok(_), Err(f)) if !faulted => Err(format!(
            "3: the dry run succeeded but the real run failed: {}",
            f.error
        )),
        _ => Ok(()),
    }
}

/// Invariant 4: with --preserve, nothing outside the image (as placed, unpadded) changed.
fn preserved(a: &Memory, b: &Memory, plan: &FlashPlan) -> Result<(), String> {
    let image: Vec<(u32, u64)> = plan
        .placements
        .iter()
        .flat_map(|p| p.parts.iter().map(|x| (x.address, x.length)))
        .collect();
    match changes(a, b).find(|c| !inside(&image, c.1)) {
        Some((alt, at, x, y)) => Err(format!(
            "4: --preserve, yet alt {alt} 0x{at:08x} outside the image {image:x?} changed 0x{x:02x} -> 0x{y:02x}"
        )),
        None => Ok(()),
    }
}

/// Invariant 6: the same command again completes, and the device holds the image.
fn rerun(w: &World, file: &Firmware, opts: &FlashOptions, plan: &FlashPlan) -> Result<(), String> {
    let again = w.flash(None, file, opts);
    let Ran::Done(_, result) = again else {
        return Err("6: the run after a failure could not plan".into());
    };
    let r = result.map_err(|f| {
        format!(
            "6: the run after a failure failed: {} ({:?})",
            f.error, f.done
        )
    })?;
    let unverified = r.notes.iter().any(|n| n.code == dfu::Code::NotVerified);
    if !r.verified && !unverified && opts.verify {
        return Err("6: the run after a failure was not verified".into());
    }
    let mem = w.memory();
    let data = &file.image.segments[0].data;
    for part in plan.placements.iter().flat_map(|p| &p.parts) {
        let want = &data[..(part.length as usize).min(data.len())];
        let held = mem.iter().find_map(|(alt, start, bytes)| {
            let off = part.address.checked_sub(*start)? as usize;
            (*alt == part.alt && off + want.len() <= bytes.len())
                .then(|| &bytes[off..off + want.len()])
        });
        if held.is_some_and(|h| h != want) {
            return Err(format!(
                "6: after the run again 0x{:08x} does not hold the image",
                part.address
            ));
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("INVARIANT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn nothing_is_lost_on_any_device(c in case()) {
        if let Err(e) = check(&c) {
            prop_assert!(false, "invariant {e}\ncase: {c:?}");
        }
    }
}

/// The cases the property test found, kept as found; each failed before its fix.
#[test]
fn cases_the_property_test_found() {
    let base = |kind: &str, offset, len, opts, fault: Option<&str>, seed| Case {
        kind: kind.into(),
        extra: "",
        alt: 0,
        offset,
        len,
        opts,
        fault: fault.map(String::from),
        seed,
    };
    let found = [
        // Invariant 4: the 0xFF padding to the programming unit replaced bytes that
        // --preserve had read to keep.
        base(
            "stm32f745",
            None,
            133,
            FlashOptions {
                preserve: true,
                ..FlashOptions::default()
            },
            None,
            1_391_211_195_130_166,
        ),
        // Invariant 5: the device had started the block (its first GETSTATUS answered
        // without error) when the link failed; the report said it was not written.
        base(
            "argon",
            Some(14_613),
            1769,
            FlashOptions::default(),
            Some("disconnect@any:32"),
            69_149_966_036_523,
        ),
        // Invariant 5: an error status after dfuDNBUSY means the device did not carry the
        // block out; the report said it was written.
        base(
            "stm32h743",
            None,
            11_265,
            FlashOptions::default(),
            Some("status=errPROG@any:15"),
            12_275_897_608,
        ),
        // Invariant 1: the erase the device had started when its status reported an error
        // had cleared the sector; the report did not name it.
        Case {
            offset: Some(61_441),
            ..base(
                "stm32f072",
                None,
                51_199,
                FlashOptions::default(),
                Some("status=errPROG@getstatus:20"),
                1_301_086_115_731_233_983,
            )
        },
        // Invariant 1: on plain DFU the device erases a page when a block first reaches
        // it; a block it had started when the link failed had cleared the page, and the
        // report named only the block.
        base(
            "dapboot",
            None,
            1,
            FlashOptions::default(),
            Some("disconnect@any:5"),
            468_856_763_048,
        ),
    ];
    for c in &found {
        if let Err(e) = check(c) {
            panic!("invariant {e}\ncase: {c:?}");
        }
    }
}
