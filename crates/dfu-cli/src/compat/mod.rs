//! dfu-util's command line on top of `dfu`: the same binary, called `dfu-util` (or
//! `dfu-suffix`, `dfu-prefix`), takes their options and exit codes, and runs `dfu`'s own
//! commands underneath (verify before leave, the checks before writing, recovery).

mod getopt;
mod options;
mod particle_keys;
mod probe;
mod run;
mod sysexits;
mod tools;
mod transfer;

use std::io::Write;

/// Which foreign command line a program name or first argument asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personality {
    /// dfu-util 0.11.
    Util,
    /// dfu-suffix 0.11.
    Suffix,
    /// dfu-prefix 0.11.
    Prefix,
}

/// The personality for a program file name: `dfu-util`, `dfu-util.exe`, `dfu-util-0.11`,
/// `/usr/local/bin/dfu-suffix`...
pub fn by_program_name(argv0: &str) -> Option<Personality> {
    let base = argv0.rsplit(['/', '\\']).next().unwrap_or(argv0);
    let base = base
        .strip_suffix(".exe")
        .or_else(|| base.strip_suffix(".EXE"))
        .unwrap_or(base);
    let base = base.to_ascii_lowercase();
    let named = |stem: &str| {
        base == stem
            || base.strip_prefix(stem).is_some_and(|rest| {
                rest.starts_with(['-', '_', '.'])
                    && rest[1..].starts_with(|c: char| c.is_ascii_digit())
            })
    };
    if named("dfu-util") {
        Some(Personality::Util)
    } else if named("dfu-suffix") {
        Some(Personality::Suffix)
    } else if named("dfu-prefix") {
        Some(Personality::Prefix)
    } else {
        None
    }
}

/// The personality for `dfu util ...`, `dfu suffix-compat ...`, `dfu prefix-compat ...`.
pub fn by_subcommand(word: &str) -> Option<Personality> {
    match word {
        "util" | "util-compat" => Some(Personality::Util),
        "suffix-compat" => Some(Personality::Suffix),
        "prefix-compat" => Some(Personality::Prefix),
        _ => None,
    }
}

/// When argv asks for a foreign command line, runs it and returns the exit code.
pub fn dispatch(argv: &[String]) -> Option<i32> {
    let argv0 = argv.first()?;
    // `dfu [--sim SPEC] util ...`: a simulator given before the subcommand applies to it.
    let (sim, skip) = leading_sim(&argv[1..]);
    let (who, rest) = match by_program_name(argv0) {
        Some(p) => (p, &argv[1..]),
        None => (by_subcommand(argv.get(1 + skip)?)?, &argv[2 + skip..]),
    };
    let code = match who {
        Personality::Util => run::main(rest, sim),
        Personality::Suffix => tools::suffix_main(rest),
        Personality::Prefix => tools::prefix_main(rest),
    };
    let _ = std::io::stdout().flush();
    Some(code)
}

/// A leading `--sim SPEC` or `--sim=SPEC`: the spec, and how many arguments it took.
fn leading_sim(args: &[String]) -> (Option<String>, usize) {
    match args {
        [flag, spec, ..] if flag == "--sim" => (Some(spec.clone()), 2),
        [flag, ..] if flag.starts_with("--sim=") => (Some(flag["--sim=".len()..].to_string()), 1),
        _ => (None, 0),
    }
}

/// "dfu X.Y, dfu-util 0.11 compatible".
pub fn version_line() -> String {
    format!(
        "dfu {}, dfu-util 0.11 compatible",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names() {
        for n in [
            "dfu-util",
            "/usr/local/bin/dfu-util",
            "dfu-util.exe",
            "C:\\t\\DFU-UTIL.EXE",
            "dfu-util-0.11",
            "dfu-util_0.9",
        ] {
            assert_eq!(by_program_name(n), Some(Personality::Util), "{n}");
        }
        assert_eq!(by_program_name("dfu-suffix"), Some(Personality::Suffix));
        assert_eq!(
            by_program_name("/x/dfu-prefix.exe"),
            Some(Personality::Prefix)
        );
        for n in ["dfu", "dfu-utility", "dfu-util-x", "mydfu-util", "dfu-cli"] {
            assert_eq!(by_program_name(n), None, "{n}");
        }
        assert_eq!(by_subcommand("util"), Some(Personality::Util));
        assert_eq!(by_subcommand("suffix-compat"), Some(Personality::Suffix));
        assert_eq!(by_subcommand("prefix-compat"), Some(Personality::Prefix));
        assert_eq!(by_subcommand("suffix"), None);
    }

    #[test]
    fn dispatch_leaves_dfu_alone() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(dispatch(&v(&["dfu", "list"])), None);
        assert_eq!(dispatch(&v(&["dfu"])), None);
        assert_eq!(dispatch(&v(&["dfu-util", "-q"])), Some(64));
        assert_eq!(dispatch(&v(&["dfu", "util", "-h"])), Some(0));
    }
}
