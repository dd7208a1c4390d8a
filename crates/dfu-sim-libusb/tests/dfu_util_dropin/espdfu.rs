//! The `build/dfu.bin` that ESP-IDF's `idf.py dfu` makes (tools/mkdfu.py): a CPIO archive
//! in the "new ASCII" (newc) format whose first file, `dfuinfo0.dat`, lists where each
//! following file goes in flash, padded to a 10240-byte block, then a DFU suffix naming
//! Espressif's vendor ID, the chip's PID and bcdDevice 0xFFFF.

use std::process::Command;

/// Espressif's USB vendor ID.
pub const ESPRESSIF: u16 = 0x303a;

/// The size CPIO pads the archive to.
const BLOCK: usize = 10_240;

/// Appends zeros up to a multiple of `n`.
fn pad(v: &mut Vec<u8>, n: usize) {
    v.resize(v.len().div_ceil(n) * n, 0);
}

/// One newc entry: the 110-byte header of 8-digit hex fields, the NUL-terminated name,
/// each padded to 4 bytes. Regular files have mode 0100644; the trailer mode 0.
fn entry(out: &mut Vec<u8>, name: &str, data: &[u8], trailer: bool) {
    let mode: u32 = if trailer { 0 } else { 0o100_644 };
    let nlink: u32 = u32::from(trailer);
    let name_len = u32::try_from(name.len() + 1).expect("short name");
    let size = u32::try_from(data.len()).expect("small file");
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    let fields = [0, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, name_len, 0];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad(out, 4);
    out.extend_from_slice(data);
    pad(out, 4);
}

/// The MD5 digest of `data`, by coreutils' `md5sum` (a Debian base package).
fn md5(data: &[u8]) -> [u8; 16] {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("part");
    std::fs::write(&f, data).expect("write part");
    let out = Command::new("md5sum").arg(&f).output().expect("run md5sum");
    let hex = String::from_utf8_lossy(&out.stdout);
    let mut d = [0u8; 16];
    for (i, b) in d.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("md5sum prints hex");
    }
    d
}

/// A `dfu.bin` for the chip with USB product ID `pid`, holding `parts` (flash address,
/// file name, bytes): `dfuinfo0.dat` has one 88-byte record per part (address, flags 0,
/// the name in 64 bytes, the MD5), then the parts, the trailer, padding, the suffix.
pub fn dfu_bin(pid: u16, parts: &[(u32, &str, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    for (address, name, data) in parts {
        index.extend_from_slice(&address.to_le_bytes());
        index.extend_from_slice(&0u32.to_le_bytes());
        let mut n = name.as_bytes().to_vec();
        n.resize(64, 0);
        index.extend_from_slice(&n);
        index.extend_from_slice(&md5(data));
    }
    let mut out = Vec::new();
    entry(&mut out, "dfuinfo0.dat", &index, false);
    for (_, name, data) in parts {
        entry(&mut out, name, data, false);
    }
    entry(&mut out, "TRAILER!!!", &[], true);
    pad(&mut out, BLOCK);
    dfu_image::suffix::add(&out, ESPRESSIF, pid, 0xFFFF)
}
