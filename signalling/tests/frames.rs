//! A differential test of the frame parser (`frame::parse`) against
//! tungstenite's own (`FrameHeader::parse`, with the checks tungstenite's
//! server side makes of every frame): on arbitrary bytes, on valid frames
//! with bits flipped, and on streams of valid frames cut at arbitrary
//! points and fed in pieces as the server reads them, both must find the
//! same frame (fin, opcode, unmasked payload, length) or both refuse.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Cursor;

use mentorbridge_signalling::frame::{self, Opcode};
use proptest::prelude::*;
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode;

/// The payload limit both parsers are held to.
const MAX: usize = 1 << 16;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    /// Not all here yet.
    Incomplete,
    Refused,
    Frame {
        fin: bool,
        opcode: u8,
        payload: Vec<u8>,
        /// Bytes the frame took.
        used: usize,
    },
}

fn opcode_bits(op: Opcode) -> u8 {
    match op {
        Opcode::Continuation => 0x0,
        Opcode::Text => 0x1,
        Opcode::Binary => 0x2,
        Opcode::Close => 0x8,
        Opcode::Ping => 0x9,
        Opcode::Pong => 0xA,
    }
}

fn ours(bytes: &[u8]) -> Verdict {
    let mut buf = bytes.to_vec();
    match frame::parse(&mut buf, MAX) {
        Ok(None) => Verdict::Incomplete,
        Err(_) => Verdict::Refused,
        Ok(Some((f, used))) => Verdict::Frame {
            fin: f.fin,
            opcode: opcode_bits(f.opcode),
            payload: f.payload.to_vec(),
            used,
        },
    }
}

/// tungstenite's reading of a client frame at the front of `bytes`: its
/// header parser, then what `WebSocketContext` refuses of a frame from a
/// client (reserved bits, no mask, a control frame fragmented or over
/// 125 bytes), RFC 6455 section 5.2's top bit of a 64-bit length (which
/// tungstenite leaves to its size limit), and the size limit.
fn theirs(bytes: &[u8]) -> Verdict {
    let mut cursor = Cursor::new(bytes);
    let (header, len) = match FrameHeader::parse(&mut cursor) {
        Ok(None) => return Verdict::Incomplete,
        Err(_) => return Verdict::Refused,
        Ok(Some(parsed)) => parsed,
    };
    let Some(mask) = header.mask else {
        return Verdict::Refused;
    };
    let control = matches!(header.opcode, OpCode::Control(_));
    if header.rsv1
        || header.rsv2
        || header.rsv3
        || (control && (!header.is_final || len > 125))
        || len >> 63 != 0
        || len > MAX as u64
    {
        return Verdict::Refused;
    }
    let start = usize::try_from(cursor.position()).unwrap();
    let end = start + usize::try_from(len).unwrap();
    let Some(masked) = bytes.get(start..end) else {
        return Verdict::Incomplete;
    };
    Verdict::Frame {
        fin: header.is_final,
        opcode: u8::from(header.opcode),
        // Section 5.3's definition, byte by byte.
        payload: masked
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect(),
        used: end,
    }
}

/// The two agree: the same verdict, or ours refuses a frame whose header
/// is not all here yet, for a reason the whole header confirms (ours
/// refuses as soon as the first bytes show it).
fn agree(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (a, b) = (ours(bytes), theirs(bytes));
    if a == b {
        return Ok(());
    }
    if a == Verdict::Refused && b == Verdict::Incomplete {
        let mut whole = bytes.to_vec();
        whole.extend_from_slice(&[0; frame::MAX_HEADER]);
        prop_assert_eq!(theirs(&whole), Verdict::Refused, "{:02x?}", bytes);
        return Ok(());
    }
    prop_assert_eq!(a, b, "{:02x?}", bytes);
    Ok(())
}

/// How a frame writes its length: the shortest form, or a longer one
/// (which the RFC discourages but neither parser refuses).
#[derive(Clone, Copy, Debug)]
enum LengthForm {
    Shortest,
    Sixteen,
    SixtyFour,
}

/// A client frame, written here byte by byte (independently of both).
fn encode(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4], form: LengthForm) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    let n = payload.len();
    match form {
        LengthForm::Shortest if n < 126 => out.push(0x80 | n as u8),
        LengthForm::Shortest | LengthForm::Sixteen if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn length_form() -> impl Strategy<Value = LengthForm> {
    prop_oneof![
        Just(LengthForm::Shortest),
        Just(LengthForm::Sixteen),
        Just(LengthForm::SixtyFour)
    ]
}

/// A frame a client may send: data of any size (up to a few KB), control
/// frames whole and within 125 bytes.
fn valid_frame() -> impl Strategy<Value = Vec<u8>> {
    let data = (
        any::<bool>(),
        prop::sample::select(vec![0x0u8, 0x1, 0x2]),
        prop::collection::vec(any::<u8>(), 0..3000),
    );
    let control = (
        Just(true),
        prop::sample::select(vec![0x8u8, 0x9, 0xA]),
        prop::collection::vec(any::<u8>(), 0..=125),
    );
    (prop_oneof![data, control], any::<[u8; 4]>(), length_form())
        .prop_map(|((fin, op, payload), mask, form)| encode(fin, op, &payload, mask, form))
}

/// Feeds `stream` to our parser in the pieces `cuts` make, keeping the
/// unparsed tail between pieces as the connection does; the frames found,
/// or `None` if it refused.
fn ours_in_pieces(stream: &[u8], cuts: &[usize]) -> Option<Vec<Verdict>> {
    let mut frames = Vec::new();
    let mut tail: Vec<u8> = Vec::new();
    let mut from = 0;
    for &to in cuts.iter().chain([stream.len()].iter()) {
        tail.extend_from_slice(&stream[from..to.max(from)]);
        from = to.max(from);
        loop {
            match frame::parse(&mut tail, MAX) {
                Ok(None) => break,
                Err(_) => return None,
                Ok(Some((f, used))) => {
                    frames.push(Verdict::Frame {
                        fin: f.fin,
                        opcode: opcode_bits(f.opcode),
                        payload: f.payload.to_vec(),
                        used,
                    });
                    tail.drain(..used);
                }
            }
        }
    }
    Some(frames)
}

/// tungstenite's reading of the whole stream, frame after frame.
fn theirs_whole(stream: &[u8]) -> Option<Vec<Verdict>> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        match theirs(&stream[at..]) {
            f @ Verdict::Frame { used, .. } => {
                at += used;
                frames.push(f);
            }
            Verdict::Refused => return None,
            Verdict::Incomplete => break,
        }
    }
    Some(frames)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_parse_alike_or_are_refused_alike(
        bytes in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        agree(&bytes)?;
    }

    #[test]
    fn arbitrary_headers_over_a_real_payload_parse_alike(
        head in prop::collection::vec(any::<u8>(), 0..=14),
        payload in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = head;
        bytes.extend_from_slice(&payload);
        agree(&bytes)?;
    }

    #[test]
    fn valid_frames_with_a_bit_flipped_parse_alike(
        frame in valid_frame(),
        flips in prop::collection::vec((0usize..14, 0u8..8), 1..3),
    ) {
        let mut bytes = frame;
        for (at, bit) in flips {
            let at = at.min(bytes.len() - 1);
            bytes[at] ^= 1 << bit;
        }
        agree(&bytes)?;
    }

    #[test]
    fn valid_frames_cut_anywhere_parse_alike_and_not_before_they_are_whole(
        frame in valid_frame(),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = cut.index(frame.len() + 1);
        agree(&frame[..cut])?;
        let whole = matches!(ours(&frame), Verdict::Frame { .. });
        prop_assert!(whole, "a valid frame is read");
    }

    #[test]
    fn streams_of_valid_frames_fed_in_pieces_give_the_frames_tungstenite_reads(
        frames in prop::collection::vec(valid_frame(), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let stream: Vec<u8> = frames.concat();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        let ours = ours_in_pieces(&stream, &cuts);
        let theirs = theirs_whole(&stream);
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(ours.map(|f| f.len()), Some(frames.len()));
    }
}
