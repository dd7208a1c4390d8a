//! Firmware image files for DFU flashing.
//!
//! `dfu-image` turns the bytes of a firmware file into an [`Image`]: a list of
//! [`Segment`]s (address + data), plus what the file says about itself. It reads
//! raw binaries (with or without a DFU suffix), DfuSe `.dfu` files, Intel HEX,
//! Motorola S-records and ELF (32/64 bit, either endianness), and writes raw
//! binaries, DFU suffixes, Intel HEX, S-records and DfuSe files.
//!
//! It also looks inside an image: a Particle `module_info_t` header and CRC
//! trailer ([`particle`]) and a Cortex-M vector table ([`vector`]), so a flashing
//! tool can check that an image is put where it was linked to run.
//!
//! The crate does no I/O of its own: [`Image::parse`] reads bytes, and
//! [`Image::read_from`] an open file (any `Read + Seek`) without holding more than the
//! image, refusing from its length a file larger than any usable image. No `unsafe`, and
//! no panics on any input. Every problem is an [`ImageError`] that says where (offset,
//! line or address).
//!
//! ```
//! use dfu_image::{Format, Image};
//!
//! let hex = b":0400000001020304F2\n:00000001FF\n";
//! let image = Image::parse(hex, Some("app.hex")).unwrap();
//! assert_eq!(image.format, Format::IntelHex);
//! assert_eq!(image.segments[0].address, 0);
//! assert_eq!(image.segments[0].data, [1, 2, 3, 4]);
//! ```
#![forbid(unsafe_code)]

mod bin;
pub mod detect;
pub mod dfuse;
mod elf;
mod error;
mod ihex;
mod image;
pub mod particle;
pub mod prefix;
mod reader;
mod segment;
mod srec;
pub mod suffix;
mod text;
pub mod vector;
mod write;

pub use dfuse::DfuseTarget;
pub use elf::machine as elf_machine;
pub use error::ImageError;
pub use particle::{Dependency, ModuleFunction, ModuleInfo};
pub use reader::{max_text_file, read_suffix, MAX_BINARY_FILE};
pub use segment::Segment;
pub use suffix::Suffix;
pub use vector::VectorTable;

/// Gaps between segments that [`Image::to_bin`] fills are limited to this many bytes (16 MiB).
pub const MAX_GAP: u64 = 16 << 20;

/// [`Image::to_bin`] refuses to produce a binary larger than this (256 MiB).
pub const MAX_BIN_LEN: u64 = 256 << 20;

/// The kind of file an [`Image`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// Raw binary without a DFU suffix: the bytes as they go into flash, with no address.
    #[default]
    Bin,
    /// Raw binary followed by a valid DFU suffix (the suffix is stripped from the data).
    Suffixed,
    /// ST DfuSe file (UM0391): prefix, targets with addressed elements, DFU suffix.
    DfuSe,
    /// Intel HEX text records.
    IntelHex,
    /// Motorola S-record text.
    SRecord,
    /// ELF executable: `PT_LOAD` segments at their physical (load) addresses.
    Elf,
}

impl Format {
    /// A short human name: "raw binary", "DfuSe", "Intel HEX", ...
    pub fn name(self) -> &'static str {
        match self {
            Format::Bin => "raw binary",
            Format::Suffixed => "binary with DFU suffix",
            Format::DfuSe => "DfuSe",
            Format::IntelHex => "Intel HEX",
            Format::SRecord => "S-record",
            Format::Elf => "ELF",
        }
    }

    /// Whether files of this format carry their own load addresses.
    pub fn has_addresses(self) -> bool {
        !matches!(self, Format::Bin | Format::Suffixed)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Choices for [`Image::parse_with`]. The default is the strict behaviour of [`Image::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Accept a DFU suffix whose CRC does not match the file.
    ///
    /// By default that is an error ([`ImageError::SuffixCrc`]): the file was damaged or
    /// edited after the suffix was added. dfu-util only warns and then flashes the whole
    /// file *including* the 16 suffix bytes. With this set, the suffix is still
    /// recognised and stripped, and [`Suffix::crc_ok`] is `false` so the caller can warn.
    pub accept_bad_suffix_crc: bool,
    /// Skip detection and read the file as this format.
    ///
    /// `Some(Format::Bin)` takes every byte as data (no suffix is looked for);
    /// `Some(Format::Suffixed)` requires a DFU suffix.
    pub format: Option<Format>,
}

/// A firmware image: addressed data, plus what the file said about itself.
///
/// Invariant kept by every constructor in this crate: `segments` are sorted by
/// address, none is empty, none overlaps another, and none reaches past 4 GiB.
/// Adjacent segments may stay separate (they were separate in the file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    /// What kind of file this was.
    pub format: Format,
    /// The data, sorted by address and non-overlapping.
    pub segments: Vec<Segment>,
    /// The DFU suffix, if the file had one.
    pub suffix: Option<Suffix>,
    /// For DfuSe files: each target (alternate setting, name and its own segments).
    ///
    /// `segments` holds all targets' elements flattened, unless elements of different
    /// targets overlap in address (e.g. internal flash at alt 0 and SPI flash at alt 1
    /// both starting at 0); then `segments` holds the first target's elements only, and
    /// [`Image::target_image`] gives each alternate setting's image.
    pub dfuse_targets: Vec<DfuseTarget>,
    /// True for raw binaries: the segment address is a placeholder (0) until
    /// [`Image::place`] gives the real one.
    pub needs_address: bool,
    /// Entry point / start address named by the file (Intel HEX record 03/05, S-record
    /// S7/S8/S9, ELF `e_entry`), if any. Informational: DFU does not use it.
    pub entry: Option<u32>,
}
