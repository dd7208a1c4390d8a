//! `dfu doctor --fix`: installs the udev rule that `dfu doctor` prints, after asking, and
//! reloads udev. It never replaces a different rule file.

use crate::exit::{Failure, REFUSED};
use crate::out::{errln, out, outln};
use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Who gets access to the devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Access {
    /// The user of the local desktop session (`TAG+="uaccess"`)
    Uaccess,
    /// Members of the plugdev group (`GROUP="plugdev", MODE="0660"`): SSH, headless machines
    Plugdev,
}

impl Access {
    /// The default: uaccess when a graphical session is running on this machine, else plugdev.
    fn detect() -> Access {
        let graphical = fs::read_dir("/run/systemd/sessions")
            .map(|it| {
                it.flatten().any(|e| {
                    fs::read_to_string(e.path()).is_ok_and(|t| {
                        t.lines()
                            .any(|l| matches!(l, "TYPE=x11" | "TYPE=wayland" | "TYPE=mir"))
                    })
                })
            })
            .unwrap_or(false);
        if graphical {
            Access::Uaccess
        } else {
            Access::Plugdev
        }
    }

    fn rules(self) -> String {
        match self {
            Access::Uaccess => dfu::udev::rules(),
            Access::Plugdev => dfu::udev::plugdev_rules(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Access::Uaccess => "the user logged in at this machine's desktop (uaccess)",
            Access::Plugdev => "members of the plugdev group (GROUP=\"plugdev\", MODE=\"0660\")",
        }
    }
}

/// `dfu doctor --fix [--yes] [--access uaccess|plugdev]`.
pub fn fix(yes: bool, access: Option<Access>, rules_dir: Option<&Path>) -> Result<(), Failure> {
    if !cfg!(target_os = "linux") {
        return Err(Failure::usage(
            "`dfu doctor --fix` installs a udev rule, which only Linux has",
            "on Windows install the WinUSB driver with Zadig; macOS needs no driver",
        ));
    }
    let access = access.unwrap_or_else(Access::detect);
    let default_dir = Path::new(dfu::udev::RULE_PATH)
        .parent()
        .unwrap_or(Path::new("/"));
    let dir = rules_dir.unwrap_or(default_dir);
    let file_name = Path::new(dfu::udev::RULE_PATH)
        .file_name()
        .unwrap_or_default();
    let path = dir.join(file_name);
    let rules = access.rules();
    match fs::read_to_string(&path) {
        Ok(existing) if existing == rules => {
            outln!(
                "{} already holds this rule: nothing to change",
                path.display()
            );
            return Ok(());
        }
        Ok(_) => return Err(different_file(&path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Failure::new(
                REFUSED,
                format!("cannot read {}: {e}", path.display()),
                "check the file by hand; `dfu doctor` prints the rule",
            )
            .with_code(dfu::Code::Output))
        }
    }
    outln!(
        "dfu doctor --fix will write {} ({} USB ids), granting access to {}:\n",
        path.display(),
        dfu::udev::known_ids().len(),
        access.describe()
    );
    out!("{rules}");
    outln!();
    confirm(yes)?;
    write_rules(&path, &rules)?;
    outln!("wrote {}", path.display());
    if rules_dir.is_some() {
        outln!("udev not reloaded: the rules went to a directory of your choice");
    } else {
        reload();
    }
    if access == Access::Plugdev {
        plugdev_advice();
    }
    outln!("Re-plug the device if it is attached now.");
    outln!(
        "To undo: sudo rm {} && sudo udevadm control --reload && sudo udevadm trigger",
        path.display()
    );
    Ok(())
}

/// A rule file of that name exists with other content: it is not ours to replace.
fn different_file(path: &Path) -> Failure {
    Failure::new(
        REFUSED,
        format!(
            "{} exists and differs from the rule `dfu doctor` would install; it was left unchanged",
            path.display()
        ),
        format!(
            "compare it with the rule `dfu doctor` prints; to replace it, move it away first (sudo mv {} {}.old) and run `dfu doctor --fix` again",
            path.display(),
            path.display()
        ),
    )
    .with_code(dfu::Code::Output)
}

/// Asks on the terminal, unless `--yes`; without a terminal and without `--yes`, refuses.
fn confirm(yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            crate::exit::REFUSED,
            "dfu doctor --fix asks before it installs the rule, and standard input is not a terminal: nothing was changed",
            "run it in a terminal to answer, or add --yes to install without asking",
        )
        .with_code(dfu::Code::NeedsConfirmation));
    }
    out!("Install it? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = stdin.lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
        Ok(())
    } else {
        Err(Failure::new(
            REFUSED,
            "not installed: you answered no; nothing was changed",
            "`dfu doctor` prints the rule to install by hand",
        ))
    }
}

/// Writes the file through a temporary one beside it, so a failure leaves nothing half-written.
fn write_rules(path: &Path, rules: &str) -> Result<(), Failure> {
    let tmp: PathBuf = path.with_extension("rules.tmp");
    let result = fs::write(&tmp, rules).and_then(|()| fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        let help = if e.kind() == std::io::ErrorKind::PermissionDenied {
            "installing a udev rule needs root: sudo dfu doctor --fix"
        } else {
            "check that the udev rules directory exists and is writable"
        };
        Failure::new(
            REFUSED,
            format!("cannot write {}: {e}; nothing was changed", path.display()),
            help,
        )
        .with_code(dfu::Code::Output)
    })
}

/// `udevadm control --reload && udevadm trigger`; a failure is reported, not fatal: the rule
/// applies at the next plug-in anyway.
fn reload() {
    for args in [
        &["control", "--reload"][..],
        &["trigger", "--subsystem-match=usb"],
    ] {
        let shown = format!("udevadm {}", args.join(" "));
        match Command::new("udevadm").args(args).status() {
            Ok(s) if s.success() => outln!("ran {shown}"),
            Ok(s) => {
                errln!("warning: {shown} failed ({s}); the rule applies when the device is plugged in again");
                return;
            }
            Err(e) => {
                errln!("warning: cannot run {shown}: {e}; the rule applies once udev reads it (re-plug the device, or reboot)");
                return;
            }
        }
    }
}

/// For the plugdev rule: whether the user who ran sudo is in the group, and how to join it.
fn plugdev_advice() {
    let user = std::env::var("SUDO_USER").ok().filter(|u| u != "root");
    let members = fs::read_to_string("/etc/group").ok().and_then(|g| {
        g.lines()
            .find(|l| l.starts_with("plugdev:"))
            .map(|l| l.rsplit(':').next().unwrap_or_default().to_string())
    });
    match (members, user) {
        (None, _) => outln!(
            "There is no plugdev group yet: sudo groupadd plugdev && sudo usermod -aG plugdev $USER, then log in again."
        ),
        (Some(m), Some(u)) if m.split(',').any(|x| x == u) => {
            outln!("{u} is in the plugdev group: access is granted.")
        }
        (Some(_), Some(u)) => outln!(
            "{u} is not in the plugdev group: sudo usermod -aG plugdev {u}, then log in again."
        ),
        (Some(_), None) => outln!(
            "Users who flash need to be in the plugdev group: sudo usermod -aG plugdev USER, then log in again."
        ),
    }
}
