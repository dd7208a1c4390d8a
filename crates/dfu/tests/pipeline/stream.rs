//! Reads stream: `Prepared::read_into` hands the writer each block as the device sends it,
//! so a writer that fails stops the read there (the simulator's statistics say how much was
//! uploaded), and plain DFU reads drop the bytes below the address asked for on the way.

use super::{at, pattern, raw, Sim};
use dfu::backend::sim::SimBackend;
use dfu::{Backend, Code, Operation, Request};
use std::io::Write;

/// Records what it is given, in the sizes given, and fails once it holds `limit` bytes.
struct Recorder {
    data: Vec<u8>,
    writes: Vec<usize>,
    limit: usize,
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.data.len() >= self.limit {
            return Err(std::io::Error::other("the disk is full"));
        }
        self.writes.push(buf.len());
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads `length` bytes at `address` of `spec` into a recorder that fails at `limit`:
/// (the recorder, the error code if any, bytes the simulator uploaded).
fn read(spec: &str, address: u32, length: u64, limit: usize) -> (Recorder, Option<Code>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let mut b = SimBackend::new(&format!("{spec},stats={}", stats.display())).unwrap();
    let request = Request {
        device: dfu::DeviceRequest::default(),
        op: Operation::Read {
            address: Some(address),
            length: Some(length),
        },
    };
    let mut prepared = dfu::prepare(&mut b, &request, &mut |_| {}).unwrap();
    let mut out = Recorder {
        data: Vec::new(),
        writes: Vec::new(),
        limit,
    };
    let r = prepared.read_into(&mut out, &mut |_| {});
    let code = match r {
        Ok(n) => {
            assert_eq!(n, out.data.len() as u64);
            None
        }
        Err(f) => Some(f.error.code()),
    };
    drop(prepared);
    b.finish().unwrap();
    let st: serde_json::Value = serde_json::from_slice(&std::fs::read(stats).unwrap()).unwrap();
    (out, code, st["bytes_up"].as_u64().unwrap())
}

#[test]
fn a_dfuse_read_reaches_the_writer_block_by_block_and_a_failing_writer_stops_it() {
    let sim = Sim::new("stm32f405");
    let img = pattern(96 * 1024, 5);
    sim.flash(vec![raw("a.bin", img.clone())], &at(0x0800_0000))
        .ok();
    let (out, code, up) = read(&sim.spec, 0x0800_0000, img.len() as u64, usize::MAX);
    assert_eq!(code, None);
    assert_eq!(out.data, img);
    assert!(out.writes.iter().all(|n| *n <= 2048), "{:?}", out.writes);
    assert_eq!(up, img.len() as u64);
    let (out, code, up) = read(&sim.spec, 0x0800_0000, img.len() as u64, 8192);
    assert_eq!(code, Some(Code::Output));
    assert_eq!(out.data, img[..8192]);
    assert_eq!(up, 8192 + 2048, "the read went on after the writer failed");
}

#[test]
fn a_plain_read_drops_what_lies_below_the_address_as_it_goes() {
    let sim = Sim::new("dapboot");
    let img = pattern(8 * 1024, 9);
    sim.flash(
        vec![raw("a.bin", img.clone())],
        &dfu::FlashOptions::default(),
    )
    .ok();
    let (out, code, _) = read(&sim.spec, 0x0800_3000, 100, usize::MAX);
    assert_eq!(code, None);
    assert_eq!(out.data, img[0x1000..0x1000 + 100]);
    assert!(out.writes.iter().all(|n| *n > 0));
}
