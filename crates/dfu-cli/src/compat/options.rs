//! dfu-util 0.11's command line (`hVvleE:d:p:c:i:a:S:t:U:D:Rs:Z:wn:` and the long names)
//! read into a typed value, with dfu-util's rules for each value.

use super::getopt::{scan_partial, Item, ScanError, Spec};
use std::path::PathBuf;

/// dfu-util's options, short letter, long names, whether they take a value.
pub const SPECS: &[Spec] = &[
    Spec::new('h', &["help"], false),
    Spec::new('V', &["version"], false),
    Spec::new('v', &["verbose"], false),
    Spec::new('l', &["list"], false),
    Spec::new('e', &["detach"], false),
    Spec::new('E', &["detach-delay"], true),
    Spec::new('d', &["device"], true),
    Spec::new('p', &["path"], true),
    Spec::new('c', &["cfg", "configuration"], true),
    Spec::new('i', &["intf", "interface"], true),
    Spec::new('a', &["alt", "altsetting"], true),
    Spec::new('S', &["serial"], true),
    Spec::new('t', &["transfer-size"], true),
    Spec::new('U', &["upload"], true),
    Spec::new('Z', &["upload-size"], true),
    Spec::new('D', &["download"], true),
    Spec::new('R', &["reset"], false),
    Spec::new('s', &["dfuse-address"], true),
    Spec::new('n', &["devnum"], true),
    Spec::new('w', &[], false),
    // dfu-util 0.11 declares the long form `--wait` with a required value (the short -w
    // takes none); the value is ignored. Kept as it is so command lines scan alike.
    Spec::new('w', &["wait"], true),
];

/// What to do; the last of -l, -e, -U, -D, -V wins, as in dfu-util.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Action {
    /// Nothing chosen (valid only with -s: DfuSe command mode).
    #[default]
    None,
    /// -V.
    Version,
    /// -l.
    List,
    /// -e.
    Detach,
    /// -U FILE.
    Upload(PathBuf),
    /// -D FILE.
    Download(PathBuf),
}

/// One id matcher: `None` matches any, `Some(0x10000)` nothing (dfu-util's `-`).
pub type IdMatch = Option<u32>;

/// `-d`: run-time and DFU-mode vendor/product matchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ids {
    /// Run-time vendor.
    pub vendor: IdMatch,
    /// Run-time product.
    pub product: IdMatch,
    /// DFU-mode vendor.
    pub vendor_dfu: IdMatch,
    /// DFU-mode product.
    pub product_dfu: IdMatch,
}

/// The value that matches no USB id (dfu-util's `-`, and the run-time half of `,V:P`).
pub const IMPOSSIBLE: u32 = 0x10000;

/// `-s ADDR[:LEN][:modifiers]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dfuse {
    /// The address, when given.
    pub address: Option<u32>,
    /// Upload length, when given (0 means none, as in dfu-util).
    pub length: u32,
    /// `leave`.
    pub leave: bool,
    /// `force` (counted; dfu-util counts it too).
    pub force: u32,
    /// `mass-erase`.
    pub mass_erase: bool,
    /// `unprotect`.
    pub unprotect: bool,
    /// `will-reset`.
    pub will_reset: bool,
}

/// The whole command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UtilOptions {
    /// -h (handled at once by the parser's caller).
    pub help: bool,
    /// What to do.
    pub action: Action,
    /// -v count.
    pub verbose: u32,
    /// -E seconds (default 5).
    pub detach_delay: Option<i64>,
    /// -d.
    pub ids: Ids,
    /// -p BUS-PORT.PORT.
    pub path: Option<String>,
    /// -c (0 means any, as in dfu-util).
    pub cfg: Option<i64>,
    /// -i.
    pub intf: Option<i64>,
    /// -a as a number.
    pub alt_index: Option<u32>,
    /// -a as a name.
    pub alt_name: Option<String>,
    /// -S run-time serial.
    pub serial: Option<String>,
    /// -S DFU-mode serial.
    pub serial_dfu: Option<String>,
    /// -t.
    pub transfer_size: Option<i64>,
    /// -Z.
    pub upload_size: Option<i64>,
    /// -R.
    pub reset: bool,
    /// -s, as given.
    pub dfuse_text: Option<String>,
    /// -s, parsed.
    pub dfuse: Option<Dfuse>,
    /// -w.
    pub wait: bool,
    /// -n.
    pub devnum: Option<i64>,
}

/// Why the command line is refused (dfu-util exits 64 for each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// getopt refused it.
    Scan(ScanError),
    /// A word that is not an option.
    Operand(String),
    /// A number dfu-util's parse_number refuses (option long name, value).
    Number(&'static str, String),
    /// `-s` address that is not a number.
    DfuseAddress(String),
    /// `-s` modifier that is neither a keyword nor a number.
    DfuseModifier(String),
}

impl UsageError {
    /// The one-line message.
    pub fn message(&self) -> String {
        match self {
            UsageError::Scan(e) => e.message("dfu-util"),
            UsageError::Operand(a) => format!("Error: Unexpected argument: {a}"),
            UsageError::Number(o, v) => {
                format!("dfu-util: the argument of --{o} is not a number: {v:?}")
            }
            UsageError::DfuseAddress(s) => format!("dfu-util: Invalid dfuse address: {s}"),
            UsageError::DfuseModifier(s) => format!("dfu-util: Invalid dfuse modifier: {s}"),
        }
    }
}

/// C's `strtoul(s, &end, base)`: leading blanks, a sign, `0x` for base 16 or 0, octal for
/// a leading 0 in base 0. Returns the value and the bytes consumed (0: no digits).
pub fn strtoul(s: &str, base: u32) -> (u64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || (b'\t'..=b'\r').contains(&b[i])) {
        i += 1;
    }
    let neg = i < b.len() && b[i] == b'-';
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut base = base;
    let hex_prefix = i + 1 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x';
    if (base == 0 || base == 16)
        && hex_prefix
        && i + 2 < b.len()
        && (b[i + 2] as char).is_ascii_hexdigit()
    {
        i += 2;
        base = 16;
    } else if base == 0 {
        base = if i < b.len() && b[i] == b'0' { 8 } else { 10 };
    }
    let start = i;
    let mut v: u64 = 0;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(base) else {
            break;
        };
        v = v
            .saturating_mul(u64::from(base))
            .saturating_add(u64::from(d));
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    (if neg { v.wrapping_neg() } else { v }, i)
}

/// dfu-util's parse_number: base 0, the whole text must be the number.
fn number(opt: &'static str, s: &str) -> Result<i64, UsageError> {
    let (v, used) = strtoul(s, 0);
    if used == 0 || used != s.len() {
        return Err(UsageError::Number(opt, s.to_string()));
    }
    Ok(v as i64)
}

/// One half of `-d`: `*` any, `-` nothing, hex digits (optional 0x), else the default.
fn id_value(s: Option<&str>, default: IdMatch) -> IdMatch {
    match s {
        None => default,
        Some(t) if t.starts_with('*') => None,
        Some(t) if t.starts_with('-') => Some(IMPOSSIBLE),
        Some(t) => match strtoul(t, 16) {
            (_, 0) => default,
            (v, _) => Some(v as u32),
        },
    }
}

/// `-d RUNTIME_VID:PID[,DFU_VID:PID]` with dfu-util's rules.
pub fn parse_ids(s: &str) -> Ids {
    let mut ids = Ids::default();
    let comma = s.find(',');
    if comma == Some(0) {
        // Only DFU-mode ids: no run-time device matches.
        ids.vendor = Some(IMPOSSIBLE);
        ids.product = Some(IMPOSSIBLE);
    } else {
        let colon = s.find(':').filter(|&c| comma.is_none_or(|k| c < k));
        ids.vendor = id_value(Some(s), None);
        ids.product = id_value(colon.map(|c| &s[c + 1..]), None);
        if comma.is_some() {
            ids.vendor_dfu = ids.vendor;
            ids.product_dfu = ids.product;
        }
    }
    if let Some(k) = comma {
        let rest = &s[k + 1..];
        let colon = rest.find(':');
        ids.vendor_dfu = id_value(Some(rest), ids.vendor_dfu);
        ids.product_dfu = id_value(colon.map(|c| &rest[c + 1..]), ids.product_dfu);
    }
    ids
}

/// `-S RUNTIME[,DFU]`: one serial for both, or a pair; empty halves match any.
pub fn parse_serial(s: &str) -> (Option<String>, Option<String>) {
    let (rt, dfu) = match s.split_once(',') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let some = |t: &str| (!t.is_empty()).then(|| t.to_string());
    (some(rt), some(dfu))
}

/// The keywords of `-s`, in the order dfu-util tries them; any prefix of a keyword is it.
const MODIFIERS: [&str; 5] = ["force", "leave", "unprotect", "mass-erase", "will-reset"];

/// `-s ADDR[:LEN][:modifiers]`.
pub fn parse_dfuse(s: &str) -> Result<Dfuse, UsageError> {
    let mut d = Dfuse::default();
    let mut words = s.split(':');
    let first = words.next().unwrap_or("");
    if !first.is_empty() {
        match strtoul(first, 0) {
            (v, n) if n == first.len() => d.address = Some(v as u32),
            _ => return Err(UsageError::DfuseAddress(s.to_string())),
        }
    }
    for w in words.filter(|w| !w.is_empty()) {
        match MODIFIERS.iter().find(|m| m.starts_with(w)) {
            Some(&"force") => d.force += 1,
            Some(&"leave") => d.leave = true,
            Some(&"unprotect") => d.unprotect = true,
            Some(&"mass-erase") => d.mass_erase = true,
            Some(_) => d.will_reset = true,
            None => match strtoul(w, 0) {
                (v, n) if n == w.len() => d.length = v as u32,
                _ => return Err(UsageError::DfuseModifier(w.to_string())),
            },
        }
    }
    Ok(d)
}

/// Reads dfu-util's command line (without the program name). `-h` sets `help` and stops.
pub fn parse(args: &[String]) -> Result<UtilOptions, UsageError> {
    let (items, scan_error) = scan_partial(SPECS, args);
    let mut o = UtilOptions::default();
    let mut operand = None;
    for item in items {
        let (c, v) = match item {
            Item::Operand(a) => {
                operand.get_or_insert(a);
                continue;
            }
            Item::Opt(c, v) => (c, v.unwrap_or_default()),
        };
        match c {
            'h' => {
                o.help = true;
                return Ok(o);
            }
            'V' => o.action = Action::Version,
            'v' => o.verbose += 1,
            'l' => o.action = Action::List,
            'e' => o.action = Action::Detach,
            'E' => o.detach_delay = Some(number("detach-delay", &v)?),
            'd' => o.ids = parse_ids(&v),
            'p' => o.path = Some(v),
            'c' => o.cfg = Some(number("cfg", &v)?),
            'i' => o.intf = Some(number("intf", &v)?),
            'a' => match strtoul(&v, 0) {
                (n, used) if used == v.len() => {
                    o.alt_index = Some(n as u32);
                    o.alt_name = None;
                }
                _ => {
                    o.alt_name = Some(v);
                    o.alt_index = None;
                }
            },
            'n' => o.devnum = Some(strtoul(&v, 10).0 as i64),
            'S' => (o.serial, o.serial_dfu) = parse_serial(&v),
            't' => o.transfer_size = Some(number("transfer-size", &v)?),
            'U' => o.action = Action::Upload(v.into()),
            'Z' => o.upload_size = Some(number("upload-size", &v)?),
            'D' => o.action = Action::Download(v.into()),
            'R' => o.reset = true,
            's' => o.dfuse_text = Some(v),
            'w' => o.wait = true,
            _ => unreachable!("getopt only returns known letters"),
        }
    }
    if let Some(e) = scan_error {
        return Err(UsageError::Scan(e));
    }
    if let Some(a) = operand {
        return Err(UsageError::Operand(a));
    }
    if let Some(t) = &o.dfuse_text {
        o.dfuse = Some(parse_dfuse(t)?);
    }
    if o.cfg == Some(0) {
        o.cfg = None;
    }
    Ok(o)
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
