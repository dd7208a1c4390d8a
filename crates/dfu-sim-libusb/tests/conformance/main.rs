//! Conformance: the real dfu-util 0.11 (Debian package) against our simulated devices,
//! through this crate's libusb drop-in.
//!
//! dfu-util is a client nobody here wrote. When it prints against the simulator what
//! users report it printing against the real devices (the threads in the project's
//! seeds/), the simulator is right where it matters. The expected lines are dfu-util
//! 0.11's own; they differ in places from the older versions quoted in the threads
//! (0.11 says "DFU state(2) = dfuIDLE, ..." where 0.7-0.9 said "Determining device
//! status: state = dfuIDLE", and "Downloading element to address" where they said
//! "Downloading to address").

mod cross_tool;
mod harness;
mod listing;
mod particle_erase;
mod roundtrip;
mod runtime;
mod stories;
mod timeouts;

/// The built-in device profiles.
pub const PROFILES: [&str; 42] = [
    "stm32f405",
    "stm32f446",
    "stm32f411",
    "stm32h743",
    "photon",
    "p1",
    "electron",
    "core",
    "dapboot",
    "tinyusb",
    "gd32vf103",
    "stm32f407-v21",
    "stm32f072",
    "stm32g474",
    "stm32l4-512k",
    "stm32u5-1m",
    "stm32f745",
    "stm32f722",
    "argon",
    "boron",
    "stm32f401",
    "at32f415",
    "at32f435",
    "stm32h723",
    "p2",
    "stm32l432",
    "stm32f107",
    "dso-nano",
    "blackmagic",
    "simtrace",
    "stm32g0b1",
    "stm32f303",
    "maple",
    "stm32duino",
    "smoothie",
    "kiibohd",
    "apm32f072",
    "portenta-h7",
    "zephyr-dfu",
    "coines-app30",
    "esp32s2",
    "esp32s3",
];

#[test]
fn the_profile_list_is_complete() {
    let mut builtin = dfu_profiles::builtin_names();
    builtin.sort_unstable();
    let mut ours = PROFILES.to_vec();
    ours.sort_unstable();
    assert_eq!(
        ours, builtin,
        "a profile was added or removed: update PROFILES"
    );
}
