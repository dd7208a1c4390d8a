//! `dfu doctor`: can this machine talk to DFU devices, and if not, why not?

use crate::args::Global;
use crate::exit::{Failure, DEVICE};
use std::fs;
use std::path::{Path, PathBuf};

/// A USB device found in sysfs.
struct SysDevice {
    vendor: u16,
    product: u16,
    node: PathBuf,
    name: String,
    dfu: bool,
}

fn read_hex(p: &Path) -> Option<u16> {
    u16::from_str_radix(fs::read_to_string(p).ok()?.trim(), 16).ok()
}

fn read_num(p: &Path) -> Option<u32> {
    fs::read_to_string(p).ok()?.trim().parse().ok()
}

fn sys_devices(root: &Path) -> Vec<SysDevice> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(root) else {
        return out;
    };
    for e in entries.flatten() {
        let dir = e.path();
        let (Some(vendor), Some(product)) = (
            read_hex(&dir.join("idVendor")),
            read_hex(&dir.join("idProduct")),
        ) else {
            continue;
        };
        let (Some(bus), Some(dev)) = (read_num(&dir.join("busnum")), read_num(&dir.join("devnum")))
        else {
            continue;
        };
        let dfu = fs::read_dir(&dir)
            .map(|it| {
                it.flatten().any(|i| {
                    let p = i.path();
                    read_hex(&p.join("bInterfaceClass")) == Some(0xfe)
                        && read_hex(&p.join("bInterfaceSubClass")) == Some(0x01)
                })
            })
            .unwrap_or(false);
        out.push(SysDevice {
            vendor,
            product,
            node: PathBuf::from(format!("/dev/bus/usb/{bus:03}/{dev:03}")),
            name: e.file_name().to_string_lossy().into_owned(),
            dfu,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn rule_mentions(vendor: u16) -> Vec<String> {
    let needle = format!("{vendor:04x}");
    let mut hits = Vec::new();
    for dir in [
        "/etc/udev/rules.d",
        "/run/udev/rules.d",
        "/lib/udev/rules.d",
        "/usr/lib/udev/rules.d",
    ] {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(text) = fs::read_to_string(e.path()) else {
                continue;
            };
            if text.lines().any(|l| {
                !l.trim_start().starts_with('#')
                    && l.to_lowercase()
                        .contains(&format!("idvendor}}==\"{needle}\""))
            }) {
                hits.push(e.path().display().to_string());
            }
        }
    }
    hits
}

fn user() -> String {
    let uid = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "?".into());
    format!("uid {uid}")
}

/// Runs the checks; exits non-zero when a DFU device is present but cannot be opened.
pub fn run(_g: &Global) -> Result<(), Failure> {
    println!(
        "dfu doctor: {} on {}, running as {}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        user()
    );
    if !cfg!(target_os = "linux") {
        println!("- not Linux: see the README's Troubleshooting section (Windows: WinUSB via Zadig; macOS needs no driver)");
        return Ok(());
    }
    let root = Path::new("/sys/bus/usb/devices");
    if !root.exists() {
        println!("- this machine has no USB subsystem (/sys/bus/usb is missing): a container or VM without USB passthrough.");
        println!("  Simulated devices still work: dfu --sim photon list");
        return Ok(());
    }
    let known = dfu::udev::known_ids();
    let devices: Vec<SysDevice> = sys_devices(root)
        .into_iter()
        .filter(|d| d.dfu || known.contains(&(d.vendor, d.product)))
        .collect();
    if devices.is_empty() {
        println!("- no DFU device is attached. Put the board in DFU mode; check the cable (charge-only cables carry no data) and prefer a USB 2 port.");
    }
    let mut blocked = Vec::new();
    for d in &devices {
        let id = format!("{:04x}:{:04x}", d.vendor, d.product);
        match fs::OpenOptions::new().read(true).write(true).open(&d.node) {
            Ok(_) => println!("- {id} at {} ({}): accessible", d.name, d.node.display()),
            Err(e) => {
                let rules = rule_mentions(d.vendor);
                println!(
                    "- {id} at {} ({}): NOT accessible: {e} (missing permission: read/write on {})",
                    d.name,
                    d.node.display(),
                    d.node.display()
                );
                if rules.is_empty() {
                    println!("  no udev rule mentions vendor {:04x}", d.vendor);
                } else {
                    println!("  udev rules that mention vendor {:04x}: {} (they do not grant this user access)", d.vendor, rules.join(", "));
                }
                blocked.push(id);
            }
        }
    }
    if blocked.is_empty() {
        return Ok(());
    }
    println!(
        "\nTo let your user open these devices, install this rule as {}:\n",
        dfu::udev::RULE_PATH
    );
    print!("{}", dfu::udev::rules());
    println!(
        "\nthen: sudo udevadm control --reload && sudo udevadm trigger, and re-plug the device."
    );
    Err(Failure::new(
        DEVICE,
        format!(
            "{} DFU device(s) cannot be opened by this user: {}",
            blocked.len(),
            blocked.join(", ")
        ),
        dfu::udev::install_help(),
    ))
}
