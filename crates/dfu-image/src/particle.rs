//! Particle Device OS modules: the `module_info_t` header and the CRC trailer.
//!
//! A Particle module (bootloader, system part, user part, ...) carries a 24-byte
//! little-endian header that says where it goes in flash, what it is, which
//! platform it is for and which other modules it needs:
//!
//! | off | size | field |
//! |---|---|---|
//! | 0 | 4 | module_start_address (flash address of the module's first byte) |
//! | 4 | 4 | module_end_address (exclusive; the CRC-32 trailer starts here) |
//! | 8 | 1 | reserved (MCU target on Gen3) |
//! | 9 | 1 | flags |
//! | 10 | 2 | module_version |
//! | 12 | 2 | platform_id |
//! | 14 | 1 | module_function |
//! | 15 | 1 | module_index |
//! | 16 | 4 | dependency: function u8, index u8, version u16 |
//! | 20 | 4 | dependency2 |
//!
//! The header sits at offset 0 of user parts, and after the vector table of
//! bootloaders, monolithic firmware and system parts: 0x10C on the Core (platform 0),
//! 0x184 on Photon/P1/Electron (6, 8, 10), 0x200 on Gen3 nRF52840 platforms. The
//! module ends with a CRC-32 (IEEE, the usual zlib CRC) of everything before it,
//! stored big-endian at offset `end - start`; the file is `end - start + 4` bytes.
//! (Real modules also carry a 36-byte suffix with a SHA-256 before the CRC; it is
//! not needed to place or check a module and is not read or written here.)
//!
//! Sources: particle-iot/device-os `dynalib/inc/module_info.h`,
//! `build/platform-id.mk`; particle-iot/binary-version-reader. Platform ids 22, 23,
//! 25 (SoMs), 28 (Tracker M) and 35 (M SoM) are from device-os sources as recalled,
//! not re-checked against a device.

use std::fmt;

/// Size of `module_info_t`.
pub const HEADER_LEN: usize = 24;
/// Offsets at which a header is looked for, in order.
pub const HEADER_OFFSETS: [u32; 4] = [0, 0x10C, 0x184, 0x200];

/// `module_function`: what a module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleFunction {
    /// 0: none (an unused dependency slot).
    None,
    /// 1: resource.
    Resource,
    /// 2: bootloader.
    Bootloader,
    /// 3: monolithic firmware (system and application in one image).
    Monolithic,
    /// 4: system part (Device OS).
    SystemPart,
    /// 5: user part (the application).
    UserPart,
    /// 6: settings.
    Settings,
    /// 7: network co-processor firmware.
    Ncp,
    /// 8: radio stack (e.g. the Nordic SoftDevice on Gen3).
    RadioStack,
    /// Any other value.
    Other(u8),
}

impl ModuleFunction {
    /// The enum for a `module_function` byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::None,
            1 => Self::Resource,
            2 => Self::Bootloader,
            3 => Self::Monolithic,
            4 => Self::SystemPart,
            5 => Self::UserPart,
            6 => Self::Settings,
            7 => Self::Ncp,
            8 => Self::RadioStack,
            v => Self::Other(v),
        }
    }

    /// The `module_function` byte.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Resource => 1,
            Self::Bootloader => 2,
            Self::Monolithic => 3,
            Self::SystemPart => 4,
            Self::UserPart => 5,
            Self::Settings => 6,
            Self::Ncp => 7,
            Self::RadioStack => 8,
            Self::Other(v) => v,
        }
    }

    /// Human name: "bootloader", "monolithic", "system part", "user part", "ncp", "radio stack", ...
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Resource => "resource",
            Self::Bootloader => "bootloader",
            Self::Monolithic => "monolithic",
            Self::SystemPart => "system part",
            Self::UserPart => "user part",
            Self::Settings => "settings",
            Self::Ncp => "ncp",
            Self::RadioStack => "radio stack",
            Self::Other(_) => "unknown",
        }
    }

    /// Whether a module header with this function is taken as genuine
    /// (bootloader, monolithic, system part, user part, ncp, radio stack).
    pub fn is_flashable(self) -> bool {
        matches!(
            self,
            Self::Bootloader
                | Self::Monolithic
                | Self::SystemPart
                | Self::UserPart
                | Self::Ncp
                | Self::RadioStack
        )
    }
}

/// "user part 1 version 2", "system part 2 version 6", "bootloader version 4",
/// "monolithic firmware version 1512": the index is named only for the parts that have one.
fn describe(function: ModuleFunction, index: u8, version: u16) -> String {
    match function {
        ModuleFunction::UserPart | ModuleFunction::SystemPart => {
            format!("{} {index} version {version}", function.name())
        }
        ModuleFunction::Monolithic => format!("monolithic firmware version {version}"),
        f => format!("{} version {version}", f.name()),
    }
}

impl fmt::Display for ModuleFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(v) => write!(f, "function {v}"),
            other => f.write_str(other.name()),
        }
    }
}

/// A module another module needs: installed `function`/`index` with at least `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dependency {
    /// Function of the needed module.
    pub function: ModuleFunction,
    /// Index of the needed module (e.g. system part 1, 2, 3).
    pub index: u8,
    /// Lowest acceptable `module_version`.
    pub version: u16,
}

/// A Particle module header found in an image, with the trailer check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleInfo {
    /// Offset of the header from the start of the image (0, 0x10C, 0x184 or 0x200).
    pub offset: u32,
    /// module_start_address: where the module's first byte belongs in flash.
    pub start: u32,
    /// module_end_address: exclusive end; the CRC trailer is stored here.
    pub end: u32,
    /// The reserved byte (MCU target on Gen3).
    pub reserved: u8,
    /// Flags: 0x01 drop header, 0x02 compressed, 0x04 combined, 0x08 encrypted, 0x10 prefix extensions.
    pub flags: u8,
    /// module_version (e.g. 1512 for Device OS 1.5.2).
    pub version: u16,
    /// platform_id: 0 Core, 6 Photon, 8 P1, 10 Electron, 12 Argon, ...
    pub platform_id: u16,
    /// What the module is.
    pub function: ModuleFunction,
    /// module_index (e.g. which system part).
    pub index: u8,
    /// Needed modules (slots whose function is 0 are left out).
    pub dependencies: Vec<Dependency>,
    /// Whether the CRC-32 trailer matches; `None` when the image ends before it.
    pub crc_ok: Option<bool>,
}

impl Dependency {
    /// The needed module in words: "system part 2 version 6", "bootloader version 4".
    pub fn describe(&self) -> String {
        describe(self.function, self.index, self.version)
    }
}

impl ModuleInfo {
    /// The module in words: "user part 1 version 2", "system part 2 version 6",
    /// "bootloader version 4", "monolithic firmware version 1512".
    pub fn describe(&self) -> String {
        describe(self.function, self.index, self.version)
    }

    /// The platform's name ("Photon", "Electron", ...), `None` for an unknown id.
    pub fn platform_name(&self) -> Option<&'static str> {
        platform_name(self.platform_id)
    }

    /// Length of the module file: `end - start` plus the 4-byte CRC.
    pub fn module_len(&self) -> u64 {
        u64::from(self.end.wrapping_sub(self.start)) + 4
    }

    /// Decode a 24-byte header (no plausibility checks, `offset` 0, `crc_ok` None).
    pub fn decode(h: &[u8; HEADER_LEN]) -> ModuleInfo {
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let dependencies = [16, 20]
            .iter()
            .map(|&i| Dependency {
                function: ModuleFunction::from_u8(h[i]),
                index: h[i + 1],
                version: u16_at(i + 2),
            })
            .filter(|d| d.function != ModuleFunction::None)
            .collect();
        ModuleInfo {
            offset: 0,
            start: u32_at(0),
            end: u32_at(4),
            reserved: h[8],
            flags: h[9],
            version: u16_at(10),
            platform_id: u16_at(12),
            function: ModuleFunction::from_u8(h[14]),
            index: h[15],
            dependencies,
            crc_ok: None,
        }
    }
}

/// The name of a Particle platform id, `None` if unknown.
pub fn platform_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0 => "Core",
        6 => "Photon",
        8 => "P1",
        10 => "Electron",
        12 => "Argon",
        13 => "Boron",
        14 => "Xenon",
        22 => "A SoM",
        23 => "B SoM",
        25 => "B5 SoM",
        26 => "Tracker",
        28 => "Tracker M",
        32 => "P2",
        35 => "M SoM",
        _ => return None,
    })
}

/// Where the header of a module of this platform and function sits, if known:
/// 0 for user parts; after the vector table for bootloaders, monolithic images and
/// system parts (0x10C Core, 0x184 Photon/P1/Electron, 0x200 Gen3 nRF52840).
/// `None` where it is not known (NCP, radio stack, P2-family system modules).
pub fn header_offset(platform_id: u16, function: ModuleFunction) -> Option<u32> {
    match function {
        ModuleFunction::UserPart => Some(0),
        ModuleFunction::Bootloader | ModuleFunction::Monolithic | ModuleFunction::SystemPart => {
            match platform_id {
                0 => Some(0x10C),
                6 | 8 | 10 => Some(0x184),
                12 | 13 | 14 | 22 | 23 | 25 | 26 => Some(0x200),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The CRC of the module trailer: CRC-32/IEEE (zlib), stored big-endian.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Look for a self-consistent module header in `data` (an image whose first byte
/// would be at `load_address`, or anywhere if `None`, i.e. a raw binary).
///
/// A header at offset `o` (0, 0x10C, 0x184, 0x200) is accepted only if: the
/// function is one of bootloader, monolithic, system part, user part, ncp, radio
/// stack; the platform id is known; `o` is where that platform puts headers of
/// that function (when known); `end > start`; the module (`end - start` bytes)
/// contains the header and lies within `data`; and `start == load_address` when
/// one is given. The first such header wins. The CRC is checked when `data`
/// reaches past the trailer.
pub fn find(data: &[u8], load_address: Option<u32>) -> Option<ModuleInfo> {
    HEADER_OFFSETS.iter().find_map(|&off| {
        let o = off as usize;
        let raw: &[u8; HEADER_LEN] = data.get(o..o + HEADER_LEN)?.try_into().ok()?;
        let mut m = ModuleInfo::decode(raw);
        m.offset = off;
        let len = usize::try_from(m.end.checked_sub(m.start)?).ok()?;
        let plausible = m.function.is_flashable()
            && m.platform_name().is_some()
            && header_offset(m.platform_id, m.function).is_none_or(|e| e == off)
            && len >= o + HEADER_LEN
            && len <= data.len()
            && load_address.is_none_or(|a| a == m.start);
        if !plausible {
            return None;
        }
        m.crc_ok = data
            .get(len..len + 4)
            .map(|t| u32::from_be_bytes([t[0], t[1], t[2], t[3]]) == crc32(&data[..len]));
        Some(m)
    })
}

/// Build a valid module for tests and simulators: the header at
/// [`header_offset`] for this platform and function (0 when unknown), a
/// Cortex-M vector table before it when that offset is not 0 (initial SP in
/// SRAM, every handler pointing at the first payload byte, so
/// [`crate::VectorTable::fits`] holds at `start`), `payload_len` bytes of a
/// fixed pattern after it, and the CRC-32 trailer. `end = start + offset + 24 +
/// payload_len`; the result is `end - start + 4` bytes long. At most two
/// dependencies are written; more are ignored. Addresses wrap past 4 GiB (don't).
pub fn build_module(
    platform_id: u16,
    function: ModuleFunction,
    index: u8,
    version: u16,
    start: u32,
    deps: &[Dependency],
    payload_len: usize,
) -> Vec<u8> {
    let off = header_offset(platform_id, function).unwrap_or(0) as usize;
    let body_len = off + HEADER_LEN + payload_len;
    let end = start.wrapping_add(body_len as u32);
    let mut out = Vec::with_capacity(body_len + 4);
    if off >= 8 {
        let sp: u32 = if platform_id == 0 {
            0x2000_5000
        } else {
            0x2002_0000
        };
        let handler = start.wrapping_add((off + HEADER_LEN) as u32) | 1;
        out.extend_from_slice(&sp.to_le_bytes());
        for slot in 1..off / 4 {
            let word = if matches!(slot, 7..=10 | 13) {
                0
            } else {
                handler
            };
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.resize(off, 0);
    }
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&end.to_le_bytes());
    out.extend_from_slice(&[0, 0]); // reserved, flags
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&platform_id.to_le_bytes());
    out.extend_from_slice(&[function.to_u8(), index]);
    for i in 0..2 {
        match deps.get(i) {
            Some(d) => {
                out.extend_from_slice(&[d.function.to_u8(), d.index]);
                out.extend_from_slice(&d.version.to_le_bytes());
            }
            None => out.extend_from_slice(&[0; 4]),
        }
    }
    out.extend((0..payload_len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(3) ^ index));
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_bytes_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(ModuleFunction::from_u8(v).to_u8(), v);
        }
    }

    #[test]
    fn build_then_find() {
        let dep = Dependency {
            function: ModuleFunction::SystemPart,
            index: 2,
            version: 1512,
        };
        let m = build_module(6, ModuleFunction::UserPart, 1, 6, 0x080A_0000, &[dep], 100);
        assert_eq!(m.len(), 24 + 100 + 4);
        let info = find(&m, None).unwrap();
        assert_eq!(
            (info.offset, info.start, info.end),
            (0, 0x080A_0000, 0x080A_0000 + 124)
        );
        assert_eq!(info.dependencies, vec![dep]);
        assert_eq!(info.crc_ok, Some(true));
        assert_eq!(info.platform_name(), Some("Photon"));
        assert!(find(&m, Some(0x0802_0000)).is_none());
    }
}
