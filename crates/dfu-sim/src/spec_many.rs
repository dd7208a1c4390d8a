//! The spec knobs for many devices and for time: `PROFILE*N` (N identical devices with
//! distinct serials), `time-scale=N`, `appear-after=MS`, `unplug-after=MS`, `hub=NAME`.

use crate::error::SimError;
use crate::spec::SimSpec;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most copies `PROFILE*N` makes.
pub const MAX_COPIES: usize = 255;

/// Splits `stm32f405*8` into the profile and the number of copies (`None` without `*`).
pub(crate) fn split_copies(name: &str) -> Result<(&str, Option<usize>), String> {
    let Some((profile, n)) = name.rsplit_once('*') else {
        return Ok((name, None));
    };
    match n.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_COPIES).contains(&n) => Ok((profile.trim(), Some(n))),
        _ => Err(format!(
            "{name:?}: PROFILE*N needs a count N from 1 to {MAX_COPIES}, e.g. stm32f405*8"
        )),
    }
}

fn millis(value: &str) -> Result<Duration, String> {
    dfu_proto::num::parse_u64(value)
        .ok()
        .filter(|ms| *ms <= 1 << 40)
        .map(Duration::from_millis)
        .ok_or_else(|| "expected milliseconds, e.g. 2000".to_string())
}

/// Sets one of the time and topology knobs.
pub(crate) fn set_pacing(s: &mut SimSpec, key: &str, value: &str) -> Result<(), String> {
    match key {
        "time-scale" => {
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && *n >= 0.001 && *n <= 1e6)
                .ok_or("expected how many times faster than real time, e.g. 10 or 0.5")?;
            s.time_scale = Some(n);
        }
        "appear-after" => s.appear_after = millis(value)?,
        "unplug-after" => {
            let ms = millis(value)?;
            if ms.is_zero() {
                return Err("expected at least 1 ms".into());
            }
            s.unplug_after = Some(ms);
        }
        "hub" => {
            if value.is_empty() || value.len() > 64 {
                return Err("expected a hub name of 1 to 64 characters".into());
            }
            s.hub = Some(value.to_string());
        }
        _ => return Err(format!("unknown key {key:?}")),
    }
    Ok(())
}

/// `dir/name.json` -> `dir/name-K.json`.
fn numbered(path: &Path, k: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{k}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{k}"),
    };
    path.with_file_name(name)
}

/// The devices of one spec item: itself, or N copies whose serial strings (and state and
/// stats files) end in `-1` ... `-N`.
pub(crate) fn copies(s: SimSpec, n: Option<usize>) -> Vec<SimSpec> {
    let Some(n) = n else { return vec![s] };
    (1..=n)
        .map(|k| {
            let mut c = s.clone();
            c.serial = Some(format!("{}-{k}", s.serial_string()));
            c.state = s.state.as_deref().map(|p| numbered(p, k));
            c.stats = s.stats.as_deref().map(|p| numbered(p, k));
            c
        })
        .collect()
}

/// Checks what concerns the whole bus: one time scale.
pub(crate) fn check_bus(specs: &[SimSpec]) -> Result<(), SimError> {
    let err = |spec: &SimSpec, message: String| SimError::Spec {
        spec: spec.text.clone(),
        message,
    };
    let mut scale: Option<(f64, &SimSpec)> = None;
    for s in specs {
        match (s.time_scale, scale) {
            (Some(a), Some((b, first))) if a != b => {
                return Err(err(
                    s,
                    format!(
                        "time-scale={a} disagrees with time-scale={b} of {:?}: the devices share one clock",
                        first.text
                    ),
                ))
            }
            (Some(a), None) => scale = Some((a, s)),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::spec::parse_specs;
    use std::time::Duration;

    #[test]
    fn copies_have_distinct_serials_and_files() {
        let s = parse_specs("stm32f405*3,state=/tmp/f4.json,appear-after=0x10;photon").unwrap();
        assert_eq!(s.len(), 4);
        let serials: Vec<&str> = s.iter().map(|d| d.serial_string()).collect();
        let base = &s[3].profile.usb.serial;
        assert_ne!(serials[0], serials[1]);
        assert!(serials[2].ends_with("-3"));
        assert_eq!(serials[3], base.as_str());
        assert_eq!(
            s[1].state.as_deref(),
            Some(std::path::Path::new("/tmp/f4-2.json"))
        );
        assert_eq!(s[0].appear_after, Duration::from_millis(16));
        let named = parse_specs("dapboot*2,serial=LINE").unwrap();
        assert_eq!(named[1].serial_string(), "LINE-2");
    }

    #[test]
    fn time_knobs_parse_and_bad_ones_are_clear() {
        let s = parse_specs("stm32f405,time-scale=8,unplug-after=500,hub=a;dapboot,hub=a").unwrap();
        assert_eq!(s[0].time_scale, Some(8.0));
        assert_eq!(s[0].unplug_after, Some(Duration::from_millis(500)));
        assert_eq!(s[1].hub.as_deref(), Some("a"));
        let msg = |s: &str| parse_specs(s).unwrap_err().to_string();
        assert!(msg("stm32f405*0").contains("count N from 1"));
        assert!(msg("stm32f405*x").contains("count N from 1"));
        assert!(msg("stm32f405*256").contains("count N from 1"));
        assert!(msg("stm32f405,time-scale=0").contains("times faster"));
        assert!(msg("stm32f405,time-scale=nan").contains("times faster"));
        assert!(msg("stm32f405,appear-after=soon").contains("milliseconds"));
        assert!(msg("stm32f405,unplug-after=0").contains("at least 1 ms"));
        assert!(msg("stm32f405,hub=").contains("hub name"));
        assert!(msg("stm32f405,time-scale=2;dapboot,time-scale=3").contains("disagrees"));
        assert!(
            msg("photon,state=/tmp/x-1.json;photon*2,state=/tmp/x.json").contains("already used")
        );
    }
}
