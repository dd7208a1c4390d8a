//! Several devices from the command line: `flash --all`, exact `--serial` sets, `--json`
//! per device, the production line (`--watch`, `--count`, `--log`) and `--wait`.

mod common;
use common::*;

fn json_lines(r: &Run) -> Vec<serde_json::Value> {
    r.stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Reads `len` bytes at 0x08000000 of the device with this serial (waiting for it to
/// appear, if it is not there yet).
fn read_serial(sim: &str, s: &Scratch, serial: &str, len: usize) -> Vec<u8> {
    let out = s.state(&format!("back-{serial}.bin"));
    let len = len.to_string();
    dfu(&[
        "--sim",
        sim,
        "--serial",
        serial,
        "--wait",
        "read",
        "--address",
        "0x08000000",
        "--length",
        &len,
        "-o",
        &out,
        "--force",
    ])
    .ok();
    read_file(&s.path(&format!("back-{serial}.bin")))
}

/// Three STM32F405 copies (serials `F4-1` .. `F4-3`) with state files, and extra devices.
fn line(s: &Scratch, extra: &str) -> String {
    format!("stm32f405*3,serial=F4,state={}{extra}", s.state("f4.json"))
}

#[test]
fn all_flashes_every_device_and_a_failure_or_refusal_stays_on_its_device() {
    // Eight STM32F405s, one of which loses its connection mid-write, and a Photon whose
    // checks refuse the image.
    let s = Scratch::new();
    let app = pattern(40_000, 11);
    let file = s.file("app.bin", &app);
    let sim = format!(
        "stm32f405*7,serial=F4,state={};stm32f405,serial=CUT,state={},fault=disconnect@dnload:4;photon",
        s.state("f4.json"),
        s.state("cut.json")
    );
    let r = dfu(&[
        "--sim",
        &sim,
        "flash",
        &file,
        "--address",
        "0x08000000",
        "--all",
    ]);
    // A device error (6) is more serious than a refusal (5).
    r.code(6)
        .says("2 of 9 device(s) failed: CUT (1-8), 00000000050C (1-9)");
    let rows: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(rows.len(), 10, "{}", r.stdout);
    for k in 1..=7 {
        let row = rows
            .iter()
            .find(|l| l.starts_with(&format!("F4-{k} (1-{k})")))
            .unwrap();
        assert!(row.contains(" ok ") && row.contains("40000"), "{row}");
    }
    assert!(rows[8].starts_with("CUT (1-8)") && rows[8].contains("failed"));
    assert!(rows[8].contains("dfu::device::usb"), "{}", rows[8]);
    assert!(
        rows[9].contains("refused") && rows[9].contains("dfu::refused::"),
        "{}",
        rows[9]
    );
    for k in 1..=7 {
        assert_eq!(read_serial(&sim, &s, &format!("F4-{k}"), app.len()), app);
    }
    // Only a refusal beside successes: exit 5.
    let r = dfu(&[
        "--sim",
        &line(&s, ";photon"),
        "flash",
        &file,
        "--address",
        "0x08000000",
        "--all",
    ]);
    r.code(5)
        .says("1 of 4 device(s) failed: 00000000050C (1-4)");
}

#[test]
fn named_serials_flash_exactly_that_set_and_a_missing_one_writes_nothing() {
    let s = Scratch::new();
    let app = pattern(20_000, 3);
    let file = s.file("app.bin", &app);
    let sim = line(&s, "");
    let r = dfu(&[
        "--sim",
        &sim,
        "--serial",
        "F4-1,NOPE",
        "flash",
        &file,
        "--address",
        "0x08000000",
    ]);
    r.code(4).says("NOPE").says("nothing was written");
    assert_eq!(read_serial(&sim, &s, "F4-1", 16), [0xFF; 16]);
    let r = dfu(&[
        "--sim",
        &sim,
        "--serial",
        "F4-3",
        "--serial",
        "F4-1",
        "flash",
        &file,
        "--address",
        "0x08000000",
    ]);
    r.ok();
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    assert_eq!(read_serial(&sim, &s, "F4-1", app.len()), app);
    assert_eq!(read_serial(&sim, &s, "F4-3", app.len()), app);
    assert_eq!(read_serial(&sim, &s, "F4-2", 16), [0xFF; 16]);
    // By path, too; and a command for one device refuses several.
    dfu(&[
        "--sim",
        &sim,
        "--path",
        "1-2,1-3",
        "flash",
        &file,
        "--address",
        "0x08000000",
    ])
    .ok();
    assert_eq!(read_serial(&sim, &s, "F4-2", app.len()), app);
    dfu(&["--sim", &sim, "--serial", "F4-1,F4-2", "info"])
        .code(2)
        .says("only `dfu flash`");
}

#[test]
fn json_events_carry_their_device_and_each_device_has_a_result() {
    let s = Scratch::new();
    let file = s.file("app.bin", &pattern(10_000, 5));
    let sim = line(&s, ";stm32f405,serial=BAD,fault=status=errWRITE@dnload:3");
    let r = dfu(&[
        "--sim",
        &sim,
        "flash",
        &file,
        "--address",
        "0x08000000",
        "--all",
        "--json",
    ]);
    r.code(6);
    let lines = json_lines(&r);
    let (events, results): (Vec<_>, Vec<_>) = lines.iter().partition(|v| v.get("event").is_some());
    assert!(events.len() > 8);
    for e in &events {
        assert!(
            e["device"]["serial"].is_string() && e["device"]["path"].is_string(),
            "{e}"
        );
    }
    let serials_with = |kind: &str| {
        let mut v: Vec<&str> = events
            .iter()
            .filter(|e| e["event"] == kind)
            .filter_map(|e| e["device"]["serial"].as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    assert_eq!(serials_with("start"), ["BAD", "F4-1", "F4-2", "F4-3"]);
    assert_eq!(results.len(), 1);
    let result = results[0];
    assert_eq!(
        (result["result"].as_str(), result["exit_code"].as_i64()),
        (Some("error"), Some(6))
    );
    let devices = result["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 4);
    for d in &devices[..3] {
        assert_eq!(d["result"], "ok", "{d}");
        assert_eq!(d["report"]["verified"], true);
    }
    assert_eq!(devices[3]["device"]["serial"], "BAD");
    assert_eq!(devices[3]["code"], "dfu::device::status");
    assert_eq!(devices[3]["exit_code"], 6);
}

// Unix by nature: checks the log against the system's sha256sum.
#[cfg(unix)]
#[test]
fn watch_flashes_each_device_once_as_it_appears_and_appends_to_the_log() {
    let s = Scratch::new();
    let app = pattern(30_000, 9);
    let file = s.file("app.bin", &app);
    let log = s.state("line.log");
    let sim = format!(
        "stm32f405,serial=A,state={};stm32f405,serial=B,appear-after=3000,unplug-after=90000;\
         stm32f405,serial=C,appear-after=6000",
        s.state("a.json")
    );
    let args = [
        "--sim",
        &sim,
        "flash",
        &file,
        "--address",
        "0x08000000",
        "--watch",
        "--count",
        "3",
        "--no-leave",
        "--log",
        &log,
    ];
    let r = dfu(&args);
    r.ok().says("3 device(s): 3 flashed, 0 failed");
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    let serials: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(
        serials,
        ["A", "B", "C"],
        "each device once, in the order they appeared"
    );
    let sha = sha256_hex(&app);
    for (row, path) in rows.iter().zip(["1-1", "1-2", "1-3"]) {
        assert!(row[0].ends_with('Z') && row[0].contains('T'), "{row:?}");
        assert_eq!(
            (row[2], row[3], row[4]),
            (path, format!("sha256:{sha}").as_str(), "ok")
        );
    }
    assert_eq!(read_serial(&sim, &s, "A", app.len()), app);
    // A second shift appends: six records, never truncated.
    dfu(&args).ok();
    let text = String::from_utf8(read_file(&s.path("line.log"))).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 6);
    assert!(records
        .iter()
        .all(|r| r["result"] == "ok" && r["sha256"] == sha && r["schema_version"] == 1));
    assert_eq!(records[4]["serial"], "B");
    assert_eq!(records[4]["path"], "1-2");
}

#[test]
fn watch_counts_a_failed_device_and_exits_with_its_class() {
    let s = Scratch::new();
    let file = s.file("app.bin", &pattern(8_000, 1));
    let sim =
        "stm32f405,serial=GOOD;stm32f405,serial=BAD,appear-after=2000,fault=disconnect@dnload:3";
    let r = dfu(&[
        "--sim",
        sim,
        "flash",
        &file,
        "--address",
        "0x08000000",
        "--watch",
        "--count",
        "2",
        "--json",
    ]);
    r.code(6);
    let lines = json_lines(&r);
    let done: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["event"] == "device-result")
        .collect();
    assert_eq!(done.len(), 2);
    assert_eq!(
        (done[0]["serial"].as_str(), done[0]["result"].as_str()),
        (Some("GOOD"), Some("ok"))
    );
    assert_eq!(
        (done[1]["serial"].as_str(), done[1]["result"].as_str()),
        (Some("BAD"), Some("failed"))
    );
    assert_eq!(done[1]["code"], "dfu::device::usb");
    let last = lines.last().unwrap();
    assert_eq!(
        (last["devices"].as_i64(), last["failed"].as_i64()),
        (Some(2), Some(1))
    );
}

#[test]
fn wait_waits_for_the_device_to_appear_and_gives_up_after_the_timeout() {
    let s = Scratch::new();
    let app = pattern(4_096, 2);
    let file = s.file("app.bin", &app);
    let sim = format!(
        "stm32f405,serial=W,appear-after=4000,state={}",
        s.state("w.json")
    );
    dfu(&["--sim", &sim, "flash", &file, "--address", "0x08000000"])
        .code(4)
        .says("no DFU device found");
    dfu(&[
        "--sim",
        &sim,
        "--wait",
        "flash",
        &file,
        "--address",
        "0x08000000",
    ])
    .ok()
    .says("waiting for a DFU device: put it in DFU mode (")
    .says("verified");
    assert_eq!(read_serial(&sim, &s, "W", app.len()), app);
    let r = dfu(&[
        "--sim",
        &sim,
        "--device",
        "0483:df11",
        "--wait",
        "--wait-timeout",
        "1500ms",
        "info",
    ]);
    r.code(4)
        .says("within --wait-timeout 1.5s")
        .says("BOOT0")
        .says("code: dfu::select::no-device");
    dfu(&["--sim", &sim, "--wait-timeout", "1s", "info"]).code(2);
    dfu(&["--sim", &sim, "--wait", "--wait-timeout", "soon", "info"]).code(2);
}

/// SHA-256 as `sha256sum` prints it (from the system tool, so the test does not trust the
/// code under test).
#[cfg(unix)]
fn sha256_hex(data: &[u8]) -> String {
    let s = Scratch::new();
    let f = s.file("x.bin", data);
    let out = std::process::Command::new("sha256sum")
        .arg(&f)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

// Unix by nature: sends SIGINT with kill.
#[cfg(unix)]
#[test]
fn ctrl_c_ends_a_watch_after_the_device_in_hand() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let s = Scratch::new();
    let file = s.file("app.bin", &pattern(4_096, 4));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dfu"))
        .args([
            "--sim",
            "stm32f405,serial=ONE",
            "flash",
            &file,
            "--address",
            "0x08000000",
        ])
        .args(["--watch", "--no-leave"])
        .env_remove("DFU_SIM")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(
        first.contains("  ONE  1-1  sha256:") && first.contains("  ok  "),
        "{first}"
    );
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(kill.unwrap().success());
    let r: Run = child.wait_with_output().unwrap().into();
    r.ok().says("1 device(s): 1 flashed, 0 failed");
    dfu(&[
        "--sim",
        "stm32f405",
        "--serial",
        "A,B",
        "flash",
        &file,
        "--watch",
    ])
    .code(2)
    .says("--watch takes at most one --serial");
}
