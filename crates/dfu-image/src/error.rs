//! The one error type of this crate.

use crate::Format;

/// Everything that can be wrong with a firmware file, with where it is wrong.
///
/// Offsets are byte offsets into the file as given; line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The file ends before a structure it announces is complete.
    #[error("{format} file is truncated: {what} at offset {offset:#x} needs {needed} bytes, only {available} left")]
    Truncated {
        /// Format being read.
        format: Format,
        /// The structure being read ("target prefix", "element data", ...).
        what: &'static str,
        /// Where the structure starts.
        offset: u64,
        /// Bytes the structure needs.
        needed: u64,
        /// Bytes left in the file from `offset`.
        available: u64,
    },
    /// A binary structure holds a value that cannot be right.
    #[error("{format} file is malformed at offset {offset:#x}: {reason}")]
    Malformed {
        /// Format being read.
        format: Format,
        /// Where the bad value is.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A text record (Intel HEX, S-record) is malformed.
    #[error("{format} line {line}: {reason}")]
    Line {
        /// Format being read.
        format: Format,
        /// Line number, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A text record's checksum does not match its bytes.
    #[error("{format} line {line}: checksum is {stored:#04x} but the record's bytes give {computed:#04x}; the file is damaged")]
    Checksum {
        /// Format being read.
        format: Format,
        /// Line number, from 1.
        line: usize,
        /// Checksum written in the record.
        stored: u8,
        /// Checksum the record's bytes need.
        computed: u8,
    },
    /// A text file stops without its end record: it was probably cut short.
    #[error("{format} file has no end record after {lines} lines; it is probably truncated")]
    MissingEnd {
        /// Format being read.
        format: Format,
        /// Lines read.
        lines: usize,
    },
    /// The DFU suffix CRC does not match the file: damaged, or edited after the suffix was added.
    #[error("DFU suffix CRC mismatch: the suffix says {stored:#010x}, the file gives {computed:#010x}; the file is damaged or was changed after the suffix was added")]
    SuffixCrc {
        /// CRC stored in the suffix.
        stored: u32,
        /// CRC of the file's bytes.
        computed: u32,
    },
    /// The DFU suffix's bLength cannot be right.
    #[error("DFU suffix length {length} is invalid for a file of {file_len} bytes (must be 16..=file length)")]
    SuffixLength {
        /// bLength from the suffix.
        length: u8,
        /// File length.
        file_len: u64,
    },
    /// A DFU suffix was required and there is none.
    #[error("no DFU suffix: {reason}")]
    NoSuffix {
        /// Why the last 16 bytes are not a suffix.
        reason: &'static str,
    },
    /// Data would lie (partly) beyond the 32-bit address space.
    #[error("{format}: {len} bytes at {address:#010x} go beyond the 4 GiB address space{}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    AddressOverflow {
        /// Format being read (or of the image being placed).
        format: Format,
        /// Start address of the data.
        address: u64,
        /// Length of the data.
        len: u64,
        /// Line number for text formats.
        line: Option<usize>,
    },
    /// Two pieces of data claim the same address.
    #[error(
        "data overlaps: {first:#010x}-{:#010x} and {second:#010x}-{:#010x}",
        .first_end - 1,
        .second_end - 1
    )]
    Overlap {
        /// Start of the lower piece.
        first: u32,
        /// End (exclusive) of the lower piece.
        first_end: u64,
        /// Start of the other piece.
        second: u32,
        /// End (exclusive) of the other piece.
        second_end: u64,
    },
    /// A text record gives bytes an earlier record already gave (a duplicated record, or
    /// two files joined that overlap).
    #[error(
        "{format} line {line}: {len} bytes at {address:#010x} overlap the data of {} ({earlier_start:#010x}-{:#010x}); a record given twice?",
        lines_text(*.earlier),
        .earlier_end - 1
    )]
    Duplicate {
        /// Format being read.
        format: Format,
        /// Line of the record that overlaps.
        line: usize,
        /// Its address.
        address: u32,
        /// Its length.
        len: u64,
        /// First and last line of the earlier records it overlaps.
        earlier: (usize, usize),
        /// Start of the earlier data.
        earlier_start: u32,
        /// End (exclusive) of the earlier data.
        earlier_end: u64,
    },
    /// A file could not be read (an I/O error partway, e.g. a disk or network failure).
    #[error("reading the file failed{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Read {
        /// The line being read, for text formats.
        line: Option<usize>,
        /// The I/O error.
        message: String,
    },
    /// A file is larger than any image it could hold: refused before reading it.
    #[error("{format} file of {len} bytes is larger than {limit} bytes, the most {why}")]
    FileTooLarge {
        /// Format the file's first bytes show.
        format: Format,
        /// The file's length.
        len: u64,
        /// The largest file that could be used.
        limit: u64,
        /// What limits it ("a 32-bit address space holds", ...).
        why: &'static str,
    },
    /// A text line is longer than any record of its format.
    #[error("{format} line {line} is longer than {limit} bytes; no record is that long (is this a text firmware file?)")]
    LineTooLong {
        /// Format being read.
        format: Format,
        /// Line number, from 1.
        line: usize,
        /// The longest line accepted.
        limit: usize,
    },
    /// A gap between segments is too large to fill in a flat binary.
    #[error("gap of {} bytes from {from:#010x} to {to:#010x} is larger than {limit} bytes; a flat binary would be mostly filler (are two unrelated memories in one file?)", to - from)]
    Gap {
        /// End of the segment before the gap.
        from: u64,
        /// Start of the segment after the gap.
        to: u64,
        /// The largest gap allowed.
        limit: u64,
    },
    /// A flat binary of the image would be too large.
    #[error("a flat binary from {start:#010x} to {end:#010x} would be larger than {limit} bytes")]
    TooLarge {
        /// First address.
        start: u32,
        /// End address (exclusive).
        end: u64,
        /// The largest size allowed.
        limit: u64,
    },
    /// An image without an address (raw binary) was combined with others before [`crate::Image::place`].
    #[error("image {index} is a raw binary without an address; place it first")]
    Unplaced {
        /// Position of the image in the list given to [`crate::Image::combine`].
        index: usize,
    },
}

impl ImageError {
    /// Shorthand for [`ImageError::Malformed`].
    pub(crate) fn malformed(format: Format, offset: u64, reason: impl Into<String>) -> Self {
        ImageError::Malformed {
            format,
            offset,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`ImageError::Line`].
    pub(crate) fn line(format: Format, line: usize, reason: impl Into<String>) -> Self {
        ImageError::Line {
            format,
            line,
            reason: reason.into(),
        }
    }
}

/// "line 4" or "lines 4-9".
fn lines_text((first, last): (usize, usize)) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    }
}
