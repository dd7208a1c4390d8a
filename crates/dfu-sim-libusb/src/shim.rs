//! The process-wide state behind the C API: the simulated bus and the objects handed to
//! the program (devices, open handles, device lists, configuration descriptors), each
//! known by a token number.
//!
//! libusb programs see opaque pointers; here they are tokens (see
//! [`crate::ffi::token_to_ptr`]), looked up in maps. A stale or foreign pointer is thus an
//! unknown token and gets an error code, never a wild memory access.

use crate::config::OwnedConfig;
use dfu_sim::{Bus, DeviceId, DeviceView};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, Once};

/// A device as the program holds it: what the bus showed when it was listed.
#[derive(Debug)]
pub struct DeviceRec {
    /// The device's view (descriptors, address, ports) at listing time.
    pub view: DeviceView,
    /// libusb reference count; the record goes when it reaches zero.
    pub refs: u32,
}

/// An open device handle.
#[derive(Debug)]
pub struct HandleRec {
    /// Token of the device it was opened from (holds a reference).
    pub device: u64,
    /// The incarnation of the device this handle talks to.
    pub id: DeviceId,
    /// Interfaces claimed through this handle.
    pub claimed: BTreeSet<u8>,
    /// `libusb_set_auto_detach_kernel_driver` was called with a non-zero value.
    pub auto_detach: bool,
}

/// Everything between `libusb_init` and the last `libusb_exit`.
pub struct Shim {
    /// The simulated devices.
    pub bus: Bus,
    /// Live `libusb_init` contexts.
    pub contexts: u32,
    next_token: u64,
    /// Devices handed out, by token.
    pub devices: HashMap<u64, DeviceRec>,
    /// Open handles, by token.
    pub handles: HashMap<u64, HandleRec>,
    /// NULL-terminated device lists handed out, by the address of their first element.
    pub lists: HashMap<usize, Box<[usize]>>,
    /// Configuration descriptors handed out, by address.
    pub configs: HashMap<usize, Box<OwnedConfig>>,
    /// Device incarnations a program put in the unconfigured state (configuration 0);
    /// all others are in the configuration the kernel chose at enumeration.
    pub unconfigured: BTreeSet<DeviceId>,
}

impl std::fmt::Debug for Shim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shim")
            .field("contexts", &self.contexts)
            .field("devices", &self.devices.len())
            .field("handles", &self.handles.len())
            .finish_non_exhaustive()
    }
}

impl Shim {
    /// A fresh shim over `bus`.
    pub fn new(bus: Bus) -> Self {
        Shim {
            bus,
            contexts: 0,
            next_token: 0,
            devices: HashMap::new(),
            handles: HashMap::new(),
            lists: HashMap::new(),
            configs: HashMap::new(),
            unconfigured: BTreeSet::new(),
        }
    }

    /// A new token (never 0).
    pub fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// Whether the device incarnation `id` is still on the bus.
    pub fn present(&self, id: DeviceId) -> bool {
        self.bus.devices().iter().any(|v| v.id == id)
    }

    /// Drops one reference to a device token.
    pub fn unref_device(&mut self, token: u64) {
        if let Some(rec) = self.devices.get_mut(&token) {
            rec.refs = rec.refs.saturating_sub(1);
            if rec.refs == 0 {
                self.devices.remove(&token);
            }
        }
    }

    /// Writes the simulation's state and statistics files, reporting failure on stderr
    /// (there is no caller to return it to).
    pub fn flush(&self) {
        if let Err(e) = self.bus.flush() {
            eprintln!("dfu-sim-libusb: cannot save the simulation: {e}");
        }
    }
}

static SHIM: Mutex<Option<Shim>> = Mutex::new(None);
static ATEXIT: Once = Once::new();

fn lock() -> MutexGuard<'static, Option<Shim>> {
    SHIM.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks this thread as running simulator code until dropped.
struct Inside(bool);

impl Inside {
    fn enter() -> Inside {
        Inside(INSIDE.with(|c| c.replace(true)))
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        let was = self.0;
        INSIDE.with(|c| c.set(was));
    }
}

/// Whether this thread is inside the simulator (holding the shim). The simulator's own
/// sleeps (a bus paced by `time-scale=` sleeps for real) then reach this library's
/// `nanosleep`/`clock_nanosleep` and must really sleep, not take the shim again.
pub fn inside() -> bool {
    INSIDE.with(|c| c.get())
}

/// Runs `f` on the shim if `libusb_init` has set it up; `None` otherwise.
pub fn with<R>(f: impl FnOnce(&mut Shim) -> R) -> Option<R> {
    let mut guard = lock();
    let _inside = Inside::enter();
    guard.as_mut().map(f)
}

/// Runs `f` on the shim, creating it from `DFU_SIM` first if needed. Reports why the
/// simulation cannot start on stderr and returns `None` then.
pub fn with_or_init<R>(f: impl FnOnce(&mut Shim) -> R) -> Option<R> {
    let mut guard = lock();
    if guard.is_none() {
        let bus = match Bus::from_env() {
            Ok(Some(bus)) => bus,
            Ok(None) => {
                eprintln!(
                    "dfu-sim-libusb: {} is not set; set it to the simulated devices, \
                     e.g. {}='photon,state=/tmp/photon.json'",
                    dfu_sim::ENV_VAR,
                    dfu_sim::ENV_VAR
                );
                return None;
            }
            Err(e) => {
                eprintln!("dfu-sim-libusb: {}: {e}", dfu_sim::ENV_VAR);
                return None;
            }
        };
        *guard = Some(Shim::new(bus));
        ATEXIT.call_once(register_atexit);
    }
    let _inside = Inside::enter();
    guard.as_mut().map(f)
}

/// Ends the shim (last `libusb_exit`): saves the simulation and forgets everything.
pub fn teardown() {
    if let Some(shim) = lock().take() {
        shim.flush();
    }
}

/// The `atexit` handler: programs such as dfu-util leave through `exit()` on errors
/// without calling `libusb_exit`, and the state written so far must still be saved.
extern "C" fn flush_at_exit() {
    // try_lock: never block process exit on a lock held by an interrupted call.
    if let Ok(guard) = SHIM.try_lock() {
        if let Some(shim) = guard.as_ref() {
            shim.flush();
        }
    }
}

fn register_atexit() {
    // SAFETY: `flush_at_exit` is an `extern "C" fn()` that lives for the whole process
    // (this library is never unloaded while the program runs) and does not unwind.
    let rc = unsafe { libc::atexit(flush_at_exit) };
    if rc != 0 {
        eprintln!("dfu-sim-libusb: atexit failed; state is saved only at libusb_exit");
    }
}
