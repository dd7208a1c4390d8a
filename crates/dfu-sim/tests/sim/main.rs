//! Integration tests: drive the simulated devices through the public API with raw
//! setup packets, the way a host does.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads best as one scenario, top to bottom"
)]

mod dfuse;
mod enumerate;
mod host;
mod knobs;
mod many;
mod particle_erase;
mod persist;
mod plain;
mod props;
mod protect;
mod runtime;
