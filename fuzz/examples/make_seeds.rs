//! Writes the small seed corpus kept in fuzz/seeds/: what the simulator's built-in devices
//! really send (device and configuration descriptors, string descriptors, alt names,
//! GETSTATUS replies in every state), so that fuzzing starts from valid device data.
//! `cargo +nightly run --example make_seeds` in fuzz/.

use dfu_proto::descriptor::encode_string;
use dfu_proto::{GetStatus, State, Status};
use std::path::Path;

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let names = dfu_profiles::builtin_names();
    let spec = names.join(";");
    let bus = dfu_sim::Bus::from_spec(&spec).unwrap();
    for d in bus.devices() {
        let p = &d.profile_name;
        put("descriptors", &format!("{p}-device"), &d.device_descriptor_bytes);
        put("descriptors", &format!("{p}-config"), &d.config_descriptor);
        put("strings", &format!("{p}-serial"), &encode_string(&d.serial));
    }
    for name in names {
        let profile = dfu_profiles::Profile::builtin(name).unwrap();
        for (i, alt) in profile.alts.iter().enumerate() {
            put("layout", &format!("{name}-alt{i}"), alt.name.as_bytes());
            put("strings", &format!("{name}-alt{i}"), &encode_string(&alt.name));
        }
    }
    for (i, state) in (0..=10u8).map(State::from_u8).enumerate() {
        let s = GetStatus {
            status: Status::Ok,
            poll_timeout_ms: 100,
            state,
            string_index: 0,
        };
        put("getstatus", &format!("state{i}"), &s.encode());
    }
    // The device targets start from an empty script (every answer the truth) and a few lies.
    put("device_dfuse", "truth", &[]);
    put("device_plain", "truth", &[]);
    put("device_dfuse", "busy-forever", &[0, 0, 0, 0, 255, 6, 0, 0xff, 0xff, 0xff, 4, 0]);
    put("device_plain", "stall-late", &[0; 40].iter().chain(&[170]).copied().collect::<Vec<u8>>());
}
