//! Every profile that cites a public `dfu-util -l` / `lsusb -v` capture is held to it: the
//! ids, bcdDevice, serial and alt strings below are copied from the captures the profiles'
//! `sources` name, so an edit to a profile that drifts from the real device fails here.

use crate::Profile;

/// (profile, vid, pid, bcdDevice, serial, alt strings in alt order) as captured.
type Capture = (
    &'static str,
    u16,
    u16,
    u16,
    &'static str,
    &'static [&'static str],
);

const CAPTURES: &[Capture] = &[
    // dfu-util device-logs/stm32f4discovery.lsusb
    (
        "stm32f407-v21",
        0x0483,
        0xdf11,
        0x2100,
        "315A28A0B956",
        &[
            "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
            "@Option Bytes  /0x1FFFC000/01*016 g",
            "@OTP Memory /0x1FFF7800/01*512 g,01*016 g",
            "@Device Feature/0xFFFF0000/01*004 g",
        ],
    ),
    // STM32F401CB keyboard build guide
    (
        "stm32f401",
        0x0483,
        0xdf11,
        0x2200,
        "307F345A3431",
        &[
            "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,01*128Kg",
            "@Option Bytes  /0x1FFFC000/01*016 e",
            "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
            "@Device Feature/0xFFFF0000/01*004 e",
        ],
    ),
    (
        "stm32f072",
        0x0483,
        0xdf11,
        0x2200,
        "FFFFFFFEFFFF",
        &[
            "@Internal Flash  /0x08000000/064*0002Kg",
            "@Option Bytes  /0x1FFFF800/01*016 e",
        ],
    ),
    (
        "stm32g474",
        0x0483,
        0xdf11,
        0x0200,
        "205939885533",
        &[
            "@Internal Flash   /0x08000000/256*02Kg",
            "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
            "@OTP Memory   /0x1FFF7000/01*1024 e",
        ],
    ),
    (
        "stm32l4-512k",
        0x0483,
        0xdf11,
        0x2200,
        "2056316B5652",
        &[
            "@Internal Flash  /0x08000000/0256*0002Kg",
            "@Option Bytes  /0x1FFF7800/01*040 e",
            "@OTP Memory /0x1FFF7000/01*0001Ke",
            "@Device Feature/0xFFFF0000/01*004 e",
        ],
    ),
    (
        "stm32h743",
        0x0483,
        0xdf11,
        0x0200,
        "200364500000",
        &[
            "@Internal Flash   /0x08000000/16*128Kg",
            "@Option Bytes   /0x5200201C/01*128 e",
        ],
    ),
    (
        "stm32h723",
        0x0483,
        0xdf11,
        0x0200,
        "3560376F3431",
        &[
            "@Internal Flash   /0x08000000/8*128Kg",
            "@Option Bytes   /0x5200201C/01*88 e",
        ],
    ),
    (
        "at32f415",
        0x2e3c,
        0xdf11,
        0x0200,
        "AT32",
        &[
            "@Internal Flash  /0x08000000/ 128*1Kg",
            "@Option Byte   /0x1FFFF800/02*016 e",
        ],
    ),
    // dfu-util device-logs/stm32f107.lsusb
    (
        "stm32f107",
        0x0483,
        0xdf11,
        0x2000,
        "STM32",
        &[
            "@Internal Flash  /0x08000000/128*002Kg",
            "@Option Bytes  /0x1FFFF800/01*016 g",
        ],
    ),
    // dfu-util device-logs/dsonano.lsusb
    (
        "dso-nano",
        0x0483,
        0xdf11,
        0x011a,
        "001",
        &[
            "@Internal Flash  /0x08000000/12*001Ka,116*001Kg",
            "@SPI Flash : M25P64/0x00000000/64*064Kg,64*064Kg",
        ],
    ),
    // dfu-util device-logs/blackmagic.log
    (
        "blackmagic",
        0x1d50,
        0x6017,
        0x0100,
        "C2C89BDB",
        &["@Internal Flash   /0x08000000/8*001Ka,120*001Kg"],
    ),
    // BIGTREETECH EBB42 dfu-util guide
    (
        "stm32g0b1",
        0x0483,
        0xdf11,
        0x0200,
        "206B327A5841",
        &[
            "@Internal Flash   /0x08000000/64*02Kg",
            "@Internal Flash   /0x08000000/64*02Kg",
            "@Internal Flash   /0x08000000/64*02Kg",
        ],
    ),
    // Preonic rev3 (STM32F303) QMK build notes
    (
        "stm32f303",
        0x0483,
        0xdf11,
        0x2200,
        "206B30532035",
        &[
            "@Internal Flash  /0x08000000/128*0002Kg",
            "@Option Bytes  /0x1FFFF800/01*016 e",
        ],
    ),
    // public `dfu-util -l` captures of the STM32duino bootloader (dfu-util 0.9 to 0.11)
    (
        "stm32duino",
        0x1eaf,
        0x0003,
        0x0201,
        "LLM 003",
        &[
            "STM32duino bootloader v1.0  ERROR. Upload to RAM not supported.",
            "STM32duino bootloader v1.0  Upload to Flash 0x8005000",
            "STM32duino bootloader v1.0  Upload to Flash 0x8002000",
        ],
    ),
    // public `dfu-util -l` capture of a LeafLabs Maple (dfu-util 0.8)
    (
        "maple",
        0x1eaf,
        0x0003,
        0x0201,
        "LLM 003",
        &["DFU Program RAM 0x20000C00", "DFU Program FLASH 0x08005000"],
    ),
    // public `dfu-util -l` capture of an Infinity 60% (dfu-util 0.8, Input Club forum)
    (
        "kiibohd",
        0x1c11,
        0xb007,
        0x0000,
        "mk20dx128vlf5",
        &["Kiibohd DFU"],
    ),
    // public `dfu-util -l` capture of an APM32F072RBT6 keyboard (dfu-util 0.11)
    (
        "apm32f072",
        0x314b,
        0x0106,
        0x0010,
        "0448",
        &[
            "@Internal Flash  /0x8000000/06*002Kg,058*002Kg",
            "@Option Bytes  /0x1FFFF800/01*016 e",
        ],
    ),
    // public `dfu-util -l` capture of a Portenta H7, bootloader v25 (Apache NuttX's board
    // documentation)
    (
        "portenta-h7",
        0x2341,
        0x035b,
        0x0200,
        "003D00473133511137323532",
        &[
            "@Internal Flash  2MB   /0x08000000/01*128Ka,15*128Kg",
            "@Ext RAW  Flash 16MB   /0x90000000/4096*4Kg",
            "@Ext File Flash  0MB   /0x00000000/0*4Kg",
            "@Arduino  boot  v.25   /0x00000000/0*4Kg",
        ],
    ),
];

#[test]
fn profiles_match_the_captures_they_cite() {
    for (name, vid, pid, bcd, serial, alts) in CAPTURES {
        let p = Profile::builtin_ref(name).unwrap();
        let u = &p.usb;
        assert_eq!(
            (u.vendor_id, u.product_id, u.bcd_device, u.serial.as_str()),
            (*vid, *pid, *bcd, *serial),
            "{name}"
        );
        let ours: Vec<&str> = p.alts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(ours, *alts, "{name}");
    }
}

#[test]
fn the_f405_core_and_h7_facts_that_were_wrong_stay_corrected() {
    let f405 = Profile::builtin_ref("stm32f405").unwrap();
    assert_eq!(f405.usb.bcd_device, 0x2200);
    for a in &f405.alts[1..] {
        assert!(a.name.ends_with(" e"), "{}", a.name);
    }
    let core = Profile::builtin_ref("core").unwrap();
    assert_eq!(
        core.alts[0].name,
        "@Internal Flash  /0x08000000/20*001Ka,108*001Kg"
    );
}
