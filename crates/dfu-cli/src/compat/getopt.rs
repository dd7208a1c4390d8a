//! A command-line scanner with the rules of GNU `getopt_long`, which dfu-util, dfu-suffix
//! and dfu-prefix use: short options cluster (`-lv`), a short option's value is attached
//! (`-a0`) or the next argument (`-a 0`), long options take `--name=value` or
//! `--name value` and may be shortened to any unambiguous prefix, `--` ends the options,
//! and operands anywhere are collected (GNU permutes them to the end).

/// One option as the scanner knows it.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The short letter the option reports as.
    pub short: char,
    /// Long names that report as `short`.
    pub long: &'static [&'static str],
    /// True when the option takes a value.
    pub takes_value: bool,
}

impl Spec {
    /// An option: short letter, long names, whether it takes a value.
    pub const fn new(short: char, long: &'static [&'static str], takes_value: bool) -> Spec {
        Spec {
            short,
            long,
            takes_value,
        }
    }
}

/// What the scanner found, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An option with its value, if it takes one.
    Opt(char, Option<String>),
    /// An argument that is not an option.
    Operand(String),
}

/// Why the command line cannot be scanned; getopt prints this and the program exits with
/// its usage code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// `-x` or `--xyz` that no spec knows.
    Unknown(String),
    /// An option that needs a value came last.
    MissingValue(String),
    /// `--flag=value` for an option without a value.
    UnexpectedValue(String),
    /// A long-option prefix that fits several options.
    Ambiguous(String),
}

impl ScanError {
    /// The message, worded after getopt's, prefixed with the program name.
    pub fn message(&self, program: &str) -> String {
        match self {
            ScanError::Unknown(o) if o.starts_with("--") => {
                format!("{program}: unrecognized option '{o}'")
            }
            ScanError::Unknown(o) => {
                format!("{program}: invalid option -- '{}'", &o[1..])
            }
            ScanError::MissingValue(o) if o.starts_with("--") => {
                format!("{program}: option '{o}' requires an argument")
            }
            ScanError::MissingValue(o) => {
                format!("{program}: option requires an argument -- '{}'", &o[1..])
            }
            ScanError::UnexpectedValue(o) => {
                format!("{program}: option '{o}' doesn't allow an argument")
            }
            ScanError::Ambiguous(o) => format!("{program}: option '{o}' is ambiguous"),
        }
    }
}

fn find_long<'a>(specs: &'a [Spec], name: &str) -> Result<&'a Spec, ScanError> {
    let dashed = format!("--{name}");
    if let Some(s) = specs.iter().find(|s| s.long.contains(&name)) {
        return Ok(s);
    }
    let hits: Vec<&Spec> = specs
        .iter()
        .filter(|s| s.long.iter().any(|l| l.starts_with(name)))
        .collect();
    match hits.as_slice() {
        [] => Err(ScanError::Unknown(dashed)),
        [one] => Ok(one),
        // Several long names of the same option (`--cfg`, `--configuration`) are one match.
        [first, rest @ ..] if rest.iter().all(|s| s.short == first.short) => Ok(first),
        _ => Err(ScanError::Ambiguous(dashed)),
    }
}

/// Scans `args` (without the program name). Stops at the first error, as getopt does
/// (the caller prints usage and exits).
#[cfg(test)]
pub fn scan(specs: &[Spec], args: &[String]) -> Result<Vec<Item>, ScanError> {
    let mut out = Vec::new();
    scan_into(specs, args, &mut out).map(|()| out)
}

/// Like [`scan`], but keeps the items found before an error: a program acts on options
/// one by one (dfu-util's `-h` exits before getopt reaches a bad option after it).
pub fn scan_partial(specs: &[Spec], args: &[String]) -> (Vec<Item>, Option<ScanError>) {
    let mut out = Vec::new();
    let err = scan_into(specs, args, &mut out).err();
    (out, err)
}

fn scan_into(specs: &[Spec], args: &[String], out: &mut Vec<Item>) -> Result<(), ScanError> {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            out.extend(args[i..].iter().cloned().map(Item::Operand));
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let spec = find_long(specs, name)?;
            let value = match (spec.takes_value, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => return Err(ScanError::MissingValue(format!("--{name}"))),
                },
                (false, Some(_)) => return Err(ScanError::UnexpectedValue(format!("--{name}"))),
                (false, None) => None,
            };
            out.push(Item::Opt(spec.short, value));
            continue;
        }
        if a.len() < 2 || !a.starts_with('-') {
            out.push(Item::Operand(a.clone()));
            continue;
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            let spec = specs
                .iter()
                .find(|s| s.short == c)
                .ok_or_else(|| ScanError::Unknown(format!("-{c}")))?;
            if !spec.takes_value {
                out.push(Item::Opt(c, None));
                continue;
            }
            let attached: String = chars[k..].iter().collect();
            let value = if !attached.is_empty() {
                attached
            } else if let Some(v) = args.get(i) {
                i += 1;
                v.clone()
            } else {
                return Err(ScanError::MissingValue(format!("-{c}")));
            };
            out.push(Item::Opt(c, Some(value)));
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[Spec] = &[
        Spec::new('l', &["list"], false),
        Spec::new('v', &["verbose"], false),
        Spec::new('a', &["alt", "altsetting"], true),
        Spec::new('D', &["download"], true),
        Spec::new('d', &["device"], true),
        Spec::new('e', &["detach"], false),
        Spec::new('E', &["detach-delay"], true),
    ];

    fn s(args: &[&str]) -> Result<Vec<Item>, ScanError> {
        let v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        scan(SPECS, &v)
    }

    fn opt(c: char, v: Option<&str>) -> Item {
        Item::Opt(c, v.map(str::to_string))
    }

    #[test]
    fn clusters_attached_and_separate_values() {
        assert_eq!(s(&["-lv"]).unwrap(), vec![opt('l', None), opt('v', None)]);
        assert_eq!(s(&["-a0"]).unwrap(), vec![opt('a', Some("0"))]);
        assert_eq!(s(&["-a", "0"]).unwrap(), vec![opt('a', Some("0"))]);
        assert_eq!(
            s(&["-vDx.bin"]).unwrap(),
            vec![opt('v', None), opt('D', Some("x.bin"))]
        );
        assert_eq!(s(&["-a", "-l"]).unwrap(), vec![opt('a', Some("-l"))]);
    }

    #[test]
    fn long_forms() {
        assert_eq!(s(&["--alt=2"]).unwrap(), vec![opt('a', Some("2"))]);
        assert_eq!(s(&["--alt", "2"]).unwrap(), vec![opt('a', Some("2"))]);
        assert_eq!(s(&["--altsetting=2"]).unwrap(), vec![opt('a', Some("2"))]);
        assert_eq!(s(&["--down", "f"]).unwrap(), vec![opt('D', Some("f"))]);
        assert_eq!(s(&["--alt="]).unwrap(), vec![opt('a', Some(""))]);
        // `--al` fits --alt and --altsetting, both -a: not ambiguous.
        assert_eq!(s(&["--al=1"]).unwrap(), vec![opt('a', Some("1"))]);
        // `--detach` is exact although it is a prefix of --detach-delay.
        assert_eq!(s(&["--detach"]).unwrap(), vec![opt('e', None)]);
    }

    #[test]
    fn errors() {
        assert_eq!(s(&["-x"]), Err(ScanError::Unknown("-x".into())));
        assert_eq!(s(&["--bogus"]), Err(ScanError::Unknown("--bogus".into())));
        assert_eq!(s(&["-a"]), Err(ScanError::MissingValue("-a".into())));
        assert_eq!(s(&["--alt"]), Err(ScanError::MissingValue("--alt".into())));
        assert_eq!(
            s(&["--list=1"]),
            Err(ScanError::UnexpectedValue("--list".into()))
        );
        assert_eq!(s(&["--de", "x"]), Err(ScanError::Ambiguous("--de".into())));
        assert!(ScanError::Unknown("-x".into())
            .message("dfu-util")
            .contains("invalid option -- 'x'"));
    }

    #[test]
    fn operands_and_double_dash() {
        assert_eq!(
            s(&["extra", "-l", "--", "-v"]).unwrap(),
            vec![
                Item::Operand("extra".into()),
                opt('l', None),
                Item::Operand("-v".into())
            ]
        );
        assert_eq!(s(&["-"]).unwrap(), vec![Item::Operand("-".into())]);
    }
}
