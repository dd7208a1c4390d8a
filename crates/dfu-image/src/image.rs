//! Reading files into an [`Image`], and what can be asked of one.

use crate::segment::{normalize, overlaps};
use crate::text::Parsed;
use crate::{
    bin, detect, dfuse, elf, ihex, particle, srec, suffix, DfuseTarget, Format, Image, ImageError,
    ModuleInfo, ParseOptions, Segment, VectorTable,
};

impl Image {
    /// Read a firmware file with the default (strict) [`ParseOptions`].
    ///
    /// The format is detected from the content first (see [`detect`]); `name_hint`
    /// (file name or path) only breaks ties. A DFU suffix at the end of any format
    /// is checked and stripped; a suffix with a CRC mismatch is an error
    /// ([`ImageError::SuffixCrc`]). Raw binaries come back with
    /// `needs_address == true` and one segment at 0: call [`Image::place`].
    pub fn parse(bytes: &[u8], name_hint: Option<&str>) -> Result<Image, ImageError> {
        Image::parse_with(bytes, name_hint, &ParseOptions::default())
    }

    /// Read a firmware file with explicit options (forced format, tolerance of a bad suffix CRC).
    pub fn parse_with(
        bytes: &[u8],
        name_hint: Option<&str>,
        options: &ParseOptions,
    ) -> Result<Image, ImageError> {
        let format = match options.format {
            Some(Format::Bin) => return Ok(bin::raw(Format::Bin, bytes)),
            Some(f) => f,
            None => detect::detect(bytes, name_hint),
        };
        let (content, suffix) = suffix::split(bytes, options.accept_bad_suffix_crc)?;
        let mut image = match format {
            Format::Bin | Format::Suffixed => {
                if format == Format::Suffixed && suffix.is_none() {
                    return Err(ImageError::NoSuffix {
                        reason: "the file does not end with the 'UFD' signature",
                    });
                }
                let f = if suffix.is_some() {
                    Format::Suffixed
                } else {
                    Format::Bin
                };
                bin::raw(f, content)
            }
            Format::DfuSe => from_targets(dfuse::parse(content, bytes.len())?)?,
            Format::IntelHex => from_parsed(
                Format::IntelHex,
                ihex::parse_reader(content, content.len() as u64)?,
            ),
            Format::SRecord => from_parsed(
                Format::SRecord,
                srec::parse_reader(content, content.len() as u64)?,
            ),
            Format::Elf => from_parsed(Format::Elf, elf::parse(content)?),
        };
        image.suffix = suffix;
        Ok(image)
    }

    /// An image of these segments (sorted here; overlaps are an error).
    pub fn from_segments(format: Format, segments: Vec<Segment>) -> Result<Image, ImageError> {
        Ok(Image {
            format,
            segments: normalize(segments)?,
            ..Image::default()
        })
    }

    /// Put the image at `address`.
    ///
    /// For a raw binary this gives its placeholder segment the real address and
    /// clears `needs_address`. An image that already has addresses is moved as a
    /// whole so that it starts at `address` (segments keep their distances); the
    /// caller decides whether that is wanted. Errors if the image would reach past
    /// 4 GiB; the image is then unchanged.
    pub fn place(&mut self, address: u32) -> Result<(), ImageError> {
        let Some(start) = self.start() else {
            self.needs_address = false;
            return Ok(());
        };
        let delta = i64::from(address) - i64::from(start);
        let all = self
            .segments
            .iter()
            .chain(self.dfuse_targets.iter().flat_map(|t| t.segments.iter()));
        for s in all.clone() {
            let new = i64::from(s.address) + delta;
            if new < 0 || new as u64 + s.data.len() as u64 > 1 << 32 {
                return Err(ImageError::AddressOverflow {
                    format: self.format,
                    address: new.max(0) as u64,
                    len: s.data.len() as u64,
                    line: None,
                });
            }
        }
        let shift = |s: &mut Segment| s.address = (i64::from(s.address) + delta) as u32;
        self.segments.iter_mut().for_each(shift);
        for t in &mut self.dfuse_targets {
            t.segments.iter_mut().for_each(shift);
        }
        self.needs_address = false;
        Ok(())
    }

    /// Number of data bytes (gaps not counted).
    pub fn total_len(&self) -> u64 {
        self.segments.iter().map(|s| s.data.len() as u64).sum()
    }

    /// Whether the image holds no data at all.
    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.data.is_empty())
    }

    /// Lowest address (0 for an unplaced raw binary), `None` when empty.
    pub fn start(&self) -> Option<u32> {
        self.segments.first().map(|s| s.address)
    }

    /// One past the highest address, `None` when empty. Up to 2^32.
    pub fn end(&self) -> Option<u64> {
        self.segments.iter().map(Segment::end).max()
    }

    /// Merge several placed images into one (several files in one command).
    ///
    /// Errors: [`ImageError::Unplaced`] for a raw binary not yet [`place`](Image::place)d,
    /// [`ImageError::Overlap`] if two images claim the same address. The result keeps
    /// the first image's format when the formats differ, the first entry point, all
    /// DfuSe targets, and no suffix.
    pub fn combine(images: Vec<Image>) -> Result<Image, ImageError> {
        let mut out = Image::default();
        for (index, image) in images.into_iter().enumerate() {
            if image.needs_address && !image.is_empty() {
                return Err(ImageError::Unplaced { index });
            }
            if index == 0 {
                out.format = image.format;
            }
            out.entry = out.entry.or(image.entry);
            out.segments.extend(image.segments);
            out.dfuse_targets.extend(image.dfuse_targets);
        }
        out.segments = normalize(out.segments)?;
        Ok(out)
    }

    /// The image for one DfuSe alternate setting: the elements of every target with
    /// that `alt`. `Ok(None)` when no target has it.
    pub fn target_image(&self, alt: u8) -> Result<Option<Image>, ImageError> {
        let mut targets = self
            .dfuse_targets
            .iter()
            .filter(|t| t.alt == alt)
            .peekable();
        if targets.peek().is_none() {
            return Ok(None);
        }
        let segments: Vec<Segment> = targets.flat_map(|t| t.segments.iter().cloned()).collect();
        Ok(Some(Image {
            format: self.format,
            segments: normalize(segments)?,
            suffix: self.suffix,
            entry: self.entry,
            ..Image::default()
        }))
    }

    /// The Particle module header of the image, if it has a self-consistent one
    /// (see [`particle::find`]). Looked for in the first segment; for placed images
    /// the header's start address must equal the segment's address.
    pub fn particle_module(&self) -> Option<ModuleInfo> {
        let first = self.segments.first()?;
        let load = (!self.needs_address).then_some(first.address);
        particle::find(&first.data, load)
    }

    /// The Cortex-M vector table at the start of the image, if the first words look
    /// like one (see [`crate::vector`]).
    pub fn vector_table(&self) -> Option<VectorTable> {
        VectorTable::parse(&self.segments.first()?.data)
    }
}

fn from_parsed(format: Format, parsed: Parsed) -> Image {
    Image {
        format,
        segments: parsed.segments,
        entry: parsed.entry,
        ..Image::default()
    }
}

/// Flatten DfuSe targets. Elements of targets for the same alternate setting must
/// not overlap; if targets for different alternate settings overlap, `segments`
/// keeps the first target's alternate setting only.
fn from_targets(targets: Vec<DfuseTarget>) -> Result<Image, ImageError> {
    let mut alts: Vec<u8> = targets.iter().map(|t| t.alt).collect();
    alts.sort_unstable();
    alts.dedup();
    let mut per_alt = Vec::new();
    for alt in alts {
        let segs: Vec<Segment> = targets
            .iter()
            .filter(|t| t.alt == alt)
            .flat_map(|t| t.segments.iter().cloned())
            .collect();
        per_alt.push((alt, normalize(segs)?));
    }
    let mut all: Vec<Segment> = per_alt
        .iter()
        .flat_map(|(_, s)| s.iter().cloned())
        .collect();
    all.sort_by_key(|s| s.address);
    let segments = if overlaps(&all) {
        let first_alt = targets.first().map(|t| t.alt);
        per_alt
            .into_iter()
            .find(|(alt, _)| Some(*alt) == first_alt)
            .map(|(_, s)| s)
            .unwrap_or_default()
    } else {
        all
    };
    Ok(Image {
        format: Format::DfuSe,
        segments,
        dfuse_targets: targets,
        ..Image::default()
    })
}
