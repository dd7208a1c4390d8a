//! `dfu doctor`: can this machine talk to DFU devices, and if not, why not?

use crate::args::Global;
use crate::exit::{Failure, DEVICE};
use crate::out::{self, out, outln};
use serde::Serialize;
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

/// The devices the system's USB stack lists (Windows, macOS).
fn listed_devices() -> Result<Vec<dfu::UsbDevice>, Failure> {
    #[cfg(feature = "usb")]
    {
        use dfu::Backend;
        dfu::backend::usb::UsbBackend::new()
            .devices()
            .map_err(Failure::from)
    }
    #[cfg(not(feature = "usb"))]
    {
        Ok(Vec::new())
    }
}

fn user() -> String {
    if !cfg!(unix) {
        return std::env::var("USERNAME").unwrap_or_else(|_| "?".into());
    }
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

/// One DFU device and whether this user may open it.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct DeviceCheck {
    pub(crate) id: String,
    /// The sysfs name on Linux, the bus path elsewhere.
    pub(crate) name: String,
    /// The device node (Linux); empty elsewhere.
    pub(crate) node: String,
    pub(crate) accessible: bool,
    pub(crate) error: Option<String>,
    pub(crate) udev_rules: Vec<String>,
    /// Windows: the driver bound to the device ("" for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) driver: Option<String>,
    /// What to do about this device, when something must be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) help: Option<String>,
}

/// The JSON of `dfu doctor --json`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct DoctorJson<'a> {
    #[schemars(extend("enum" = ["ok", "error"]))]
    result: &'static str,
    exit_code: i32,
    version: &'static str,
    os: &'static str,
    user: String,
    usb_subsystem: bool,
    devices: &'a [DeviceCheck],
    error: Option<&'a str>,
    help: Option<&'a str>,
    udev_rule: Option<String>,
}

/// The DFU devices (and devices of known DFU boards) in sysfs, each tried for access.
fn check_devices(root: &Path) -> Vec<DeviceCheck> {
    let known = dfu::udev::known_ids();
    sys_devices(root)
        .into_iter()
        .filter(|d| d.dfu || known.contains(&(d.vendor, d.product)))
        .map(|d| {
            let opened = fs::OpenOptions::new().read(true).write(true).open(&d.node);
            DeviceCheck {
                id: format!("{:04x}:{:04x}", d.vendor, d.product),
                name: d.name.clone(),
                node: d.node.display().to_string(),
                accessible: opened.is_ok(),
                udev_rules: if opened.is_ok() {
                    Vec::new()
                } else {
                    rule_mentions(d.vendor)
                },
                error: opened.err().map(|e| e.to_string()),
                driver: None,
                help: None,
            }
        })
        .collect()
}

/// Runs the checks; exits non-zero when a DFU device is present but cannot be opened.
pub fn run(_g: &Global, json: bool) -> Result<(), Failure> {
    let root = Path::new("/sys/bus/usb/devices");
    let linux = cfg!(target_os = "linux");
    let usb = if linux { root.exists() } else { true };
    let devices = match (linux, usb) {
        (true, true) => check_devices(root),
        (true, false) => Vec::new(),
        (false, _) => crate::doctor_desk::checks(&listed_devices()?),
    };
    let blocked: Vec<&str> = devices
        .iter()
        .filter(|d| !d.accessible)
        .map(|d| d.id.as_str())
        .collect();
    let failure = (!blocked.is_empty()).then(|| {
        let help = if linux {
            dfu::udev::install_help()
        } else {
            "install the WinUSB driver for each device with Zadig (zadig.akeo.ie), as the lines above say, then re-plug it".into()
        };
        Failure::new(
            DEVICE,
            format!(
                "{} DFU device(s) cannot be opened by this user: {}",
                blocked.len(),
                blocked.join(", ")
            ),
            help,
        )
    });
    if json {
        out::json_result(&DoctorJson {
            result: if failure.is_some() { "error" } else { "ok" },
            exit_code: failure.as_ref().map_or(0, Failure::code),
            version: env!("CARGO_PKG_VERSION"),
            os: std::env::consts::OS,
            user: user(),
            usb_subsystem: usb,
            devices: &devices,
            error: failure.as_ref().map(|f| f.message.as_str()),
            help: failure.as_ref().map(|f| f.help.as_str()),
            udev_rule: failure
                .as_ref()
                .filter(|_| linux)
                .map(|_| dfu::udev::rules()),
        });
    } else {
        print_report(linux, usb, &devices, failure.is_some());
    }
    failure.map_or(Ok(()), Err)
}

fn print_report(linux: bool, usb: bool, devices: &[DeviceCheck], blocked: bool) {
    outln!(
        "dfu doctor: {} on {}, running as {}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        user()
    );
    if !linux {
        for line in crate::doctor_desk::report(std::env::consts::OS, devices) {
            outln!("{line}");
        }
        return;
    }
    if !usb {
        outln!("- this machine has no USB subsystem (/sys/bus/usb is missing): a container or VM without USB passthrough.");
        outln!("  Simulated devices still work: dfu --sim photon list");
        return;
    }
    if devices.is_empty() {
        outln!("- no DFU device is attached. Put the board in DFU mode; check the cable (charge-only cables carry no data) and prefer a USB 2 port.");
    }
    for d in devices {
        if d.accessible {
            outln!("- {} at {} ({}): accessible", d.id, d.name, d.node);
            continue;
        }
        outln!(
            "- {} at {} ({}): NOT accessible: {} (missing permission: read/write on {})",
            d.id,
            d.name,
            d.node,
            d.error.as_deref().unwrap_or("?"),
            d.node
        );
        let vendor = d.id.split(':').next().unwrap_or_default();
        if d.udev_rules.is_empty() {
            outln!("  no udev rule mentions vendor {vendor}");
        } else {
            outln!(
                "  udev rules that mention vendor {vendor}: {} (they do not grant this user access)",
                d.udev_rules.join(", ")
            );
        }
    }
    if !blocked {
        return;
    }
    outln!(
        "\nTo let your user open these devices, install this rule as {}:\n",
        dfu::udev::RULE_PATH
    );
    out!("{}", dfu::udev::rules());
    outln!(
        "\nthen: sudo udevadm control --reload && sudo udevadm trigger, and re-plug the device."
    );
    outln!("Or let `sudo dfu doctor --fix` install it and reload udev (it asks first).");
}
