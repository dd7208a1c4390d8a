//! A simulated device pre-filled with data, for the invariants: its state file is created by
//! the simulator, then pages of every flash alt setting are filled with seeded bytes (the
//! option bytes stay as the factory left them), and its memory is read back directly from
//! the simulator (no protocol) as ground truth.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dfu::backend::sim::SimBackend;
use dfu::{Backend, DeviceView, DfuDevice, Firmware, FlashFailure, FlashOptions, FlashPlan};
use dfu::{DfuError, FlashReport};
use dfu_profiles::{Profile, Role};
use tempfile::TempDir;

/// A device that no built-in profile describes (its own ids and map): `dfu` sees it through
/// the generic profile it builds from the map, the simulator through this file.
const UNKNOWN_PART: &str = r#"
name = "unknown-part"
title = "A DfuSe part no built-in profile knows: 8 KiB and 32 KiB sectors"
sources = ["assumed: a test device"]
[usb]
vendor_id = 0x1209
product_id = 0x7a11
bcd_device = 0x0100
manufacturer = "Test"
product = "Unknown DfuSe part"
serial = "U1"
[dfu]
attributes = 0x0b
detach_timeout_ms = 255
transfer_size = 1024
dfu_version = 0x011a
[[alts]]
name = "@Flash  /0x00010000/08*008Kg,04*032Kg"
[timing]
erase = [{ sector_size = 8192, ms = 20 }, { sector_size = 32768, ms = 60 }]
mass_erase_ms = 200
program_unit = 4
program_unit_ns = 20000
poll_erase_ms = 10
poll_program_ms = 1
poll_command_ms = 1
reset_ms = 20
"#;

/// One simulated device with a state file.
pub struct World {
    /// The spec, with `state=` (no fault).
    pub spec: String,
    /// What the simulator runs (ground truth for roles and memory).
    pub profile: Profile,
    /// The serial string the device reports.
    pub serial: String,
    /// True for a device that lies (`hostile=`).
    pub hostile: bool,
    /// The alt setting the image goes to.
    pub alt: u8,
    /// The address given (None: the default).
    pub address: Option<u32>,
    _dir: TempDir,
}

/// One alt setting's memory: (alt, first address, bytes).
pub type Memory = Vec<(u8, u32, Vec<u8>)>;

/// What one run did.
pub enum Ran {
    /// Connecting or reading the device failed (a hostile device).
    NoDevice(DfuError),
    /// The request itself was refused by `dfu::plan` (no address, overlap).
    NotPlanned(DfuError),
    /// The plan, and what executing it gave.
    Done(Box<FlashPlan>, Result<FlashReport, FlashFailure>),
}

impl World {
    /// `kind`: a built-in profile name, `unknown`, or `hostile:SEED`; `extra` adds knobs;
    /// `alt` (wrapped) and `offset` (into its memory, wrapped; None: the default address)
    /// say where the image goes, and the memory around it is filled.
    pub fn new(kind: &str, extra: &str, seed: u64, alt: u8, offset: Option<u32>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let (base, profile, hostile) = if kind == "unknown" {
            let path = dir.path().join("unknown.toml");
            std::fs::write(&path, UNKNOWN_PART).unwrap();
            let p = Profile::from_file(&path).unwrap();
            (path.display().to_string(), p, false)
        } else if let Some(s) = kind.strip_prefix("hostile:") {
            let p = Profile::builtin("stm32f405").unwrap();
            (format!("stm32f405,hostile={s}"), p, true)
        } else {
            (kind.to_string(), Profile::builtin(kind).unwrap(), false)
        };
        let state = dir.path().join("s.json");
        let spec = format!("{base}{extra},state={}", state.display());
        let serial = serial_of(extra).unwrap_or_else(|| profile.usb.serial.clone());
        let alt = alt % profile.alts.len() as u8;
        let layout = profile.real_layout_for(alt, &serial).unwrap();
        let base = layout.segments[0].start;
        let size = (layout.total_size() as u32).max(1);
        let address = offset.map(|o| base.wrapping_add(o % size));
        let near = address
            .or(profile.app_address.filter(|_| alt == 0))
            .unwrap_or(base);
        drop(SimBackend::new(&spec).unwrap());
        fill(&state, &profile, &serial, seed, (alt, near));
        World {
            alt,
            address,
            spec,
            profile,
            serial,
            hostile,
            _dir: dir,
        }
    }

    /// The real memory of every alt setting, read from the simulator.
    pub fn memory(&self) -> Memory {
        let b = SimBackend::new(&self.spec).unwrap();
        let mut out = Vec::new();
        for alt in 0..self.profile.alts.len() as u8 {
            let l = self.profile.real_layout_for(alt, &self.serial).unwrap();
            for s in &l.segments {
                let len = (u64::from(s.count) * u64::from(s.sector_size)).min(4 << 20) as usize;
                let data = b.bus().read_memory(0, alt, s.start, len).unwrap();
                out.push((alt, s.start, data));
            }
        }
        out
    }

    /// Connects, plans and executes, with `fault` added to the spec.
    pub fn flash(&self, fault: Option<&str>, file: &Firmware, opts: &FlashOptions) -> Ran {
        let spec = match fault {
            Some(f) => format!("{},fault={f}", self.spec),
            None => self.spec.clone(),
        };
        let mut b = SimBackend::new(&spec).unwrap();
        let opened = open(&mut b, opts.alt.unwrap_or(0), file);
        let (mut dev, view) = match opened {
            Ok(x) => x,
            Err(e) => {
                let _ = b.finish();
                return Ran::NoDevice(e);
            }
        };
        let plan = match dfu::plan(&view, vec![file.clone()], opts) {
            Ok(p) => p,
            Err(e) => {
                drop(dev);
                let _ = b.finish();
                return Ran::NotPlanned(e);
            }
        };
        let result = dev.execute(&plan, &mut |_| {});
        drop(dev);
        let _ = b.finish();
        Ran::Done(Box::new(plan), result)
    }

    /// True when the image goes to memory the device's map marks not erasable that is
    /// neither OTP nor option bytes (the Argon's DCD alt): its bootloader manages that
    /// memory itself, which the simulator does not model (it is flash that is never erased
    /// there), so whether a write succeeds is not the plan's to know. Left out.
    pub fn unmodelled_target(&self) -> bool {
        let l = self
            .profile
            .real_layout_for(self.alt, &self.serial)
            .unwrap();
        let erasable = l.sectors().any(|s| s.flags.erasable());
        let special = self.profile.regions.iter().any(|r| {
            r.alt == self.alt && matches!(r.role, Role::Otp | Role::OptionBytes | Role::DeviceInfo)
        });
        !erasable && !special
    }

    /// The regions that nothing may change without a flag: (alt, start, end, role).
    pub fn guarded(&self) -> Vec<(u8, u64, u64, Role)> {
        self.profile
            .regions
            .iter()
            .filter(|r| {
                matches!(
                    r.role,
                    Role::Bootloader
                        | Role::Settings
                        | Role::Otp
                        | Role::OptionBytes
                        | Role::DeviceInfo
                )
            })
            .map(|r| (r.alt, u64::from(r.start), r.end(), r.role))
            .collect()
    }
}

fn open(b: &mut SimBackend, alt: u8, file: &Firmware) -> dfu::Result<(DfuDevice, DeviceView)> {
    let info = dfu::prepare::connect(b, &dfu::DeviceRequest::default(), &mut |_| {})?;
    let mut dev = DfuDevice::open(b, info, alt)?;
    let mut view = dev.survey(None)?;
    dev.read_option_bytes_for(&mut view, std::slice::from_ref(file))?;
    Ok((dev, view))
}

fn serial_of(extra: &str) -> Option<String> {
    extra
        .split(',')
        .find_map(|kv| kv.strip_prefix("serial="))
        .map(str::to_string)
}

/// Seeded bytes (xorshift), never all 0xFF.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8 & 0xFE
        })
        .collect()
}

/// Fills the first 64 KiB of every segment of every alt setting that holds no option bytes,
/// and `near` (alt, address): 128 KiB from 32 KiB before it, with seeded bytes (OTP too, so
/// that writes into it meet programmed bits).
fn fill(state: &std::path::Path, p: &Profile, serial: &str, seed: u64, near: (u8, u32)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    let alts = v["alts"].as_array_mut().unwrap();
    for a in alts.iter_mut() {
        let alt = a["alt"].as_u64().unwrap() as u8;
        let ob = p
            .regions
            .iter()
            .any(|r| r.alt == alt && r.role == Role::OptionBytes);
        let Some(l) = p.real_layout_for(alt, serial).filter(|_| !ob) else {
            continue;
        };
        let pages = a["pages"].as_array_mut().unwrap();
        let mut windows: Vec<(u64, u64)> = l
            .segments
            .iter()
            .map(|s| {
                let size = (u64::from(s.count) * u64::from(s.sector_size)).min(64 << 10);
                (u64::from(s.start), u64::from(s.start) + size)
            })
            .collect();
        if near.0 == alt {
            let at = u64::from(near.1).saturating_sub(32 << 10);
            let end = l.segments.last().map_or(0, |s| {
                s.start as u64 + u64::from(s.count) * u64::from(s.sector_size)
            });
            windows.push((
                at.max(u64::from(l.segments[0].start)),
                (at + (128 << 10)).min(end),
            ));
        }
        for (lo, hi) in windows {
            let mut at = lo / 4096 * 4096;
            while at < hi {
                let name = format!("0x{at:08x}");
                if !pages.iter().any(|q| q["address"] == name.as_str()) {
                    let data = B64.encode(noise(4096, seed ^ at));
                    pages.push(serde_json::json!({ "address": name, "data": data }));
                }
                at += 4096;
            }
        }
    }
    std::fs::write(state, serde_json::to_string(&v).unwrap()).unwrap();
}
