//! The command lines: what build systems run, and every option of dfu-util 0.11.

use super::support::Case;
use crate::harness::pattern;

fn image(len: usize, seed: u32) -> Vec<u8> {
    pattern(len, seed)
}

/// A Spark Core application (built for 0x08005000): the Photon's bootloader region.
fn core_image() -> Vec<u8> {
    let mut i = pattern(78_172, 1);
    i[..4].copy_from_slice(&0x2000_5000u32.to_le_bytes());
    i[4..8].copy_from_slice(&0x0800_5131u32.to_le_bytes());
    i
}

/// `data` followed by a DFU suffix (0483:df11) whose CRC is wrong.
fn bad_crc_suffix(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&[
        0xff, 0xff, 0x11, 0xdf, 0x83, 0x04, 0x00, 0x01, b'U', b'F', b'D', 16, 0, 0, 0, 0,
    ]);
    data
}

/// An application linked for `base` (stack in the F103's 20 KiB of RAM, reset handler
/// inside the image), as Klipper, QMK and Arduino_STM32 build for the Maple bootloaders.
pub fn linked_for(base: u32, len: usize, seed: u32) -> Vec<u8> {
    let mut i = pattern(len, seed);
    i[..4].copy_from_slice(&0x2000_5000u32.to_le_bytes());
    i[4..8].copy_from_slice(&(base + 0x131).to_le_bytes());
    i
}

const MAPLE_RESET: &str = "the Maple bootloaders wait in dfuMANIFEST-WAIT-RESET; dfu-util resets the device itself, libusb reports the re-enumerated device as gone, and dfu-util exits 74 after a good flash; dfu verified the image before manifestation and exits 0";

/// A server public key as particle-cli's `keys server` writes it: the DER key, 0xFF up to
/// the slot's 512 bytes, the server address at 384 and the port at 450
/// (particle-cli src/cmd/keys.js).
pub fn particle_server_key(seed: u32) -> Vec<u8> {
    let mut k = vec![0xff; 512];
    k[..294].copy_from_slice(&pattern(294, seed));
    k[..4].copy_from_slice(&[0x30, 0x82, 0x01, 0x22]);
    k[384..390].copy_from_slice(&[0x00, 0x04, 10, 0, 0, 1]);
    k[450..452].copy_from_slice(&5683u16.to_be_bytes());
    k
}

/// The build systems' own command lines.
pub fn callers() -> Vec<Case> {
    vec![
        // particle-cli src/lib/dfu.js writeDfu / readDfu with the key slots of
        // src/lib/device-specs.js, on a DCT that holds settings already.
        Case::new("particle-cli keys server", "photon,state=@0", &["-d", "2b04:d006", "-a", "1", "-i", "0", "-s", "2082", "-D", "server-key.der"])
            .file("dct.bin", image(16_384, 53))
            .seed_dfu(&["flash", "dct.bin", "--alt", "1", "--address", "0", "--force", "--no-leave"])
            .file("server-key.der", particle_server_key(54)),
        Case::new("particle-cli keys save (read the server key)", "photon,state=@0", &["-d", "2b04:d006", "-a", "1", "-s", "2082:512", "-U", "key.der"])
            .file("dct.bin", image(16_384, 55))
            .seed_dfu(&["flash", "dct.bin", "--alt", "1", "--address", "0", "--force", "--no-leave"])
            .upload("key.der"),
        Case::new("particle-cli keys doctor (device private key, TCP)", "electron,state=@0", &["-d", "2b04:d00a", "-a", "1", "-i", "0", "-s", "34", "-D", "device.der"])
            .file("dct.bin", image(16_384, 56))
            .seed_dfu(&["flash", "dct.bin", "--alt", "1", "--address", "0", "--force", "--no-leave"])
            .file("device.der", image(612, 57)),
        // A key shorter than its slot, at an offset that is not a multiple of four: the DCT
        // takes exactly the bytes sent and keeps the rest of its settings.
        Case::new("DCT write shorter than its slot", "photon,state=@0", &["-d", "2b04:d006", "-a", "1", "-s", "3106", "-D", "short.der"])
            .file("dct.bin", image(16_384, 58))
            .seed_dfu(&["flash", "dct.bin", "--alt", "1", "--address", "0", "--force", "--no-leave"])
            .file("short.der", image(121, 59)),
        // Klipper scripts/flash_usb.py (flash_stm32f1), QMK tmk_core/chibios.mk (stm32duino)
        // and Arduino_STM32 tools/linux/maple_upload: plain DFU, alt 2 = 0x08002000, no -s.
        Case::new("Klipper flash_stm32f1 (STM32duino)", "stm32duino,state=@0", &["-d", ",1eaf:0003", "-R", "-a", "2", "-D", "f.bin"])
            .file("seed.bin", image(20_000, 42))
            .seed_dfu(&["flash", "seed.bin", "--alt", "2", "--no-leave", "--no-verify"])
            .file("f.bin", linked_for(0x0800_2000, 30_000, 43))
            .differs(74, 0, true, MAPLE_RESET),
        Case::new("QMK stm32duino", "stm32duino,state=@0", &["-d", "1EAF:0003", "-a", "2", "-R", "-D", "f.bin"])
            .file("seed.bin", image(40_000, 44))
            .seed_dfu(&["flash", "seed.bin", "--alt", "2", "--no-leave", "--no-verify"])
            .file("f.bin", linked_for(0x0800_2000, 12_000, 45))
            .differs(74, 0, true, MAPLE_RESET),
        Case::new("Arduino_STM32 maple_upload", "stm32duino,state=@0", &["-d", "1EAF:0003", "-a", "2", "-D", "f.bin", "-R"])
            .file("seed.bin", image(9_000, 46))
            .seed_dfu(&["flash", "seed.bin", "--alt", "2", "--no-leave", "--no-verify"])
            .file("f.bin", linked_for(0x0800_2000, 25_000, 47))
            .differs(74, 0, true, MAPLE_RESET),
        Case::new("maple_upload, 1st-generation Maple (alt 1)", "maple,state=@0", &["-d", "1EAF:0003", "-a", "1", "-D", "f.bin", "-R"])
            .file("seed.bin", image(50_000, 48))
            .seed_dfu(&["flash", "seed.bin", "--alt", "1", "--no-leave", "--no-verify"])
            .file("f.bin", linked_for(0x0800_5000, 20_000, 49))
            .differs(74, 0, true, MAPLE_RESET),
        Case::new("Klipper make flash", "stm32f446,state=@0", &["-d", ",0483:df11", "-R", "-a", "0", "-s", "0x8000000:leave", "-D", "out/klipper.bin"])
            .file("out/klipper.bin", image(30_000, 1))
            .differs(251, 0, true, "-R after :leave: the device already left; dfu-util's reset fails and it exits 251 (LIBUSB_ERROR_NOT_FOUND as a status) after a good flash; ours verified and left as asked"),
        Case::new("Klipper with -p", "stm32f446,state=@0", &["-p", "1-1", "-R", "-a", "0", "-s", "0x8000000:leave", "-D", "klipper.bin"])
            .file("klipper.bin", image(20_000, 2))
            .differs(251, 0, true, "as Klipper's -d form: -R after :leave"),
        Case::new("Particle make program-dfu", "photon,state=@0", &["-d", "2b04:d006", "-a", "0", "-s", "0x080A0000:leave", "-D", "user-part.dfu"])
            .file("user-part.dfu", image(4084, 3))
            .seed_suffix(&["-v", "2b04", "-p", "d006", "-a", "user-part.dfu"]),
        Case::new("QMK", "stm32f411,state=@0", &["-a", "0", "-d", "0483:DF11", "-s", "0x08000000:leave", "-D", "file.bin"]).file("file.bin", image(12_000, 4)),
        Case::new("QMK waits on -l | grep Found DFU", "stm32f411", &["-l"]).found(),
        Case::new("PlatformIO: dfu-suffix, then dfu-util", "stm32f405,state=@0", &["-d", "0x0483:0xDF11", "-a", "0", "-s", "0x08000000:leave", "-D", "firmware.bin"])
            .file("firmware.bin", image(9_000, 5))
            .seed_suffix(&["-v", "0x0483", "-p", "0xDF11", "-d", "0xffff", "-a", "firmware.bin"]),
        Case::new("Marlin", "stm32f405,state=@0", &["-a", "0", "-s", "0x08010000:leave", "-D", "firmware.bin"]).file("firmware.bin", image(70_000, 6)),
        Case::new("Zephyr west flash: the runner's -l probe", "stm32f405", &["-d,0483:df11", "-l"]).found(),
        Case::new("Zephyr west flash --runner dfu-util (--dfuse)", "stm32f405,state=@0", &["-d,0483:df11", "-s", "0x8000000:leave", "-a", "0", "-D", "zephyr/zephyr.bin"])
            .file("zephyr/zephyr.bin", image(24_000, 36)),
        Case::new("QMK gd32v-dfu / Zephyr: re-flash a GD32VF103 that holds firmware", "gd32vf103,state=@0", &["-d", "28e9:0189", "-a", "0", "-s", "0x08000000:leave", "-D", "new.bin"])
            .file("old.bin", image(9_000, 37))
            .file("new.bin", image(7_000, 38))
            .seed_dfu(&["flash", "old.bin", "--no-leave"]),
        Case::new("Particle seed 000: a Core image on a Photon", "photon,state=@0", &["-d", "2b04:d006", "-a", "0", "-s", "0x08005000:leave", "-D", "core-firmware.bin"])
            .file("core-firmware.bin", core_image()),
        Case::new("Particle seed 001: bootloader 0.4.4 loses the status after leave", "photon,bootloader=0.4.4,state=@0", &["-d", "2b04:d006", "-a", "0", "-s", "0x080A0000:leave", "-D", "user-part.bin"])
            .file("user-part.bin", image(4084, 7))
            .differs(74, 0, true, "the image was verified before the leave, and this bootloader is known to reset without answering: dfu exits 0 where dfu-util reports Error 74"),
    ]
}

/// Every option, file kinds and devices.
pub fn options() -> Vec<Case> {
    let two = "stm32f405,serial=AAA111,state=@0;stm32f405,serial=BBB222,state=@1";
    vec![
        Case::new("upload -s ADDR:LEN", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:0x3000", "-U", "up.bin"])
            .file("seed.bin", image(40_000, 8))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08000000", "--no-leave"])
            .upload("up.bin"),
        Case::new("upload -s ADDR: to the end of the segment", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000", "-U", "up.bin"])
            .file("seed.bin", image(20_000, 9))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08000000", "--no-leave"])
            .upload("up.bin"),
        Case::new("upload with -Z, plain DFU", "dapboot,state=@0", &["-a", "0", "-Z", "8192", "-U", "up.bin"])
            .file("seed.bin", image(6_000, 10))
            .seed_dfu(&["flash", "seed.bin", "--no-leave"])
            .upload("up.bin"),
        Case::new("existing upload file", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:64", "-U", "up.bin"]).file("up.bin", vec![1, 2, 3]).upload("up.bin"),
        Case::new("-e on a run-time device", "photon,mode=runtime", &["-e"]),
        Case::new("-e -E 1", "photon,mode=runtime", &["-e", "-E", "1"]),
        Case::new("run-time device with two ids", "photon,mode=runtime,state=@0", &["-d", "2b04:c006,2b04:d006", "-a", "0", "-s", "0x080A0000:leave", "-D", "user.bin"]).file("user.bin", image(3_000, 11)),
        Case::new("-w", "stm32f411,state=@0", &["-w", "-a", "0", "-s", "0x08000000:leave", "-D", "f.bin"]).file("f.bin", image(5_000, 12)),
        Case::new("-S picks one of two", two, &["-S", "BBB222", "-a", "0", "-s", "0x08000000", "-D", "f.bin"]).file("f.bin", image(5_000, 13)),
        Case::new("-p picks one of two", two, &["-p", "1-2", "-a", "0", "-s", "0x08000000:leave", "-D", "f.bin"]).file("f.bin", image(5_000, 14)),
        Case::new("-n picks one of two", two, &["-n", "3", "-a", "0", "-s", "0x08000000:leave", "-D", "f.bin"]).file("f.bin", image(5_000, 15)),
        Case::new("several devices", two, &["-a", "0", "-s", "0x08000000:leave", "-D", "f.bin"]).file("f.bin", image(5_000, 16)),
        Case::new("-l with several devices", "stm32f405,serial=AAA111;dapboot;photon,mode=runtime", &["-l"]).found(),
        Case::new("-l -d ,0483:df11", "stm32f405;photon,mode=runtime", &["-l", "-d", ",0483:df11"]).found(),
        Case::new("-l -d 2b04:c006", "stm32f405;photon,mode=runtime", &["--list", "--device=2b04:c006"]).found(),
        Case::new("-c -i -t", "stm32f405,state=@0", &["-c", "1", "-i", "0", "-t", "1024", "-a", "0", "-s", "0x08000000:leave", "-D", "f.bin"]).file("f.bin", image(7_000, 17)),
        Case::new("DfuSe file with -s :leave", "stm32f405,state=@0", &["-a", "0", "-s", ":leave", "-D", "app.dfu"])
            .file("app.bin", image(10_000, 18))
            .seed_dfu(&["image", "convert", "app.bin", "-o", "app.dfu", "--to", "dfuse", "--address", "0x08004000", "--vid", "0483", "--pid", "df11"]),
        Case::new("DfuSe file without -s", "stm32f405,state=@0", &["-a", "0", "-D", "app.dfu"])
            .file("app.bin", image(10_000, 19))
            .seed_dfu(&["image", "convert", "app.bin", "-o", "app.dfu", "--to", "dfuse", "--address", "0x08000000"]),
        Case::new("DfuSe file with an address", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000", "-D", "app.dfu"])
            .file("app.bin", image(1_000, 20))
            .seed_dfu(&["image", "convert", "app.bin", "-o", "app.dfu", "--to", "dfuse", "--address", "0x08000000"]),
        Case::new("raw binary on a DfuSe device without -s", "stm32f405,state=@0", &["-a", "0", "-D", "f.bin"]).file("f.bin", image(1_000, 21)),
        Case::new("suffix for another device, -d given", "stm32f405,state=@0", &["-d", "0483:df11", "-a", "0", "-s", "0x08000000", "-D", "f.bin"])
            .file("f.bin", image(1_000, 33))
            .seed_suffix(&["-v", "2b04", "-p", "d006", "-a", "f.bin"]),
        // Without -d, dfu-util takes the suffix's ids as the run-time ids to match, then
        // finds that the file fits them, and writes a Photon file into an STM32.
        Case::new("suffix for another device", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000", "-D", "f.bin"])
            .file("f.bin", image(1_000, 22))
            .seed_suffix(&["-v", "2b04", "-p", "d006", "-a", "f.bin"])
            .differs(0, 64, false, "the suffix names 2b04:d006 and the device is 0483:df11: dfu checks the file against the device it found, whatever -d says, and writes nothing"),
        Case::new("plain DFU: dapboot", "dapboot,state=@0", &["-a", "0", "-D", "f.bin"])
            .file("f.bin", image(9_000, 23))
            .differs(74, 0, true, "dapboot restarts during manifestation; dfu-util cannot read the final status and exits 74 although the image is written; dfu read it back before manifestation and knows it is there"),
        Case::new("plain DFU: TinyUSB alt 0", "tinyusb,state=@0", &["-a", "0", "-D", "f.bin"]).file("f.bin", image(200, 24)),
        Case::new("plain DFU: TinyUSB alt 1 by name", "tinyusb,state=@0", &["-a", "EEPROM", "-D", "f.bin"]).file("f.bin", image(100, 25)),
        Case::new("plain DFU: TinyUSB, file with its suffix", "tinyusb,state=@0", &["-a", "0", "-D", "f.bin"])
            .file("f.bin", image(300, 39))
            .seed_suffix(&["-v", "cafe", "-p", "400b", "-a", "f.bin"]),
        Case::new("plain DFU: TinyUSB, suffix of another device", "tinyusb,state=@0", &["-d", "cafe:400b", "-a", "0", "-D", "f.bin"])
            .file("f.bin", image(300, 40))
            .seed_suffix(&["-v", "0483", "-p", "df11", "-a", "f.bin"]),
        Case::new("plain DFU: dapboot, suffix with any ids", "dapboot,state=@0", &["-a", "0", "-D", "f.bin"])
            .file("f.bin", image(2_000, 41))
            .seed_suffix(&["-a", "f.bin"])
            .differs(74, 0, true, "dapboot restarts during manifestation (see the plain dapboot case)"),
        Case::new("mass erase then download", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:mass-erase:force:leave", "-D", "f.bin"])
            .file("seed.bin", image(200_000, 26))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08000000", "--no-leave"])
            .file("f.bin", image(3_000, 27)),
        Case::new("mass erase without force", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:mass-erase", "-D", "f.bin"]).file("f.bin", image(3_000, 28)),
        Case::new("DfuSe command mode: mass erase", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:mass-erase:force"])
            .file("seed.bin", image(50_000, 34))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08000000", "--no-leave"]),
        Case::new("DfuSe command mode: leave", "stm32f405,state=@0", &["-a", "0", "-s", ":leave"]),
        Case::new("upload with :leave", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:0x800:leave", "-U", "up.bin"])
            .file("seed.bin", image(4_000, 35))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08000000", "--no-leave"])
            .upload("up.bin"),
        Case::new("upload from a DfuSe device without -s", "stm32f405,state=@0", &["-a", "0", "-U", "up.bin"])
            .differs(0, 64, true, "dfu-util reads 16 KiB from wherever the device's address pointer is; dfu asks for the address instead of guessing"),
        Case::new("suffix with a bad CRC", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000", "-D", "f.bin"])
            .file("f.bin", bad_crc_suffix(image(2_000, 37)))
            .differs(0, 65, false, "dfu-util warns and writes the whole file, the broken suffix included; dfu refuses a damaged file"),
        Case::new("Particle DCT (alt 1, settings region)", "photon,state=@0", &["-d", "2b04:d006", "-a", "1", "-s", "0x1000", "-D", "dct.bin"])
            .file("dct.bin", image(100, 38))
            .differs(0, 64, false, "the DCT holds the device's settings; dfu refuses to write it without `dfu flash --force`"),
        Case::new("-e -R on a DFU-mode device with several alts", "stm32f405", &["-e", "-R"]),
        Case::new("-e -R on a run-time device", "photon,mode=runtime", &["-e", "-R"]),
        Case::new("missing file", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:leave", "-D", "nope.bin"]),
        Case::new("bad syntax: value missing", "stm32f405", &["-a"]),
        Case::new("bad syntax: unknown option", "stm32f405", &["--bogus", "-l"]),
        Case::new("bad syntax: stray word", "stm32f405", &["-l", "extra"]),
        Case::new("bad syntax: -s address", "stm32f405,state=@0", &["-a", "0", "-s", "0x08zz:leave", "-D", "f.bin"]).file("f.bin", image(100, 29)),
        Case::new("bad syntax: -s modifier", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:leaf", "-D", "f.bin"]).file("f.bin", image(100, 30)),
        Case::new("nothing to do", "stm32f405", &["-a", "0"]),
        Case::new("clustered flags and long forms", "stm32f405,state=@0", &["-vR", "--alt=0", "--dfuse-address", "0x08000000", "--download=f.bin"]).file("f.bin", image(2_000, 31)),
        Case::new("unprotect", "stm32f405,state=@0", &["-a", "0", "-s", "0x08000000:unprotect:force", "-D", "f.bin"])
            .file("f.bin", image(100, 32))
            .file("seed.bin", image(20_000, 36))
            .seed_dfu(&["flash", "seed.bin", "--address", "0x08000000", "--no-leave"]),
        // Factory option bytes with another brown-out level (USER 0xE0), as a
        // DfuSe file whose target is the option-byte alt.
        Case::new("DfuSe file with an option-byte target", "stm32f405,state=@0", &["-a", "1", "-s", ":leave", "-D", "ob.dfu"])
            .file("ob.bin", vec![0xE0, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            .seed_dfu(&["image", "convert", "ob.bin", "-o", "ob.dfu", "--to", "dfuse", "--address", "0x1FFFC000", "--target-alt", "1", "--vid", "0483", "--pid", "df11"])
            .differs(74, 0, true, "the device resets after an option-byte write (AN3156); dfu-util reports the lost status as an error, dfu read the option bytes back first"),
        Case::new("-U past the end of memory", "stm32f405,state=@0", &["-a", "0", "-s", "0x080FF000:0x2000", "-U", "up.bin"])
            .differs(74, 64, false, "dfu-util asks the device and fails on its error; dfu refuses a range outside the map before it reads"),
        Case::new("unprotect on a read-protected device", "stm32f405,rdp=1,state=@0", &["-a", "0", "-s", "0x08000000:unprotect:force", "-D", "f.bin"])
            .file("f.bin", image(100, 33)),
    ]
}
