//! The boundary with the page's JavaScript (a C-like ABI over the module's memory): the
//! functions the page provides (`dfu` import module) and the ones this module exports.
//!
//! The USB and clock imports are asynchronous on the JavaScript side: the page wraps them in
//! `WebAssembly.Suspending`, and calls the exported operations through
//! `WebAssembly.promising`, so the synchronous library suspends while a WebUSB promise
//! settles (JS Promise Integration). Bytes that a call returns wait on the JavaScript side
//! until [`take`] copies them into a buffer of the size the call reported.
//!
//! This file is the only one with `unsafe` in this crate: an `extern` block and
//! `#[no_mangle]` exports, which a WebAssembly module cannot do without. Every import takes
//! numbers only (addresses are offsets into this module's memory); the page reads or writes
//! only the buffer a call names, with the length the same call gives (web/src/usb.js), so the
//! imports are declared `safe` and no `unsafe` block is needed.
#![allow(unsafe_code)]

use std::cell::RefCell;

#[link(wasm_import_module = "dfu")]
unsafe extern "C" {
    /// Asynchronous: lists the devices the page may use; returns the length of their JSON.
    pub safe fn usb_list() -> i32;
    /// Asynchronous: opens device `key` and claims `interface`; 0 or an error (below).
    pub safe fn usb_open(key: u32, interface: u32) -> i32;
    /// Asynchronous: an IN control transfer; the length of the answer, or an error.
    pub safe fn usb_control_in(
        key: u32,
        request_type: u32,
        request: u32,
        value: u32,
        index: u32,
        length: u32,
        timeout_ms: u32,
    ) -> i32;
    /// Asynchronous: an OUT control transfer of `len` bytes at `data`; 0 or an error.
    pub safe fn usb_control_out(
        key: u32,
        request_type: u32,
        request: u32,
        value: u32,
        index: u32,
        data: usize,
        len: usize,
        timeout_ms: u32,
    ) -> i32;
    /// Asynchronous: SET_INTERFACE; 0 or an error.
    pub safe fn usb_set_alt(key: u32, interface: u32, alt: u32) -> i32;
    /// Asynchronous: a USB reset; 0 or an error.
    pub safe fn usb_reset(key: u32) -> i32;
    /// 1 when the devices behind `navigator.usb` are simulated (virtual clock), else 0.
    pub safe fn usb_simulated() -> i32;
    /// Asynchronous: waits `nanos` nanoseconds on the page's clock.
    pub safe fn clock_wait(nanos: f64);
    /// Nanoseconds on the page's clock.
    pub safe fn clock_now() -> f64;
    /// Length of the bytes the last call left waiting.
    pub safe fn pending_len() -> i32;
    /// Copies the bytes the last call left waiting to `ptr` (room for [`pending_len`]).
    pub safe fn take(ptr: usize);
    /// Hands `len` bytes at `ptr` to the page: 1 an event (JSON), 2 the result (JSON),
    /// 3 data read from the device, 4 a refusal's finding (JSON), 5 the plan (JSON).
    pub safe fn emit(kind: u32, ptr: usize, len: usize);
}

/// The bytes the last import call left waiting.
pub fn pending() -> Vec<u8> {
    let n = usize::try_from(pending_len()).unwrap_or(0);
    let mut v = vec![0u8; n];
    take(v.as_mut_ptr() as usize);
    v
}

/// Hands bytes to the page.
pub fn send(kind: u32, bytes: &[u8]) {
    emit(kind, bytes.as_ptr() as usize, bytes.len());
}

thread_local! {
    /// Where the page writes its input (request JSON, file bytes) before a call.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The first `len` bytes of the input buffer.
fn input(len: usize) -> Vec<u8> {
    INPUT.with(|b| {
        b.borrow()
            .get(..len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    })
}

/// Makes the input buffer `len` bytes long and returns its address for the page to fill.
#[no_mangle]
pub extern "C" fn dfu_input(len: usize) -> usize {
    INPUT.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len, 0);
        b.as_mut_ptr() as usize
    })
}

/// Adds a file to flash: the input holds its name (`name_len` bytes, UTF-8), then its bytes.
/// 0, or 1 when the name is not UTF-8.
#[no_mangle]
pub extern "C" fn dfu_add_file(name_len: usize, data_len: usize) -> i32 {
    let all = input(name_len + data_len);
    let (name, data) = all.split_at(name_len.min(all.len()));
    match std::str::from_utf8(name) {
        Ok(name) => {
            crate::ops::add_file(name, data.to_vec());
            0
        }
        Err(_) => 1,
    }
}

/// Forgets the files added so far.
#[no_mangle]
pub extern "C" fn dfu_clear_files() {
    crate::ops::clear_files();
}

/// Asynchronous (call through `WebAssembly.promising`): the device the page connected, as
/// `dfu info --json` describes it; emits the result. 0 on success.
#[no_mangle]
pub extern "C" fn dfu_describe(request_len: usize) -> i32 {
    crate::ops::describe(&input(request_len))
}

/// Asynchronous: connects, reads the device and plans the flash of the added files with the
/// request's options (JSON); emits the plan, or the failure as `dfu flash --json` prints it.
/// 0 when the plan may be executed.
#[no_mangle]
pub extern "C" fn dfu_prepare(request_len: usize) -> i32 {
    crate::ops::prepare(&input(request_len))
}

/// Asynchronous: executes the prepared plan, emitting events; emits the result exactly as
/// `dfu flash --json` prints it last. 0 on success.
#[no_mangle]
pub extern "C" fn dfu_execute() -> i32 {
    crate::ops::execute()
}

/// Asynchronous: reads `length` bytes at `address` of the request's alt; emits the bytes
/// (kind 3), then the result. 0 on success.
#[no_mangle]
pub extern "C" fn dfu_read(request_len: usize) -> i32 {
    crate::ops::read(&input(request_len))
}
