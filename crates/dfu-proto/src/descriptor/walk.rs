//! The one walk over a configuration descriptor set: descriptor after descriptor, each
//! `bLength` bytes long. Each reader decides what a malformed length means for it (the
//! host parser refuses the set, the USB/IP server stops reading, the libusb stand-in does
//! what libusb does), so the walk reports the malformed descriptor instead of deciding.

/// One descriptor found by [`walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDescriptor<'a> {
    /// Where it starts in the walked bytes.
    pub offset: usize,
    /// Its bytes, `bLength` of them (at least 2).
    pub bytes: &'a [u8],
}

impl RawDescriptor<'_> {
    /// bDescriptorType.
    pub fn kind(&self) -> u8 {
        self.bytes[1]
    }

    /// One past its last byte: where the next descriptor starts.
    pub fn end(&self) -> usize {
        self.offset + self.bytes.len()
    }
}

/// A descriptor whose `bLength` cannot be right; the walk ends with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadLength {
    /// `bLength` below 2 at `offset`: not even its own header fits.
    TooShort {
        /// Where the descriptor starts.
        offset: usize,
        /// Its bLength.
        len: usize,
    },
    /// `bLength` runs past the end of the bytes.
    PastEnd {
        /// Where the descriptor starts.
        offset: usize,
        /// Its bLength.
        len: usize,
    },
}

/// The descriptors of `bytes` from offset `from` on. Ends when fewer than 2 bytes are left,
/// or after yielding one [`BadLength`].
pub fn walk(bytes: &[u8], from: usize) -> Walk<'_> {
    Walk {
        bytes,
        pos: from,
        done: false,
    }
}

/// The iterator of [`walk`].
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<RawDescriptor<'a>, BadLength>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.pos;
        if self.done || self.bytes.len().saturating_sub(offset) < 2 {
            return None;
        }
        let len = usize::from(self.bytes[offset]);
        let item = if len < 2 {
            Err(BadLength::TooShort { offset, len })
        } else if len > self.bytes.len() - offset {
            Err(BadLength::PastEnd { offset, len })
        } else {
            self.pos += len;
            return Some(Ok(RawDescriptor {
                offset,
                bytes: &self.bytes[offset..offset + len],
            }));
        };
        self.done = true;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(b: &[u8], from: usize) -> Vec<Result<(usize, u8), BadLength>> {
        walk(b, from)
            .map(|d| d.map(|d| (d.offset, d.kind())))
            .collect()
    }

    #[test]
    fn walks_descriptor_after_descriptor_from_the_given_offset() {
        let b = [9, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0x21, 7, 2, 4, 1];
        assert_eq!(kinds(&b, 0), [Ok((0, 2)), Ok((9, 0x21)), Ok((12, 4))]);
        assert_eq!(kinds(&b, 9), [Ok((9, 0x21)), Ok((12, 4))]);
        let d = walk(&b, 9).next().unwrap().unwrap();
        assert_eq!((d.bytes, d.end()), (&b[9..12], 12));
        // One byte left is not a descriptor: the walk just ends.
        assert_eq!(kinds(&b[..13], 12), []);
        assert_eq!(kinds(&b, 99), []);
    }

    #[test]
    fn a_bad_length_is_reported_once_and_ends_the_walk() {
        // Too short (bLength 0 or 1) is told apart from running past the end: libusb
        // refuses the first and stops quietly at the second.
        let short = [3, 0x21, 0, 1, 4, 9, 4];
        assert_eq!(
            kinds(&short, 0),
            [
                Ok((0, 0x21)),
                Err(BadLength::TooShort { offset: 3, len: 1 })
            ]
        );
        let long = [3, 0x21, 0, 9, 4, 0, 0];
        assert_eq!(
            kinds(&long, 0),
            [Ok((0, 0x21)), Err(BadLength::PastEnd { offset: 3, len: 9 })]
        );
        // A reader that stops at the first bad length keeps what came before.
        let good: Vec<_> = walk(&long, 0).map_while(Result::ok).collect();
        assert_eq!(good.len(), 1);
    }
}
