//! Stable codes for every refusal and error, and the findings the checks produce.
//!
//! A code names a failure for scripts and front ends (`dfu::refused::read-only`); it never
//! changes once published. The message says what happened in plain words; `detail` carries
//! facts that help the user (the device's memory map, where applications go). Advice that
//! names a front end's options is the front end's business.

use serde::Serialize;
use std::fmt;

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// A stable code for a refusal or error.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The code as text: `dfu::refused::read-only`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    /// No device matched the selection.
    NoDevice = "dfu::select::no-device",
    /// More than one device matched.
    Ambiguous = "dfu::select::ambiguous",
    /// A USB transfer failed.
    Usb = "dfu::device::usb",
    /// The device reported an error status.
    Status = "dfu::device::status",
    /// The device is in a state the operation cannot continue from.
    State = "dfu::device::state",
    /// The device stayed busy, or did not come back, for too long.
    Timeout = "dfu::device::timeout",
    /// The device answered something impossible.
    Protocol = "dfu::device::protocol",
    /// What was read back differs from what was written.
    Verify = "dfu::verify::mismatch",
    /// The operation was cancelled (Ctrl-C) and stopped at a safe point.
    Interrupted = "dfu::interrupted",
    /// An argument is impossible (an address, a length, an alt setting).
    Usage = "dfu::usage::argument",
    /// A raw binary with nothing that says where it goes.
    NoAddress = "dfu::usage::no-address",
    /// The address given disagrees with the address a file carries.
    AddressConflict = "dfu::usage::address-conflict",
    /// A firmware file could not be read.
    InputRead = "dfu::input::read",
    /// A firmware file is damaged or not a firmware image.
    InputParse = "dfu::input::parse",
    /// Files in one command claim the same addresses.
    InputOverlap = "dfu::input::overlap",
    /// An output file exists (and is not to be replaced) or cannot be written.
    Output = "dfu::output::file",
    /// The image holds no bytes.
    Empty = "dfu::refused::empty",
    /// Bytes fall outside the device's memory.
    OutsideMemory = "dfu::refused::outside-memory",
    /// Bytes fall on pages the device marks not writable.
    ReadOnly = "dfu::refused::read-only",
    /// The device's layout is known to be wrong and its real one is not known.
    LayoutUnknown = "dfu::refused::layout-unknown",
    /// Bytes fall in the bootloader or settings region.
    ProtectedRegion = "dfu::refused::protected-region",
    /// Bytes start in an application, system or factory region and run past its end.
    RegionOverflow = "dfu::refused::region-overflow",
    /// A mass erase would remove the bootloader, system firmware or settings.
    MassEraseSystem = "dfu::refused::mass-erase-system",
    /// The file's DFU suffix names another device.
    SuffixIds = "dfu::refused::suffix-ids",
    /// The file's Particle module header names another platform.
    Platform = "dfu::refused::platform",
    /// A Particle module placed somewhere its header does not name.
    ModuleAddress = "dfu::refused::module-address",
    /// A Particle module whose CRC does not match its contents.
    ModuleCrc = "dfu::refused::module-crc",
    /// A Particle module whose dependencies the device does not meet.
    Dependency = "dfu::refused::dependency",
    /// A Cortex-M image linked for another address.
    VectorTable = "dfu::refused::vector-table",
    /// An ELF file built for another processor.
    ElfMachine = "dfu::refused::elf-machine",
    /// A DfuSe target for an alt setting the device does not have.
    NoSuchAlt = "dfu::refused::no-such-alt",
    /// An alt setting without a usable memory layout.
    NoLayout = "dfu::refused::no-layout",
    /// A plain DFU device cannot take an image in several pieces.
    PlainRuns = "dfu::refused::plain-runs",
    /// A plain DFU device writes from its own start address only.
    PlainAddress = "dfu::refused::plain-address",
    /// A write that raises read protection or adds write protection.
    RaisesProtection = "dfu::refused::raises-protection",
    /// A write that can never be undone: OTP memory, read protection level 2.
    Irreversible = "dfu::refused::irreversible",
    /// `--preserve` cannot keep every byte outside the image (a mass erase, a device that
    /// cannot upload, pages of unknown size).
    Preserve = "dfu::refused::preserve",
    /// A write needs bits to go from 0 to 1 in memory that is not erased (OTP).
    OtpBits = "dfu::refused::otp-bits",
    /// A write into sectors the option bytes write-protect (nWRP).
    WriteProtected = "dfu::refused::write-protected",
    /// The device is read-protected: it refuses reads, writes and erases.
    ReadProtected = "dfu::refused::read-protected",
    /// An operation that destroys data was asked for without the flag that confirms it.
    NeedsConfirmation = "dfu::refused::needs-confirmation",
    /// The device cannot upload, so it cannot be read.
    NoUpload = "dfu::unsupported::upload",
    /// The device has no erase command (plain DFU).
    NoErase = "dfu::unsupported::erase",
    /// The device is not in a mode that allows the operation (it has no DFU interface).
    WrongMode = "dfu::unsupported::mode",
    /// The device has no option bytes that its profile knows of.
    NoOptionBytes = "dfu::unsupported::option-bytes",
    /// The simulator could not be set up.
    Sim = "dfu::sim::spec",
    /// The simulator could not save its state or statistics files.
    SimSave = "dfu::sim::save",
    /// The last run was padded to the programming unit.
    Padded = "dfu::note::padded",
    /// Option bytes are written (the decoded change); the device resets to apply them.
    OptionBytes = "dfu::note::option-bytes",
    /// A raw binary was placed at an address that the file itself does not state.
    Placed = "dfu::note::placed",
    /// A value from dfu.toml was left out because no file of the command needs it.
    ConfigUnused = "dfu::note::config-unused",
    /// The device was running its application and was switched to DFU mode.
    Detached = "dfu::note::detached",
    /// The device was in an error or unfinished state and was brought back to dfuIDLE.
    Cleared = "dfu::note::cleared",
    /// The layout used is not the one the device announces (a known wrong string, a given
    /// or a profile's layout), or a given layout was not used.
    Layout = "dfu::note::layout",
    /// The bootloader runs no mass erase: every sector is erased one by one instead.
    SectorErase = "dfu::note::sector-erase",
    /// Erasing whole sectors (or a mass erase) clears bytes that the image does not rewrite.
    ClearsNearby = "dfu::note::clears-nearby",
    /// Bytes next to the image were read first and written back (`--preserve`).
    Kept = "dfu::note::kept",
    /// Sectors were skipped (they held the image already) or written without an erase
    /// (they were blank).
    Skipped = "dfu::note::skipped",
    /// What was written was not read back (the device cannot upload).
    NotVerified = "dfu::note::not-verified",
    /// The image was read back before manifestation, because the device restarts after it.
    VerifiedEarly = "dfu::note::verified-early",
    /// The device restarted without answering the last status request, as its bootloader
    /// does; the image was verified before.
    LeftEarly = "dfu::note::left-early",
    /// The reader of standard output went away (`| head`): a read to `-o -` stopped there.
    OutputClosed = "dfu::note::output-closed",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A code is a string: one of [`Code::ALL`].
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Code".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({
            "type": "string",
            "enum": all,
            "description": "A stable code (README, the table of codes)."
        })
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; changes nothing.
    Note,
    /// A refusal that the caller overrode (force); the write goes ahead.
    Overridden,
    /// A refusal: the plan will not be executed.
    Refusal,
}

/// One conclusion of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// The stable code.
    pub code: Code,
    /// What was found, in one sentence.
    pub message: String,
    /// Facts that help the user act on it (the memory map, where applications go).
    pub detail: String,
    /// True when forcing may override this refusal; false for what the device itself
    /// refuses (pages it marks read-only, memory it does not have).
    pub overridable: bool,
}

impl Finding {
    /// A refusal that forcing may override.
    pub fn refusal(code: Code, message: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Refusal,
            code,
            message: message.into(),
            detail: detail.into(),
            overridable: true,
        }
    }

    /// A refusal that nothing overrides (the device itself would refuse).
    pub fn hard(code: Code, message: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding {
            overridable: false,
            ..Finding::refusal(code, message, detail)
        }
    }

    /// A note.
    pub fn note(code: Code, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Note,
            code,
            message: message.into(),
            detail: String::new(),
            overridable: false,
        }
    }

    /// Applies `force`: an overridable refusal becomes [`Severity::Overridden`].
    pub fn forced(mut self, force: bool) -> Self {
        if force && self.overridable && self.severity == Severity::Refusal {
            self.severity = Severity::Overridden;
        }
        self
    }

    /// True when the finding stops the plan.
    pub fn refuses(&self) -> bool {
        self.severity == Severity::Refusal
    }
}

/// Something the user should know that changes nothing: a stable code and one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Note {
    /// The stable code (a `dfu::note::*` code, or the code of a refusal that was overridden).
    pub code: Code,
    /// What happened, in one line.
    pub message: String,
}

impl Note {
    /// A note with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Note {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(c.as_str().starts_with("dfu::"), "{c}");
            assert!(seen.insert(c.as_str()), "duplicate {c}");
        }
    }

    #[test]
    fn the_readme_lists_every_code() {
        let readme = include_str!("../../../README.md");
        for c in Code::ALL {
            assert!(readme.contains(&format!("| `{c}` |")), "README lacks {c}");
        }
    }

    #[test]
    fn force_overrides_only_what_it_may() {
        let soft = Finding::refusal(Code::ProtectedRegion, "m", "d").forced(true);
        assert_eq!(soft.severity, Severity::Overridden);
        assert!(!soft.refuses());
        let hard = Finding::hard(Code::ReadOnly, "m", "d").forced(true);
        assert!(hard.refuses());
    }
}
