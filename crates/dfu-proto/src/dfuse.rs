//! ST DfuSe commands: DNLOAD with wValue 0 carries a command byte and an optional address.

use crate::ProtoError;

/// A DfuSe command sent as the payload of DNLOAD block 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DfuseCommand {
    /// 0x00: ask which commands the device supports (answered by an UPLOAD of block 0).
    GetCommands,
    /// 0x21: set the address pointer.
    SetAddress(u32),
    /// 0x41 with an address: erase the page holding it.
    ErasePage(u32),
    /// 0x41 without an address: erase everything.
    MassErase,
    /// 0x92: remove read protection (the device mass-erases itself).
    ReadUnprotect,
}

impl DfuseCommand {
    /// Command byte: get commands.
    pub const GET_COMMANDS: u8 = 0x00;
    /// Command byte: set address pointer.
    pub const SET_ADDRESS: u8 = 0x21;
    /// Command byte: erase.
    pub const ERASE: u8 = 0x41;
    /// Command byte: read unprotect.
    pub const READ_UNPROTECT: u8 = 0x92;

    /// The bytes of the DNLOAD payload.
    pub fn encode(&self) -> Vec<u8> {
        let with_addr = |c: u8, a: u32| {
            let mut v = vec![c];
            v.extend_from_slice(&a.to_le_bytes());
            v
        };
        match *self {
            DfuseCommand::GetCommands => vec![Self::GET_COMMANDS],
            DfuseCommand::SetAddress(a) => with_addr(Self::SET_ADDRESS, a),
            DfuseCommand::ErasePage(a) => with_addr(Self::ERASE, a),
            DfuseCommand::MassErase => vec![Self::ERASE],
            DfuseCommand::ReadUnprotect => vec![Self::READ_UNPROTECT],
        }
    }

    /// Decodes a DNLOAD block 0 payload.
    pub fn parse(b: &[u8]) -> Result<Self, ProtoError> {
        let addr = || -> Result<u32, ProtoError> {
            b.get(1..5)
                .map(|a| u32::from_le_bytes([a[0], a[1], a[2], a[3]]))
                .ok_or_else(|| {
                    ProtoError::Command(format!("command 0x{:02x} needs a 4-byte address", b[0]))
                })
        };
        match (b.first().copied(), b.len()) {
            (None, _) => Err(ProtoError::Command("empty DfuSe command".into())),
            (Some(Self::GET_COMMANDS), 1) => Ok(DfuseCommand::GetCommands),
            (Some(Self::SET_ADDRESS), 5) => Ok(DfuseCommand::SetAddress(addr()?)),
            (Some(Self::ERASE), 1) => Ok(DfuseCommand::MassErase),
            (Some(Self::ERASE), 5) => Ok(DfuseCommand::ErasePage(addr()?)),
            (Some(Self::READ_UNPROTECT), 1) => Ok(DfuseCommand::ReadUnprotect),
            (Some(c), n) => Err(ProtoError::Command(format!(
                "unknown DfuSe command 0x{c:02x} with {n} bytes"
            ))),
        }
    }

    /// DfuSe data blocks start at block number 2: block `n` lands at
    /// `address_pointer + (n - 2) * transfer_size`.
    pub const FIRST_DATA_BLOCK: u16 = 2;

    /// Where a data block lands.
    pub fn block_address(pointer: u32, block: u16, transfer_size: u16) -> Option<u32> {
        let idx = u64::from(block.checked_sub(Self::FIRST_DATA_BLOCK)?);
        u32::try_from(u64::from(pointer) + idx * u64::from(transfer_size)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        for c in [
            DfuseCommand::GetCommands,
            DfuseCommand::SetAddress(0x0800_4000),
            DfuseCommand::ErasePage(0x080A_0000),
            DfuseCommand::MassErase,
            DfuseCommand::ReadUnprotect,
        ] {
            assert_eq!(DfuseCommand::parse(&c.encode()).unwrap(), c);
        }
        assert_eq!(
            DfuseCommand::SetAddress(0x0800_0000).encode(),
            [0x21, 0, 0, 0, 8]
        );
        assert!(DfuseCommand::parse(&[]).is_err());
        assert!(DfuseCommand::parse(&[0x21, 1, 2]).is_err());
        assert!(DfuseCommand::parse(&[0x55]).is_err());
    }

    #[test]
    fn block_addresses() {
        assert_eq!(
            DfuseCommand::block_address(0x0800_0000, 2, 2048),
            Some(0x0800_0000)
        );
        assert_eq!(
            DfuseCommand::block_address(0x0800_0000, 5, 2048),
            Some(0x0800_1800)
        );
        assert_eq!(DfuseCommand::block_address(0x0800_0000, 1, 2048), None);
        assert_eq!(DfuseCommand::block_address(0xFFFF_F000, 4, 4096), None);
    }
}
