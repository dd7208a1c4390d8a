//! The situations of tests/codes.rs for notes (`dfu::note::*`): flashes that succeed and say
//! something worth knowing. Each reads the device's memory (or its statistics, where it
//! cannot be read) back afterwards.

use super::common::*;
use super::situations::*;

/// `dfu flash IMAGE ARGS... --json` on `spec` with a state file: the memory at `at` read
/// back afterwards holds `image`.
pub fn flashed(s: &Scratch, spec: &str, image: &[u8], at: u32, args: &[&str]) -> Run {
    let sim = format!("{spec},state={}", s.state("n.json"));
    flash_into(s, &sim, image, at, args)
}

/// As [`flashed`], on a simulated device spec that already has its state file.
fn flash_into(s: &Scratch, sim: &str, image: &[u8], at: u32, args: &[&str]) -> Run {
    let f = s.file("image.bin", image);
    let mut all = vec!["flash", f.as_str()];
    all.extend_from_slice(args);
    let r = sim_json(sim, &all);
    assert_eq!(read_back(sim, s, "back.bin", at, image.len()), image);
    std::fs::remove_file(s.path("back.bin")).unwrap();
    r
}

/// A raw binary placed at the address given.
pub fn placed(s: &Scratch) -> Run {
    flashed(s, "stm32f405", &pattern(1000, 1), 0x0800_8000, &["-s", APP])
}

/// The same image flashed twice: the second time its sector already holds it.
pub fn skipped(s: &Scratch) -> Run {
    let sim = format!("stm32f405,state={}", s.state("n.json"));
    let image = pattern(1000, 1);
    flash_into(s, &sim, &image, 0x0800_8000, &["-s", APP]).ok();
    flash_into(s, &sim, &image, 0x0800_8000, &["-s", APP])
}

/// A Photon running its application: switched to DFU mode first.
pub fn detached(s: &Scratch) -> Run {
    flashed(
        s,
        "photon,mode=runtime",
        &pattern(1000, 1),
        0x080A_0000,
        &[],
    )
}

/// A device left in dfuERROR by an earlier session.
pub fn cleared(s: &Scratch) -> Run {
    let image = pattern(1000, 1);
    flashed(
        s,
        "stm32f405,start-state=error",
        &image,
        0x0800_8000,
        &["-s", APP],
    )
}

/// A layout given with `--layout` instead of the one the device announces.
pub fn layout(s: &Scratch) -> Run {
    let args = [
        "--layout",
        "@Internal Flash/0x08000000/04*016Kg,01*064Kg,07*128Kg",
        "-s",
        APP,
    ];
    flashed(s, "stm32f405", &pattern(1000, 1), 0x0800_8000, &args)
}

/// A mass erase (forced) on a Photon, whose bootloader has none: sector by sector.
pub fn sector_erase(s: &Scratch) -> Run {
    let args = ["--mass-erase", "--force"];
    flashed(s, "photon", &pattern(1000, 1), 0x080A_0000, &args)
}

/// 256 bytes into the middle of a sector that holds 4 KiB: erasing the sector clears the
/// rest, which the read-back shows blank.
pub fn clears_nearby(s: &Scratch) -> Run {
    let sim = filled(s, "stm32f405", 0x0800_8000);
    let image = pattern(256, 12);
    let r = flash_into(s, &sim, &image, 0x0800_8100, &["-s", "0x08008100"]);
    let mut want = vec![0xFF; 4096];
    want[0x100..0x200].copy_from_slice(&image);
    assert_eq!(read_back(&sim, s, "all.bin", 0x0800_8000, 4096), want);
    r
}

/// As [`clears_nearby`] with `--preserve`: the rest of the sector is kept.
pub fn kept(s: &Scratch) -> Run {
    let sim = filled(s, "stm32f405", 0x0800_8000);
    let image = pattern(256, 12);
    let args = ["-s", "0x08008100", "--preserve"];
    let r = flash_into(s, &sim, &image, 0x0800_8100, &args);
    let mut want = prefill_data(4096);
    want[0x100..0x200].copy_from_slice(&image);
    assert_eq!(read_back(&sim, s, "all.bin", 0x0800_8000, 4096), want);
    r
}

/// A device that cannot upload: nothing is read back, so the statistics tell what it
/// programmed (the image, padded to the 4-byte unit).
pub fn not_verified(s: &Scratch) -> Run {
    let custom = custom_profile(s, "no-upload.toml", |t| {
        t.replace("attributes = 0x0b", "attributes = 0x09")
    });
    let sim = format!("{custom},stats={}", s.state("stats.json"));
    let a = s.file("a.bin", &pattern(1000, 1));
    let r = sim_json(&sim, &["flash", &a, "-s", APP]);
    let st: serde_json::Value = serde_json::from_slice(&read_file(&s.path("stats.json"))).unwrap();
    assert_eq!(st["programmed_bytes"], 1000, "{st}");
    r
}

/// dapboot restarts after manifestation: the image is read back before it.
pub fn verified_early(s: &Scratch) -> Run {
    flashed(s, "dapboot", &pattern(1000, 1), 0x0800_2000, &[])
}

/// A Photon whose bootloader (0.4.4) resets at once on leave, without a last status.
pub fn left_early(s: &Scratch) -> Run {
    flashed(
        s,
        "photon,bootloader=0.4.4",
        &pattern(1000, 1),
        0x080A_0000,
        &[],
    )
}

/// dfu.toml gives an address, but the HEX file carries its own: the address is left out.
pub fn config_unused(s: &Scratch) -> Run {
    std::fs::write(s.path("dfu.toml"), "address = 0x08010000\n").unwrap();
    let image = pattern(256, 13);
    s.file("app.hex", hex(&[(0x0800_8000, &image)]).as_bytes());
    let sim = format!("stm32f405,state={}", s.state("n.json"));
    let args = ["--sim", &sim, "flash", "app.hex", "--json"];
    let r = dfu_in(s.dir.path(), &[], &args);
    assert_eq!(read_back(&sim, s, "back.bin", 0x0800_8000, 256), image);
    r
}

/// `read -o - --json` on a whole 2 MiB alt, its reader gone after 16 KiB (`| head`): the
/// read stops there, exit 0, and the result (on standard error, the data going to standard
/// output) says so. The simulator's statistics show the upload stopped early.
pub fn output_closed(s: &Scratch) -> Run {
    let sim = format!("stm32h743,stats={}", s.path("stats.json").display());
    let (code, stderr) = with_closed_pipe(&["--sim", &sim, "read", "-o", "-", "--json"], 16 * 1024);
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("stats.json")).unwrap()).unwrap();
    let up = stats["bytes_up"].as_u64().unwrap();
    assert!(up < 512 * 1024, "uploaded {up} bytes after the reader went");
    // The JSON result is on standard error: hand it over as the run's output.
    Run {
        code,
        stdout: stderr,
        stderr: String::new(),
    }
}
