//! `dfu profile new`: a profile file written from the connected (or simulated) device, so a
//! new board is described in one step. What the device does not say (timing, regions beyond
//! ST's option-byte and OTP alts) is marked assumed in the file's `sources`.

use crate::args::{Global, ProfileCmd};
use crate::exit::{self, Failure};
use crate::out::outln;
use crate::output::NewFile;
use dfu_profiles::{DfuFunctional, GenericDevice, Profile};

/// `dfu profile ...`.
pub fn profile(g: &Global, c: ProfileCmd) -> Result<(), Failure> {
    let ProfileCmd::New {
        output,
        name,
        force,
    } = c;
    // Opened before the device is asked: a name that exists (without --force) or cannot be
    // written is refused first, and nothing is left behind if anything fails.
    let file = match &output {
        Some(o) => Some(NewFile::create(o, force)?),
        None => None,
    };
    let mut backend = g.backend()?;
    let info = g.connect(backend.as_mut(), &mut crate::render::stderr_event)?;
    backend.finish()?;
    let names: Vec<Option<String>> = info.alts.iter().map(|a| a.name.clone()).collect();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (m, p, sn) = (s(&info.manufacturer), s(&info.product), s(&info.serial));
    let f = &info.functional;
    let made = Profile::generic(&GenericDevice {
        ids: (info.usb.vendor_id, info.usb.product_id, info.usb.bcd_device),
        strings: (&m, &p, &sn),
        dfu: DfuFunctional {
            attributes: f.attributes,
            detach_timeout_ms: f.detach_timeout_ms,
            transfer_size: f.transfer_size,
            dfu_version: f.dfu_version,
            interface: info.interface,
        },
        alt_names: &names,
    });
    let Some(mut made) = made else {
        return Err(Failure::new(
            exit::REFUSED,
            format!(
                "{} does not describe its memory (a plain DFU device, or an alt string that is not a DfuSe layout)",
                info.usb.id()
            ),
            "write the profile by hand from a built-in one (crates/dfu-profiles/profiles); plain DFU alts need `memory = \"@Name/0xADDR/N*SIZEKg\"`",
        ).with_code(dfu::Code::NoLayout));
    };
    made.name = name.unwrap_or_else(|| "board".into());
    made.title = format!("{} {} (made by `dfu profile new`)", m.trim(), p.trim())
        .trim()
        .to_string();
    made.sources = vec![
        "the device's own descriptors and alt strings, read by `dfu profile new`".into(),
        "assumed: every timing figure, the application address (the first writable sector of alt 0), and regions beyond the option-byte and OTP alts ST's ROMs name".into(),
    ];
    let text = made.to_toml();
    match (output, file) {
        (Some(o), Some(mut file)) => {
            file.write(text.as_bytes())?;
            file.commit()?;
            outln!(
                "wrote profile {} to {} (use it with --profile {} or --sim {})",
                made.name,
                o.display(),
                o.display(),
                o.display()
            );
        }
        _ => crate::out::stdout_text(format_args!("{text}")),
    }
    Ok(())
}
