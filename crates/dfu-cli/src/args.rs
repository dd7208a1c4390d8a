//! The command line: clap definitions (numbers are parsed by `dfu_proto::num`; connecting
//! to the device the options select is in `select.rs`).

use clap::{Args, Parser, Subcommand};
use dfu_proto::num::{parse_len, parse_u32, parse_usb_id};
use std::path::PathBuf;

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
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// USB ids VID:PID[,VID:PID...] in hex (`*` for any); a serial port path is also accepted
    /// by `dfu detach`
    #[arg(long, short = 'd', global = true, value_name = "VID:PID")]
    pub device: Option<String>,
    /// Serial number string of the device
    #[arg(long, global = true, value_name = "S")]
    pub serial: Option<String>,
    /// USB bus path BUS-PORT[.PORT...] as in `dfu list`
    #[arg(long, global = true, value_name = "BUS-PORTS")]
    pub path: Option<String>,
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
    },
    /// Simulated devices
    #[command(subcommand)]
    Sim(SimCmd),
}

impl Command {
    /// True when the command was asked for JSON output.
    pub fn wants_json(&self) -> bool {
        match self {
            Command::List { json }
            | Command::Info { json }
            | Command::Detach { json }
            | Command::Reset { json }
            | Command::Doctor { json } => *json,
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
            Command::Sim(SimCmd::Serve { .. }) => false,
        }
    }
}

/// `dfu flash`.
#[derive(Debug, Args)]
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
    /// back, verified)
    #[arg(long)]
    pub preserve: bool,
    /// JSON lines: events, then the result
    #[arg(long)]
    pub json: bool,
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

/// `dfu image ...`.
#[derive(Debug, Subcommand)]
pub enum ImageCmd {
    /// Format, segments, Particle module header, vector table, DFU suffix
    Inspect {
        /// The file
        file: PathBuf,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Convert between formats
    Convert {
        /// Input file
        input: PathBuf,
        /// Output file
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// Output format
        #[arg(long, value_enum)]
        to: ConvertTo,
        /// Address of a raw binary input
        #[arg(long, short = 's', value_parser = parse_u32)]
        address: Option<u32>,
        /// Vendor id for suffixed/DfuSe output
        #[arg(long, value_parser = parse_usb_id, default_value = "0xffff")]
        vid: u16,
        /// Product id for suffixed/DfuSe output
        #[arg(long, value_parser = parse_usb_id, default_value = "0xffff")]
        pid: u16,
        /// Device release (bcdDevice) for suffixed/DfuSe output
        #[arg(long, value_parser = parse_usb_id, default_value = "0xffff")]
        did: u16,
        /// Alt setting of the DfuSe target
        #[arg(long, default_value_t = 0)]
        target_alt: u8,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
}

/// Output formats of `dfu image convert`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ConvertTo {
    /// Raw binary (gaps filled with 0xFF)
    Bin,
    /// Intel HEX
    Hex,
    /// Motorola S-record
    Srec,
    /// DfuSe .dfu
    Dfuse,
    /// Raw binary with a DFU suffix
    Suffixed,
}

/// `dfu suffix ...`.
#[derive(Debug, Subcommand)]
pub enum SuffixCmd {
    /// Append a DFU suffix (in place)
    Add {
        /// The file
        file: PathBuf,
        /// Vendor id
        #[arg(long, short = 'v', value_parser = parse_usb_id, default_value = "0xffff")]
        vid: u16,
        /// Product id
        #[arg(long, short = 'p', value_parser = parse_usb_id, default_value = "0xffff")]
        pid: u16,
        /// Device release (bcdDevice); `-d` is the global --device
        #[arg(long, value_parser = parse_usb_id, default_value = "0xffff")]
        did: u16,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Check the suffix and its CRC
    Check {
        /// The file
        file: PathBuf,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Remove the suffix (in place), also one whose CRC is wrong
    Remove {
        /// The file
        file: PathBuf,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
}

/// `dfu sim ...`.
#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Export simulated devices over USB/IP, so a Linux kernel sees them as USB devices
    Serve {
        /// Serve over USB/IP (the only transport)
        #[arg(long)]
        usbip: bool,
        /// Listen address (default 127.0.0.1:3240)
        #[arg(long)]
        listen: Option<String>,
        /// Devices: `PROFILE[,key=value...][;...]`
        spec: String,
    },
    /// The built-in profiles
    Profiles {
        /// JSON output
        #[arg(long)]
        json: bool,
    },
}

/// Help for a bad `--sim` spec.
pub const SIM_HELP: &str = "a simulated device is PROFILE[,key=value...][;...]: `dfu sim profiles` lists the profiles, the README's \"Simulated devices\" section the keys";

/// The grammar of `--layout`, for help lines.
pub const LAYOUT_HELP: &str = "the form is \"@Name/0xADDR/N*SIZE[K|M]a,...\" (DfuSe), e.g. \"@Internal Flash/0x08000000/04*016Kg,01*064Kg,07*128Kg\"; the letter after the size is the access: a readable, b erasable, c readable+erasable, d writable, e readable+writable, f erasable+writable, g all";

/// True for `/dev/tty*`, `/dev/cu.*`, `COM3`.
pub fn looks_like_serial_port(s: &str) -> bool {
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
    fn serial_ports() {
        assert!(looks_like_serial_port("/dev/ttyACM0"));
        assert!(looks_like_serial_port("COM3"));
        assert!(!looks_like_serial_port("0483:df11"));
    }
}
