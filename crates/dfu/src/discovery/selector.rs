//! Which devices the user means: ids, serial number, bus path.

use crate::backend::UsbDevice;
use crate::error::{DfuError, Result};

/// Which devices the user means.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Vendor/product pairs; `None` is a wildcard. Empty: any.
    pub ids: Vec<(Option<u16>, Option<u16>)>,
    /// Serial number string.
    pub serial: Option<String>,
    /// Bus path (`1-2.3`).
    pub path: Option<String>,
}

fn parse_hex16(s: &str, what: &str) -> Result<Option<u16>> {
    let s = s.trim();
    if s.is_empty() || s == "*" || s == "-" {
        return Ok(None);
    }
    dfu_proto::num::parse_usb_id(s)
        .map(Some)
        .map_err(|e| DfuError::usage(format!("{what}: {e}")))
}

impl Selector {
    /// Parses `VID:PID[,VID:PID...]` (hex, `*` for any; an empty element is skipped, so
    /// dfu-util's `,0483:df11` works).
    pub fn parse_ids(text: &str) -> Result<Vec<(Option<u16>, Option<u16>)>> {
        let mut out = Vec::new();
        for part in text.split(',') {
            if part.trim().is_empty() {
                continue;
            }
            let (v, p) = part.split_once(':').ok_or_else(|| {
                DfuError::usage(format!(
                    "device ids {part:?}: expected VID:PID in hex, e.g. 0483:df11"
                ))
            })?;
            out.push((parse_hex16(v, "vendor id")?, parse_hex16(p, "product id")?));
        }
        if out.is_empty() {
            return Err(DfuError::usage(format!(
                "device ids {text:?} name no VID:PID"
            )));
        }
        Ok(out)
    }

    /// True when the device matches every given criterion.
    pub fn matches(&self, d: &UsbDevice, serial: Option<&str>) -> bool {
        let id_ok = self.ids.is_empty()
            || self.ids.iter().any(|(v, p)| {
                v.is_none_or(|v| v == d.vendor_id) && p.is_none_or(|p| p == d.product_id)
            });
        let serial_ok = self
            .serial
            .as_deref()
            .is_none_or(|s| serial.or(d.serial.as_deref()) == Some(s));
        let path_ok = self.path.as_deref().is_none_or(|p| p == d.path());
        id_ok && serial_ok && path_ok
    }

    /// The ids as `VID:PID[,VID:PID...]`, `*` for a wildcard half.
    pub fn ids_text(&self) -> String {
        let half = |x: Option<u16>| x.map_or("*".to_string(), |v| format!("{v:04x}"));
        let ids: Vec<String> = self
            .ids
            .iter()
            .map(|(v, p)| format!("{}:{}", half(*v), half(*p)))
            .collect();
        ids.join(",")
    }

    /// The selection in words (for messages).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.ids.is_empty() {
            parts.push(format!("ids {}", self.ids_text()));
        }
        if let Some(s) = &self.serial {
            parts.push(format!("serial {s}"));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path {p}"));
        }
        parts.join(", ")
    }
}
