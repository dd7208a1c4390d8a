//! Writing a profile as TOML text (the format [`Profile::from_toml`] reads), for profiles
//! made from a device (`dfu profile new`).

use crate::model::Profile;
use std::fmt::Write;

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Profile {
    /// The profile as TOML text that [`Profile::from_toml`] reads back to the same profile
    /// (quirks, run-time identity and Particle fields are not written: a profile made from a
    /// device does not know them).
    pub fn to_toml(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "name = {}", q(&self.name));
        let _ = writeln!(t, "title = {}", q(&self.title));
        t.push_str("sources = [\n");
        for s in &self.sources {
            let _ = writeln!(t, "  {},", q(s));
        }
        t.push_str("]\n");
        if let Some(a) = self.app_address {
            let _ = writeln!(t, "app_address = 0x{a:08X}");
        }
        let u = &self.usb;
        let _ = write!(
            t,
            "\n[usb]\nvendor_id = 0x{:04x}\nproduct_id = 0x{:04x}\nbcd_device = 0x{:04x}\nmanufacturer = {}\nproduct = {}\nserial = {}\n",
            u.vendor_id,
            u.product_id,
            u.bcd_device,
            q(&u.manufacturer),
            q(&u.product),
            q(&u.serial)
        );
        let d = &self.dfu;
        let _ = write!(
            t,
            "\n[dfu]\nattributes = 0x{:02x}\ndetach_timeout_ms = {}\ntransfer_size = {}\ndfu_version = 0x{:04x}\ninterface = {}\n",
            d.attributes, d.detach_timeout_ms, d.transfer_size, d.dfu_version, d.interface
        );
        for a in &self.alts {
            let _ = writeln!(t, "\n[[alts]]\nname = {}", q(&a.name));
            if a.in_place {
                let _ = writeln!(t, "in_place = true");
            }
        }
        for r in &self.regions {
            let _ = write!(
                t,
                "\n[[regions]]\nname = {}\nrole = {}\nalt = {}\nstart = 0x{:08X}\nsize = 0x{:X}\n",
                q(&r.name),
                q(&role_name(r.role)),
                r.alt,
                r.start,
                r.size
            );
        }
        let m = &self.timing;
        let erase: Vec<String> = m
            .erase
            .iter()
            .map(|e| format!("{{ sector_size = {}, ms = {} }}", e.sector_size, e.ms))
            .collect();
        let _ = write!(
            t,
            "\n[timing]\nerase = [{}]\nmass_erase_ms = {}\nprogram_unit = {}\nprogram_unit_ns = {}\npoll_erase_ms = {}\npoll_program_ms = {}\npoll_command_ms = {}\nreset_ms = {}\n",
            erase.join(", "),
            m.mass_erase_ms,
            m.program_unit,
            m.program_unit_ns,
            m.poll_erase_ms,
            m.poll_program_ms,
            m.poll_command_ms,
            m.reset_ms
        );
        t
    }
}

/// The role as the profile file writes it (`option-bytes`).
fn role_name(r: crate::Role) -> String {
    toml::Value::try_from(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
