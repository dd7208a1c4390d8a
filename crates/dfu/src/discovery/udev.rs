//! The Linux udev rule that lets a logged-in user open DFU devices without root.

use dfu_profiles::builtins;

/// Where the rule file goes.
pub const RULE_PATH: &str = "/etc/udev/rules.d/70-dfu.rules";

/// `(vendor, product)` pairs of every known device, DFU and run-time mode.
pub fn known_ids() -> Vec<(u16, u16)> {
    let mut ids = Vec::new();
    for p in builtins() {
        ids.push((p.usb.vendor_id, p.usb.product_id));
        if let Some(r) = &p.runtime {
            ids.push((r.vendor_id, r.product_id));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The rule file: `TAG+="uaccess"` grants the user at the seat (desktop sessions); no mode
/// is made world-writable.
pub fn rules() -> String {
    let mut s =
        String::from("# DFU devices known to `dfu`: access for the logged-in user (uaccess)\n");
    for (v, p) in known_ids() {
        s.push_str(&format!(
            "SUBSYSTEM==\"usb\", ATTRS{{idVendor}}==\"{v:04x}\", ATTRS{{idProduct}}==\"{p:04x}\", TAG+=\"uaccess\"\n"
        ));
    }
    s
}

/// The rule file for machines without a desktop session (SSH, a Raspberry Pi running
/// Klipper): members of the `plugdev` group may open the devices (mode 0660, never
/// world-writable).
pub fn plugdev_rules() -> String {
    let mut s = String::from(
        "# DFU devices known to `dfu`: access for members of the plugdev group (headless machines)\n",
    );
    for (v, p) in known_ids() {
        s.push_str(&format!(
            "SUBSYSTEM==\"usb\", ATTRS{{idVendor}}==\"{v:04x}\", ATTRS{{idProduct}}==\"{p:04x}\", GROUP=\"plugdev\", MODE=\"0660\"\n"
        ));
    }
    s
}

/// How to install the rule, for `help:` lines.
pub fn install_help() -> String {
    format!(
        "install the udev rule that `dfu doctor` prints into {RULE_PATH}, then run `sudo udevadm control --reload && sudo udevadm trigger` and re-plug the device; on a machine without a desktop session (SSH, Raspberry Pi), use GROUP=\"plugdev\", MODE=\"0660\" instead of TAG+=\"uaccess\" and add yourself to plugdev"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_covers_every_known_device_without_world_access() {
        let r = rules();
        assert!(
            r.contains("ATTRS{idVendor}==\"2b04\", ATTRS{idProduct}==\"d006\", TAG+=\"uaccess\"")
        );
        assert!(r.contains("ATTRS{idProduct}==\"df11\""));
        assert!(!r.contains("0666"));
        assert_eq!(r.lines().count(), known_ids().len() + 1);
    }

    #[test]
    fn plugdev_rule_grants_the_group_only() {
        let r = plugdev_rules();
        assert!(r.contains(
            "ATTRS{idVendor}==\"0483\", ATTRS{idProduct}==\"df11\", GROUP=\"plugdev\", MODE=\"0660\""
        ));
        assert!(!r.contains("uaccess") && !r.contains("0666"));
        assert_eq!(r.lines().count(), known_ids().len() + 1);
    }
}
