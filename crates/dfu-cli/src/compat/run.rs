//! dfu-util's actions carried out by `dfu`'s own commands: -D through `dfu flash`,
//! -U through `dfu read`, -e through `dfu detach`, -R through `dfu reset`, -l from the
//! library's discovery. Device choice follows dfu-util's rules (see `probe`); the one
//! device chosen is then named to `dfu` by its bus path.

use super::options::{self, Action, UtilOptions};
use super::particle_keys;
use super::probe::{self, Iface, Probe};
use super::sysexits::{self, EX_CANTCREAT, EX_IOERR, EX_OK, EX_USAGE};
use super::transfer::{download, file_facts, unprotect, upload, FileFacts};
use crate::args::Global;
use crate::exit::Failure;
use dfu::{AltChoice, DeviceRequest, Operation, Request};
use dfu_image::suffix;
use std::io::Write;

const HELP: &str = "\
Usage: dfu-util [options] ...   (dfu's dfu-util 0.11-compatible mode)
  -h --help                   this text
  -V --version                the version
  -v --verbose                print every USB request
  -l --list                   list DFU devices (dfu-util's `Found ...` lines)
  -e --detach                 switch a run-time device to DFU mode
  -E --detach-delay SECONDS   accepted; `dfu` waits for the device itself
  -d --device VID:PID[,VID:PID]  run-time and DFU-mode USB ids (hex; * any, - none)
  -n --devnum N               device number (devnum in --list)
  -p --path BUS-PORT.PORT     USB path
  -c --cfg N                  configuration
  -i --intf N                 interface number
  -S --serial S[,S_DFU]       serial number (run-time, DFU mode)
  -a --alt N|NAME             alternate setting
  -t --transfer-size N        accepted; the device's transfer size is used
  -U --upload FILE            read the device into FILE (never overwrites)
  -Z --upload-size N          bytes to read (plain DFU devices)
  -D --download FILE          write FILE, verify it, then leave as asked
  -R --reset                  reset the device afterwards
  -w --wait                   wait for the device to appear
  -s --dfuse-address ADDR[:LEN][:leave|:mass-erase|:unprotect|:will-reset|:force]
                              DfuSe address, upload length and modifiers
See docs/dfu-util.md for what differs from dfu-util.";

/// A failure with dfu-util's exit code, shown by [`main`] when the run ends.
pub(super) struct Exit {
    code: i32,
    failure: Failure,
    /// dfu's own failures also name their stable code; dfu-util's refusals do not.
    with_code: bool,
}

impl Exit {
    fn show(&self) {
        if self.with_code {
            crate::render::failure(&self.failure, false);
        } else {
            eprintln!(
                "error: {}\nhelp: {}",
                self.failure.message, self.failure.help
            );
        }
    }
}

impl From<dfu::DfuError> for Exit {
    fn from(e: dfu::DfuError) -> Exit {
        Exit::from(Failure::from(e))
    }
}

impl From<Failure> for Exit {
    fn from(mut f: Failure) -> Exit {
        // What a caller of dfu-util can do: :force is not the way, a run of dfu by hand is.
        if f.overridable {
            f.help = f.help.replace(
                crate::help::FORCE_HINT,
                "(dfu-util's :force does not override this check; to write it anyway, run `dfu flash --force` with the same file and address)",
            );
        }
        Exit {
            code: sysexits::for_failure(&f),
            failure: f,
            with_code: true,
        }
    }
}

pub(super) fn refuse(code: i32, message: impl Into<String>, help: impl Into<String>) -> Exit {
    Exit {
        code,
        failure: Failure::new(code, message, help),
        with_code: false,
    }
}

/// `dfu-util ARGS`: returns the exit code.
pub fn main(args: &[String], sim: Option<String>) -> i32 {
    let o = match options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}\n{HELP}", e.message());
            return EX_USAGE;
        }
    };
    if o.help {
        eprintln!("{HELP}");
        return EX_OK;
    }
    println!("{}\n", super::version_line());
    if o.action == Action::Version {
        return EX_OK;
    }
    let base = global(sim, o.verbose > 0);
    match execute(o, base) {
        Ok(()) => EX_OK,
        Err(e) => {
            e.show();
            e.code
        }
    }
}

/// The options every `dfu` command shares, as the environment gives them (`DFU_SIM`), with
/// `-v` and a `--sim` that came before `util`.
fn global(sim: Option<String>, verbose: bool) -> Global {
    let mut g = Global::from_env();
    g.sim = sim.or(g.sim);
    g.verbose = verbose;
    g.drop_in = true;
    g
}

/// What can be refused before any device is touched; the facts of a -D file.
fn before_device(o: &mut UtilOptions) -> Result<Option<FileFacts>, Exit> {
    if o.action == Action::None && o.dfuse.is_none() {
        return Err(refuse(
            EX_USAGE,
            "nothing to do",
            "give -D FILE to download, -U FILE to upload, -l to list, or -e to detach",
        ));
    }
    let facts = match &o.action {
        Action::Download(p) => Some(file_facts(p)?),
        _ => None,
    };
    if let Some((v, p)) = facts.as_ref().and_then(|f| f.ids) {
        // As dfu-util: ids in the file's suffix narrow the run-time match when -d did not.
        if o.ids.vendor.is_none() && v != suffix::ANY {
            o.ids.vendor = Some(u32::from(v));
        }
        if o.ids.product.is_none() && p != suffix::ANY {
            o.ids.product = Some(u32::from(p));
        }
    }
    if let Action::Upload(p) = &o.action {
        if p.exists() {
            return Err(refuse(
                EX_CANTCREAT,
                format!("{} exists; not overwriting it", p.display()),
                "choose another file name, or remove the file first",
            ));
        }
    }
    let d = o.dfuse.unwrap_or_default();
    if d.unprotect && d.force == 0 {
        return Err(refuse(
            EX_USAGE,
            "-s ...:unprotect (read-unprotect) erases the whole flash and needs :force as well",
            "add :force, e.g. -s 0x08000000:unprotect:force (or use `dfu unprotect --force`)",
        ));
    }
    if d.mass_erase && d.force == 0 {
        return Err(refuse(
            EX_USAGE,
            "-s ...:mass-erase erases the whole device and needs :force as well",
            "add :force, e.g. -s 0x08000000:mass-erase:force",
        ));
    }
    Ok(facts)
}

fn print_found(p: &Probe) {
    let mut out = std::io::stdout().lock();
    for i in &p.ifaces {
        let mut line = i.found_line();
        line.push(b'\n');
        let _ = out.write_all(&line);
    }
}

fn execute(mut o: UtilOptions, base: Global) -> Result<(), Exit> {
    let facts = before_device(&mut o)?;
    let mut backend = base.backend()?;
    let found = find(backend.as_mut(), &o)?;
    if o.action == Action::List {
        print_found(&found);
        backend.finish()?;
        return Ok(());
    }
    let dfuse_file = facts.as_ref().is_some_and(|f| f.dfuse);
    let root = choose(&found, dfuse_file)?.clone();
    backend.finish()?;
    drop(backend);
    let info = &found.devices[root.device];
    // The file's suffix ids are checked against the device by the flash plan.
    // A DfuSe file without -a picks its targets' alts; otherwise the alt dfu-util chose.
    let alt = if dfuse_file && root.dfu_mode && o.alt_index.is_none() && o.alt_name.is_none() {
        AltChoice::Auto
    } else if root.dfu_mode {
        AltChoice::Number(root.alt)
    } else if let Some(a) = o.alt_index {
        AltChoice::Number(u8::try_from(a).map_err(|_| {
            refuse(
                EX_USAGE,
                format!("-a {a}: no such alt setting"),
                "alt settings are numbered 0-255",
            )
        })?)
    } else {
        AltChoice::from_option(o.alt_name.as_deref())?
    };
    let g = Global {
        path: vec![root.path.clone()],
        verbose: o.verbose > 0,
        ..base
    };
    // The device as the probe described it: it is not described again.
    let device = DeviceRequest {
        known: Some(info.clone()),
        alt,
        ..g.device_request()?
    };
    act(&o, &g, &device, info, dfuse_file)
}

/// Probes, waiting for a device with -w.
fn find(backend: &mut dyn dfu::Backend, o: &UtilOptions) -> Result<Probe, Exit> {
    if o.wait {
        println!("Waiting for the device (ctrl-C to stop)");
    }
    let once = !o.wait || o.action == Action::List;
    let found = dfu::wait::poll(backend, None, dfu::wait::POLL, &mut |b| {
        let p = probe::probe(b, o).map_err(|f| dfu::DfuError::usage(f.message))?;
        Ok((!p.ifaces.is_empty() || once).then_some(p))
    })?;
    // Without a limit the loop ends only with a probe.
    found.ok_or_else(|| {
        refuse(
            EX_IOERR,
            "no DFU capable USB device found",
            "put the device in DFU mode",
        )
    })
}

/// dfu-util's rule: exactly one matching alt setting, or several alts of one interface
/// of one device when the file is a DfuSe file.
fn choose(p: &Probe, dfuse_file: bool) -> Result<&Iface, Exit> {
    let Some(first) = p.ifaces.first() else {
        return Err(refuse(
            EX_IOERR,
            "no DFU capable USB device found",
            "put the device in DFU mode and check the cable; `dfu-util -l` lists what is seen",
        ));
    };
    let one_interface = p
        .ifaces
        .iter()
        .all(|i| i.device == first.device && i.cfg == first.cfg && i.intf == first.intf);
    if p.ifaces.len() > 1 && !(dfuse_file && one_interface) {
        let lines: Vec<String> = p
            .ifaces
            .iter()
            .map(|i| String::from_utf8_lossy(&i.found_line()).into_owned())
            .collect();
        return Err(refuse(
            EX_IOERR,
            format!(
                "more than one DFU capable USB device found:\n  {}",
                lines.join("\n  ")
            ),
            "pick one with -a ALT, -S SERIAL, -p PATH or -n DEVNUM (or disconnect the others)",
        ));
    }
    Ok(first)
}

fn act(
    o: &UtilOptions,
    g: &Global,
    device: &DeviceRequest,
    info: &dfu::DeviceInfo,
    dfuse_file: bool,
) -> Result<(), Exit> {
    let d = o.dfuse.unwrap_or_default();
    // A run-time interface may report another DFU version than the bootloader behind it;
    // -s there means the caller knows the bootloader speaks DfuSe.
    let is_dfuse = info.is_dfuse() || (info.mode == dfu::Mode::Runtime && o.dfuse.is_some());
    if o.dfuse.is_some() && !is_dfuse && info.mode == dfu::Mode::Dfu {
        return Err(refuse(
            EX_USAGE,
            format!(
                "-s is for DfuSe devices; {} is a plain DFU 1.1 device",
                info.usb.id()
            ),
            "drop -s: plain DFU devices take the file from their start",
        ));
    }
    let mut left = false;
    match &o.action {
        // As dfu-util: read-unprotect, and nothing else (the device erases and resets).
        Action::Download(_) if d.unprotect => {
            unprotect(g, device)?;
            return Ok(());
        }
        Action::Download(file) => {
            let key = particle_keys::download_slot(info, &device.alt, &d, file);
            left = download(g, device, file, &d, is_dfuse, dfuse_file, o.reset, key)?;
        }
        Action::Upload(file) => {
            particle_keys::note_read(info, &device.alt, &d);
            upload(g, device, info, is_dfuse, file, &d)?
        }
        Action::Detach => {
            if info.mode == dfu::Mode::Runtime {
                crate::cmd_device::detach(g, false)?;
                left = true;
            } else {
                println!("The device is already in DFU mode; nothing to detach.");
            }
        }
        Action::None => {
            if d.mass_erase {
                let request = Request {
                    device: device.clone(),
                    op: Operation::Erase {
                        range: None,
                        force: false,
                    },
                };
                crate::cmd_flash::run_erase(g, &request, false)?;
            } else {
                println!("DfuSe command mode: nothing to do but what the modifiers ask.");
            }
            if d.leave && !o.reset {
                crate::cmd_device::reset(g, false)?;
                left = true;
            }
        }
        Action::List | Action::Version => unreachable!("handled before"),
    }
    if o.reset && !left {
        crate::cmd_device::reset(g, false)?;
    }
    Ok(())
}
