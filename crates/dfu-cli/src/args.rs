//! The command line: clap definitions (numbers are parsed by `dfu_proto::num`; connecting
//! to the device the options select is in `select.rs`).

use clap::{Args, Parser, Subcommand};
use dfu_proto::num::{parse_len, parse_u32};
use std::path::PathBuf;

pub use crate::args_tools::*;

/// Flash firmware into microcontrollers over USB DFU and ST's DfuSe extension.
#[derive(Debug, Parser)]
#[command(name = "dfu", version, about, after_help = crate::render::EXIT_CODES_HELP)]
pub struct Cli {
    /// Options that select the device.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Device selection, shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// USB ids VID:PID[,VID:PID...] in hex (`*` for any); a serial port path is also accepted
    /// by `dfu detach`
    #[arg(long, short = 'd', global = true, value_name = "VID:PID")]
    pub device: Option<String>,
    /// Serial number string of the device; `dfu flash` takes several (repeated or
    /// comma-separated) and flashes exactly those
    #[arg(long, global = true, value_name = "S", value_delimiter = ',')]
    pub serial: Vec<String>,
    /// USB bus path BUS-PORT[.PORT...] as in `dfu list`; `dfu flash` takes several
    #[arg(long, global = true, value_name = "BUS-PORTS", value_delimiter = ',')]
    pub path: Vec<String>,
    /// Use simulated devices: `PROFILE[,key=value...][;...]` (`dfu sim profiles` lists the profiles)
    #[arg(long, global = true, env = "DFU_SIM", value_name = "SPEC")]
    pub sim: Option<String>,
    /// Use this profile (built-in name or TOML file) instead of matching one
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Memory layout to use when the device's alt name is not one:
    /// "@Name/0xADDR/N*SIZE[K|M]a,..." (access letter a-g, e.g. "@Flash/0x08000000/04*016Kg")
    #[arg(long, global = true, value_name = "LAYOUT")]
    pub layout: Option<String>,
    /// Alt setting: number or (part of) its name
    #[arg(long, short = 'a', global = true, value_name = "N|NAME")]
    pub alt: Option<String>,
    /// Print every USB request as it happens (request, wValue, length, status, state, poll
    /// timeout), on standard error
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Wait for a matching device to be plugged in (and put in DFU mode)
    #[arg(long, short = 'w', global = true)]
    pub wait: bool,
    /// With --wait: give up after this long (`30s`, `500ms`, `2m`; a bare number is seconds)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration, requires = "wait")]
    pub wait_timeout: Option<std::time::Duration>,
    /// Running as the dfu-util drop-in: notes name no `dfu` option the caller never typed.
    #[arg(skip)]
    pub drop_in: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Devices in DFU and run-time mode, with alt settings and memory layouts
    List {
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// One device in depth, with its matched profile and memory map
    Info {
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Write firmware files (bin, DfuSe .dfu, Intel HEX, S-record, ELF), verify and start it
    Flash(FlashArgs),
    /// Read memory into a file
    Read(ReadArgs),
    /// Erase sectors, or everything
    Erase(EraseArgs),
    /// Ask a run-time device to switch to DFU mode, and wait for it
    Detach {
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Reset the device (USB bus reset)
    Reset {
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Inspect and convert firmware files
    #[command(subcommand)]
    Image(ImageCmd),
    /// Add, check or remove a DFU suffix (compatible with dfu-suffix)
    #[command(subcommand)]
    Suffix(SuffixCmd),
    /// Check this machine: USB access, permissions, udev rules, drivers
    Doctor {
        /// JSON output
        #[arg(long)]
        json: bool,
        /// Linux: install the udev rule that grants access (asks first), and reload udev
        #[arg(long, conflicts_with = "json")]
        fix: bool,
        /// With --fix: do not ask
        #[arg(long, requires = "fix")]
        yes: bool,
        /// With --fix: access for the desktop user (uaccess) or the plugdev group (headless
        /// machines); default: uaccess when a desktop seat is running
        #[arg(long, value_enum, requires = "fix")]
        access: Option<crate::doctor_fix::Access>,
        /// Directory of the udev rules (default /etc/udev/rules.d)
        #[arg(long, hide = true, value_name = "DIR")]
        udev_rules_dir: Option<PathBuf>,
    },
    /// Simulated devices
    #[command(subcommand)]
    Sim(SimCmd),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page dfu.1 (roff): every command in one page
    Manpage,
    /// Read and decode the option bytes (read protection, write protection, user bits), or
    /// write them
    OptionBytes(OptionBytesArgs),
    /// Device profiles
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// Print the JSON Schema of every `--json` output (docs/json.md describes it)
    Schema,
    /// Remove read protection (DfuSe read-unprotect): this erases the whole flash
    Unprotect {
        /// Confirm that the whole flash is erased
        #[arg(long)]
        force: bool,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// True when the command was asked for JSON output.
    pub fn wants_json(&self) -> bool {
        match self {
            Command::List { json }
            | Command::Info { json }
            | Command::Detach { json }
            | Command::Reset { json }
            | Command::Doctor { json, .. } => *json,
            Command::Flash(a) => a.json,
            Command::Read(a) => a.json,
            Command::Erase(a) => a.json,
            Command::Image(ImageCmd::Inspect { json, .. } | ImageCmd::Convert { json, .. }) => {
                *json
            }
            Command::Suffix(
                SuffixCmd::Add { json, .. }
                | SuffixCmd::Check { json, .. }
                | SuffixCmd::Remove { json, .. },
            ) => *json,
            Command::Sim(SimCmd::Profiles { json }) => *json,
            Command::Sim(SimCmd::Serve { .. })
            | Command::Completions { .. }
            | Command::Manpage
            | Command::Schema => false,
            Command::OptionBytes(a) => match &a.write {
                Some(OptionBytesCmd::Write { json, .. }) => *json,
                None => a.json,
            },
            Command::Unprotect { json, .. } => *json,
            Command::Profile(_) => false,
        }
    }
}

/// `dfu flash`.
#[derive(Debug, Args, Default)]
pub struct FlashArgs {
    /// Firmware files; each is placed where it says it belongs
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Address for raw binaries (default: the device profile's application address)
    #[arg(long, short = 's', value_parser = parse_u32)]
    pub address: Option<u32>,
    /// Check and plan only; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not read back what was written
    #[arg(long)]
    pub no_verify: bool,
    /// Stay in DFU mode afterwards
    #[arg(long)]
    pub no_leave: bool,
    /// Erase and write every sector the image touches, even ones that already hold it
    #[arg(long)]
    pub no_skip: bool,
    /// Mass-erase the device first
    #[arg(long)]
    pub mass_erase: bool,
    /// Allow writes to the bootloader and settings regions, and images linked elsewhere
    #[arg(long)]
    pub force: bool,
    /// Keep the bytes next to the image in the sectors that are erased (read first, written
    /// back, verified); refused before any erase where that is impossible (--mass-erase)
    #[arg(long)]
    pub preserve: bool,
    /// Allow writes that cannot be undone (OTP memory, read protection level 2)
    #[arg(long)]
    pub irreversible: bool,
    /// JSON lines: events, then the result
    #[arg(long)]
    pub json: bool,
    /// Flash every matching device at once
    #[arg(long, conflicts_with = "watch")]
    pub all: bool,
    /// Production line: flash each matching device as it is plugged in, until Ctrl-C
    #[arg(long, conflicts_with = "dry_run")]
    pub watch: bool,
    /// With --watch: stop after this many devices (flashed or failed)
    #[arg(long, value_name = "N", requires = "watch", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// With --watch: append one JSON line per device to this file
    #[arg(long, value_name = "FILE", requires = "watch")]
    pub log: Option<PathBuf>,
}

/// Parses `30s`, `500ms`, `2m`, `1h` or a bare number of seconds (`1.5`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "{text:?}: expected a duration such as 30s, 500ms or 2m"
            ))
        }
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|n| n * scale)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("{text:?}: expected a duration such as 30s, 500ms or 2m"))
}

/// `dfu read`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// First address (default: the start of the alt's memory; needed on DfuSe devices
    /// without a layout)
    #[arg(long, short = 's', value_parser = parse_u32)]
    pub address: Option<u32>,
    /// Bytes to read (suffixes K, M and G allowed; default: to the end of the alt's memory)
    #[arg(long, short = 'n', value_parser = parse_len)]
    pub length: Option<u64>,
    /// Output file; `-` writes to standard output
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,
    /// JSON output: one object with the result
    #[arg(long)]
    pub json: bool,
}

/// `dfu erase`.
#[derive(Debug, Args)]
#[group(id = "what", required = true, args = ["all", "address"])]
pub struct EraseArgs {
    /// Mass-erase the whole device
    #[arg(long)]
    pub all: bool,
    /// First address of the range to erase
    #[arg(long, short = 's', value_parser = parse_u32, requires = "length")]
    pub address: Option<u32>,
    /// Bytes to erase (whole sectors are erased)
    #[arg(long, short = 'n', value_parser = parse_len)]
    pub length: Option<u64>,
    /// Allow erasing the bootloader and settings regions
    #[arg(long)]
    pub force: bool,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// Help for a bad `--sim` spec.
pub const SIM_HELP: &str = "a simulated device is PROFILE[,key=value...][;...]: `dfu sim profiles` lists the profiles, the README's \"Simulated devices\" section the keys";

/// The grammar of `--layout`, for help lines.
pub const LAYOUT_HELP: &str = "the form is \"@Name/0xADDR/N*SIZE[K|M]a,...\" (DfuSe), e.g. \"@Internal Flash/0x08000000/04*016Kg,01*064Kg,07*128Kg\"; the letter after the size is the access: a readable, b erasable, c readable+erasable, d writable, e readable+writable, f erasable+writable, g all";

/// True for `/dev/tty*`, `/dev/cu.*`, `COM3`, `\\.\COM10`.
pub fn looks_like_serial_port(s: &str) -> bool {
    let s = s.strip_prefix(r"\\.\").unwrap_or(s);
    s.starts_with("/dev/")
        || (s.to_ascii_uppercase().starts_with("COM")
            && s[3..].chars().all(|c| c.is_ascii_digit())
            && s.len() > 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("3 parsecs").is_err());
    }

    #[test]
    fn serial_ports() {
        assert!(looks_like_serial_port("/dev/ttyACM0"));
        assert!(looks_like_serial_port("COM3"));
        assert!(looks_like_serial_port(r"\\.\COM10"));
        assert!(!looks_like_serial_port("0483:df11"));
    }
}
