//! One program at a time: a simulated device whose memory persists in a state file is
//! claimed by the first process that sends it a DFU request, as usbfs gives one program the
//! interface. A lock file beside the state file (`STATE.lock`) holds the owner's process id;
//! another process gets [`crate::UsbError::Busy`] until the owner ends. A lock left by a
//! process that no longer runs is taken over (where /proc tells).

use std::fs;
#[cfg(not(target_arch = "wasm32"))]
use std::fs::OpenOptions;
#[cfg(not(target_arch = "wasm32"))]
use std::io::Write;
use std::path::{Path, PathBuf};

/// A held claim; the lock file goes when it is dropped.
#[derive(Debug)]
pub(crate) struct Claim {
    path: PathBuf,
    created: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.created {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// True unless /proc says that process `pid` no longer runs (Linux only: elsewhere, e.g.
/// under Wine where `Z:\proc` is the host's /proc with other process ids, /proc says
/// nothing about the caller's processes).
#[cfg(not(target_arch = "wasm32"))]
fn alive(pid: u32) -> bool {
    !cfg!(target_os = "linux")
        || !Path::new("/proc/self").exists()
        || Path::new(&format!("/proc/{pid}")).exists()
}

/// Claims the device whose state is in `state`. On wasm32 (the web page) there is one
/// program and no process ids: the claim always succeeds and takes no lock file.
#[cfg(target_arch = "wasm32")]
pub(crate) fn acquire(state: &Path) -> Result<Claim, u32> {
    Ok(Claim {
        path: lock_path(state),
        created: false,
    })
}

/// Claims the device whose state is in `state`; `Err(pid)` when process `pid` holds it.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn acquire(state: &Path) -> Result<Claim, u32> {
    let path = lock_path(state);
    let me = std::process::id();
    for _ in 0..3 {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                let _ = write!(f, "{me}");
                return Ok(Claim {
                    path,
                    created: true,
                });
            }
            Err(_) => {
                let holder = fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                match holder {
                    // Another bus of this same process (threads, tests): no exclusion.
                    Some(pid) if pid == me => {
                        return Ok(Claim {
                            path,
                            created: false,
                        })
                    }
                    Some(pid) if alive(pid) => return Err(pid),
                    // Stale, or being written right now: try again.
                    _ => {
                        if holder.is_some() {
                            let _ = fs::remove_file(&path);
                        }
                        std::thread::yield_now();
                    }
                }
            }
        }
    }
    Err(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_excludes_and_a_dead_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let lock = lock_path(&state);
        let c = acquire(&state).unwrap();
        assert!(lock.exists());
        drop(c);
        assert!(!lock.exists());
        // PID 1 always runs.
        fs::write(&lock, "1").unwrap();
        assert_eq!(acquire(&state).unwrap_err(), 1);
        // A process id that cannot exist is stale.
        fs::write(&lock, "4294967295").unwrap();
        let c = acquire(&state).unwrap();
        drop(c);
        assert!(!lock.exists());
    }
}
