//! Defaults from dfu.toml and DFU_* variables (precedence: command line, environment,
//! dfu.toml, profile), and what `dfu info` shows: where each setting came from, and the
//! memory map as a picture.

mod common;
use common::{dfu_in, pattern, Scratch};

/// A project directory with `dfu.toml` and a `src/` subdirectory to run from.
fn project(toml: &str) -> Scratch {
    let s = Scratch::new();
    std::fs::write(s.path("dfu.toml"), toml).unwrap();
    std::fs::create_dir(s.path("src")).unwrap();
    s.file("app.bin", &pattern(4096, 7));
    s
}

const SIM: &str = "stm32f405";

#[test]
fn a_dfu_toml_address_places_a_raw_binary_and_the_command_line_overrides_it() {
    let s = project("address = 0x08008000\n");
    let app = s.state("app.bin");
    let here = s.path("src");
    dfu_in(&here, &[], &["--sim", SIM, "flash", &app, "--dry-run"])
        .ok()
        .says("write 0x08008000-0x08008fff");
    dfu_in(
        &here,
        &[("DFU_ADDRESS", "0x08010000")],
        &["--sim", SIM, "flash", &app, "--dry-run"],
    )
    .ok()
    .says("write 0x08010000-0x08010fff");
    dfu_in(
        &here,
        &[("DFU_ADDRESS", "0x08010000")],
        &["--sim", SIM, "flash", &app, "--dry-run", "-s", "0x08020000"],
    )
    .ok()
    .says("write 0x08020000-0x08020fff");
}

#[test]
fn files_sim_and_a_command_table_come_from_the_file_with_paths_relative_to_it() {
    let s = Scratch::new();
    let state = s.state("f4.json");
    let toml = format!(
        "sim = 'stm32f405,state={state}'\nfiles = [\"app.bin\"]\naddress = 0x08000000\n[flash]\naddress = 0x08040000\nno-leave = true\n"
    );
    std::fs::write(s.path("dfu.toml"), toml).unwrap();
    std::fs::create_dir(s.path("src")).unwrap();
    let image = pattern(4096, 9);
    s.file("app.bin", &image);
    let here = s.path("src");
    dfu_in(&here, &[], &["flash"]).ok().says("verified");
    let out = s.state("back.bin");
    // `read` takes neither the [flash] table's address nor the top level's (a default for
    // `flash`): it reads from the start of the memory.
    dfu_in(&here, &[], &["read", "--length", "4096", "-o", &out])
        .ok()
        .says("from 0x08000000");
    dfu_in(
        &here,
        &[],
        &[
            "read",
            "-s",
            "0x08040000",
            "--length",
            "4096",
            "-o",
            &out,
            "--force",
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).unwrap(), image);
}

/// The README's own example, with every command that touches the device: the top-level
/// address is the flash's default for raw binaries, and no other command is handed it.
#[test]
fn the_readme_example_works_with_every_command() {
    let s = Scratch::new();
    let state = s.state("f446.json");
    let toml = format!(
        "device = \"0483:df11\"\nprofile = \"stm32f446\"\naddress = 0x08008000\nfiles = [\"out/klipper.bin\"]\nsim = 'stm32f446,state={state}'\n\n[flash]\nno-leave = true\n"
    );
    std::fs::write(s.path("dfu.toml"), toml).unwrap();
    std::fs::create_dir(s.path("out")).unwrap();
    let image = pattern(4096, 5);
    s.file("out/klipper.bin", &image);
    let here = s.path("out");
    dfu_in(&here, &[], &["flash"]).ok().says("verified");
    let back = s.state("back.bin");
    dfu_in(
        &here,
        &[],
        &[
            "read",
            "--address",
            "0x08008000",
            "--length",
            "4096",
            "-o",
            &back,
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&back).unwrap(), image);
    dfu_in(&here, &[], &["info"]).ok().says("0x08008000");
    // A HEX file carries its addresses: the file's address is not used, and a note says
    // where it came from; no option the user did not type is named.
    let hex = ":0400000501020304ED\n:020000040800F2\n:040000001122334452\n:00000001FF\n";
    s.file("app.hex", hex.as_bytes());
    let r = dfu_in(&here, &[], &["flash", &s.state("app.hex"), "--dry-run"]);
    r.ok()
        .says("address 0x08008000 from dfu.toml")
        .says("write 0x08000000-0x08000003");
    assert!(!r.stderr.contains("--address"), "{}", r.stderr);
    dfu_in(&here, &[], &["erase", "--all", "--force"]).ok();
    dfu_in(
        &here,
        &[],
        &[
            "read",
            "--address",
            "0x08008000",
            "--length",
            "16",
            "-o",
            &back,
            "--force",
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&back).unwrap(), [0xFF; 16]);
}

#[test]
fn an_unknown_key_names_the_key_and_the_file() {
    let s = project("adress = 0x08008000\n");
    let r = dfu_in(&s.path("src"), &[], &["--sim", SIM, "list"]);
    r.code(2)
        .says("unknown key \"adress\"")
        .says("dfu.toml")
        .says("address");
    let s = project("[flash]\nlength = 4\n");
    dfu_in(&s.path("src"), &[], &["--sim", SIM, "list"])
        .code(2)
        .says("unknown key \"flash.length\"");
    let s = project("[flsh]\naddress = 4\n");
    dfu_in(&s.path("src"), &[], &["--sim", SIM, "list"])
        .code(2)
        .says("unknown key \"flsh\"");
    // Help still works, to find the right name.
    dfu_in(&s.path("src"), &[], &["flash", "--help"])
        .ok()
        .says("--address");
}

#[test]
fn wrong_types_and_dangerous_keys_are_refused() {
    let s = project("alt = true\n");
    dfu_in(&s.path("src"), &[], &["--sim", SIM, "info"])
        .code(2)
        .says("\"alt\" must be a string or a number");
    let s = project("[flash]\nforce = true\n");
    dfu_in(&s.path("src"), &[], &["--sim", SIM, "list"])
        .code(2)
        .says("\"force\" is taken from the command line only");
    let s = project("device = \n");
    dfu_in(&s.path("src"), &[], &["--sim", SIM, "list"])
        .code(2)
        .says("is not valid TOML");
    let s = project("");
    dfu_in(
        &s.path("src"),
        &[("DFU_NO_VERIFY", "maybe")],
        &["--sim", SIM, "flash", "x"],
    )
    .code(2)
    .says("DFU_NO_VERIFY=maybe");
}

#[test]
fn a_bad_value_from_the_file_is_refused_like_a_typed_one() {
    let s = project("address = \"08000000\"\n");
    dfu_in(
        &s.path("src"),
        &[],
        &["--sim", SIM, "flash", "--dry-run", "../app.bin"],
    )
    .code(2)
    .says("0x08000000")
    .says("note: address = 08000000 came from dfu.toml ");
}

#[test]
fn info_says_where_each_setting_came_from() {
    let s = project("device = \"0483:df11\"\nserial = \"FROMFILE\"\n[flash]\nno-verify = true\n");
    let r = dfu_in(
        &s.path("src"),
        &[("DFU_SERIAL", "ENV1")],
        &["--sim", "stm32f405,serial=ENV1", "info"],
    );
    r.ok()
        .says("sim = stm32f405,serial=ENV1  (command line)")
        .says("serial = ENV1  (environment DFU_SERIAL)")
        .says("device = 0483:df11  (dfu.toml ")
        .says("flash.no-verify = true  (dfu.toml ");
    assert!(r.stdout.contains("dfu.toml [flash]"), "{}", r.stdout);
    let r = dfu_in(
        &s.path("src"),
        &[("DFU_SERIAL", "ENV1")],
        &["--sim", "stm32f405,serial=ENV1", "info", "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(r.ok().stdout.trim()).unwrap();
    let settings = v["settings"].as_array().unwrap();
    assert!(settings
        .iter()
        .any(|x| x["key"] == "serial" && x["source"] == "environment DFU_SERIAL"));
}

#[test]
fn info_draws_the_memory_map_with_installed_modules() {
    let s = Scratch::new();
    let r = dfu_in(
        s.dir.path(),
        &[],
        &["--sim", "photon,system-version=1213", "info"],
    );
    r.ok();
    let strip: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  +") || l.starts_with("  |"))
        .collect();
    assert!(strip.len() >= 6, "{}", r.stdout);
    for l in &strip {
        assert!(l.chars().count() <= 80, "wider than 80 columns: {l}");
        assert_eq!(l.chars().count(), strip[0].chars().count());
    }
    let cells = strip[1];
    for name in [
        "1 bootloader",
        "2 dct",
        "4 system-part1",
        "5 system-part2",
        "6 user-part",
        "8 factory",
    ] {
        assert!(cells.contains(name), "{name} missing in {cells}");
    }
    r.says("alt 0 \"Internal Flash\": 0x08000000-0x080fffff, 1 MiB")
        .says("1 0x08000000-0x08003fff   16 KiB  bootloader, read-only")
        .says("4 0x08020000-0x0805ffff  256 KiB  system-part1 (system)")
        .says("installed: system part 1 version 1213")
        .says("installed: system part 2 version 1213, dependencies met")
        .says("3 0x0800c000-0x0801ffff   80 KiB  Internal Flash (no region)");
    assert!(
        !r.stdout.contains('\x1b'),
        "no colour when not on a terminal"
    );
    // A device without regions: one cell, the whole memory.
    dfu_in(s.dir.path(), &[], &["--sim", "stm32f405", "info"])
        .ok()
        .says("|1 application ")
        .says("1 0x08000000-0x080fffff    1 MiB  application (app)");
}

#[test]
fn every_profile_s_map_fits_80_columns() {
    let s = Scratch::new();
    let list = dfu_in(s.dir.path(), &[], &["sim", "profiles", "--json"]);
    let v: serde_json::Value = serde_json::from_str(list.ok().stdout.trim()).unwrap();
    let names: Vec<String> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() > 5);
    for name in names {
        let r = dfu_in(s.dir.path(), &[], &["--sim", &name, "info"]);
        let strip: Vec<&str> = r
            .ok()
            .stdout
            .lines()
            .filter(|l| l.starts_with("  +") || l.starts_with("  |"))
            .collect();
        assert!(!strip.is_empty(), "{name}: no picture");
        for l in strip {
            assert_eq!(l.chars().count(), 80, "{name}: {l}");
        }
    }
}
