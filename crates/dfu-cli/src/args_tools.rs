//! The command line of the commands that work on files, simulated devices and protection:
//! `image`, `suffix`, `sim`, `option-bytes`, `profile`.

use clap::{Args, Subcommand};
use dfu_proto::num::{parse_u32, parse_usb_id};
use std::path::PathBuf;

/// `dfu profile ...`.
#[derive(Debug, Subcommand)]
pub enum ProfileCmd {
    /// Write a profile file from the connected device: ids, strings, functional descriptor,
    /// alt settings and layouts (timing and regions marked assumed)
    New {
        /// Output file (default: standard output); never overwritten without --force
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// The profile's name (default: board)
        #[arg(long)]
        name: Option<String>,
        /// Overwrite the output file
        #[arg(long)]
        force: bool,
    },
}

/// `dfu option-bytes`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OptionBytesArgs {
    /// Write new option bytes
    #[command(subcommand)]
    pub write: Option<OptionBytesCmd>,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// `dfu option-bytes write`.
#[derive(Debug, Subcommand)]
pub enum OptionBytesCmd {
    /// Show the decoded difference, write, wait for the device to reset and read them again
    Write {
        /// A file holding the option bytes, or hex ("ECAAFFFF...", spaces allowed)
        value: String,
        /// Allow raising read protection or adding write protection
        #[arg(long)]
        force: bool,
        /// Allow read protection level 2 (permanent: no bootloader, no debug)
        #[arg(long)]
        irreversible: bool,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
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
        /// Alt setting of the DfuSe target written (--to dfuse)
        #[arg(long, default_value_t = 0)]
        target_alt: u8,
        /// The DfuSe target to convert, by its alt setting, from a DfuSe file with targets
        /// for several (hex, srec, bin and suffixed files hold one address space: one file
        /// per target)
        #[arg(long, value_name = "ALT")]
        target: Option<u8>,
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
        #[arg(long, value_parser = parse_usb_id, default_value = "0xffff")]
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
