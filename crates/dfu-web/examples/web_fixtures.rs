//! Writes the firmware files the browser tests flash (web/tests/): Particle modules built
//! by dfu-image's module builder, and a Core application.
//! `cargo run --example web_fixtures -- DIR`

use dfu_image::particle::build_module;
use dfu_image::{Dependency, ModuleFunction};

const CORE: u16 = 0;
const PHOTON: u16 = 6;

fn system_part(index: u8, version: u16, start: u32) -> Vec<u8> {
    let deps: Vec<Dependency> = (index > 1)
        .then(|| Dependency {
            function: ModuleFunction::SystemPart,
            index: index - 1,
            version,
        })
        .into_iter()
        .collect();
    build_module(
        PHOTON,
        ModuleFunction::SystemPart,
        index,
        version,
        start,
        &deps,
        6000,
    )
}

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;
    let needs_v2 = [Dependency {
        function: ModuleFunction::SystemPart,
        index: 2,
        version: 2,
    }];
    let files = [
        ("system-part1.bin", system_part(1, 2, 0x0802_0000)),
        ("system-part2.bin", system_part(2, 2, 0x0806_0000)),
        (
            "user-part.bin",
            build_module(
                PHOTON,
                ModuleFunction::UserPart,
                1,
                2,
                0x080A_0000,
                &needs_v2,
                4000,
            ),
        ),
        (
            "core-app.bin",
            build_module(
                CORE,
                ModuleFunction::Monolithic,
                0,
                1,
                0x0800_5000,
                &[],
                78_172 - 0x10C - 24 - 4,
            ),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
