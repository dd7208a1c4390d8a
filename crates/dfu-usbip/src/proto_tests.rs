use super::*;
use proptest::prelude::*;

fn submit_header(direction: u32, ep: u32, len: u32, packets: u32, setup: [u8; 8]) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&USBIP_CMD_SUBMIT.to_be_bytes());
    b[4..8].copy_from_slice(&7u32.to_be_bytes());
    b[8..12].copy_from_slice(&0x0001_0002u32.to_be_bytes());
    b[12..16].copy_from_slice(&direction.to_be_bytes());
    b[16..20].copy_from_slice(&ep.to_be_bytes());
    b[24..28].copy_from_slice(&len.to_be_bytes());
    b[32..36].copy_from_slice(&packets.to_be_bytes());
    b[40..48].copy_from_slice(&setup);
    b
}

#[test]
fn op_header_round_trips() {
    let h = OpHeader {
        version: USBIP_VERSION,
        code: OP_REQ_IMPORT,
        status: 0,
    };
    assert_eq!(h.encode(), [0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0]);
    assert_eq!(OpHeader::parse(&h.encode()), h);
}

#[test]
fn busid_stops_at_nul_and_rejects_bad_utf8() {
    let mut b = [0u8; BUSID_LEN];
    b[..3].copy_from_slice(b"1-2");
    assert_eq!(parse_busid(&b).as_deref(), Some("1-2"));
    b[0] = 0xFF;
    assert_eq!(parse_busid(&b), None);
    // A bus id without a terminating NUL is taken whole.
    assert_eq!(parse_busid(&[b'x'; BUSID_LEN]).map(|s| s.len()), Some(32));
}

#[test]
fn submit_is_decoded_field_by_field() {
    let setup = [0x80, 6, 0, 1, 0, 0, 64, 0];
    let h = submit_header(1, 0, 64, u32::MAX, setup);
    let UrbCommand::Submit(s) = parse_urb(&h, 65536).unwrap() else {
        panic!("not a submit");
    };
    assert_eq!(s.seqnum, 7);
    assert_eq!(s.devid, 0x0001_0002);
    assert!(s.is_in());
    assert_eq!(s.transfer_buffer_length, 64);
    assert_eq!(s.setup, setup);
}

#[test]
fn impossible_submits_are_rejected() {
    let setup = [0; 8];
    for h in [
        submit_header(2, 0, 0, 0, setup),
        submit_header(0, 16, 0, 0, setup),
        submit_header(0, 0, 65537, 0, setup),
        submit_header(1, 0, 0, 3, setup),
    ] {
        assert!(matches!(parse_urb(&h, 65536), Err(UsbipError::Protocol(_))));
    }
    let mut bad = [0u8; 48];
    bad[3] = 9;
    let e = parse_urb(&bad, 65536).unwrap_err().to_string();
    assert!(e.contains("unknown URB command"), "{e}");
}

#[test]
fn unlink_is_decoded() {
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&USBIP_CMD_UNLINK.to_be_bytes());
    b[4..8].copy_from_slice(&9u32.to_be_bytes());
    b[20..24].copy_from_slice(&5u32.to_be_bytes());
    assert_eq!(
        parse_urb(&b, 1).unwrap(),
        UrbCommand::Unlink {
            seqnum: 9,
            unlink_seqnum: 5
        }
    );
}

#[test]
fn replies_have_the_documented_layout() {
    let r = encode_ret_submit(3, -errno::EPIPE, 18, u32::MAX);
    assert_eq!(&r[0..4], &[0, 0, 0, 3]);
    assert_eq!(&r[4..8], &[0, 0, 0, 3]);
    assert_eq!(&r[8..20], &[0; 12]);
    assert_eq!(i32::from_be_bytes([r[20], r[21], r[22], r[23]]), -32);
    assert_eq!(&r[24..28], &[0, 0, 0, 18]);
    assert_eq!(&r[32..36], &[0xFF; 4]);
    let u = encode_ret_unlink(4, -errno::ECONNRESET);
    assert_eq!(&u[0..4], &[0, 0, 0, 4]);
    assert_eq!(i32::from_be_bytes([u[20], u[21], u[22], u[23]]), -104);
}

fn dfu_device() -> DeviceSummary {
    let dd = [
        18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xdf, 0x00, 0x21, 1, 2, 3, 1,
    ];
    DeviceSummary {
        path: "/sys/devices/x/1-1".into(),
        busid: "1-1".into(),
        busnum: 1,
        devnum: 2,
        speed: SPEED_FULL,
        device_descriptor: dd,
        configuration_value: 1,
        interfaces: vec![InterfaceSummary {
            class: 0xFE,
            subclass: 1,
            protocol: 2,
        }],
    }
}

#[test]
fn device_summary_layout() {
    let d = dfu_device();
    let b = d.encode(true);
    assert_eq!(b.len(), 312 + 4);
    assert_eq!(&b[256..259], b"1-1");
    assert_eq!(&b[288..292], &[0, 0, 0, 1]);
    assert_eq!(&b[292..296], &[0, 0, 0, 2]);
    assert_eq!(&b[296..300], &[0, 0, 0, 2]);
    assert_eq!(&b[300..306], &[0x04, 0x83, 0xdf, 0x11, 0x21, 0x00]);
    assert_eq!(&b[306..312], &[0, 0, 0, 1, 1, 1]);
    assert_eq!(&b[312..316], &[0xFE, 1, 2, 0]);
    assert_eq!(d.encode(false).len(), 312);
}

#[test]
fn config_summary_walks_descriptors() {
    let config = [
        9, 2, 27, 0, 1, 1, 0, 0x80, 50, // configuration
        9, 4, 0, 0, 0, 0xFE, 1, 2, 4, // interface 0 alt 0
        9, 4, 0, 1, 0, 0xFE, 1, 2, 5, // interface 0 alt 1 (not listed)
    ];
    let (v, i) = summarize_config(&config);
    assert_eq!(v, 1);
    assert_eq!(i.len(), 1);
    assert_eq!(summarize_config(&[]), (1, vec![]));
    // A zero-length descriptor ends the walk instead of looping.
    assert_eq!(
        summarize_config(&[9, 2, 9, 0, 1, 3, 0, 0, 0, 0, 4]).1,
        vec![]
    );
}

proptest! {
    #[test]
    fn any_urb_header_parses_or_errors(bytes in proptest::collection::vec(any::<u8>(), 48)) {
        let mut h = [0u8; 48];
        h.copy_from_slice(&bytes);
        if let Ok(UrbCommand::Submit(s)) = parse_urb(&h, MAX) {
            prop_assert!(s.transfer_buffer_length <= MAX);
            prop_assert!(s.direction <= 1 && s.ep <= 15);
        }
    }

    #[test]
    fn plausible_submits_parse(dir in 0u32..2, ep in 0u32..16, len in 0u32..=MAX,
                               setup in any::<[u8; 8]>()) {
        let h = submit_header(dir, ep, len, 0, setup);
        prop_assert!(matches!(parse_urb(&h, MAX), Ok(UrbCommand::Submit(_))));
    }

    #[test]
    fn any_config_bytes_summarize(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (_, interfaces) = summarize_config(&bytes);
        prop_assert!(interfaces.len() <= bytes.len() / 9);
    }

    #[test]
    fn any_strings_encode_to_fixed_fields(path in ".{0,400}", busid in ".{0,60}") {
        let mut d = dfu_device();
        d.path = path;
        d.busid = busid;
        let b = d.encode(false);
        prop_assert_eq!(b.len(), 312);
        prop_assert_eq!(b[255], 0);
        prop_assert_eq!(b[287], 0);
    }
}

const MAX: u32 = 65536;
