//! Devices as dfu-util sees them: one entry per DFU alternate setting, filtered by its
//! matching rules (-d, -S, -p, -c, -i, -a, -n), in its order (it prepends each entry it
//! finds, so the last alt of the last device comes first), and the `Found ...` lines.

use super::options::{IdMatch, UtilOptions};
use crate::exit::Failure;
use dfu::{Backend, DeviceInfo, Mode};

/// GigaDevice GD32VF103: dfu-util takes its serial string's bytes as they come (UTF-8).
const UTF8_SERIAL: (u16, u16) = (0x28e9, 0x0189);

/// One DFU alternate setting of one device, as dfu-util lists it.
#[derive(Debug, Clone)]
pub struct Iface {
    /// Index of the device in [`Probe::devices`].
    pub device: usize,
    /// DFU mode (else run-time).
    pub dfu_mode: bool,
    /// idVendor.
    pub vendor: u16,
    /// idProduct.
    pub product: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// Device address on the bus.
    pub devnum: u8,
    /// bConfigurationValue.
    pub cfg: u8,
    /// Interface number.
    pub intf: u8,
    /// Bus path.
    pub path: String,
    /// bAlternateSetting.
    pub alt: u8,
    /// Alt name bytes as dfu-util prints them ("UNKNOWN" when unreadable).
    pub name: Vec<u8>,
    /// Serial bytes as dfu-util prints them ("UNKNOWN" when there is none).
    pub serial: Vec<u8>,
}

impl Iface {
    /// The `Found DFU: ...` / `Found Runtime: ...` line, without the newline.
    pub fn found_line(&self) -> Vec<u8> {
        let mut line = format!(
            "Found {}: [{:04x}:{:04x}] ver={:04x}, devnum={}, cfg={}, intf={}, path=\"{}\", alt={}, name=\"",
            if self.dfu_mode { "DFU" } else { "Runtime" },
            self.vendor,
            self.product,
            self.bcd_device,
            self.devnum,
            self.cfg,
            self.intf,
            self.path,
            self.alt
        )
        .into_bytes();
        line.extend_from_slice(&self.name);
        line.extend_from_slice(b"\", serial=\"");
        line.extend_from_slice(&self.serial);
        line.push(b'"');
        line
    }
}

/// The devices found and their matching alt settings.
pub struct Probe {
    /// Every DFU-capable device that was read.
    pub devices: Vec<DeviceInfo>,
    /// Matching alt settings in dfu-util's order.
    pub ifaces: Vec<Iface>,
}

/// dfu-util's string conversion: each UTF-16 unit above 0xFF becomes `?`; an empty or
/// missing string is "UNKNOWN".
fn ascii(s: Option<&str>) -> Vec<u8> {
    let out: Vec<u8> = s
        .unwrap_or_default()
        .encode_utf16()
        .take(254)
        .map(|u| u8::try_from(u).unwrap_or(b'?'))
        .collect();
    if out.is_empty() {
        b"UNKNOWN".to_vec()
    } else {
        out
    }
}

/// The serial string bytes dfu-util prints for this device.
fn serial_bytes(d: &DeviceInfo) -> Vec<u8> {
    if (d.usb.vendor_id, d.usb.product_id) != UTF8_SERIAL {
        return ascii(d.serial.as_deref());
    }
    // The device sent UTF-8 bytes where UTF-16 belongs: give back the bytes it sent.
    let raw: Vec<u8> = d
        .serial
        .as_deref()
        .unwrap_or_default()
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    if raw.is_empty() {
        b"UNKNOWN".to_vec()
    } else {
        raw
    }
}

fn id_ok(m: IdMatch, v: u16) -> bool {
    m.is_none_or(|m| m == u32::from(v))
}

/// True when dfu-util, with these options, would keep this alt setting.
pub fn keeps(o: &UtilOptions, i: &Iface) -> bool {
    let ids = &o.ids;
    let (vendor, product) = if i.dfu_mode {
        (ids.vendor_dfu, ids.product_dfu)
    } else {
        (ids.vendor, ids.product)
    };
    let serial = if i.dfu_mode { &o.serial_dfu } else { &o.serial };
    o.path.as_deref().is_none_or(|p| p == i.path)
        && o.cfg.is_none_or(|c| c == i64::from(i.cfg))
        && o.intf.is_none_or(|n| n == i64::from(i.intf))
        && !(i.dfu_mode && o.alt_index.is_some_and(|a| a != u32::from(i.alt)))
        && id_ok(vendor, i.vendor)
        && id_ok(product, i.product)
        && o.devnum.is_none_or(|n| n == i64::from(i.devnum))
        && !(i.dfu_mode
            && o.alt_name
                .as_deref()
                .is_some_and(|a| a.as_bytes() != i.name))
        && serial.as_deref().is_none_or(|s| s.as_bytes() == i.serial)
}

/// The line for a DFU device that cannot be read. When the system refuses to open it
/// (permissions), dfu-util's words, which particle-cli looks for on standard error to
/// suggest udev rules (src/lib/dfu.js `_missingDevicePermissions`).
fn unreadable(id: &str, devnum: u8, path: &str, e: &dfu::DfuError) -> String {
    match e {
        dfu::DfuError::Usb {
            source: dfu_proto::TransportError::Access(_),
            ..
        } => format!("dfu-util: Cannot open DFU device {id} found on devnum {devnum} ({e})"),
        _ => format!("dfu-util: cannot read {id} at {path}: {e}"),
    }
}

/// True when the device's DFU interface says protocol 2 (DFU mode): what dfu-util goes by,
/// where the library may know better (quirk `dfu-mode-as-runtime`).
fn says_dfu_mode(d: &dfu::DeviceInfo) -> bool {
    d.usb
        .dfu_interfaces
        .iter()
        .find(|(intf, _)| *intf == d.interface)
        .map_or(d.mode == Mode::Dfu, |(_, protocol)| {
            *protocol == dfu_proto::descriptor::PROTOCOL_DFU_MODE
        })
}

/// Reads every DFU-capable device through the library and keeps what dfu-util would.
pub fn probe(backend: &mut dyn Backend, o: &UtilOptions) -> Result<Probe, Failure> {
    let mut devices = Vec::new();
    let mut ifaces = Vec::new();
    for usb in backend.devices()? {
        if !usb.is_dfu() || o.path.as_deref().is_some_and(|p| p != usb.path()) {
            continue;
        }
        let d = match dfu::describe(backend, &usb, None) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}", unreadable(&usb.id(), usb.address, &usb.path(), &e));
                continue;
            }
        };
        let cfg = d.configuration;
        let serial = serial_bytes(&d);
        for a in &d.alts {
            let i = Iface {
                device: devices.len(),
                dfu_mode: says_dfu_mode(&d),
                vendor: d.usb.vendor_id,
                product: d.usb.product_id,
                bcd_device: d.usb.bcd_device,
                devnum: d.usb.address,
                cfg,
                intf: d.interface,
                path: d.usb.path(),
                alt: a.alt,
                name: ascii(a.name.as_deref()),
                serial: serial.clone(),
            };
            if keeps(o, &i) {
                ifaces.push(i);
            }
        }
        devices.push(d);
    }
    ifaces.reverse();
    Ok(Probe { devices, ifaces })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::compat::options::parse;

    #[test]
    fn a_device_the_system_will_not_open_is_named_in_dfu_utils_words() {
        let denied = dfu::DfuError::Usb {
            op: dfu::Op::Open,
            source: dfu_proto::TransportError::Access("Permission denied".into()),
        };
        let line = unreadable("2b04:d006", 7, "1-2", &denied);
        // particle-cli's `_missingDevicePermissions` test.
        assert!(line.contains("Cannot open DFU device"), "{line}");
        assert!(line.starts_with("dfu-util: Cannot open DFU device 2b04:d006 found on devnum 7 ("));
        let other = dfu::DfuError::Usb {
            op: dfu::Op::Open,
            source: dfu_proto::TransportError::Timeout,
        };
        let line = unreadable("2b04:d006", 7, "1-2", &other);
        assert!(!line.contains("Cannot open"), "{line}");
        assert!(line.contains("at 1-2"), "{line}");
    }

    fn iface(dfu_mode: bool, alt: u8) -> Iface {
        Iface {
            device: 0,
            dfu_mode,
            vendor: 0x2b04,
            product: if dfu_mode { 0xd006 } else { 0xc006 },
            bcd_device: 0x0250,
            devnum: 5,
            cfg: 1,
            intf: 0,
            path: "1-2".into(),
            alt,
            name: format!("alt{alt}").into_bytes(),
            serial: b"S1".to_vec(),
        }
    }

    fn keeps_with(args: &[&str], i: &Iface) -> bool {
        let v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        keeps(&parse(&v).expect("valid command line"), i)
    }

    #[test]
    fn matching_rules_of_dfu_util() {
        let (rt, dfu0, dfu1) = (iface(false, 0), iface(true, 0), iface(true, 1));
        assert!(keeps_with(&["-l"], &rt) && keeps_with(&["-l"], &dfu1));
        // `,V:P`: DFU-mode devices with those ids only.
        assert!(!keeps_with(&["-d", ",2b04:d006"], &rt));
        assert!(keeps_with(&["-d", ",2b04:d006"], &dfu0));
        // `V:P` alone: the run-time half; DFU-mode devices match any id.
        assert!(keeps_with(&["-d", "2b04:c006"], &rt));
        assert!(!keeps_with(&["-d", "2b04:d006"], &rt));
        assert!(keeps_with(&["-d", "1234:5678"], &dfu0));
        assert!(
            !keeps_with(&["-d", "1234:5678,"], &dfu0),
            "a given run-time half is the DFU default"
        );
        // -a filters DFU-mode alts only.
        assert!(!keeps_with(&["-a", "1"], &dfu0) && keeps_with(&["-a", "1"], &dfu1));
        assert!(keeps_with(&["-a", "7"], &rt));
        assert!(keeps_with(&["-a", "alt1"], &dfu1) && !keeps_with(&["-a", "alt"], &dfu1));
        // -S RUNTIME,DFU.
        assert!(keeps_with(&["-S", "S1"], &rt) && keeps_with(&["-S", "S1"], &dfu0));
        assert!(!keeps_with(&["-S", "X,S1"], &rt) && keeps_with(&["-S", "X,S1"], &dfu0));
        // -p, -n, -c, -i.
        assert!(keeps_with(&["-p", "1-2"], &dfu0) && !keeps_with(&["-p", "1-1"], &dfu0));
        assert!(keeps_with(&["-n", "5"], &dfu0) && !keeps_with(&["-n", "4"], &dfu0));
        assert!(keeps_with(&["-c", "1", "-i", "0"], &dfu0));
        assert!(!keeps_with(&["-c", "2"], &dfu0) && !keeps_with(&["-i", "1"], &dfu0));
    }

    #[test]
    fn found_line_format() {
        let line = String::from_utf8(iface(true, 1).found_line()).unwrap();
        assert_eq!(
            line,
            "Found DFU: [2b04:d006] ver=0250, devnum=5, cfg=1, intf=0, path=\"1-2\", alt=1, name=\"alt1\", serial=\"S1\""
        );
        assert!(String::from_utf8(iface(false, 0).found_line())
            .unwrap()
            .starts_with("Found Runtime: [2b04:c006] "));
    }

    #[test]
    fn strings_as_dfu_util_prints_them() {
        assert_eq!(ascii(Some("@Internal Flash")), b"@Internal Flash");
        assert_eq!(ascii(Some("Grüße €")), b"Gr\xfc\xdfe ?");
        assert_eq!(ascii(Some("")), b"UNKNOWN");
        assert_eq!(ascii(None), b"UNKNOWN");
    }
}
