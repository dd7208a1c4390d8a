//! A minimal host for the tests: raw DFU/DfuSe requests against the simulated bus,
//! sleeping bwPollTimeout after each GETSTATUS the way dfu-util does.

use dfu_proto::descriptor::parse_string;
use dfu_proto::request::DESC_STRING;
use dfu_proto::{DfuRequest, DfuseCommand, GetStatus, Setup, State, Status};
use dfu_sim::{Bus, DeviceId, DeviceView, UsbError};
use std::time::Duration;

pub struct Host {
    pub bus: Bus,
    pub dev: DeviceId,
    pub iface: u8,
}

impl Host {
    /// The first device of a spec.
    pub fn new(spec: &str) -> Host {
        let bus = Bus::from_spec(spec).unwrap_or_else(|e| panic!("{e}"));
        Host::on(bus, 0)
    }

    /// The device now attached in `slot`.
    pub fn on(bus: Bus, slot: usize) -> Host {
        let view = bus
            .devices()
            .into_iter()
            .find(|v| v.slot == slot)
            .expect("device attached");
        let iface = dfu_proto::ConfigDescriptor::parse(&view.config_descriptor)
            .unwrap()
            .alt_settings[0]
            .interface;
        Host {
            bus,
            dev: view.id,
            iface,
        }
    }

    pub fn view(&self) -> Option<DeviceView> {
        self.bus.devices().into_iter().find(|v| v.id == self.dev)
    }

    pub fn status(&self) -> Result<GetStatus, UsbError> {
        let r = self.bus.control(
            self.dev,
            Setup::dfu_in(DfuRequest::GetStatus, 0, self.iface, 6),
            &[],
        )?;
        Ok(GetStatus::parse(&r).expect("6-byte status"))
    }

    pub fn dnload(&self, block: u16, data: &[u8]) -> Result<(), UsbError> {
        let s = Setup::dfu_out(DfuRequest::Dnload, block, self.iface, data.len() as u16);
        self.bus.control(self.dev, s, data).map(drop)
    }

    pub fn upload(&self, block: u16, len: u16) -> Result<Vec<u8>, UsbError> {
        self.bus.control(
            self.dev,
            Setup::dfu_in(DfuRequest::Upload, block, self.iface, len),
            &[],
        )
    }

    pub fn simple(&self, req: DfuRequest) -> Result<(), UsbError> {
        self.bus
            .control(self.dev, Setup::dfu_out(req, 0, self.iface, 0), &[])
            .map(drop)
    }

    pub fn get_state(&self) -> Result<u8, UsbError> {
        let r = self.bus.control(
            self.dev,
            Setup::dfu_in(DfuRequest::GetState, 0, self.iface, 1),
            &[],
        )?;
        Ok(r[0])
    }

    pub fn string(&self, index: u8) -> Result<String, UsbError> {
        let r = self.bus.control(
            self.dev,
            Setup::get_descriptor(DESC_STRING, index, 0x0409, 255),
            &[],
        )?;
        Ok(parse_string(&r).unwrap())
    }

    /// GETSTATUS until the device is no longer busy, sleeping the poll timeout each time.
    pub fn poll(&self) -> Result<GetStatus, UsbError> {
        loop {
            let s = self.status()?;
            self.bus.advance(s.poll_timeout());
            if !matches!(s.state, State::DnBusy | State::DnloadSync) {
                return Ok(s);
            }
        }
    }

    /// A DfuSe command: DNLOAD block 0, GETSTATUS (must be dfuDNBUSY), poll until done.
    pub fn command(&self, cmd: DfuseCommand) -> Result<GetStatus, UsbError> {
        self.dnload(0, &cmd.encode())?;
        let first = self.status()?;
        assert_eq!(first.state, State::DnBusy, "first status after {cmd:?}");
        self.bus.advance(first.poll_timeout());
        self.poll()
    }

    /// Erases the sectors `[address, address + len)` touches, writes `data` in
    /// transfer-size blocks with one set-address, returns the final status.
    pub fn dfuse_write(
        &self,
        sectors: &[u32],
        address: u32,
        data: &[u8],
        xfer: usize,
    ) -> GetStatus {
        for &s in sectors {
            let st = self.command(DfuseCommand::ErasePage(s)).unwrap();
            assert_eq!(
                (st.state, st.status),
                (State::DnloadIdle, Status::Ok),
                "erase 0x{s:08x}"
            );
        }
        let st = self.command(DfuseCommand::SetAddress(address)).unwrap();
        assert_eq!(st.state, State::DnloadIdle);
        let mut last = st;
        for (i, chunk) in data.chunks(xfer).enumerate() {
            self.dnload(2 + i as u16, chunk).unwrap();
            last = self.poll().unwrap();
            if last.state != State::DnloadIdle {
                return last;
            }
        }
        last
    }

    /// ABORT, set address, upload `len` bytes in `xfer` blocks.
    pub fn dfuse_read(&self, address: u32, len: usize, xfer: u16) -> Vec<u8> {
        self.simple(DfuRequest::Abort).unwrap();
        self.command(DfuseCommand::SetAddress(address)).unwrap();
        self.simple(DfuRequest::Abort).unwrap();
        let mut out = Vec::new();
        let mut block = 2;
        while out.len() < len {
            let n = xfer.min((len - out.len()) as u16);
            let r = self.upload(block, n).unwrap();
            let short = r.len() < usize::from(n);
            out.extend(r);
            block += 1;
            if short {
                break;
            }
        }
        out
    }
}

/// Advance the clock and return the device now in `slot`, if any.
pub fn after(bus: &Bus, d: Duration, slot: usize) -> Option<DeviceView> {
    bus.advance(d);
    bus.devices().into_iter().find(|v| v.slot == slot)
}

/// A deterministic test pattern.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}
