//! dfu-util command lines harvested from public build systems, flashing scripts and docs.
//! Each case names where its line was found (repository, file, and the commit read). The
//! options are kept exactly as the source has them; the file names too, each file being a
//! test image sized for the device and linked for the address the line writes to. The
//! device is pre-filled first, so that what a line keeps counts as much as what it writes.
//!
//! Sources of the command lines (commit read):
//! - Klipper3d/klipper 84104bbb: scripts/flash_usb.py (`flash_dfuutil` adds `-d ,VID:PID`
//!   or `-p BUS-PORT`, `flash_stm32f4` adds `-R -a 0 -s START:leave`), docs/Bootloaders.md.
//! - qmk/qmk_firmware: platforms/chibios/bootloader.mk (`DFU_ARGS` per bootloader) and
//!   platforms/chibios/flash.mk (`$(DFU_UTIL) $(DFU_ARGS) -D $(BUILD_DIR)/$(TARGET).bin`).
//! - qmk/qmk_toolbox cde76bfd: windows/QMK Toolbox/Usb/Bootloader/*.cs.
//! - platformio/platform-ststm32 018acc3a: builder/main.py (`-d` from the board's `hwids`,
//!   `-a 0 -s OFFSET:leave -D`), boards/*.json.
//! - zephyrproject-rtos/zephyr: scripts/west_commands/runners/dfu.py (`-d,PID -s ADDR:leave
//!   -a ALT -D`), boards/weact/*/board.cmake (`--pid=0483:df11 --alt=0 --dfuse`).
//! - hathach/tinyusb fd70160a: hw/bsp/stm32f4/boards/*/board.mk, hw/bsp/gd32vf103/family.mk,
//!   hw/bsp/family_support.cmake, examples/device/dfu/src/main.c.
//! - tinygo-org/tinygo ef4f46f1: targets/feather-stm32f405.json (`flash-command`).
//! - micropython/micropython 1c3c2011: ports/stm32/Makefile (`RUN_DFU`), ports/stm32/autoflash.
//! - betaflight/betaflight 301d01ab: Makefile (`dfu_flash`), .devcontainer/README.md.
//! - RIOT-OS/RIOT c8bd52ff: makefiles/tools/dfu-util.inc.mk with boards/common/*/
//!   Makefile.include and boards/spark-core/Makefile.include, boards/spark-core/doc.md.
//! - rogerclarkmelbourne/Arduino_STM32 ad45681f: STM32F1/system/Makefile, tools/linux/
//!   maple_upload with STM32F1/boards.txt (`upload.altID`).
//! - particle-iot/particle-cli abff7734: src/lib/dfu.js (`writeDfu`, `readDfu`) with
//!   src/lib/deviceSpecs/specifications.js and src/cmd/flash.js.
//! - blackmagic-debug/blackmagic 116a72e7: src/platforms/*/README.md; 78c45cb7:
//!   scripts/stm32_mem.py.
//! - ArduPilot/ardupilot 82b64013: libraries/AP_HAL_F4Light/boards/*/support/UPLOAD-DFU*.sh.
//! - rusefi/rusefi: firmware/flash_dfu.sh; rusefi/rusefi_documentation:
//!   HOWTO-Update-Firmware.md.

use super::corpus::{linked_for, particle_server_key};
use super::support::Case;
use crate::harness::pattern;

const R_AFTER_LEAVE: &str = "-R after :leave: the device already left; dfu-util's reset fails and it exits 251 after a good flash; ours verified and left as asked";
const RESETS_ON_LEAVE: &str = "this bootloader resets on leave without answering the last status request: dfu-util reports Error 74 after a good flash; dfu verified the image before the leave and exits 0";
const MAPLE_RESET: &str = "the Maple bootloaders wait in dfuMANIFEST-WAIT-RESET; dfu-util resets the device and libusb reports it gone, 74 after a good flash; dfu verified before manifestation and exits 0";
const DFUSE_ON_PLAIN: &str = "-s on a plain DFU 1.1 device: dfu-util tries DfuSe and fails (74), dfu refuses before touching the device (64); nothing is written either way";

/// A DfuSe device's alt 0 pre-filled with `len` bytes from 0x08000000.
fn filled(case: Case, len: usize, seed: u32) -> Case {
    case.file("seed.bin", pattern(len, seed)).seed_dfu(&[
        "flash",
        "seed.bin",
        "--address",
        "0x08000000",
        "--no-leave",
        "--force",
    ])
}

/// A DfuSe device's alt 0 pre-filled with `len` bytes from `address` (past a bootloader).
fn filled_at(case: Case, address: &'static str, len: usize, seed: u32) -> Case {
    case.file("seed.bin", pattern(len, seed)).seed_dfu(&[
        "flash",
        "seed.bin",
        "--address",
        address,
        "--no-leave",
        "--force",
    ])
}

/// A plain DFU device's `alt` pre-filled with `len` bytes.
fn filled_alt(case: Case, alt: &str, len: usize, seed: u32) -> Case {
    case.file("seed.bin", pattern(len, seed)).seed_dfu(&[
        "flash",
        "seed.bin",
        "--alt",
        alt,
        "--no-leave",
        "--no-verify",
    ])
}

/// A DCT (alt 1 of a Particle device) or a Core's external flash holding settings.
fn filled_settings(case: Case, seed: u32) -> Case {
    case.file("dct.bin", pattern(16_384, seed)).seed_dfu(&[
        "flash",
        "dct.bin",
        "--alt",
        "1",
        "--address",
        "0",
        "--force",
        "--no-leave",
    ])
}

/// A DfuSe file of `len` bytes for 0x08000000 at `path`, made by `dfu image convert`.
fn dfuse_file(case: Case, path: &'static str, len: usize, seed: u32) -> Case {
    let dir: &'static str = match path.rsplit_once('/') {
        Some((d, _)) => d,
        None => ".",
    };
    case.file("fw.bin", pattern(len, seed))
        .file(
            if dir == "." {
                "keep"
            } else {
                leak(format!("{dir}/keep"))
            },
            Vec::new(),
        )
        .seed_dfu(&[
            "image",
            "convert",
            "fw.bin",
            "-o",
            path,
            "--to",
            "dfuse",
            "--address",
            "0x08000000",
            "--vid",
            "0483",
            "--pid",
            "df11",
        ])
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Klipper, QMK, PlatformIO, Zephyr: the STM32 ROM bootloader.
#[rustfmt::skip]
fn stm32_rom() -> Vec<Case> {
    vec![
        // Klipper scripts/flash_usb.py flash_stm32f4, `make flash FLASH_DEVICE=0483:df11`.
        filled(Case::new("Klipper flash_usb.py, STM32F446 with a 32 KiB bootloader", "stm32f446,state=@0", &["-d", ",0483:df11", "-R", "-a", "0", "-s", "0x8008000:leave", "-D", "out/klipper.bin"]), 60_000, 101)
            .file("out/klipper.bin", linked_for(0x0800_8000, 30_000, 102))
            .differs(251, 0, true, R_AFTER_LEAVE),
        filled(Case::new("Klipper flash_usb.py, STM32H723 with a 128 KiB bootloader", "stm32h723,state=@0", &["-d", ",0483:df11", "-R", "-a", "0", "-s", "0x8020000:leave", "-D", "out/klipper.bin"]), 150_000, 103)
            .file("out/klipper.bin", linked_for(0x0802_0000, 30_000, 104))
            .differs(251, 0, true, R_AFTER_LEAVE),
        filled(Case::new("Klipper flash_usb.py, STM32G0B1 without bootloader", "stm32g0b1,state=@0", &["-d", ",0483:df11", "-R", "-a", "0", "-s", "0x8000000:leave", "-D", "out/klipper.bin"]), 40_000, 105)
            .file("out/klipper.bin", linked_for(0x0800_0000, 25_000, 106))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        // Klipper docs/Bootloaders.md (MSC bootloader onto an STM32F072).
        filled(Case::new("Klipper docs/Bootloaders.md, STM32F072", "stm32f072,state=@0", &["-d", "0483:df11", "-a", "0", "-R", "-D", "MSCboot-STM32F072.bin", "-s0x08000000:leave"]), 30_000, 107)
            .file("MSCboot-STM32F072.bin", linked_for(0x0800_0000, 20_000, 108))
            .differs(251, 0, true, R_AFTER_LEAVE),
        // QMK platforms/chibios/bootloader.mk (stm32-dfu) + flash.mk, after `dfu-suffix -v 0483 -p DF11 -a`.
        filled(Case::new("QMK stm32-dfu, STM32F303 (Planck rev6)", "stm32f303,state=@0", &["-d", "0483:DF11", "-a", "0", "-s", "0x08000000:leave", "-D", ".build/planck_rev6_default.bin"]), 50_000, 109)
            .file(".build/planck_rev6_default.bin", linked_for(0x0800_0000, 30_000, 110))
            .seed_suffix(&["-v", "0483", "-p", "DF11", "-a", ".build/planck_rev6_default.bin"]),
        filled(Case::new("QMK stm32-dfu, STM32F072", "stm32f072,state=@0", &["-d", "0483:DF11", "-a", "0", "-s", "0x08000000:leave", "-D", ".build/kb_default.bin"]), 50_000, 111)
            .file(".build/kb_default.bin", linked_for(0x0800_0000, 30_000, 112)),
        filled(Case::new("QMK stm32-dfu, STM32L432", "stm32l432,state=@0", &["-d", "0483:DF11", "-a", "0", "-s", "0x08000000:leave", "-D", ".build/kb_default.bin"]), 50_000, 113)
            .file(".build/kb_default.bin", linked_for(0x0800_0000, 30_000, 114)),
        // flash.mk adds `-S $(SERIAL)` when SERIAL is set.
        filled(Case::new("QMK stm32-dfu with SERIAL=, STM32F401", "stm32f401,serial=2061335B5646,state=@0", &["-d", "0483:DF11", "-a", "0", "-s", "0x08000000:leave", "-S", "2061335B5646", "-D", ".build/kb_default.bin"]), 50_000, 115)
            .file(".build/kb_default.bin", linked_for(0x0800_0000, 30_000, 116)),
        // QMK Toolbox windows/QMK Toolbox/Usb/Bootloader/Stm32DfuDevice.cs: Flash, then Reset.
        filled(Case::new("QMK Toolbox Stm32DfuDevice flash, STM32F303", "stm32f303,state=@0", &["-a", "0", "-d", "0483:DF11", "-s", "0x08000000:leave", "-D", "planck_rev6_default.bin"]), 10_000, 117)
            .file("planck_rev6_default.bin", linked_for(0x0800_0000, 30_000, 118)),
        filled(Case::new("QMK Toolbox Stm32DfuDevice reset, STM32F303", "stm32f303,state=@0", &["-a", "0", "-d", "0483:DF11", "-s", "0x08000000:leave"]), 10_000, 119),
        // platform-ststm32 builder/main.py; boards/<board>.json has no hwids (0x0483:0xDF11) and
        // upload.offset_address as given; the dfu-suffix step is its AddPostAction.
        filled(Case::new("PlatformIO blackpill_f401ce", "stm32f401,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 120)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 121))
            .seed_suffix(&["-v", "0x0483", "-p", "0xDF11", "-d", "0xffff", "-a", "firmware.bin"]),
        filled(Case::new("PlatformIO blackpill_f411ce", "stm32f411,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 122)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 123))
            .seed_suffix(&["-v", "0x0483", "-p", "0xDF11", "-d", "0xffff", "-a", "firmware.bin"]),
        filled(Case::new("PlatformIO weact_g474ceu6", "stm32g474,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 124)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 125)),
        filled(Case::new("PlatformIO weact_mini_h743vitx", "stm32h743,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 126)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 127)),
        filled(Case::new("PlatformIO fysetc_s6 (offset_address 0x08010000)", "stm32f446,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08010000:leave", "-D", "firmware.bin"]), 90_000, 128)
            .file("firmware.bin", linked_for(0x0801_0000, 20_000, 129)),
        filled(Case::new("PlatformIO olimexino_stm32f3", "stm32f303,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 130)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 131)),
        filled(Case::new("PlatformIO nucleo_g0b1re", "stm32g0b1,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 132)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 133))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        filled(Case::new("PlatformIO elektor_f072c8", "stm32f072,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 134)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 135)),
        filled(Case::new("PlatformIO vccgnd_f407zg_mini", "stm32f407-v21,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 136)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 137)),
        // boards/rymcu_f407ve.json: hwids 1EAF:0003 then 0483:3748, which no STM32 ROM answers to.
        filled(Case::new("PlatformIO rymcu_f407ve (two hwids, neither the ROM's)", "stm32f407-v21,state=@0", &["-d", "0x1EAF:0x0003,0x0483:0x3748", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"]), 30_000, 138)
            .file("firmware.bin", linked_for(0x0800_0000, 20_000, 139)),
        // Zephyr runners/dfu.py with boards/weact/<board>/board.cmake.
        filled(Case::new("Zephyr west flash, weact blackpill_f401ce", "stm32f401,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"]), 30_000, 140)
            .file("zephyr/zephyr.bin", linked_for(0x0800_0000, 20_000, 141)),
        filled(Case::new("Zephyr west flash, weact blackpill_f411ce", "stm32f411,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"]), 30_000, 142)
            .file("zephyr/zephyr.bin", linked_for(0x0800_0000, 20_000, 143)),
        filled(Case::new("Zephyr west flash, weact stm32g474_core", "stm32g474,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"]), 30_000, 144)
            .file("zephyr/zephyr.bin", linked_for(0x0800_0000, 20_000, 145)),
        filled(Case::new("Zephyr west flash, weact mini_stm32h743", "stm32h743,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"]), 30_000, 146)
            .file("zephyr/zephyr.bin", linked_for(0x0800_0000, 20_000, 147)),
        filled(Case::new("Zephyr west flash, weact stm32f446_core", "stm32f446,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"]), 30_000, 148)
            .file("zephyr/zephyr.bin", linked_for(0x0800_0000, 20_000, 149)),
        filled(Case::new("Zephyr west flash, weact stm32f405_core", "stm32f405,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"]), 30_000, 150)
            .file("zephyr/zephyr.bin", linked_for(0x0800_0000, 20_000, 151)),
    ]
}

/// TinyUSB, TinyGo, MicroPython, Betaflight, RIOT, Black Magic.
#[rustfmt::skip]
fn firmware_projects() -> Vec<Case> {
    vec![
        filled(Case::new("TinyUSB hw/bsp/stm32f4/boards/feather_stm32f405/board.mk", "stm32f405,state=@0", &["-R", "-a", "0", "--dfuse-address", "0x08000000", "-D", "_build/feather_stm32f405/cdc_msc.bin"]), 40_000, 201)
            .file("_build/feather_stm32f405/cdc_msc.bin", linked_for(0x0800_0000, 20_000, 202)),
        filled(Case::new("TinyUSB hw/bsp/stm32f4/boards/stm32f401blackpill/board.mk", "stm32f401,state=@0", &["-R", "-a", "0", "--dfuse-address", "0x08000000", "-D", "_build/stm32f401blackpill/cdc_msc.bin"]), 40_000, 203)
            .file("_build/stm32f401blackpill/cdc_msc.bin", linked_for(0x0800_0000, 20_000, 204)),
        filled(Case::new("TinyUSB hw/bsp/stm32f4/boards/stm32f411blackpill/board.mk", "stm32f411,state=@0", &["-R", "-a", "0", "--dfuse-address", "0x08000000", "-D", "_build/stm32f411blackpill/cdc_msc.bin"]), 40_000, 205)
            .file("_build/stm32f411blackpill/cdc_msc.bin", linked_for(0x0800_0000, 20_000, 206)),
        filled(Case::new("TinyUSB hw/bsp/gd32vf103/family.mk (Longan Nano)", "gd32vf103,state=@0", &["-R", "-a", "0", "--dfuse-address", "0x08000000", "-D", "_build/sipeed_longan_nano/cdc_msc.bin"]), 30_000, 207)
            .file("_build/sipeed_longan_nano/cdc_msc.bin", pattern(20_000, 208)),
        // examples/device/dfu/src/main.c (the TinyUSB DFU example, cafe:400b).
        filled_alt(Case::new("TinyUSB examples/device/dfu: download alt 0", "tinyusb,state=@0", &["-d", "cafe", "-a", "0", "-D", "fw.bin"]), "0", 900, 209)
            .file("fw.bin", pattern(300, 210)),
        filled_alt(Case::new("TinyUSB examples/device/dfu: download alt 1", "tinyusb,state=@0", &["-d", "cafe", "-a", "1", "-D", "ee.bin"]), "1", 500, 211)
            .file("ee.bin", pattern(200, 212)),
        filled_alt(Case::new("TinyUSB examples/device/dfu: upload alt 0", "tinyusb,state=@0", &["-d", "cafe", "-a", "0", "-U", "up.bin"]), "0", 700, 213)
            .upload("up.bin"),
        filled_alt(Case::new("TinyUSB examples/device/dfu: upload alt 1", "tinyusb,state=@0", &["-d", "cafe", "-a", "1", "-U", "up.bin"]), "1", 400, 214)
            .upload("up.bin"),
        filled(Case::new("TinyGo targets/feather-stm32f405.json flash-command", "stm32f405,state=@0", &["--alt", "0", "--dfuse-address", "0x08000000", "--download", "feather-stm32f405.bin"]), 40_000, 215)
            .file("feather-stm32f405.bin", linked_for(0x0800_0000, 20_000, 216)),
        // MicroPython ports/stm32/Makefile RUN_DFU (USE_PYDFU=0), PYBV11 = STM32F405.
        dfuse_file(filled(Case::new("MicroPython make deploy USE_PYDFU=0 (PYBV11)", "stm32f405,state=@0", &["-a", "0", "-d", "0x0483:0xDF11", "-D", "build-PYBV11/firmware.dfu", "-s", ":leave"]), 60_000, 217), "build-PYBV11/firmware.dfu", 40_000, 218),
        dfuse_file(filled(Case::new("MicroPython ports/stm32/autoflash", "stm32f405,state=@0", &["-a", "0", "-d", "0483:df11", "-D", "build/flash.dfu"]), 60_000, 219), "build/flash.dfu", 40_000, 220),
        // Betaflight Makefile dfu_flash: `dfu-util -a 0 -D $(TARGET_DFU) -s :leave`.
        dfuse_file(filled(Case::new("Betaflight make dfu_flash, STM32F405", "stm32f405,state=@0", &["-a", "0", "-D", "obj/betaflight_STM32F405.dfu", "-s", ":leave"]), 60_000, 221), "obj/betaflight_STM32F405.dfu", 40_000, 222),
        dfuse_file(filled(Case::new("Betaflight .devcontainer/README.md, STM32F411", "stm32f411,state=@0", &["-a", "0", "-D", "./obj/betaflight_2025.12.0-beta_STM32F411_CRAZYBEEF4DX.dfu", "-s", ":leave"]), 60_000, 223), "./obj/betaflight_2025.12.0-beta_STM32F411_CRAZYBEEF4DX.dfu", 40_000, 224),
        dfuse_file(filled(Case::new("Betaflight make dfu_flash, STM32F7X2", "stm32f722,state=@0", &["-a", "0", "-D", "obj/betaflight_STM32F7X2.dfu", "-s", ":leave"]), 60_000, 225), "obj/betaflight_STM32F7X2.dfu", 40_000, 226),
        dfuse_file(filled(Case::new("Betaflight make dfu_flash, STM32F745", "stm32f745,state=@0", &["-a", "0", "-D", "obj/betaflight_STM32F745.dfu", "-s", ":leave"]), 60_000, 227), "obj/betaflight_STM32F745.dfu", 40_000, 228),
        dfuse_file(filled(Case::new("Betaflight make dfu_flash, STM32H743", "stm32h743,state=@0", &["-a", "0", "-D", "obj/betaflight_STM32H743.dfu", "-s", ":leave"]), 60_000, 229), "obj/betaflight_STM32H743.dfu", 40_000, 230),
        dfuse_file(filled(Case::new("Betaflight make dfu_flash, STM32G47X", "stm32g474,state=@0", &["-a", "0", "-D", "obj/betaflight_STM32G47X.dfu", "-s", ":leave"]), 60_000, 231), "obj/betaflight_STM32G47X.dfu", 40_000, 232),
        // ArduPilot libraries/AP_HAL_F4Light/boards/<board>/support/UPLOAD-DFU*.sh (STM32F405);
        // the scripts name ../../../../../ArduCopter/<board>.bin, kept here inside the run's directory.
        filled(Case::new("ArduPilot F4Light f4light_MiniF4_OSD UPLOAD-DFU.sh", "stm32f405,state=@0", &["-a", "0", "--dfuse-address", "0x08000000", "-D", "ArduCopter/f4light_MiniF4_OSD.bin"]), 90_000, 267)
            .file("ArduCopter/f4light_MiniF4_OSD.bin", linked_for(0x0800_0000, 60_000, 268)),
        filled(Case::new("ArduPilot F4Light f4light_Revolution_EE128 UPLOAD-DFU-plane.sh", "stm32f405,state=@0", &["-a", "0", "--dfuse-address", "0x08000000:leave", "-D", "ArduPlane/f4light_Revolution_EE128_bl.bin"]), 90_000, 269)
            .file("ArduPlane/f4light_Revolution_EE128_bl.bin", linked_for(0x0800_0000, 30_000, 270)),
        filled(Case::new("ArduPilot F4Light f4light_cl_racing UPLOAD-DFU.sh", "stm32f405,state=@0", &["-a", "0", "--dfuse-address", "0x08010000:leave", "-D", "ArduCopter/f4light_cl_racing.bin", "-R"]), 90_000, 271)
            .file("ArduCopter/f4light_cl_racing.bin", linked_for(0x0801_0000, 60_000, 272))
            .differs(251, 0, true, R_AFTER_LEAVE),
        filled(Case::new("ArduPilot F4Light f4light_Revolution_SD UPLOAD-DFU.sh", "stm32f405,state=@0", &["-a", "0", "--dfuse-address", "0x08010000:leave", "-D", "ArduCopter/f4light_Revolution_SD.bin", "-R"]), 90_000, 273)
            .file("ArduCopter/f4light_Revolution_SD.bin", linked_for(0x0801_0000, 60_000, 274))
            .differs(251, 0, true, R_AFTER_LEAVE),
        // rusEFI firmware/flash_dfu.sh and rusefi_documentation HOWTO-Update-Firmware.md (STM32F407).
        dfuse_file(filled(Case::new("rusEFI firmware/flash_dfu.sh", "stm32f407-v21,state=@0", &["--alt", "0", "--download", "deliver/rusefi.dfu", "-s", ":leave"]), 60_000, 275), "deliver/rusefi.dfu", 40_000, 276),
        dfuse_file(filled(Case::new("rusEFI documentation HOWTO-Update-Firmware.md", "stm32f407-v21,state=@0", &["-a", "0", "-D", "rusefi.dfu"]), 60_000, 277), "rusefi.dfu", 40_000, 278),
        // RIOT makefiles/tools/dfu-util.inc.mk: --device --alt --download [opts] --dfuse-address.
        filled(Case::new("RIOT weact-f411ce PROGRAMMER=dfu-util", "stm32f411,state=@0", &["--device", "0483:df11", "--alt", "0", "--download", "hello-world.bin", "--dfuse-address", "0x8000000:leave"]), 40_000, 233)
            .file("hello-world.bin", linked_for(0x0800_0000, 20_000, 234)),
        filled(Case::new("RIOT weact-f401ce PROGRAMMER=dfu-util", "stm32f401,state=@0", &["--device", "0483:df11", "--alt", "0", "--download", "hello-world.bin", "--dfuse-address", "0x8000000:leave"]), 40_000, 235)
            .file("hello-world.bin", linked_for(0x0800_0000, 20_000, 236)),
        filled(Case::new("RIOT gd32v boards PROGRAMMER=dfu-util", "gd32vf103,state=@0", &["--device", "28e9:0189", "--alt", "0", "--download", "hello-world.bin", "--dfuse-address", "0x8000000:leave"]), 30_000, 237)
            .file("hello-world.bin", pattern(20_000, 238)),
        filled_at(Case::new("RIOT spark-core (ROM_OFFSET 0x5000)", "core,state=@0", &["--device", "1d50:607f", "--alt", "0", "--download", "hello-world.bin", "--dfuse-address", "0x8005000:leave"]), "0x08005000", 40_000, 239)
            .file("hello-world.bin", linked_for(0x0800_5000, 20_000, 240))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        filled_at(Case::new("RIOT boards/spark-core/doc.md", "core,state=@0", &["-d", "1d50:607f", "-a", "0", "-s", "0x08005000:leave", "-D", "core-firmware.bin"]), "0x08005000", 40_000, 241)
            .file("core-firmware.bin", linked_for(0x0800_5000, 20_000, 242))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        // boards/common/blxxxpill: DFU_USE_DFUSE=1 with the STM32duino bootloader (plain DFU).
        filled_alt(Case::new("RIOT bluepill BOOTLOADER=stm32duino", "stm32duino,state=@0", &["--device", "1eaf:0003", "--alt", "2", "--download", "hello-world.bin", "--reset", "--dfuse-address", "0x8002000:leave"]), "2", 20_000, 243)
            .file("hello-world.bin", linked_for(0x0800_2000, 10_000, 244))
            .differs(74, 64, true, DFUSE_ON_PLAIN),
        // Black Magic Probe platform READMEs and scripts/stm32_mem.py.
        filled(Case::new("Black Magic blackpill-f4 README: bootloader", "stm32f411,state=@0", &["-d", "0483:df11", "--alt", "0", "-s", "0x08000000:leave", "-D", "build/blackmagic_blackpill_f411ce_bootloader.bin"]), 80_000, 245)
            .file("build/blackmagic_blackpill_f411ce_bootloader.bin", linked_for(0x0800_0000, 16_000, 246)),
        filled(Case::new("Black Magic blackpill-f4 README: firmware at 0x08004000", "stm32f411,state=@0", &["-d", "0483:df11", "--alt", "0", "-s", "0x08004000:leave", "-D", "build/blackmagic_blackpill_f411ce_firmware.bin"]), 80_000, 247)
            .file("build/blackmagic_blackpill_f411ce_firmware.bin", linked_for(0x0800_4000, 60_000, 248)),
        filled(Case::new("Black Magic f072 README", "stm32f072,state=@0", &["-d", "0483:df11", "-a", "0", "-s", "0x08000000:leave", "-D", "blackmagic_f072_firmware.bin"]), 80_000, 249)
            .file("blackmagic_f072_firmware.bin", linked_for(0x0800_0000, 60_000, 250)),
        filled(Case::new("Black Magic f3 README", "stm32f303,state=@0", &["-d", "0483:df11", "-a", "0", "-s", "0x08000000:leave", "-D", "blackmagic_f3_firmware.bin"]), 80_000, 251)
            .file("blackmagic_f3_firmware.bin", linked_for(0x0800_0000, 60_000, 252)),
        filled(Case::new("Black Magic f4discovery README", "stm32f407-v21,state=@0", &["-a", "0", "--dfuse-address", "0x08000000", "-D", "blackmagic.bin"]), 80_000, 253)
            .file("blackmagic.bin", linked_for(0x0800_0000, 60_000, 254)),
        filled(Case::new("Black Magic ctxlink README (STM32F401)", "stm32f401,state=@0", &["-a", "0", "--dfuse-address", "0x08000000:leave", "-D", "blackmagic_ctxlink_firmware.bin"]), 80_000, 255)
            .file("blackmagic_ctxlink_firmware.bin", linked_for(0x0800_0000, 60_000, 256)),
        filled_at(Case::new("Black Magic scripts/stm32_mem.py: native probe upgrade", "blackmagic,state=@0", &["-d", "1d50:6018,:6017", "-s", "0x08002000:leave", "-D", "src/blackmagic.bin"]), "0x08002000", 90_000, 257)
            .file("src/blackmagic.bin", linked_for(0x0800_2000, 60_000, 258))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        Case::new("Black Magic f072/f3 README: detach the probe", "blackmagic,mode=runtime", &["-d", "1d50:6018", "-e"]),
        // The 96b_carbon README types the ids in brackets; dfu-util 0.11 takes the line anyway.
        filled(Case::new("Black Magic 96b_carbon README (STM32F401)", "stm32f401,state=@0", &["-d", "[0483:df11]", "-a", "0", "-D", "src/blackmagic.bin", "-s", "0x08000000"]), 80_000, 259)
            .file("src/blackmagic.bin", linked_for(0x0800_0000, 30_000, 260)),
        // src/platforms/stlink/Bootloader_Upgrade on the probe's own bootloader.
        filled_at(Case::new("Black Magic stlink Bootloader_Upgrade: upgrade loader", "blackmagic,state=@0", &["-s", "0x08002000:leave", "-D", "dfu_upgrade.bin"]), "0x08002000", 30_000, 261)
            .file("dfu_upgrade.bin", linked_for(0x0800_2000, 8_000, 262))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        filled_at(Case::new("Black Magic stlink Bootloader_Upgrade: new bootloader (read-only pages)", "blackmagic,state=@0", &["-s", "0x08000000", "-D", "blackmagic_dfu.bin"]), "0x08002000", 30_000, 263)
            .file("blackmagic_dfu.bin", linked_for(0x0800_0000, 7_000, 264)),
        filled_at(Case::new("Black Magic stlink Bootloader_Upgrade: firmware with :force", "blackmagic,state=@0", &["-s", "0x08002000:leave:force", "-D", "blackmagic.bin"]), "0x08002000", 30_000, 265)
            .file("blackmagic.bin", linked_for(0x0800_2000, 60_000, 266))
            .differs(74, 0, true, RESETS_ON_LEAVE),
        // The `-l` probes whose output callers read (docs/dfu-util.md, "What callers read").
        Case::new("particle-cli listDFUDevices: dfu-util -l", "photon;stm32f405", &["-l"]).found(),
        Case::new("Zephyr dfu.py find_device: dfu-util -d,0483:df11 -l", "stm32f401;photon", &["-d,0483:df11", "-l"]).found(),
        Case::new("QMK flash.mk: dfu-util -l | grep -q \"Found DFU\" (GD32VF103)", "gd32vf103", &["-l"]).found(),
    ]
}

/// Plain DFU Maple bootloaders, Particle devices, GD32VF103.
#[rustfmt::skip]
fn boards() -> Vec<Case> {
    vec![
        // Klipper docs/Bootloaders.md (STM32duino bootloader on an STM32F103).
        filled_alt(Case::new("Klipper docs/Bootloaders.md, STM32duino bootloader", "stm32duino,state=@0", &["-d", "1eaf:0003", "-a", "2", "-R", "-D", "out/klipper.bin"]), "2", 30_000, 301)
            .file("out/klipper.bin", linked_for(0x0800_2000, 20_000, 302))
            .differs(74, 0, true, MAPLE_RESET),
        // QMK bootloader.mk (stm32duino): DFU_ARGS = -d 1EAF:0003 -a 2 -R.
        filled_alt(Case::new("QMK stm32duino (bluepill)", "stm32duino,state=@0", &["-d", "1EAF:0003", "-a", "2", "-R", "-D", ".build/bluepill_default.bin"]), "2", 30_000, 303)
            .file(".build/bluepill_default.bin", linked_for(0x0800_2000, 20_000, 304))
            .differs(74, 0, true, MAPLE_RESET),
        // QMK Toolbox Stm32DuinoDevice.cs.
        filled_alt(Case::new("QMK Toolbox Stm32DuinoDevice flash", "stm32duino,state=@0", &["-a", "2", "-d", "1EAF:0003", "-R", "-D", "kb.bin"]), "2", 30_000, 305)
            .file("kb.bin", linked_for(0x0800_2000, 15_000, 306))
            .differs(74, 0, true, MAPLE_RESET),
        // Arduino_STM32 STM32F1/system/Makefile (BOOTLOADER=maple): `make ram`, `make flash`.
        filled_alt(Case::new("Arduino_STM32 Makefile upload flash (Maple)", "maple,state=@0", &["-a1", "-d", "1EAF:0003", "-D", "build/maple.bin", "-R"]), "1", 40_000, 307)
            .file("build/maple.bin", linked_for(0x0800_5000, 20_000, 308))
            .differs(74, 0, true, MAPLE_RESET),
        Case::new("Arduino_STM32 Makefile upload ram (Maple)", "maple,state=@0", &["-a0", "-d", "1EAF:0003", "-D", "build/maple.bin", "-R"])
            .file("build/maple.bin", linked_for(0x2000_0C00, 3_000, 309))
            .differs(74, 0, true, MAPLE_RESET),
        // tools/linux/maple_upload with boards.txt maple.upload.altID=1 (first-generation bootloader).
        filled_alt(Case::new("Arduino_STM32 maple_upload, Maple (altID=1)", "maple,state=@0", &["-d", "1EAF:0003", "-a", "1", "-D", "sketch.bin", "-R"]), "1", 40_000, 310)
            .file("sketch.bin", linked_for(0x0800_5000, 25_000, 311))
            .differs(74, 0, true, MAPLE_RESET),
        // QMK bootloader.mk (gd32v-dfu) and QMK Toolbox Gd32VDfuDevice.cs.
        filled(Case::new("QMK gd32v-dfu", "gd32vf103,state=@0", &["-d", "28E9:0189", "-a", "0", "-s", "0x08000000:leave", "-D", ".build/kb_default.bin"]), 30_000, 312)
            .file(".build/kb_default.bin", pattern(20_000, 313)),
        filled(Case::new("QMK Toolbox Gd32VDfuDevice flash", "gd32vf103,state=@0", &["-a", "0", "-d", "28E9:0189", "-s", "0x08000000:leave", "-D", "kb.bin"]), 30_000, 314)
            .file("kb.bin", pattern(20_000, 315)),
        filled(Case::new("QMK Toolbox Gd32VDfuDevice reset", "gd32vf103,state=@0", &["-a", "0", "-d", "28E9:0189", "-s", "0x08000000:leave"]), 30_000, 316),
        // particle-cli writeDfu: `-d ID -a ALT -i 0 -s ADDRESS[:leave] -D FILE`; `particle flash
        // --usb` writes userFirmware with :leave, factoryReset and system parts without.
        filled_at(Case::new("particle-cli flash --usb, Photon", "photon,state=@0", &["-d", "2b04:d006", "-a", "0", "-i", "0", "-s", "0x080A0000:leave", "-D", "tinker.bin"]), "0x080A0000", 20_000, 317)
            .file("tinker.bin", pattern(6_000, 318)),
        filled_at(Case::new("particle-cli flash --usb, P1", "p1,state=@0", &["-d", "2b04:d008", "-a", "0", "-i", "0", "-s", "0x080A0000:leave", "-D", "tinker.bin"]), "0x080A0000", 20_000, 319)
            .file("tinker.bin", pattern(6_000, 320)),
        filled_at(Case::new("particle-cli flash --usb, Electron", "electron,state=@0", &["-d", "2b04:d00a", "-a", "0", "-i", "0", "-s", "0x080A0000:leave", "-D", "tinker.bin"]), "0x080A0000", 20_000, 321)
            .file("tinker.bin", pattern(6_000, 322)),
        filled_at(Case::new("particle-cli flash --factory, Photon", "photon,state=@0", &["-d", "2b04:d006", "-a", "0", "-i", "0", "-s", "0x080E0000", "-D", "factory.bin"]), "0x080E0000", 20_000, 323)
            .file("factory.bin", pattern(6_000, 324)),
        filled_at(Case::new("particle-cli flash --usb system-part1, Photon", "photon,state=@0", &["-d", "2b04:d006", "-a", "0", "-i", "0", "-s", "0x08020000", "-D", "system-part1.bin"]), "0x08020000", 100_000, 325)
            .file("system-part1.bin", pattern(200_000, 326)),
        // particle-cli keys: the key slots of specifications.js.
        filled_settings(Case::new("particle-cli keys server, P1 (UDP server key)", "p1,state=@0", &["-d", "2b04:d008", "-a", "1", "-i", "0", "-s", "3298", "-D", "udp-server-key.der"]), 327)
            .file("udp-server-key.der", pattern(320, 328)),
        filled_settings(Case::new("particle-cli keys load, Electron (UDP device key)", "electron,state=@0", &["-d", "2b04:d00a", "-a", "1", "-i", "0", "-s", "3106", "-D", "device.der"]), 329)
            .file("device.der", pattern(192, 330)),
        filled_settings(Case::new("particle-cli keys load, Photon (TCP device key)", "photon,state=@0", &["-d", "2b04:d006", "-a", "1", "-i", "0", "-s", "34", "-D", "device.der"]), 331)
            .file("device.der", pattern(612, 332)),
        filled_settings(Case::new("particle-cli keys server, Electron", "electron,state=@0", &["-d", "2b04:d00a", "-a", "1", "-i", "0", "-s", "2082", "-D", "server-key.der"]), 333)
            .file("server-key.der", particle_server_key(334)),
        filled_settings(Case::new("particle-cli keys save, Electron (TCP device key)", "electron,state=@0", &["-d", "2b04:d00a", "-a", "1", "-s", "34:612", "-U", "device.der"]), 335)
            .upload("device.der"),
        filled_settings(Case::new("particle-cli keys save, P1 (UDP server key)", "p1,state=@0", &["-d", "2b04:d008", "-a", "1", "-s", "3298:320", "-U", "key.der"]), 336)
            .upload("key.der"),
        // The Spark Core keeps its keys in the external flash (alt 1) at 0x1000 and 0x2000.
        filled_settings(Case::new("particle-cli keys server, Core", "core,state=@0", &["-d", "1d50:607f", "-a", "1", "-i", "0", "-s", "0x00001000", "-D", "server-key.der"]), 337)
            .file("server-key.der", pattern(2_048, 338)),
        filled_settings(Case::new("particle-cli keys save, Core", "core,state=@0", &["-d", "1d50:607f", "-a", "1", "-s", "0x00002000:1024", "-U", "device.der"]), 339)
            .upload("device.der"),
        filled_at(Case::new("particle-cli flash --usb, Core", "core,state=@0", &["-d", "1d50:607f", "-a", "0", "-i", "0", "-s", "0x08005000:leave", "-D", "tinker.bin"]), "0x08005000", 20_000, 340)
            .file("tinker.bin", linked_for(0x0800_5000, 6_000, 341))
            .differs(74, 0, true, RESETS_ON_LEAVE),
    ]
}

/// Every harvested line.
pub fn harvested() -> Vec<Case> {
    let mut all = stm32_rom();
    all.extend(firmware_projects());
    all.extend(boards());
    all
}
