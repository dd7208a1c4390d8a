//! One alternate setting of a profile, its layout strings parsed when the profile is loaded.

use dfu_proto::MemoryLayout;
use serde::{Deserialize, Serialize};

/// One alternate setting. Its memory layout is parsed when the profile is loaded: a profile
/// whose alt has no valid layout does not load.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "AltText")]
pub struct Alt {
    /// The exact interface string, padding included (the DfuSe memory layout on DfuSe devices).
    /// The layouts below were parsed from it (and from `memory`) at load time.
    pub name: String,
    /// bwPollTimeout this alt setting reports while programming, when it differs from
    /// `timing.poll_program_ms`.
    pub poll_program_ms: Option<u32>,
    /// Writes replace exactly the bytes sent and keep the rest, and the erase command does
    /// nothing (Particle's DCT alt: device-os `usbd_dct_if.c` erases nothing and writes
    /// through `dct_write_app_data`, a read-modify-write). Nothing is erased or padded there.
    pub in_place: bool,
    /// The layout `name` announces, when it is one.
    announced: Option<MemoryLayout>,
    /// The memory the device really has: the profile's `memory` layout when it gives one
    /// (a device that misreports its layout, or a plain DFU device whose name is no layout),
    /// else the announced one.
    layout: MemoryLayout,
}

/// [`Alt`] as the profile file writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AltText {
    name: String,
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    poll_program_ms: Option<u32>,
    #[serde(default)]
    in_place: bool,
}

impl TryFrom<AltText> for Alt {
    type Error = String;

    fn try_from(t: AltText) -> Result<Alt, String> {
        let announced = MemoryLayout::parse(&t.name).ok();
        let layout = match (&t.memory, &announced) {
            (Some(text), _) => MemoryLayout::parse(text).map_err(|e| {
                format!(
                    "alt {:?}: `memory` is not a memory layout: {}",
                    t.name, e.reason
                )
            })?,
            (None, Some(a)) => a.clone(),
            (None, None) => {
                return Err(format!(
                    "alt {:?}: neither `memory` nor `name` is a memory layout; plain DFU alts need `memory = \"@Name/0xADDR/N*SIZEKg\"`",
                    t.name
                ))
            }
        };
        Ok(Alt {
            name: t.name,
            poll_program_ms: t.poll_program_ms,
            in_place: t.in_place,
            announced,
            layout,
        })
    }
}

impl Alt {
    /// The memory the device really has behind this alt setting (the profile's `memory`,
    /// else the layout its name announces).
    pub fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    /// The layout the device announces in its string, if it is one.
    pub fn announced(&self) -> Option<&MemoryLayout> {
        self.announced.as_ref()
    }

    /// A copy of [`Alt::layout`]; always `Some` (kept for callers that expect an option).
    pub fn real_layout(&self) -> Option<MemoryLayout> {
        Some(self.layout.clone())
    }

    /// A copy of [`Alt::announced`].
    pub fn announced_layout(&self) -> Option<MemoryLayout> {
        self.announced.clone()
    }

    /// Replaces the memory the device really has (the announced layout stays as it is).
    pub fn set_memory(&mut self, layout: MemoryLayout) {
        self.layout = layout;
    }
}

impl Alt {
    /// An alt setting from its interface string alone (a DfuSe layout string; the memory is
    /// the announced one).
    pub fn from_layout_string(name: &str) -> Result<Alt, String> {
        Alt::try_from(AltText {
            name: name.to_string(),
            memory: None,
            poll_program_ms: None,
            in_place: false,
        })
    }
}
