//! Files measured against the device before they are read: a sparse file far larger than
//! the device's memory is refused from its length (the process's read count, from
//! /proc/self/io, shows it was not read), and a file that fits is read as before.

use super::{pattern, Sim};
use dfu::backend::sim::SimBackend;
use dfu::pipeline::fits::{check_size, largest_memory, load_for};
use dfu::{Code, DeviceInfo};

fn info(spec: &str) -> DeviceInfo {
    let mut b = SimBackend::new(spec).unwrap();
    dfu::prepare::connect(&mut b, &dfu::DeviceRequest::default(), &mut |_| {}).unwrap()
}

/// Bytes this process has read so far (Linux).
#[cfg(target_os = "linux")]
fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_largest_memory_is_the_biggest_layout() {
    let (alt, layout) = largest_memory(&info("stm32h743"), None).unwrap();
    assert_eq!((alt, layout.total_size()), (0, 2 << 20));
    let (alt, layout) = largest_memory(&info("dso-nano"), None).unwrap();
    assert_eq!((alt, layout.total_size()), (1, 8 << 20));
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_larger_than_the_device_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("disk.img");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let device = info("stm32h743");
    let before = bytes_read();
    let e = load_for(&huge, &device, None).unwrap_err();
    let read = bytes_read() - before;
    assert_eq!(e.code(), Code::OutsideMemory);
    assert!(e.to_string().contains("3221225472 bytes"), "{e}");
    assert!(e.to_string().contains("2097152 bytes"), "{e}");
    // Other tests in this process read too; reading the file would add 3 GiB.
    assert!(read < 256 << 20, "{read} bytes were read");
    // Within the 32-bit bound, the device-free check lets it through without reading it.
    check_size(&huge, 1 << 32).unwrap();
    assert!(bytes_read() - before < 256 << 20);
    // Text: more than any HEX file describing 2 MiB could need.
    let hex = dir.path().join("big.hex");
    std::fs::write(&hex, ":020000040800F2\n").unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&hex)
        .unwrap()
        .set_len(dfu_image::max_text_file(2 << 20) + 1)
        .unwrap();
    assert_eq!(
        load_for(&hex, &device, None).unwrap_err().code(),
        Code::OutsideMemory
    );
}

#[test]
fn a_file_that_fits_is_read_whole() {
    let sim = Sim::new("stm32h743");
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.bin");
    let data = pattern(2 << 20, 3);
    std::fs::write(&app, &data).unwrap();
    let f = load_for(&app, &info(&sim.spec), None).unwrap();
    assert_eq!(f.image.segments[0].data, data);
    std::fs::write(&app, pattern((2 << 20) + 256, 3)).unwrap();
    assert_eq!(
        load_for(&app, &info(&sim.spec), None).unwrap_err().code(),
        Code::OutsideMemory
    );
}
