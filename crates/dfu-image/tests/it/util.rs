//! Helpers shared by the tests: fixtures, a hand-written ELF builder, segment comparison.

use dfu_image::Segment;
use std::path::PathBuf;

/// Bytes of `tests/fixtures/NAME` (see tests/fixtures/README.md).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The three segments every `fw.*` fixture holds.
pub fn fw_segments() -> Vec<Segment> {
    vec![
        Segment::new(0x0800_0000, fixture("fw-a.bin")),
        Segment::new(0x0800_4000, fixture("fw-b.bin")),
        Segment::new(0x0800_6011, fixture("fw-c.bin")),
    ]
}

/// Merge adjacent segments (text formats cannot tell "adjacent" from "one").
pub fn coalesce(segments: &[Segment]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for s in segments {
        match out.last_mut() {
            Some(last) if last.end() == u64::from(s.address) => {
                last.data.extend_from_slice(&s.data)
            }
            _ => out.push(s.clone()),
        }
    }
    out
}

/// One program header for [`build_elf`].
#[derive(Debug, Clone)]
pub struct Phdr {
    /// p_type (1 = PT_LOAD).
    pub p_type: u32,
    /// p_vaddr.
    pub vaddr: u64,
    /// p_paddr.
    pub paddr: u64,
    /// The bytes stored in the file.
    pub data: Vec<u8>,
    /// p_memsz (>= data.len() for .bss).
    pub memsz: u64,
    /// Override p_filesz (to make lying headers).
    pub filesz: Option<u64>,
}

impl Phdr {
    /// A PT_LOAD with vaddr == paddr and memsz == filesz.
    pub fn load(paddr: u64, data: &[u8]) -> Phdr {
        Phdr {
            p_type: 1,
            vaddr: paddr,
            paddr,
            data: data.to_vec(),
            memsz: data.len() as u64,
            filesz: None,
        }
    }
}

/// Build an ELF executable by hand, field by field from the ELF specification:
/// header, program headers right after it, then each segment's bytes. No sections.
pub fn build_elf(class64: bool, big_endian: bool, entry: u64, phdrs: &[Phdr]) -> Vec<u8> {
    let mut out = Vec::new();
    let u16_ = |out: &mut Vec<u8>, v: u16| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let u32_ = |out: &mut Vec<u8>, v: u32| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let u64_ = |out: &mut Vec<u8>, v: u64| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    // A word: 4 bytes in ELF32, 8 in ELF64.
    let word = |out: &mut Vec<u8>, v: u64| {
        if class64 {
            u64_(out, v)
        } else {
            u32_(out, v as u32)
        }
    };
    let (ehsize, phentsize, shentsize) = if class64 { (64, 56, 64) } else { (52, 32, 40) };
    out.extend_from_slice(b"\x7fELF");
    out.push(if class64 { 2 } else { 1 }); // EI_CLASS
    out.push(if big_endian { 2 } else { 1 }); // EI_DATA
    out.push(1); // EI_VERSION
    out.resize(16, 0); // EI_OSABI, EI_ABIVERSION, padding
    u16_(&mut out, 2); // e_type = ET_EXEC
    u16_(&mut out, 40); // e_machine = EM_ARM
    u32_(&mut out, 1); // e_version
    word(&mut out, entry); // e_entry
    word(&mut out, ehsize as u64); // e_phoff
    word(&mut out, 0); // e_shoff
    u32_(&mut out, 0); // e_flags
    u16_(&mut out, ehsize); // e_ehsize
    u16_(&mut out, phentsize); // e_phentsize
    u16_(&mut out, phdrs.len() as u16); // e_phnum
    u16_(&mut out, shentsize); // e_shentsize
    u16_(&mut out, 0); // e_shnum
    u16_(&mut out, 0); // e_shstrndx
    assert_eq!(out.len(), usize::from(ehsize));
    let mut offset = (usize::from(ehsize) + usize::from(phentsize) * phdrs.len()) as u64;
    for p in phdrs {
        let filesz = p.filesz.unwrap_or(p.data.len() as u64);
        if class64 {
            u32_(&mut out, p.p_type);
            u32_(&mut out, 5); // p_flags = R+X
            u64_(&mut out, offset);
            u64_(&mut out, p.vaddr);
            u64_(&mut out, p.paddr);
            u64_(&mut out, filesz);
            u64_(&mut out, p.memsz);
            u64_(&mut out, 4); // p_align
        } else {
            u32_(&mut out, p.p_type);
            u32_(&mut out, offset as u32);
            u32_(&mut out, p.vaddr as u32);
            u32_(&mut out, p.paddr as u32);
            u32_(&mut out, filesz as u32);
            u32_(&mut out, p.memsz as u32);
            u32_(&mut out, 5);
            u32_(&mut out, 4);
        }
        offset += p.data.len() as u64;
    }
    for p in phdrs {
        out.extend_from_slice(&p.data);
    }
    out
}

/// Decode a hex string (whitespace ignored) for hand-written expected bytes.
pub fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}
