//! Firmware files measured against the device before they are read: a raw binary larger
//! than the device's largest memory, or a text file (Intel HEX, S-record) larger than any
//! text could be that describes that memory, is refused from its length alone, so that a
//! wrong file (a disk image, an archive) costs neither the time nor the memory of reading it.
//!
//! DfuSe and ELF files keep the bound of the 32-bit address space ([`Firmware::load`]): a
//! DfuSe file carries several targets (flash and option bytes) with headers between them,
//! and an ELF file is read through its program headers, so neither is read whole anyway.

use crate::code::{Code, Finding};
use crate::discover::DeviceInfo;
use crate::error::{DfuError, Result};
use crate::firmware::Firmware;
use crate::sectors::describe_map;
use dfu_image::{detect, Format, ImageError};
use dfu_proto::MemoryLayout;
use std::io::Read;
use std::path::Path;

/// The largest memory of `info`: (alt setting, its layout) of the alt whose layout holds
/// the most bytes, with `given` for alts that announce none. `None` when some alt has no
/// usable layout (it might be the largest), or none has any (a plain DFU device without a
/// profile, a device in run-time mode).
pub fn largest_memory(
    info: &DeviceInfo,
    given: Option<&MemoryLayout>,
) -> Option<(u8, MemoryLayout)> {
    let layouts: Option<Vec<(u8, MemoryLayout)>> = info
        .alts
        .iter()
        .map(|a| {
            crate::survey::layout_for(info, a.alt, given)
                .0
                .map(|l| (a.alt, l))
        })
        .collect();
    layouts?
        .into_iter()
        .max_by_key(|(alt, l)| (l.total_size(), std::cmp::Reverse(*alt)))
}

/// What a file's first bytes (or, failing that, its name) say it is, and its length;
/// reads at most 64 bytes.
fn sniff(path: &Path, name: &str) -> Result<(Option<Format>, u64)> {
    let io = |source| DfuError::Io {
        file: name.to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(64);
    file.take(64).read_to_end(&mut head).map_err(io)?;
    let format = detect::detect_content(&head).or_else(|| {
        detect::format_from_name(name).filter(|f| f.has_addresses() && *f != Format::DfuSe)
    });
    Ok((format, len))
}

/// The longest file of `format` that could hold at most `max_data` bytes of image; `None`
/// for formats not bounded this way (ELF).
fn longest(format: Option<Format>, max_data: u64) -> Option<u64> {
    match format {
        Some(Format::IntelHex | Format::SRecord) => Some(dfu_image::max_text_file(max_data)),
        Some(Format::Elf) => None,
        _ => Some(max_data.min(1 << 32).saturating_add(255)),
    }
}

/// Refuses, from its length and first bytes only, a file larger than any image of at most
/// `max_data` bytes could be: the same refusal as [`Firmware::load_within`] gives, without
/// reading the file. A missing or unreadable file fails here too.
pub fn check_size(path: impl AsRef<Path>, max_data: u64) -> Result<()> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let (format, len) = sniff(path, &name)?;
    match longest(format, max_data) {
        Some(limit) if len > limit => Err(DfuError::Input {
            file: name,
            source: ImageError::FileTooLarge {
                format: format.unwrap_or(Format::Bin),
                len,
                limit,
                why: "any usable image needs",
            },
        }),
        _ => Ok(()),
    }
}

/// Reads and parses a file for the device `info` (with `given`, the layout the user gave
/// for alts that announce none). A raw binary larger than the device's largest memory, or
/// a text file larger than one describing that memory could be, is refused from its length
/// before it is read, as `dfu::refused::outside-memory`: its bytes cannot all fit. Without
/// a known layout, and for DfuSe and ELF files, the bound is the 32-bit address space
/// ([`Firmware::load`]).
pub fn load_for(
    path: impl AsRef<Path>,
    info: &DeviceInfo,
    given: Option<&MemoryLayout>,
) -> Result<Firmware> {
    let path = path.as_ref();
    let Some((alt, layout)) = largest_memory(info, given) else {
        return Firmware::load(path);
    };
    let name = path.display().to_string();
    let (format, len) = sniff(path, &name)?;
    if matches!(format, Some(Format::DfuSe | Format::Elf)) {
        return Firmware::load(path);
    }
    let size = layout.total_size();
    if let Some(limit) = longest(format, size).filter(|limit| len > *limit) {
        let what = format.unwrap_or(Format::Bin);
        let memory = match layout.name.trim() {
            "" => format!("alt setting {alt}"),
            n => format!("alt setting {alt}, {n}"),
        };
        let message = match what {
            Format::IntelHex | Format::SRecord => format!(
                "{name} is {what} text of {len} bytes: more than the {limit} bytes a text file describing the device's largest memory ({memory}, {size} bytes) can need"
            ),
            _ => format!(
                "{name} is {len} bytes: larger than the device's largest memory ({memory}, {size} bytes), so it cannot fit"
            ),
        };
        return Err(DfuError::refused(Finding::hard(
            Code::OutsideMemory,
            message,
            describe_map(&layout, info.profile.as_ref(), alt),
        )));
    }
    Firmware::load_within(path, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats_are_bounded_by_what_text_could_need_and_elf_is_not() {
        assert_eq!(longest(Some(Format::Bin), 1024), Some(1024 + 255));
        assert_eq!(longest(None, 8 << 30), Some((1 << 32) + 255));
        assert_eq!(
            longest(Some(Format::IntelHex), 1024),
            Some(dfu_image::max_text_file(1024))
        );
        assert_eq!(longest(Some(Format::Elf), 1024), None);
    }
}
