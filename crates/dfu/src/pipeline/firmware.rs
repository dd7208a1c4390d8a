//! Firmware files read and placed: where every byte goes, and why there.

use crate::code::Code;
use crate::error::{DfuError, Result};
use dfu_image::{Image, Segment};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// A firmware file, read and understood.
#[derive(Debug, Clone)]
pub struct Firmware {
    /// The name used in messages (the path as given).
    pub name: String,
    /// The parsed image; [`place`] gives a raw binary its address.
    pub image: Image,
    /// For ELF files: the processor it was built for (`e_machine`).
    pub machine: Option<u16>,
}

impl Firmware {
    /// Reads and parses a file, refusing from its length one larger than any image the
    /// 32-bit address space holds (see [`Firmware::load_within`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Firmware> {
        Firmware::load_within(path, 1 << 32)
    }

    /// Reads and parses a file for a device whose largest memory is `max_data` bytes.
    ///
    /// A raw binary or DfuSe file larger than that (a text file larger than could describe
    /// it) is refused from its length, before it is read; a text file is parsed line by
    /// line and an ELF file through its program headers, so memory stays near the size of
    /// the image ([`Image::read_from`]).
    pub fn load_within(path: impl AsRef<Path>, max_data: u64) -> Result<Firmware> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |source| DfuError::Io {
            file: name.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let mut head = Vec::with_capacity(20);
        (&mut file).take(20).read_to_end(&mut head).map_err(io)?;
        let options = dfu_image::ParseOptions::default();
        let image =
            Image::read_from(file, Some(&name), &options, max_data).map_err(|e| match e {
                dfu_image::ImageError::Read { message, .. } => io(std::io::Error::other(message)),
                source => DfuError::Input {
                    file: name.clone(),
                    source,
                },
            })?;
        Ok(Firmware {
            machine: dfu_image::elf_machine(&head),
            name,
            image,
        })
    }

    /// Parses the bytes of a file called `name` (the format is detected from the content).
    pub fn parse(name: impl Into<String>, bytes: &[u8]) -> Result<Firmware> {
        let name = name.into();
        let image = Image::parse(bytes, Some(&name)).map_err(|source| DfuError::Input {
            file: name.clone(),
            source,
        })?;
        Ok(Firmware {
            name,
            image,
            machine: dfu_image::elf_machine(bytes),
        })
    }

    /// The segments for each alt setting, in the file's order: a DfuSe file's targets go to
    /// their own alt settings (only `only`'s, when given); anything else goes to `default`.
    pub fn parts(&self, default: u8, only: Option<u8>) -> Result<Vec<(u8, Vec<Segment>)>> {
        if self.image.dfuse_targets.is_empty() {
            return Ok(vec![(default, self.image.segments.clone())]);
        }
        let mut alts: Vec<u8> = Vec::new();
        for t in &self.image.dfuse_targets {
            if !alts.contains(&t.alt) && only.is_none_or(|o| o == t.alt) {
                alts.push(t.alt);
            }
        }
        if alts.is_empty() {
            return Err(DfuError::Usage {
                code: Code::NoSuchAlt,
                message: format!(
                    "{} has no DfuSe target for alt setting {}; its targets are for alt {}",
                    self.name,
                    only.unwrap_or(default),
                    self.image
                        .dfuse_targets
                        .iter()
                        .map(|t| t.alt.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        alts.into_iter()
            .map(|alt| {
                let img = self
                    .image
                    .target_image(alt)
                    .map_err(|source| DfuError::Input {
                        file: self.name.clone(),
                        source,
                    })?;
                Ok((alt, img.map(|i| i.segments).unwrap_or_default()))
            })
            .collect()
    }
}

/// Refuses files that claim the same addresses, naming both files and both ranges.
pub fn check_overlaps(files: &[Firmware]) -> Result<()> {
    let mut all: Vec<(&Segment, &str)> = files
        .iter()
        .flat_map(|f| f.image.segments.iter().map(|s| (s, f.name.as_str())))
        .collect();
    all.sort_by_key(|(s, _)| s.address);
    let mut reach: Option<(&Segment, &str)> = None;
    for (s, name) in all {
        if let Some((r, rname)) = reach.filter(|(r, _)| r.end() > u64::from(s.address)) {
            let range = |s: &Segment| format!("0x{:08x}-0x{:08x}", s.address, s.end() - 1);
            return Err(DfuError::Usage {
                code: Code::InputOverlap,
                message: format!(
                    "{rname} ({}) and {name} ({}) overlap: both claim those addresses",
                    range(r),
                    range(s)
                ),
            });
        }
        if reach.is_none_or(|(r, _)| s.end() > r.end()) {
            reach = Some((s, name));
        }
    }
    Ok(())
}

/// Where a file's address came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum AddressSource {
    /// The file carries its own addresses (hex, S-record, ELF, DfuSe).
    File,
    /// The caller gave it.
    Given,
    /// The Particle module header in the file names it.
    ModuleHeader {
        /// "user part 1 version 6 for the Photon".
        module: String,
    },
    /// A plain DFU device writes from the start of its memory.
    PlainBase,
    /// The start of the selected alt setting's memory (an alt setting other than 0).
    AltBase {
        /// The alt setting.
        alt: u8,
    },
    /// The device profile's application address.
    ProfileApp {
        /// The profile.
        profile: String,
    },
}

impl AddressSource {
    /// Why the address is what it is, for messages.
    pub fn describe(&self) -> String {
        match self {
            AddressSource::File => "the file's own addresses".into(),
            AddressSource::Given => "the address given".into(),
            AddressSource::ModuleHeader { module } => {
                format!("its Particle module header: {module}")
            }
            AddressSource::PlainBase => "where this plain DFU device writes".into(),
            AddressSource::AltBase { alt } => format!("the start of alt setting {alt}'s memory"),
            AddressSource::ProfileApp { profile } => {
                format!("the {profile} profile's application address")
            }
        }
    }
}

/// Places a raw binary: at `given`, else where its Particle module header says, else at
/// `default`. A file with addresses keeps them, and `given` must agree with them. Every
/// front end (flash, convert) places files this way.
pub fn place(
    f: &mut Firmware,
    given: Option<u32>,
    default: Option<(u32, AddressSource)>,
) -> Result<AddressSource> {
    if !f.image.needs_address {
        if let (Some(a), Some(start)) = (given, f.image.start()) {
            if a != start {
                return Err(DfuError::AddressConflict {
                    file: f.name.clone(),
                    file_start: start,
                    given: a,
                });
            }
        }
        return Ok(AddressSource::File);
    }
    let module = f
        .image
        .segments
        .first()
        .and_then(|s| dfu_image::particle::find(&s.data, None));
    let (at, source) = match (given, module, default) {
        (Some(a), _, _) => (a, AddressSource::Given),
        (None, Some(m), _) => (
            m.start,
            AddressSource::ModuleHeader {
                module: format!(
                    "{} for {}",
                    m.describe(),
                    m.platform_name().unwrap_or("an unknown platform")
                ),
            },
        ),
        (None, None, Some(d)) => d,
        (None, None, None) => {
            return Err(DfuError::Usage {
                code: Code::NoAddress,
                message: format!("{} is a raw binary: it does not say where it goes", f.name),
            })
        }
    };
    f.image.place(at).map_err(|source| DfuError::Input {
        file: f.name.clone(),
        source,
    })?;
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(len: usize) -> Firmware {
        Firmware::parse("app.bin", &vec![0x11; len]).unwrap()
    }

    #[test]
    fn a_raw_binary_goes_to_the_given_address_then_the_default() {
        let mut f = raw(16);
        assert_eq!(
            place(&mut f, Some(0x0800_8000), None).unwrap(),
            AddressSource::Given
        );
        assert_eq!(f.image.start(), Some(0x0800_8000));
        let mut f = raw(16);
        let d = Some((0x0800_0000, AddressSource::PlainBase));
        assert_eq!(place(&mut f, None, d).unwrap(), AddressSource::PlainBase);
        let e = place(&mut raw(16), None, None).unwrap_err();
        assert_eq!(e.code(), Code::NoAddress);
    }

    #[test]
    fn a_file_with_addresses_keeps_them() {
        let hex = ":0400000001020304F2\n:00000001FF\n";
        let mut f = Firmware::parse("a.hex", hex.as_bytes()).unwrap();
        assert_eq!(place(&mut f, None, None).unwrap(), AddressSource::File);
        let e = place(&mut f, Some(4), None).unwrap_err();
        assert_eq!(e.code(), Code::AddressConflict);
    }

    #[cfg(unix)] // a sparse 5 GiB file
    #[test]
    fn a_file_no_memory_could_hold_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.bin");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(5 << 30)
            .unwrap();
        let started = std::time::Instant::now();
        let e = Firmware::load(&path).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(e.code(), Code::InputParse);
        assert!(e.to_string().contains("larger than"), "{e}");
        let small = dir.path().join("app.bin");
        std::fs::write(&small, [0x11; 4096]).unwrap();
        let e = Firmware::load_within(&small, 1024).unwrap_err();
        assert!(e.to_string().contains("4096 bytes"), "{e}");
        assert_eq!(
            Firmware::load_within(&small, 4096)
                .unwrap()
                .image
                .total_len(),
            4096
        );
    }

    #[test]
    fn overlapping_files_are_named() {
        let mut a = raw(0x100);
        let mut b = raw(0x10);
        b.name = "boot.bin".into();
        place(&mut a, Some(0x0800_0000), None).unwrap();
        place(&mut b, Some(0x0800_00f0), None).unwrap();
        let e = check_overlaps(&[a.clone(), b.clone()]).unwrap_err();
        assert_eq!(e.code(), Code::InputOverlap);
        assert_eq!(
            e.to_string(),
            "app.bin (0x08000000-0x080000ff) and boot.bin (0x080000f0-0x080000ff) overlap: both claim those addresses"
        );
        b.image.place(0x0800_0100).unwrap();
        check_overlaps(&[a, b]).unwrap();
    }

    #[test]
    fn elf_machine_is_recorded() {
        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[5] = 1;
        elf[18] = 62;
        assert_eq!(dfu_image::elf_machine(&elf), Some(62));
        assert_eq!(raw(4).machine, None);
    }
}
