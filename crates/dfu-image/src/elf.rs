//! ELF executables (32 and 64 bit, little and big endian), read with the `object` crate.
//!
//! What is flashed is what `objcopy -O binary`/`-O ihex` would produce: every
//! `PT_LOAD` program header with `p_filesz > 0`, its `p_filesz` bytes from the file
//! at its *physical* address `p_paddr` (the load address: initialised data linked to
//! run in RAM is stored in flash at its LMA). The `p_memsz - p_filesz` tail (.bss)
//! is not in the file and not flashed. Section headers are not needed.

use crate::segment::{check_range, normalize};
use crate::text::Parsed;
use crate::{Format, Image, ImageError, Segment};
use object::elf::{FileHeader32, FileHeader64, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, FileKind, ReadCache, ReadRef};
use std::io::{Read, Seek};

const F: Format = Format::Elf;

/// The ELF magic number.
pub(crate) const MAGIC: &[u8; 4] = b"\x7fELF";

/// Parse an ELF file into its loadable segments.
pub(crate) fn parse(data: &[u8]) -> Result<Parsed, ImageError> {
    parse_ref(data, data.len() as u64)
}

/// Read an ELF file of `len` bytes through its program headers: the file header, the
/// program headers and the `PT_LOAD` data are read, nothing else.
pub(crate) fn read<R: Read + Seek>(file: R, len: u64) -> Result<Image, ImageError> {
    let cache = ReadCache::new(file);
    let parsed = parse_ref(&cache, len)?;
    Ok(Image {
        format: F,
        segments: parsed.segments,
        entry: parsed.entry,
        ..Image::default()
    })
}

fn parse_ref<'a, D: ReadRef<'a>>(data: D, len: u64) -> Result<Parsed, ImageError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf32) => parse_as::<FileHeader32<Endianness>, D>(data, len),
        Ok(FileKind::Elf64) => parse_as::<FileHeader64<Endianness>, D>(data, len),
        _ if len < 16 => Err(ImageError::Truncated {
            format: F,
            what: "ELF identification",
            offset: 0,
            needed: 16,
            available: len,
        }),
        _ => Err(ImageError::malformed(
            F,
            4,
            "not a 32- or 64-bit ELF file (bad class or header)",
        )),
    }
}

fn parse_as<'a, H: FileHeader<Endian = Endianness>, D: ReadRef<'a>>(
    data: D,
    len: u64,
) -> Result<Parsed, ImageError> {
    let bad =
        |offset: u64, e: &dyn std::fmt::Display| ImageError::malformed(F, offset, e.to_string());
    let header = H::parse(data).map_err(|e| bad(0, &e))?;
    let endian = header.endian().map_err(|e| bad(5, &e))?;
    let phoff: u64 = header.e_phoff(endian).into();
    let phdrs = header
        .program_headers(endian, data)
        .map_err(|e| bad(phoff, &e))?;
    let entsize = std::mem::size_of::<H::ProgramHeader>() as u64;
    let mut segments = Vec::new();
    for (i, ph) in phdrs.iter().enumerate() {
        let at = phoff + i as u64 * entsize;
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let filesz: u64 = ph.p_filesz(endian).into();
        if filesz == 0 {
            continue;
        }
        let paddr: u64 = ph.p_paddr(endian).into();
        let offset: u64 = ph.p_offset(endian).into();
        let truncated = ImageError::Truncated {
            format: F,
            what: "PT_LOAD segment data",
            offset,
            needed: filesz,
            available: len.saturating_sub(offset),
        };
        if offset.checked_add(filesz).is_none_or(|end| end > len) {
            return Err(truncated);
        }
        let address = check_range(F, paddr, filesz, None).map_err(|_| {
            bad(
                at,
                &format_args!(
                    "program header {i}: {filesz} bytes at physical address {paddr:#x} go past 4 GiB"
                ),
            )
        })?;
        let bytes = ph.data(endian, data).map_err(|()| truncated)?;
        segments.push(Segment::new(address, bytes));
    }
    let entry: u64 = header.e_entry(endian).into();
    Ok(Parsed {
        segments: normalize(segments)?,
        entry: u32::try_from(entry).ok().filter(|e| *e != 0),
    })
}

/// The processor an ELF file was built for (`e_machine`: 40 Arm, 243 RISC-V, 94 Xtensa,
/// 62 x86-64...), or `None` when `data` is not an ELF file.
pub fn machine(data: &[u8]) -> Option<u16> {
    if !data.starts_with(MAGIC) || data.len() < 20 {
        return None;
    }
    let raw = [data[18], data[19]];
    match data[5] {
        1 => Some(u16::from_le_bytes(raw)),
        2 => Some(u16::from_be_bytes(raw)),
        _ => None,
    }
}
