//! Reading a firmware file from a reader (an open file) without holding more than the
//! image: sizes are checked before anything is read, Intel HEX and S-records are parsed
//! line by line, and an ELF file is read through its program headers only.

use crate::text::MAX_LINE;
use crate::{
    detect, dfuse, elf, ihex, srec, suffix, Format, Image, ImageError, ParseOptions, Segment,
};
use std::io::{BufReader, Read, Seek, SeekFrom};

/// How much of the start of a file is read to tell its format.
const HEAD: usize = 64 * 1024;

/// The largest raw binary or DfuSe file that can be used: the 32-bit address space,
/// plus a DFU suffix of the longest length its one-byte bLength allows.
pub const MAX_BINARY_FILE: u64 = (1 << 32) + 255;

/// The largest text file (Intel HEX or S-record) that could describe `max_data` bytes:
/// one data byte per record (15 characters with CR LF, 17 for an address record before
/// each), so 32 characters a byte, plus room for a header.
pub fn max_text_file(max_data: u64) -> u64 {
    max_data.saturating_mul(32).saturating_add(MAX_LINE as u64)
}

impl Image {
    /// Read a firmware file from `file` (format detection and options as in
    /// [`Image::parse_with`]), never holding more than the image and a buffer.
    ///
    /// - A raw binary or DfuSe file longer than `max_data` bytes (plus suffix) is refused
    ///   from its length, before it is read ([`ImageError::FileTooLarge`]); so is a text
    ///   file longer than [`max_text_file`]`(max_data)`. `max_data` is the most the caller
    ///   can use: the largest memory of the device, or 4 GiB when no device is known.
    /// - Intel HEX and S-records are parsed line by line; a DFU suffix at their end is
    ///   checked in one pass over the file first.
    /// - An ELF file is read through its program headers: the headers and the `PT_LOAD`
    ///   data, nothing else (not its sections, symbols or debug information).
    ///
    /// I/O errors are [`ImageError::Read`].
    pub fn read_from<R: Read + Seek>(
        mut file: R,
        name_hint: Option<&str>,
        options: &ParseOptions,
        max_data: u64,
    ) -> Result<Image, ImageError> {
        let len = file.seek(SeekFrom::End(0)).map_err(io(None))?;
        file.seek(SeekFrom::Start(0)).map_err(io(None))?;
        let mut head = Vec::with_capacity(HEAD.min(len as usize));
        (&mut file)
            .take(HEAD as u64)
            .read_to_end(&mut head)
            .map_err(io(None))?;
        file.seek(SeekFrom::Start(0)).map_err(io(None))?;
        let format = options.format.or_else(|| {
            detect::detect_content(&head).or_else(|| {
                name_hint
                    .and_then(detect::format_from_name)
                    .filter(|f| f.has_addresses() && *f != Format::DfuSe)
            })
        });
        match format {
            Some(f @ (Format::IntelHex | Format::SRecord)) => {
                refuse_over(
                    f,
                    len,
                    max_text_file(max_data),
                    "a text file could need for that",
                )?;
                read_text(file, f, len, options)
            }
            Some(Format::Elf) => {
                let suffix = tail_suffix(&mut file, len, options.accept_bad_suffix_crc)?;
                let content_len = len - suffix.map_or(0, |(_, strip)| strip);
                let limited = Limited {
                    inner: file,
                    len: content_len,
                    pos: 0,
                };
                let mut image = elf::read(limited, content_len)?;
                image.suffix = suffix.map(|(s, _)| s);
                Ok(image)
            }
            other => {
                let f = other.unwrap_or(Format::Bin);
                let limit = max_data.min(1 << 32).saturating_add(255);
                refuse_over(f, len, limit, "any usable image needs")?;
                let mut bytes = Vec::with_capacity(len as usize);
                file.read_to_end(&mut bytes).map_err(io(None))?;
                match other {
                    None => Image::parse_owned(bytes, options),
                    Some(f) => Image::parse_with(
                        &bytes,
                        name_hint,
                        &ParseOptions {
                            format: Some(f),
                            ..*options
                        },
                    ),
                }
            }
        }
    }

    /// For a raw binary (with or without a DFU suffix): the image of its first `keep` bytes
    /// and the length of all its data, reading only those bytes (and, when it ends with a
    /// suffix signature, the file once for the suffix CRC, in pieces). Enough to show what
    /// the file holds (size, suffix, Particle module header, vector table) without holding
    /// it. `Ok(None)` for any other format: read those with [`Image::read_from`]. A file
    /// over [`MAX_BINARY_FILE`] is refused from its length, as by [`Image::read_from`].
    pub fn read_head_from<R: Read + Seek>(
        mut file: R,
        name_hint: Option<&str>,
        options: &ParseOptions,
        keep: u64,
    ) -> Result<Option<(Image, u64)>, ImageError> {
        let len = file.seek(SeekFrom::End(0)).map_err(io(None))?;
        file.seek(SeekFrom::Start(0)).map_err(io(None))?;
        let mut head = Vec::with_capacity(HEAD.min(len as usize));
        (&mut file)
            .take(HEAD as u64)
            .read_to_end(&mut head)
            .map_err(io(None))?;
        let forced_bin = match options.format {
            Some(Format::Bin) => true,
            Some(_) => return Ok(None),
            None if detect::detect(&head, name_hint).has_addresses() => return Ok(None),
            None => false,
        };
        refuse_over(Format::Bin, len, MAX_BINARY_FILE, "any usable image needs")?;
        let suffix = match forced_bin {
            true => None,
            false => tail_suffix(&mut file, len, options.accept_bad_suffix_crc)?,
        };
        let content_len = len - suffix.map_or(0, |(_, strip)| strip);
        file.seek(SeekFrom::Start(0)).map_err(io(None))?;
        let mut data = Vec::with_capacity(keep.min(content_len) as usize);
        file.take(keep.min(content_len))
            .read_to_end(&mut data)
            .map_err(io(None))?;
        let image = raw_image(data, suffix.map(|(s, _)| s));
        Ok(Some((image, content_len)))
    }

    /// A raw binary (with or without a DFU suffix) or DfuSe file, from its bytes, keeping
    /// a raw binary's bytes where they are instead of copying them.
    fn parse_owned(mut bytes: Vec<u8>, options: &ParseOptions) -> Result<Image, ImageError> {
        if bytes.starts_with(dfuse::SIGNATURE) {
            return Image::parse_with(&bytes, None, options);
        }
        let (content, suffix) = suffix::split(&bytes, options.accept_bad_suffix_crc)?;
        let keep = content.len();
        bytes.truncate(keep);
        Ok(raw_image(bytes, suffix))
    }
}

/// The first `len` bytes of a file as a file of its own (an ELF file without its DFU
/// suffix): reads stop at `len`, and its end is `len`.
struct Limited<R> {
    inner: R,
    len: u64,
    pos: u64,
}

impl<R: Read + Seek> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = self.len.saturating_sub(self.pos).min(buf.len() as u64) as usize;
        if room == 0 {
            return Ok(0);
        }
        self.inner.seek(SeekFrom::Start(self.pos))?;
        let n = self.inner.read(&mut buf[..room])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Limited<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

/// An unplaced raw binary of `data`, suffixed if `suffix` is given.
fn raw_image(data: Vec<u8>, suffix: Option<suffix::Suffix>) -> Image {
    Image {
        format: if suffix.is_some() {
            Format::Suffixed
        } else {
            Format::Bin
        },
        segments: if data.is_empty() {
            Vec::new()
        } else {
            vec![Segment { address: 0, data }]
        },
        suffix,
        needs_address: true,
        ..Image::default()
    }
}

/// Refuses a `len`-byte file of `format` over `limit`.
fn refuse_over(format: Format, len: u64, limit: u64, why: &'static str) -> Result<(), ImageError> {
    if len > limit {
        return Err(ImageError::FileTooLarge {
            format,
            len,
            limit,
            why,
        });
    }
    Ok(())
}

/// Maps an I/O error to [`ImageError::Read`].
pub(crate) fn io(line: Option<usize>) -> impl Fn(std::io::Error) -> ImageError {
    move |e| ImageError::Read {
        line,
        message: e.to_string(),
    }
}

/// A text file, streamed: its DFU suffix (if any) is checked first, then the records up to
/// the suffix are parsed line by line.
fn read_text<R: Read + Seek>(
    mut file: R,
    format: Format,
    len: u64,
    options: &ParseOptions,
) -> Result<Image, ImageError> {
    let suffix = tail_suffix(&mut file, len, options.accept_bad_suffix_crc)?;
    let content_len = len - suffix.map_or(0, |(_, strip)| strip);
    file.seek(SeekFrom::Start(0)).map_err(io(None))?;
    let reader = BufReader::with_capacity(256 * 1024, file.take(content_len));
    let parsed = match format {
        Format::IntelHex => ihex::parse_reader(reader, content_len)?,
        _ => srec::parse_reader(reader, content_len)?,
    };
    Ok(Image {
        format,
        segments: parsed.segments,
        entry: parsed.entry,
        suffix: suffix.map(|(s, _)| s),
        ..Image::default()
    })
}

/// The DFU suffix at the end of a text or ELF file and how many bytes it takes, checked as
/// [`Image::parse_with`] checks it, reading the file once for the CRC.
fn tail_suffix<R: Read + Seek>(
    file: &mut R,
    len: u64,
    accept_bad_crc: bool,
) -> Result<Option<(suffix::Suffix, u64)>, ImageError> {
    if len < suffix::LEN as u64 {
        return Ok(None);
    }
    let mut tail = [0u8; suffix::LEN];
    file.seek(SeekFrom::Start(len - tail.len() as u64))
        .map_err(io(None))?;
    file.read_exact(&mut tail).map_err(io(None))?;
    if tail[8..11] != suffix::SIGNATURE {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0)).map_err(io(None))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut rest = len - 4;
    while rest > 0 {
        let n = buf.len().min(rest as usize);
        file.read_exact(&mut buf[..n]).map_err(io(None))?;
        hasher.update(&buf[..n]);
        rest -= n as u64;
    }
    let computed = !hasher.finalize();
    let s = suffix::from_tail(&tail, computed);
    let length_ok = u64::from(s.length) >= suffix::LEN as u64 && u64::from(s.length) <= len;
    if s.crc_ok && !length_ok {
        return Err(ImageError::SuffixLength {
            length: s.length,
            file_len: len,
        });
    }
    if !s.crc_ok && !accept_bad_crc {
        return Err(ImageError::SuffixCrc {
            stored: s.crc,
            computed,
        });
    }
    let strip = if length_ok {
        u64::from(s.length)
    } else {
        suffix::LEN as u64
    };
    Ok(Some((s, strip)))
}

/// The DFU suffix at the end of `file`, if it ends with one, whatever its CRC says
/// ([`Suffix::crc_ok`](suffix::Suffix::crc_ok)): the CRC is computed in one pass over the
/// file in pieces, so the file is never held.
pub fn read_suffix<R: Read + Seek>(file: &mut R) -> Result<Option<suffix::Suffix>, ImageError> {
    let len = file.seek(SeekFrom::End(0)).map_err(io(None))?;
    Ok(tail_suffix(file, len, true)?.map(|(s, _)| s))
}
