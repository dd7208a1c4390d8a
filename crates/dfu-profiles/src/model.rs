//! The profile data model (the shape of `profiles/*.toml`).

use crate::alt::Alt;
use dfu_proto::FunctionalDescriptor;
use serde::{Deserialize, Serialize};

/// One known device.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`photon`, `stm32f405`, ...).
    pub name: String,
    /// One line for humans.
    pub title: String,
    /// Where the facts come from; `assumed` marks figures nobody measured.
    pub sources: Vec<String>,
    /// How a user puts the device into DFU mode, one line from its documentation (shown
    /// while waiting for it); a general line when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enter_dfu: Option<String>,
    /// Particle platform id (0 Core, 6 Photon, 8 P1, 10 Electron, ...), for Particle devices.
    #[serde(default)]
    pub particle_platform: Option<u16>,
    /// The device in DFU mode.
    pub usb: UsbIdentity,
    /// The device in run-time mode (application running), when it has a DFU run-time interface.
    #[serde(default)]
    pub runtime: Option<Runtime>,
    /// The DFU functional descriptor in DFU mode.
    pub dfu: DfuFunctional,
    /// Alternate settings of the DFU interface, in order (alt 0 first).
    pub alts: Vec<Alt>,
    /// Named regions of memory and what they hold.
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Where applications go when nothing else says so.
    #[serde(default)]
    pub app_address: Option<u32>,
    /// Timing figures.
    pub timing: Timing,
    /// Known deviations from the specification.
    #[serde(default)]
    pub quirks: Vec<Quirk>,
    /// Behaviour on leave (DfuSe) for devices whose bootloader changed it between versions.
    #[serde(default)]
    pub leave: Option<LeaveBehaviour>,
    /// How the option bytes are encoded, for families whose reference manual is sourced.
    #[serde(default)]
    pub option_bytes: Option<OptionBytesSpec>,
    /// The real layout from the part code in the serial string, for a device whose layout
    /// string overstates its flash (quirk `layout-overstates-flash`).
    #[serde(default)]
    pub part_layout: Option<crate::PartLayout>,
}

/// The option bytes of a device: their encoding and factory state.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OptionBytesSpec {
    /// The encoding (which reference manual describes them).
    pub format: OptionBytesFormat,
    /// The factory state of the option-byte region, as hex (spaces allowed).
    pub factory: String,
}

/// Option-byte encodings the tool decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptionBytesFormat {
    /// STM32F4 (RM0090 section 3.6): byte 0 USER, byte 1 RDP (0xAA level 0, 0xCC level 2,
    /// anything else level 1), bytes 8-9 nWRP (one bit per sector, 0 = protected).
    Stm32f4,
}

impl OptionBytesSpec {
    /// The factory bytes (`None` when `factory` is not hex).
    pub fn factory_bytes(&self) -> Option<Vec<u8>> {
        let hex: String = self.factory.split_whitespace().collect();
        if hex.len() % 2 != 0 {
            return None;
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect()
    }
}

/// USB identity and strings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsbIdentity {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// iManufacturer string.
    pub manufacturer: String,
    /// iProduct string.
    pub product: String,
    /// iSerialNumber string (the simulator's default; real devices have their own).
    pub serial: String,
}

/// The run-time (application) identity of a device with a DFU run-time interface.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// idVendor in run-time mode.
    pub vendor_id: u16,
    /// idProduct in run-time mode.
    pub product_id: u16,
    /// iProduct string in run-time mode.
    pub product: String,
    /// bmAttributes of the run-time functional descriptor.
    pub attributes: u8,
    /// wDetachTimeOut in milliseconds.
    pub detach_timeout_ms: u16,
    /// Interface number of the run-time DFU interface.
    #[serde(default)]
    pub interface: u8,
    /// Serial-port convention to enter DFU mode (`particle-14400`, `touch-1200`), if any.
    #[serde(default)]
    pub serial_trigger: Option<SerialTrigger>,
}

/// A serial-port convention that asks a running application to enter its DFU bootloader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SerialTrigger {
    /// Open the port at 14400 baud (Particle; 28800 would enter listening mode instead).
    #[serde(rename = "particle-14400")]
    Particle14400,
    /// Open the port at 1200 baud and close it (the Arduino-style "1200-baud touch").
    #[serde(rename = "touch-1200")]
    Touch1200,
}

impl SerialTrigger {
    /// The baud rate to open the port at.
    pub fn baud(self) -> u32 {
        match self {
            SerialTrigger::Particle14400 => 14400,
            SerialTrigger::Touch1200 => 1200,
        }
    }
}

/// The DFU functional descriptor and interface number in DFU mode.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DfuFunctional {
    /// bmAttributes.
    pub attributes: u8,
    /// wDetachTimeOut.
    pub detach_timeout_ms: u16,
    /// wTransferSize.
    pub transfer_size: u16,
    /// bcdDFUVersion (0x011a for DfuSe).
    pub dfu_version: u16,
    /// Interface number.
    #[serde(default)]
    pub interface: u8,
}

impl DfuFunctional {
    /// As a protocol descriptor.
    pub fn descriptor(&self) -> FunctionalDescriptor {
        FunctionalDescriptor {
            attributes: self.attributes,
            detach_timeout_ms: self.detach_timeout_ms,
            transfer_size: self.transfer_size,
            dfu_version: self.dfu_version,
        }
    }
}

/// What a region holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The DFU bootloader itself: never written without --force.
    Bootloader,
    /// Device settings (keys, Wi-Fi credentials: Particle DCT).
    Settings,
    /// A system firmware part (Particle system-part N).
    System,
    /// The user application.
    App,
    /// A factory-reset copy of the application.
    Factory,
    /// Option bytes (protection, boot configuration).
    OptionBytes,
    /// One-time programmable memory.
    Otp,
    /// Read-only device information.
    DeviceInfo,
    /// External flash.
    External,
}

/// A named range of memory with a role.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Name for humans (`bootloader`, `system-part1`, `user-part`).
    pub name: String,
    /// What it holds.
    pub role: Role,
    /// The alt setting it belongs to.
    #[serde(default)]
    pub alt: u8,
    /// First address.
    pub start: u32,
    /// Size in bytes.
    pub size: u32,
    /// For Particle modules: the module index (system part 1, 2, 3).
    #[serde(default)]
    pub module_index: Option<u8>,
    /// Offset of the Particle module header inside a module placed here.
    #[serde(default)]
    pub module_header_offset: Option<u32>,
}

impl Region {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.size)
    }
    /// True when `[start, start + len)` shares a byte with the region.
    pub fn overlaps(&self, start: u32, len: u64) -> bool {
        u64::from(start) < self.end() && u64::from(start) + len > u64::from(self.start)
    }
}

/// Erase time for one sector size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EraseTime {
    /// Sector size in bytes.
    pub sector_size: u32,
    /// Typical erase time in milliseconds.
    pub ms: u32,
}

/// Timing figures (datasheet typical values unless marked assumed in `sources`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Erase time per sector size.
    pub erase: Vec<EraseTime>,
    /// Mass erase time in milliseconds.
    pub mass_erase_ms: u32,
    /// Programming granularity in bytes (2 on STM32F1, 4 on STM32F4, 32 on H7).
    pub program_unit: u32,
    /// Time to program one unit, in nanoseconds.
    pub program_unit_ns: u32,
    /// bwPollTimeout the device reports while erasing.
    pub poll_erase_ms: u32,
    /// bwPollTimeout the device reports while programming.
    pub poll_program_ms: u32,
    /// bwPollTimeout the device reports for commands (set address) and manifestation.
    pub poll_command_ms: u32,
    /// Time from the device's reset to its re-appearance on the bus.
    pub reset_ms: u32,
}

impl Timing {
    /// Erase time of a sector of `size` bytes (scaled from the nearest known size).
    pub fn erase_ms(&self, size: u32) -> u32 {
        if let Some(e) = self.erase.iter().find(|e| e.sector_size == size) {
            return e.ms;
        }
        let Some(nearest) = self
            .erase
            .iter()
            .min_by_key(|e| (i64::from(e.sector_size) - i64::from(size)).unsigned_abs())
        else {
            return 0;
        };
        let scaled =
            u64::from(nearest.ms) * u64::from(size) / u64::from(nearest.sector_size.max(1));
        u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
    }

    /// Time to program `len` bytes, in nanoseconds.
    pub fn program_ns(&self, len: u64) -> u64 {
        let unit = u64::from(self.program_unit.max(1));
        len.div_ceil(unit) * u64::from(self.program_unit_ns)
    }
}

/// A known deviation from the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Quirk {
    /// The device resets as soon as it receives the final zero-length DNLOAD, so the
    /// GETSTATUS after it fails (dfu-util: "Error during download get_status").
    ResetOnLeave,
    /// The layout string overstates the flash (GD32VF103 reports 512*2K for 128 x 1K).
    LayoutOverstatesFlash,
    /// Answers some requests (GETSTATE, DfuSe get-commands) with STALL (assumed which ones).
    StallsOptionalRequests,
    /// The bootloader of some boards sends a garbage iInterface string.
    GarbageAltName,
    /// Old images were padded to an even length (16-bit programming).
    PadEvenLength,
    /// The serial-number string descriptor holds UTF-8 bytes instead of UTF-16
    /// (GD32VF103; dfu-util reads it raw and derives the flash size from it).
    Utf8Serial,
    /// Particle's STM32F2 bootloader (device-os `usbd_dfu_core.c`, `EP0_TxSent`) runs three
    /// DfuSe commands only: get-commands (1 byte), set-address and erase, both with a
    /// 4-byte address (5 bytes). Any other command block (a 1-byte mass erase,
    /// read-unprotect) is not run: the GETSTATUS that would start it STALLs, the device
    /// stays in dfuDNLOAD-SYNC with nothing pending, and the next GETSTATUS reports
    /// dfuDNLOAD-IDLE, status OK. UPLOAD block 0 lists the three commands.
    ParticleDfuseCommands,
    /// A bootloader with bitWillDetach that is not manifestation tolerant, yet answers one
    /// GETSTATUS with dfuMANIFEST-WAIT-RESET after manifestation and only then restarts
    /// into its application by itself, without waiting for a USB reset (the LPC17xx DFU
    /// bootloader of the Smoothieboard; the Kiibohd bootloader).
    WaitResetThenRestart,
    /// The DFU interface of the bootloader says protocol 1 (run-time) and names no string,
    /// although the device runs the DFU-mode state machine and answers dfuIDLE (the
    /// ESP32-S2/S3 ROM: dfu-util lists it as "Found Runtime" and, finding dfuIDLE, carries on).
    DfuModeAsRuntime,
}

/// Leave behaviour that depends on the bootloader version (Particle, fixed in 0.4.5).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveBehaviour {
    /// First bootloader release that answers GETSTATUS after the final DNLOAD.
    pub fixed_in: String,
    /// The bootloader module version (module_info_t) of that release: a bootloader module
    /// whose version is lower resets without answering.
    pub fixed_in_module: u16,
    /// Bootloader release a simulated device has unless told otherwise.
    pub default_bootloader: String,
    /// How long the fixed bootloader waits before it resets, in milliseconds.
    pub reset_delay_ms: u32,
}

impl Profile {
    /// True for DfuSe devices (bcdDFU 0x011a).
    pub fn is_dfuse(&self) -> bool {
        self.dfu.dfu_version == 0x011a
    }

    /// True when the ids are this device's in DFU or run-time mode.
    pub fn matches_ids(&self, vendor: u16, product: u16) -> bool {
        (self.usb.vendor_id, self.usb.product_id) == (vendor, product)
            || self
                .runtime
                .as_ref()
                .is_some_and(|r| (r.vendor_id, r.product_id) == (vendor, product))
    }

    /// True when the profile has the quirk.
    pub fn has_quirk(&self, q: Quirk) -> bool {
        self.quirks.contains(&q)
    }

    /// The region holding `address` on `alt`.
    pub fn region_at(&self, alt: u8, address: u32) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| r.alt == alt && r.overlaps(address, 1))
    }

    /// Regions of a role.
    pub fn regions_with(&self, role: Role) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.role == role)
    }

    /// Where a plain DFU device's memory behind `alt` starts: the first address of the alt's
    /// real layout. A plain DFU device has no set-address command, so a download or upload
    /// always begins there. `None` when the profile has no such alt. (On a DfuSe device the
    /// image's own addresses count instead; this is only the start of the alt's memory.)
    pub fn plain_base(&self, alt: u8) -> Option<u32> {
        let layout = self.alts.get(usize::from(alt))?.layout();
        layout.segments.first().map(|s| s.start)
    }

    /// Checks internal consistency.
    pub fn validate(&self) -> Result<(), String> {
        if self.alts.is_empty() {
            return Err("a profile needs at least one alt setting".into());
        }
        if self.dfu.transfer_size == 0 {
            return Err("dfu.transfer_size must be positive".into());
        }
        for (i, alt) in self.alts.iter().enumerate() {
            if self.is_dfuse() && alt.announced().is_none() {
                return Err(format!(
                    "alt {i}: DfuSe device whose name {:?} is not a layout",
                    alt.name
                ));
            }
        }
        for r in &self.regions {
            let Some(alt) = self.alts.get(usize::from(r.alt)) else {
                return Err(format!(
                    "region {} names alt {}, which does not exist",
                    r.name, r.alt
                ));
            };
            if alt
                .layout()
                .first_uncovered(r.start, u64::from(r.size))
                .is_some()
            {
                return Err(format!(
                    "region {} (0x{:08x}, {} bytes) lies outside the memory of alt {}",
                    r.name, r.start, r.size, r.alt
                ));
            }
        }
        if let Some(a) = self.app_address {
            if self.alts[0].layout().sector_at(a).is_none() {
                return Err(format!("app_address 0x{a:08x} is outside alt 0's memory"));
            }
        }
        if let Some(ob) = &self.option_bytes {
            let bytes = ob
                .factory_bytes()
                .ok_or("option_bytes.factory is not hex bytes")?;
            let region = self
                .regions_with(Role::OptionBytes)
                .next()
                .ok_or("option_bytes needs a region with role option-bytes")?;
            if bytes.len() as u64 != u64::from(region.size) {
                return Err(format!(
                    "option_bytes.factory has {} bytes, the option-byte region {}",
                    bytes.len(),
                    region.size
                ));
            }
        }
        if self.timing.erase.is_empty() || self.timing.program_unit == 0 {
            return Err("timing needs erase times and a program unit".into());
        }
        Ok(())
    }
}
