//! `dfu-suffix` and `dfu-prefix` with dfu-util 0.11's options and exit codes; the files
//! they write are byte for byte what Debian's binaries write.

use super::getopt::{scan_partial, Item, Spec};
use super::options::strtoul;
use super::sysexits::{EX_CANTCREAT, EX_DATAERR, EX_NOINPUT, EX_OK, EX_USAGE};
use dfu_image::prefix::{DfuFile, Kind};
use dfu_image::suffix::{Suffix, ANY, BCD_DFU, BCD_DFUSE};

const SUFFIX_SPECS: &[Spec] = &[
    Spec::new('h', &["help"], false),
    Spec::new('V', &["version"], false),
    Spec::new('c', &["check"], true),
    Spec::new('a', &["add"], true),
    Spec::new('D', &["delete"], true),
    Spec::new('p', &["pid"], true),
    Spec::new('v', &["vid"], true),
    Spec::new('d', &["did"], true),
    Spec::new('S', &["spec"], true),
    // In dfu-suffix's option string but not handled: both end in the usage message.
    Spec::new('s', &[], true),
    Spec::new('T', &[], false),
];

const PREFIX_SPECS: &[Spec] = &[
    Spec::new('h', &["help"], false),
    Spec::new('V', &["version"], false),
    Spec::new('c', &["check"], true),
    Spec::new('a', &["add"], true),
    Spec::new('D', &["delete"], true),
    Spec::new('s', &["stellaris-address"], true),
    Spec::new('T', &["stellaris"], false),
    Spec::new('L', &["LPC"], false),
    // In dfu-prefix's option string but not handled: usage.
    Spec::new('p', &[], true),
    Spec::new('v', &[], true),
    Spec::new('d', &[], true),
];

const SUFFIX_HELP: &str = "\
Usage: dfu-suffix [options] ...   (dfu's dfu-suffix-compatible mode)
  -h --help               this text
  -V --version            the version
  -c --check FILE         show the DFU suffix of FILE
  -a --add FILE           append a DFU suffix to FILE
  -D --delete FILE        remove the DFU suffix from FILE
  -v --vid HEX            vendor id for -a (default ffff: any)
  -p --pid HEX            product id for -a (default ffff: any)
  -d --did HEX            device release for -a (default ffff: any)
  -S --spec HEX           bcdDFU for -a: 0100 (default) or 011a";

const PREFIX_HELP: &str = "\
Usage: dfu-prefix [options] ...   (dfu's dfu-prefix-compatible mode)
  -h --help               this text
  -V --version            the version
  -c --check FILE         show the prefix (and suffix) of FILE
  -a --add FILE           add a prefix to FILE (with -s ADDRESS, -T or -L)
  -D --delete FILE        remove the prefix from FILE
  -s --stellaris-address A  TI Stellaris prefix with flash address A (for -a)
  -T --stellaris          act on a TI Stellaris prefix
  -L --LPC                act on an NXP LPC prefix";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Add,
    Delete,
}

fn banner(tool: &str) {
    println!("{tool} ({})\n", super::version_line());
}

fn usage(help: &str) -> i32 {
    eprintln!("{help}");
    EX_USAGE
}

/// strtol(s, NULL, 16) as dfu-suffix reads ids: junk is 0; stored as 16 bits.
fn hex16(s: &str) -> u16 {
    strtoul(s, 16).0 as u16
}

fn fail(code: i32, msg: String, help: &str) -> i32 {
    eprintln!("error: {msg}\nhelp: {help}");
    code
}

fn load(name: &str) -> Result<DfuFile, i32> {
    let bytes = std::fs::read(name).map_err(|e| {
        fail(
            EX_NOINPUT,
            format!("cannot read {name}: {e}"),
            "check the file name",
        )
    })?;
    DfuFile::parse(bytes).map_err(|b| {
        fail(
            EX_DATAERR,
            format!("{name}: the DFU suffix has an impossible length ({})", b.0),
            "the suffix is damaged; remove the last 16 bytes by hand",
        )
    })
}

fn store(name: &str, bytes: &[u8]) -> Result<(), i32> {
    std::fs::write(name, bytes).map_err(|e| {
        fail(
            EX_CANTCREAT,
            format!("cannot write {name}: {e}"),
            "check that the file and its directory are writable",
        )
    })
}

fn show(name: &str, f: &DfuFile) {
    match f.prefix {
        Some(Kind::Stellaris) => {
            println!(
                "{name}: TI Stellaris DFU prefix, address 0x{:08x}",
                f.stellaris_address
            )
        }
        Some(Kind::Lpc) => {
            let b = &f.bytes;
            let kib = (u32::from(b[2]) >> 1) | (u32::from(b[3]) << 7);
            println!("{name}: NXP LPC unencrypted DFU prefix, size {kib} KiB");
        }
        None => {}
    }
    if let Some(s) = f.suffix {
        println!("{name}: DFU suffix");
        println!("  Vendor ID:   0x{:04X}", s.vendor);
        println!("  Product ID:  0x{:04X}", s.product);
        println!("  BCD device:  0x{:04X}", s.bcd_device);
        println!("  BCD DFU:     0x{:04X}", s.bcd_dfu);
        println!("  Length:      {}", s.length);
        println!("  CRC:         0x{:08X}", s.crc);
    }
}

fn kept_prefix(f: &DfuFile) -> Option<(Kind, u32)> {
    f.prefix.map(|k| (k, f.stellaris_address))
}

/// What a `dfu-suffix` command line asks for.
struct SuffixArgs {
    /// Check, add or delete.
    mode: Mode,
    /// The file.
    name: String,
    /// The suffix `-a` appends (ids from -v/-p/-d, bcdDFU from -S).
    suffix: Suffix,
}

/// Reads `dfu-suffix`'s options. `Err` is the exit code when there is nothing to do:
/// help, version, or a usage error (already printed).
fn suffix_args(args: &[String]) -> Result<SuffixArgs, i32> {
    let (items, err) = scan_partial(SUFFIX_SPECS, args);
    let (mut vid, mut pid, mut did, mut spec) = (ANY, ANY, ANY, BCD_DFU);
    let mut job: Option<(Mode, String)> = None;
    for it in items {
        let Item::Opt(c, v) = it else { continue };
        let v = v.unwrap_or_default();
        match c {
            'h' => {
                eprintln!("{SUFFIX_HELP}");
                return Err(EX_OK);
            }
            'V' => return Err(EX_OK),
            'c' => job = Some((Mode::Check, v)),
            'a' => job = Some((Mode::Add, v)),
            'D' => job = Some((Mode::Delete, v)),
            'v' => vid = hex16(&v),
            'p' => pid = hex16(&v),
            'd' => did = hex16(&v),
            'S' => spec = hex16(&v),
            _ => return Err(usage(SUFFIX_HELP)),
        }
    }
    if let Some(e) = err {
        eprintln!("{}", e.message("dfu-suffix"));
        return Err(usage(SUFFIX_HELP));
    }
    let Some((mode, name)) = job else {
        eprintln!("error: no file given (use -c, -a or -D FILE)");
        return Err(usage(SUFFIX_HELP));
    };
    if spec != BCD_DFU && spec != BCD_DFUSE {
        eprintln!("error: -S takes 0100 (DFU) or 011a (DfuSe)");
        return Err(usage(SUFFIX_HELP));
    }
    let suffix = Suffix {
        bcd_device: did,
        product: pid,
        vendor: vid,
        bcd_dfu: spec,
        length: 16,
        crc: 0,
        crc_ok: true,
    };
    Ok(SuffixArgs { mode, name, suffix })
}

/// `dfu-suffix ARGS`: returns the exit code.
pub fn suffix_main(args: &[String]) -> i32 {
    banner("dfu-suffix");
    let a = match suffix_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let f = match load(&a.name) {
        Ok(f) => f,
        Err(code) => return code,
    };
    if f.prefix_len != 0 && !f.prefix_ok && a.mode != Mode::Check {
        // Debian's dfu-suffix crashes here; refuse instead of rewriting a prefix that is
        // longer than the file.
        return fail(
            EX_DATAERR,
            format!(
                "{} starts like a DFU prefix but is too short for one",
                a.name
            ),
            "check the file; dfu-prefix -c shows what it holds",
        );
    }
    change_suffix(&a, &f).err().unwrap_or(EX_OK)
}

/// Shows, adds or removes the suffix of `f` as `a` asks; `Err` is the exit code.
fn change_suffix(a: &SuffixArgs, f: &DfuFile) -> Result<(), i32> {
    let name = &a.name;
    match (a.mode, f.suffix) {
        (Mode::Add, Some(_)) => Err(fail(
            EX_DATAERR,
            format!("{name} already has a DFU suffix"),
            "remove it first with dfu-suffix -D",
        )),
        (Mode::Add, None) => store(name, &f.store(kept_prefix(f), Some(a.suffix)))
            .map(|()| println!("Added a DFU suffix to {name}")),
        (_, None) => Err(fail(
            EX_DATAERR,
            format!("{name}: no valid DFU suffix: {}", f.no_suffix_reason),
            "add one with dfu-suffix -a",
        )),
        (Mode::Check, Some(_)) => {
            show(name, f);
            Ok(())
        }
        (Mode::Delete, Some(_)) => store(name, &f.store(kept_prefix(f), None))
            .map(|()| println!("Removed the DFU suffix from {name}")),
    }
}

/// What a `dfu-prefix` command line asks for.
struct PrefixArgs {
    /// Check, add or delete.
    mode: Mode,
    /// The file.
    name: String,
    /// The prefix kind asked for (-s/-T: Stellaris, -L: LPC), if any.
    kind: Option<Kind>,
    /// The Stellaris flash address of -s (0 without it).
    address: u32,
}

/// Reads `dfu-prefix`'s options. `Err` is the exit code when there is nothing to do:
/// help, version, or a usage error (already printed).
fn prefix_args(args: &[String]) -> Result<PrefixArgs, i32> {
    let (items, err) = scan_partial(PREFIX_SPECS, args);
    let mut kind: Option<Kind> = None;
    let mut address = 0u32;
    let mut job: Option<(Mode, String)> = None;
    for it in items {
        let Item::Opt(c, v) = it else { continue };
        let v = v.unwrap_or_default();
        match c {
            'h' => {
                eprintln!("{PREFIX_HELP}");
                return Err(EX_OK);
            }
            'V' => return Err(EX_OK),
            'c' => job = Some((Mode::Check, v)),
            'a' => job = Some((Mode::Add, v)),
            'D' => job = Some((Mode::Delete, v)),
            's' => match strtoul(&v, 0) {
                (a, n) if n == v.len() => {
                    address = a as u32;
                    kind = Some(Kind::Stellaris);
                }
                _ => {
                    eprintln!("error: -s {v:?} is not an address");
                    return Err(EX_USAGE);
                }
            },
            'T' => kind = Some(Kind::Stellaris),
            'L' => kind = Some(Kind::Lpc),
            _ => return Err(usage(PREFIX_HELP)),
        }
    }
    if let Some(e) = err {
        eprintln!("{}", e.message("dfu-prefix"));
        return Err(usage(PREFIX_HELP));
    }
    let Some((mode, name)) = job else {
        eprintln!("error: no file given (use -c, -a or -D FILE)");
        return Err(usage(PREFIX_HELP));
    };
    if mode == Mode::Add && kind.is_none() {
        eprintln!("error: which prefix? give -s ADDRESS (TI Stellaris) or -L (NXP LPC)");
        return Err(EX_USAGE);
    }
    Ok(PrefixArgs {
        mode,
        name,
        kind,
        address,
    })
}

/// `dfu-prefix ARGS`: returns the exit code.
pub fn prefix_main(args: &[String]) -> i32 {
    banner("dfu-prefix");
    let a = match prefix_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match load(&a.name) {
        Ok(f) => change_prefix(&a, &f).err().unwrap_or(EX_OK),
        Err(code) => code,
    }
}

/// Shows, adds or removes the prefix of `f` as `a` asks; `Err` is the exit code.
fn change_prefix(a: &PrefixArgs, f: &DfuFile) -> Result<(), i32> {
    let name = &a.name;
    let wrong_kind = a.kind.is_some() && f.prefix != a.kind;
    match a.mode {
        Mode::Add if f.prefix_len != 0 => Err(fail(
            EX_DATAERR,
            format!("{name} already has a prefix"),
            "remove it first with dfu-prefix -D",
        )),
        Mode::Add => store(name, &f.store(a.kind.map(|k| (k, a.address)), f.suffix))
            .map(|()| println!("Added a prefix to {name}")),
        Mode::Check => {
            show(name, f);
            if wrong_kind {
                Err(fail(
                    EX_DATAERR,
                    format!("{name} has no prefix of the kind asked for"),
                    "drop -T/-L to see what it has",
                ))
            } else {
                Ok(())
            }
        }
        Mode::Delete if !f.prefix_ok || f.prefix_len == 0 => Err(fail(
            EX_DATAERR,
            format!("{name} has no valid prefix"),
            "dfu-prefix -c shows what the file has",
        )),
        Mode::Delete if wrong_kind => Err(fail(
            EX_DATAERR,
            format!("{name} has no prefix of the kind asked for"),
            "drop -T/-L to remove the prefix it has",
        )),
        Mode::Delete => store(name, &f.store(None, f.suffix))
            .map(|()| println!("Removed the prefix from {name}")),
    }
}
