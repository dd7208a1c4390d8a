//! The reader files take (`Image::read_from`: detection from the first 64 KiB, text
//! streamed line by line, ELF through its program headers, a DFU suffix checked in one pass)
//! against the in-memory parser: both must give the same image or the same error. The first
//! byte picks a file name hint and whether checksums and the suffix CRC are fixed first.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let hint = [None, Some("f.hex"), Some("f.srec"), Some("f.elf")][usize::from(first & 3)];
    let mut file = rest.to_vec();
    if first & 4 != 0 {
        file = dfu_image_fuzz::fix_line_checksums(&file);
    }
    if first & 8 != 0 {
        dfu_image_fuzz::fix_suffix_crc(&mut file);
    }
    dfu_image_fuzz::read_agrees_with_parse(&file, hint);
});
