//! The boards the callers flash beyond the ST, Particle and Maple families: each caller's
//! exact command line (from its own source) on a pre-filled simulated board of the built-in
//! profile, through dfu-util 0.11 and through `dfu` named dfu-util.

use super::support::Case;
use crate::harness::pattern;

/// An application linked for `base` whose stack starts at `stack`: the vector table the
/// caller's build puts first (reset handler inside the image, Thumb bit set).
fn linked(base: u32, stack: u32, len: usize, seed: u32) -> Vec<u8> {
    let mut i = pattern(len, seed);
    i[..4].copy_from_slice(&stack.to_le_bytes());
    i[4..8].copy_from_slice(&(base + 0x131).to_le_bytes());
    i
}

/// An ESP-IDF build's `dfu.bin` for the chip with product ID `pid`: bootloader, partition
/// table and application at the addresses ESP-IDF flashes them to (each image starts with
/// the 0xE9 magic byte).
pub fn esp_idf_dfu_bin(pid: u16) -> Vec<u8> {
    let image = |len, seed| {
        let mut i = pattern(len, seed);
        i[0] = 0xE9;
        i
    };
    super::espdfu::dfu_bin(
        pid,
        &[
            (0x1000, "bootloader/bootloader.bin", image(6_000, 90)),
            (
                0x8000,
                "partition_table/partition-table.bin",
                pattern(3_072, 91),
            ),
            (0x1_0000, "app.bin", image(40_000, 92)),
        ],
    )
}

/// Plain DFU bootloaders that are not manifestation tolerant and restart into the
/// application right after they report dfuMANIFEST-WAIT-RESET.
const RESTARTS: &str = "the bootloader reports dfuMANIFEST-WAIT-RESET and restarts into the application; dfu-util resets the device itself, libusb reports it gone, and dfu-util exits 74 after a good flash; dfu wrote the whole image before manifestation and exits 0";

/// The callers' command lines for these boards.
pub fn callers() -> Vec<Case> {
    vec![
        // Klipper scripts/flash_usb.py flash_lpc176x with FLASH_DEVICE=1d50:6015:
        // call_dfuutil(["-d", ",1d50:6015"], "out/klipper.bin"), no -a, no -s.
        Case::new(
            "Klipper flash_lpc176x (Smoothieboard)",
            "smoothie,state=@0",
            &["-d", ",1d50:6015", "-D", "out/klipper.bin"],
        )
        .file("seed.bin", pattern(60_000, 70))
        .seed_dfu(&["flash", "seed.bin", "--no-leave", "--no-verify"])
        .file("out/klipper.bin", linked(0x4000, 0x1000_8000, 27_000, 71))
        .differs(74, 0, true, RESTARTS),
        // QMK platforms/chibios/flash.mk with BOOTLOADER = kiibohd: DFU_ARGS = -d 1C11:B007,
        // and the .bin carries the suffix `dfu-suffix -v 1C11 -p B007 -a` gave it.
        Case::new(
            "QMK kiibohd (Infinity 60%)",
            "kiibohd,state=@0",
            &["-d", "1C11:B007", "-D", "file.bin"],
        )
        .file("seed.bin", pattern(50_000, 72))
        .seed_dfu(&["flash", "seed.bin", "--no-leave", "--no-verify"])
        .file("file.bin", linked(0x1000, 0x2000_2000, 30_000, 73))
        .seed_suffix(&["-v", "1C11", "-p", "B007", "-a", "file.bin"])
        .differs(74, 0, true, RESTARTS),
        // QMK Toolbox Usb/Bootloader/KiibohdDfuDevice.cs: -a 0 -d 1C11:B007 -D "file".
        Case::new(
            "QMK Toolbox kiibohd",
            "kiibohd,state=@0",
            &["-a", "0", "-d", "1C11:B007", "-D", "file.bin"],
        )
        .file("seed.bin", pattern(9_000, 74))
        .seed_dfu(&["flash", "seed.bin", "--no-leave", "--no-verify"])
        .file("file.bin", linked(0x1000, 0x2000_2000, 14_000, 75))
        .differs(74, 0, true, RESTARTS),
        // QMK platforms/chibios/bootloader.mk (BOOTLOADER = apm32-dfu): DFU_ARGS and the
        // suffix `dfu-suffix -v 314B -p 0106 -a` gives the .bin.
        Case::new(
            "QMK apm32-dfu",
            "apm32f072,state=@0",
            &[
                "-d",
                "314B:0106",
                "-a",
                "0",
                "-s",
                "0x08000000:leave",
                "-D",
                "file.bin",
            ],
        )
        .file("seed.bin", pattern(70_000, 76))
        .seed_dfu(&[
            "flash",
            "seed.bin",
            "--address",
            "0x08000000",
            "--no-leave",
            "--no-verify",
        ])
        .file("file.bin", linked(0x0800_0000, 0x2000_4000, 41_000, 77))
        .seed_suffix(&["-v", "314B", "-p", "0106", "-a", "file.bin"]),
        // QMK Toolbox Usb/Bootloader/Apm32DfuDevice.cs.
        Case::new(
            "QMK Toolbox apm32-dfu",
            "apm32f072,state=@0",
            &[
                "-a",
                "0",
                "-d",
                "314B:0106",
                "-s",
                "0x08000000:leave",
                "-D",
                "file.bin",
            ],
        )
        .file("seed.bin", pattern(20_000, 78))
        .seed_dfu(&[
            "flash",
            "seed.bin",
            "--address",
            "0x08000000",
            "--no-leave",
            "--no-verify",
        ])
        .file("file.bin", linked(0x0800_0000, 0x2000_4000, 33_000, 79)),
        // arduino/ArduinoCore-mbed platform.txt (tools.dfu-util.upload.pattern) with the
        // Portenta H7's boards.txt values: the sketch goes to 0x08040000, past the bootloader.
        Case::new("ArduinoCore-mbed upload (Portenta H7)", "portenta-h7,state=@0", &["--device", "0x2341:0x035b", "-D", "sketch.bin", "-a0", "--dfuse-address=0x08040000:leave"])
            .file("seed.bin", pattern(300_000, 80))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08040000", "--no-leave", "--no-verify"])
            .file("sketch.bin", linked(0x0804_0000, 0x2408_0000, 180_000, 81)),
        // Alt 3 announces `/0x00000000/0*4Kg`: no memory at all.
        Case::new("Portenta H7: a write to an alt of 0 sectors", "portenta-h7,state=@0", &["-a", "3", "-s", "0x0", "-D", "f.bin"])
            .file("f.bin", pattern(5_000, 82))
            .differs(74, 64, true, "the alt announces 0 sectors; dfu-util takes the segment to end at 0xFFFFFFFF, tries to erase and fails on the device's error; dfu refuses before touching the device, and dfu info shows the alt has no memory"),
        // Zephyr scripts/west_commands/runners/dfu.py with an nRF52833 board's board.cmake
        // (--pid=2fe3:0100 --alt=0): the -l probe, then the download.
        Case::new("Zephyr west flash: the runner's -l probe (USB DFU class)", "zephyr-dfu", &["-d,2fe3:0100", "-l"]).found(),
        Case::new("Zephyr west flash --runner dfu-util (USB DFU class)", "zephyr-dfu,state=@0", &["-d,2fe3:0100", "-a", "0", "-D", "zephyr/zephyr.bin"])
            .file("seed.bin", pattern(90_000, 83))
            .seed_dfu(&["flash", "seed.bin", "--no-leave", "--no-verify"])
            .file("zephyr/zephyr.bin", linked(0xC000, 0x2002_0000, 52_000, 84)),
        // boschsensortec/COINES_SDK firmware/app3.1/mtp_fw_update/update_mtp_fw.sh.
        Case::new("COINES update_mtp_fw (APP3.0 RAM alt)", "coines-app30,state=@0", &["--device", "-,108c:ab39", "-a", "RAM", "-D", "usb_mtp.pkg", "-R"])
            .file("seed.bin", pattern(80_000, 85))
            .seed_dfu(&["flash", "seed.bin", "--alt", "RAM", "--no-leave", "--no-verify"])
            .file("usb_mtp.pkg", pattern(61_000, 86)),
        // The bootloader README's flash line.
        Case::new("COINES bootloader README: -a FLASH", "coines-app30,state=@0", &["-a", "FLASH", "-D", "fw.bin"])
            .file("seed.bin", pattern(150_000, 87))
            .seed_dfu(&["flash", "seed.bin", "--alt", "FLASH", "--no-leave", "--no-verify"])
            .file("fw.bin", linked(0x3_0000, 0x2004_0000, 70_000, 88)),
        // ESP-IDF tools/cmake/run_dfu_util.cmake (`idf.py dfu-flash`) for an ESP32-S2 (PID 2,
        // tools/cmake/dfu.cmake): the ROM's DFU interface says protocol 1 yet is in dfuIDLE.
        Case::new("ESP-IDF idf.py dfu-flash (ESP32-S2)", "esp32s2,state=@0", &["-d", "303a:2", "-D", "build/dfu.bin"])
            .file("seed.bin", pattern(120_000, 89))
            .seed_dfu(&["flash", "seed.bin", "--no-leave", "--no-verify"])
            .file("build/dfu.bin", esp_idf_dfu_bin(0x0002)),
        // The same line for an ESP32-S3 (PID 9, tools/cmake/dfu.cmake).
        Case::new("ESP-IDF idf.py dfu-flash (ESP32-S3)", "esp32s3,state=@0", &["-d", "303a:9", "-D", "build/dfu.bin"])
            .file("seed.bin", pattern(70_000, 93))
            .seed_dfu(&["flash", "seed.bin", "--no-leave", "--no-verify"])
            .file("build/dfu.bin", esp_idf_dfu_bin(0x0009)),
        Case::new("-l: the boards side by side", "smoothie;kiibohd;apm32f072;portenta-h7;zephyr-dfu;coines-app30;esp32s2", &["-l"]).found(),
    ]
}
