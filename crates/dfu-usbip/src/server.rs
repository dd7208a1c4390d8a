//! The accept loop, the state connections share, and socket reading that keeps ticking.

use crate::bus::{BusDevice, DeviceBus};
use crate::clock::Clock;
use crate::conn;
use crate::{ServeOptions, UsbipError};
use std::collections::BTreeSet;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Instant;

/// The bus and which of its slots a client has imported.
pub(crate) struct Inner<B> {
    pub bus: B,
    pub imported: BTreeSet<usize>,
}

impl<B: DeviceBus> Inner<B> {
    /// Moves the virtual clock up to real time (see [`Clock`]).
    pub fn sync(&mut self, clock: &Clock) {
        let behind = clock.catch_up(self.bus.now());
        if !behind.is_zero() {
            self.bus.advance(behind);
        }
    }

    /// The device present now under `id`, if any.
    pub fn find_id(&mut self, id: u32) -> Option<BusDevice> {
        self.bus.devices().into_iter().find(|d| d.id == id)
    }

    /// The device present now in `slot`, if any.
    pub fn find_slot(&mut self, slot: usize) -> Option<BusDevice> {
        self.bus.devices().into_iter().find(|d| d.slot == slot)
    }

    /// Writes state and statistics files; failures are reported, not fatal.
    pub fn flush(&mut self, opts: &ServeOptions) {
        if let Err(e) = self.bus.flush() {
            opts.log(&format!("cannot save the simulator's state: {e}"));
        }
    }
}

/// Everything a connection thread needs.
pub(crate) struct Shared<B> {
    inner: Mutex<Inner<B>>,
    pub clock: Clock,
    pub opts: ServeOptions,
    pub shutdown: Arc<AtomicBool>,
}

impl<B: DeviceBus> Shared<B> {
    /// Locks the bus. A thread that panicked while holding the lock cannot leave the bus
    /// half-changed in a way that matters more than losing the server, so poison is
    /// ignored.
    pub fn lock(&self) -> MutexGuard<'_, Inner<B>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True once a stop was requested.
    pub fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// Serves until `shutdown` is set; then waits for the connections to close and flushes.
pub(crate) fn run<B: DeviceBus + 'static>(
    listener: TcpListener,
    mut bus: B,
    opts: ServeOptions,
    shutdown: Arc<AtomicBool>,
) -> Result<(), UsbipError> {
    listener.set_nonblocking(true)?;
    if opts.verbose {
        log_exports(&listener, &mut bus, &opts);
    }
    let clock = Clock::new(bus.now(), opts.time_scale);
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            bus,
            imported: BTreeSet::new(),
        }),
        clock,
        opts,
        shutdown,
    });
    for w in accept_until_stopped(&listener, &shared) {
        let _ = w.join();
    }
    bus = match Arc::try_unwrap(shared) {
        Ok(s) => s.inner.into_inner().unwrap_or_else(|p| p.into_inner()).bus,
        Err(_) => return Err(UsbipError::Sim("a connection outlived the server".into())),
    };
    bus.flush().map_err(UsbipError::Sim)
}

/// Logs the address and the devices exported, with their bus ids and USB ids.
fn log_exports<B: DeviceBus>(listener: &TcpListener, bus: &mut B, opts: &ServeOptions) {
    let exported: Vec<String> = bus
        .devices()
        .iter()
        .map(|d| {
            let dd = &d.device_descriptor;
            format!(
                "{} ({:02x}{:02x}:{:02x}{:02x})",
                d.busid(),
                dd[9],
                dd[8],
                dd[11],
                dd[10]
            )
        })
        .collect();
    let at = listener
        .local_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    opts.log(&format!(
        "listening on {at}, time scale {}; exporting {}; attach with `usbip attach -r HOST -b BUSID`",
        opts.time_scale,
        exported.join(", ")
    ));
}

/// Accepts connections until a stop is requested, each served by a thread of its own (at
/// most `max_connections` at once), and keeps the bus's clock moving while none arrives.
/// Returns the threads.
fn accept_until_stopped<B: DeviceBus + 'static>(
    listener: &TcpListener,
    shared: &Arc<Shared<B>>,
) -> Vec<JoinHandle<()>> {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, peer)) => {
                workers.retain(|w| !w.is_finished());
                if workers.len() >= shared.opts.max_connections {
                    shared
                        .opts
                        .log(&format!("{peer}: too many connections; closing this one"));
                    drop(stream);
                    continue;
                }
                next_id += 1;
                let worker = Arc::clone(shared);
                let spawned = thread::Builder::new()
                    .name(format!("usbip-conn-{next_id}"))
                    .spawn(move || conn::run(stream, &worker));
                match spawned {
                    Ok(handle) => workers.push(handle),
                    Err(e) => shared.opts.log(&format!("cannot start a thread: {e}")),
                }
            }
            Err(e) => {
                if e.kind() != ErrorKind::WouldBlock {
                    shared.opts.log(&format!("accept: {e}"));
                }
                shared.lock().sync(&shared.clock);
                thread::sleep(shared.opts.tick);
            }
        }
    }
    workers
}

/// What reading a message came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read2 {
    /// The buffer is full.
    Done,
    /// The peer closed the connection between messages.
    Closed,
    /// `tick` asked to stop (device gone, server stopping, idle too long).
    Stopped,
}

/// Fills `buf` from `stream` (whose read timeout is the tick period). While no byte of
/// the message has arrived, `tick` runs on every timeout and may stop the wait; once the
/// message has started it must complete within `opts.io_timeout`, and a close in the
/// middle is a protocol error (a truncated message).
pub(crate) fn read_message(
    stream: &mut TcpStream,
    buf: &mut [u8],
    opts: &ServeOptions,
    mut tick: impl FnMut() -> bool,
) -> Result<Read2, UsbipError> {
    let mut got = 0usize;
    let mut started: Option<Instant> = None;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(Read2::Closed),
            Ok(0) => {
                return Err(UsbipError::protocol(format!(
                    "connection closed {got} bytes into a {}-byte message",
                    buf.len()
                )))
            }
            Ok(n) => {
                got += n;
                started.get_or_insert_with(Instant::now);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                match started {
                    None => {
                        if !tick() {
                            return Ok(Read2::Stopped);
                        }
                    }
                    Some(t) if t.elapsed() > opts.io_timeout => {
                        return Err(UsbipError::protocol(format!(
                            "message stalled after {got} of {} bytes",
                            buf.len()
                        )))
                    }
                    Some(_) => {}
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Read2::Done)
}
