//! An opened DFU interface: requests, status and recovery ([`device`]), patience with a
//! busy device ([`patience`]), ST's DfuSe commands and addressed transfers ([`dfuse`]),
//! plain DFU 1.1's sequential blocks ([`plain`]), reading memory, comparing what is there,
//! and leaving DFU mode ([`leave`]).

pub(crate) mod compare;
pub mod device;
pub mod dfuse;
pub(crate) mod leave;
pub(crate) mod ops;
pub mod patience;
pub mod plain;
