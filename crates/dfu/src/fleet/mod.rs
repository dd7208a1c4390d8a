//! Many devices at once ([`many`]: `flash --all`) and a production line that flashes each
//! device as it is plugged in ([`watch`]).

pub mod many;
pub mod watch;
