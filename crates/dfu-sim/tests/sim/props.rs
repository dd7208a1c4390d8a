//! Malformed and random requests never panic, and replies never exceed wLength.

use dfu_proto::Setup;
use dfu_sim::{parse_specs, Bus, UsbError};
use proptest::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Step {
    Control { setup: Setup, data: Vec<u8> },
    Advance(u16),
    Reset,
    SetInterface(u8),
}

fn setup() -> impl Strategy<Value = Setup> {
    let request_type = prop_oneof![
        Just(0x21u8),
        Just(0xA1),
        Just(0x80),
        Just(0x00),
        Just(0x01),
        Just(0x81),
        Just(0x82),
        any::<u8>()
    ];
    let request = prop_oneof![0u8..=11, any::<u8>()];
    let value = prop_oneof![
        0u16..=8,
        Just(0x0100),
        Just(0x0200),
        Just(0x0300),
        Just(0x0304),
        any::<u16>()
    ];
    let length = prop_oneof![
        0u16..=8,
        Just(64),
        Just(255),
        Just(1024),
        Just(2048),
        Just(4096),
        any::<u16>()
    ];
    (
        request_type,
        request,
        value,
        prop_oneof![0u16..=2, any::<u16>()],
        length,
    )
        .prop_map(|(request_type, request, value, index, length)| Setup {
            request_type,
            request,
            value,
            index,
            length,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (setup(), proptest::collection::vec(any::<u8>(), 0..64), any::<bool>()).prop_map(|(mut setup, data, exact)| {
            // Usually send as many bytes as wLength says; sometimes lie.
            let data = if exact && setup.request_type & 0x80 == 0 {
                setup.length = setup.length.min(4096);
                let mut d = data;
                d.resize(usize::from(setup.length), 0x5A);
                d
            } else {
                data
            };
            Step::Control { setup, data }
        }),
        1 => any::<u16>().prop_map(Step::Advance),
        1 => Just(Step::Reset),
        1 => (0u8..6).prop_map(Step::SetInterface),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_panic(runtime in any::<bool>(), steps in proptest::collection::vec(step(), 1..60)) {
        // The same random traffic against every profile.
        for name in dfu_profiles::builtin_names() {
            let runtime = runtime && dfu_profiles::Profile::builtin(name).unwrap().runtime.is_some();
            let spec = if runtime { format!("{name},mode=runtime") } else { name.to_string() };
            let bus = Bus::from_spec(&spec).unwrap();
            for s in &steps {
                let Some(dev) = bus.devices().first().map(|v| v.id) else {
                    bus.advance(Duration::from_millis(500));
                    continue;
                };
                match s {
                    Step::Control { setup, data } => match bus.control(dev, *setup, data) {
                        Ok(reply) => {
                            if setup.request_type & 0x80 != 0 {
                                prop_assert!(reply.len() <= usize::from(setup.length));
                            } else {
                                prop_assert!(reply.is_empty());
                            }
                        }
                        Err(UsbError::Stall | UsbError::NoDevice) => {}
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    },
                    Step::Advance(ms) => bus.advance(Duration::from_millis((*ms).into())),
                    Step::Reset => { let _ = bus.reset(dev); }
                    Step::SetInterface(alt) => { let _ = bus.set_interface(dev, 0, *alt); }
                }
            }
            let _ = bus.stats(0);
        }
    }

    #[test]
    fn random_specs_never_panic(s in "[a-z0-9=,;@:./_-]{0,60}") {
        let _ = parse_specs(&s);
    }

    #[test]
    fn random_dfuse_traffic_keeps_flash_rules(blocks in proptest::collection::vec((2u16..12, proptest::collection::vec(any::<u8>(), 1..64)), 1..20)) {
        // Whatever is written without erasing, a byte only ever loses bits. The flash is
        // filled with known data first: on erased flash (0xFF) the property cannot fail.
        let bus = Bus::from_spec("stm32f405").unwrap();
        let dev = bus.devices()[0].id;
        let dnload = |block: u16, data: &[u8]| {
            let _ = bus.control(dev, Setup::dfu_out(dfu_proto::DfuRequest::Dnload, block, 0, data.len() as u16), data);
            let _ = bus.control(dev, Setup::dfu_in(dfu_proto::DfuRequest::GetStatus, 0, 0, 6), &[]);
            let _ = bus.control(dev, Setup::dfu_in(dfu_proto::DfuRequest::GetStatus, 0, 0, 6), &[]);
        };
        dnload(0, &dfu_proto::DfuseCommand::SetAddress(0x0800_0000).encode());
        for block in 2..12u16 {
            let fill: Vec<u8> = (0..2048u32).map(|i| (i * 37 + u32::from(block) * 11) as u8 & 0x7f).collect();
            dnload(block, &fill);
        }
        let before = bus.read_memory(0, 0, 0x0800_0000, 20 * 1024).unwrap();
        prop_assert!(before.iter().all(|b| *b != 0xff), "the fill landed");
        for (block, data) in blocks {
            dnload(block, &data);
            let _ = bus.control(dev, Setup::dfu_out(dfu_proto::DfuRequest::ClrStatus, 0, 0, 0), &[]);
        }
        let after = bus.read_memory(0, 0, 0x0800_0000, 20 * 1024).unwrap();
        for (b, a) in before.iter().zip(&after) {
            prop_assert_eq!(b & a, *a);
        }
    }
}

#[test]
fn huge_waits_do_not_overflow_the_clock() {
    let bus = Bus::from_spec("photon,mode=runtime").unwrap();
    let dev = bus.devices()[0].id;
    bus.advance(Duration::MAX);
    bus.advance(Duration::MAX);
    let detach = Setup::dfu_out(dfu_proto::DfuRequest::Detach, 1000, 0, 0);
    bus.control(dev, detach, &[]).unwrap();
    bus.advance(Duration::MAX);
    let _ = bus.devices();
    let _ = bus.stats(0);
}
