//! The exports the page calls (`#[no_mangle]`, which a WebAssembly module cannot do
//! without; the only `unsafe`-linted items of this crate). Input arrives in the buffer
//! [`sim_input`] returns; output waits in [`sim_output`].
#![allow(unsafe_code)]

use dfu_proto::Setup;
use std::cell::RefCell;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn input(len: usize) -> Vec<u8> {
    INPUT.with(|b| {
        b.borrow()
            .get(..len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    })
}

fn text(len: usize) -> String {
    String::from_utf8_lossy(&input(len)).into_owned()
}

fn output(bytes: Vec<u8>) {
    OUTPUT.with(|o| *o.borrow_mut() = bytes);
}

fn status(r: Result<(), String>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(m) => {
            output(m.into_bytes());
            -1
        }
    }
}

/// Makes the input buffer `len` bytes long; its address.
#[no_mangle]
pub extern "C" fn sim_input(len: usize) -> usize {
    INPUT.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len, 0);
        b.as_mut_ptr() as usize
    })
}

/// Address of the last output.
#[no_mangle]
pub extern "C" fn sim_output() -> usize {
    OUTPUT.with(|o| o.borrow().as_ptr() as usize)
}

/// Length of the last output.
#[no_mangle]
pub extern "C" fn sim_output_len() -> usize {
    OUTPUT.with(|o| o.borrow().len())
}

/// Builds the devices of the spec in the input; 0, or -1 with the message in the output.
#[no_mangle]
pub extern "C" fn sim_open(spec_len: usize) -> i32 {
    status(crate::open(&text(spec_len)))
}

/// The attached devices as JSON, in the output.
#[no_mangle]
pub extern "C" fn sim_devices() -> i32 {
    output(crate::devices().into_bytes());
    0
}

/// A control transfer (OUT data in the input); IN data in the output. Bytes answered, or
/// a negative error code.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn sim_control(
    id: u32,
    request_type: u32,
    request: u32,
    value: u32,
    index: u32,
    length: u32,
    out_len: usize,
    timeout_ms: u32,
) -> i32 {
    let setup = Setup {
        request_type: request_type as u8,
        request: request as u8,
        value: value as u16,
        index: index as u16,
        length: length as u16,
    };
    let data = if setup.is_in() {
        Vec::new()
    } else {
        input(out_len)
    };
    match crate::control(id, setup, &data, timeout_ms) {
        Ok(reply) => {
            let n = reply.len() as i32;
            output(reply);
            n
        }
        Err(code) => code,
    }
}

/// SET_INTERFACE.
#[no_mangle]
pub extern "C" fn sim_set_interface(id: u32, interface: u32, alt: u32) -> i32 {
    crate::set_interface(id, interface as u8, alt as u8)
}

/// USB reset.
#[no_mangle]
pub extern "C" fn sim_reset(id: u32) -> i32 {
    crate::reset(id)
}

/// The host waits `nanos` of virtual time.
#[no_mangle]
pub extern "C" fn sim_advance(nanos: f64) {
    crate::advance(nanos);
}

/// Virtual time in nanoseconds.
#[no_mangle]
pub extern "C" fn sim_now() -> f64 {
    crate::now()
}

/// Memory of a device into the output; 0, or -1 with a message.
#[no_mangle]
pub extern "C" fn sim_memory(slot: u32, alt: u32, address: u32, len: u32) -> i32 {
    match crate::memory(slot as usize, alt as u8, address, len as usize) {
        Ok(bytes) => {
            output(bytes);
            0
        }
        Err(m) => status(Err(m)),
    }
}

/// Statistics of a device slot as JSON, in the output.
#[no_mangle]
pub extern "C" fn sim_stats(slot: u32) -> i32 {
    output(crate::stats(slot as usize).into_bytes());
    0
}

/// Writes the state files; 0, or -1 with a message.
#[no_mangle]
pub extern "C" fn sim_flush() -> i32 {
    status(crate::flush())
}

/// The file whose path is in the input, into the output; 0, or -1 when there is none.
#[no_mangle]
pub extern "C" fn sim_file(path_len: usize) -> i32 {
    match crate::file(&text(path_len)) {
        Some(b) => {
            output(b);
            0
        }
        None => -1,
    }
}

/// Stores a file: the input holds its path (`path_len` bytes), then its bytes.
#[no_mangle]
pub extern "C" fn sim_put_file(path_len: usize, data_len: usize) {
    let all = input(path_len + data_len);
    let (path, data) = all.split_at(path_len.min(all.len()));
    crate::put_file(&String::from_utf8_lossy(path), data);
}
