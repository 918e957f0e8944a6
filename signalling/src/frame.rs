//! The websocket wire format (RFC 6455, section 5), server side.
//!
//! mentorbridge reads and writes frames itself rather than through a
//! websocket library, for memory: a signalling connection is idle almost
//! all of its life, and a library connection carries its read and write
//! buffers the whole time. Here a frame is parsed in place in whatever
//! buffer the bytes arrived in (see [`crate::ws`]), and an outgoing frame
//! is built once, header and payload in one allocation, and shared between
//! the send queue and the resume backlog.

use bytes::{BufMut, Bytes, BytesMut};

/// The most a frame header can take: 2 bytes, 8 of length, 4 of mask.
pub const MAX_HEADER: usize = 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// The rest of a fragmented message.
    Continuation,
    /// UTF-8 text.
    Text,
    Binary,
    /// The closing handshake.
    Close,
    /// A keep-alive asking for a pong.
    Ping,
    /// The answer to a ping.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: never fragmented, at most 125 bytes.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Why the bytes from a client are not a websocket frame we accept. Each
/// maps to the close code the RFC gives for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Reserved bits set (no extension was agreed).
    #[error("reserved bits set")]
    Reserved,
    /// An opcode the RFC does not define.
    #[error("unknown opcode")]
    Opcode,
    /// A client frame without a mask.
    #[error("client frames must be masked")]
    Unmasked,
    /// A control frame that is fragmented or longer than 125 bytes.
    #[error("bad control frame")]
    Control,
    /// A 64-bit length with its most significant bit set, which RFC 6455
    /// section 5.2 forbids: malformed, whatever the size limit.
    #[error("64-bit length with the top bit set")]
    Length,
    /// Longer than the connection allows.
    #[error("frame too large")]
    TooLarge,
}

impl FrameError {
    /// The close code to answer with: 1009 for size, 1002 otherwise.
    pub fn close_code(self) -> u16 {
        match self {
            FrameError::TooLarge => 1009,
            _ => 1002,
        }
    }
}

/// One frame from a client, unmasked in place.
#[derive(Debug)]
pub struct Frame<'a> {
    /// Whether this is the last frame of its message.
    pub fin: bool,
    pub opcode: Opcode,
    /// The unmasked payload.
    pub payload: &'a mut [u8],
}

/// A frame's header: its shape and where its payload lies in the buffer.
struct Header {
    fin: bool,
    opcode: Opcode,
    mask: [u8; 4],
    start: usize,
    len: usize,
}

/// Reads a client frame's header from the front of `buf`. `Ok(None)`: not
/// all of the header is here yet.
fn header(buf: &[u8], max_payload: usize) -> Result<Option<Header>, FrameError> {
    let [b0, b1, rest @ ..] = buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::Opcode)?;
    if b1 & 0x80 == 0 {
        return Err(FrameError::Unmasked);
    }
    let (len, used) = match b1 & 0x7F {
        126 => match rest {
            [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
            _ => return Ok(None),
        },
        127 => match rest.get(..8) {
            Some(bytes) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(bytes);
                if be[0] & 0x80 != 0 {
                    return Err(FrameError::Length);
                }
                (u64::from_be_bytes(be), 8)
            }
            None => return Ok(None),
        },
        short => (u64::from(short), 0),
    };
    if opcode.is_control() && (!fin || len > 125) {
        return Err(FrameError::Control);
    }
    let len = usize::try_from(len).map_err(|_| FrameError::TooLarge)?;
    if len > max_payload {
        return Err(FrameError::TooLarge);
    }
    let Some(mask) = rest.get(used..used + 4) else {
        return Ok(None);
    };
    Ok(Some(Header {
        fin,
        opcode,
        mask: [mask[0], mask[1], mask[2], mask[3]],
        start: 2 + used + 4,
        len,
    }))
}

/// How many bytes the frame at the front of `buf` takes in all, once its
/// header is here: what a reader must gather before [`parse`] can return
/// it.
pub fn needed(buf: &[u8], max_payload: usize) -> Result<Option<usize>, FrameError> {
    Ok(header(buf, max_payload)?.map(|h| h.start + h.len))
}

/// Parses and unmasks the frame at the front of `buf`. `Ok(None)`: it is
/// not all here yet. On success, also returns how many bytes it took.
pub fn parse(buf: &mut [u8], max_payload: usize) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let Some(h) = header(buf, max_payload)? else {
        return Ok(None);
    };
    let end = h.start + h.len;
    let Some(payload) = buf.get_mut(h.start..end) else {
        return Ok(None);
    };
    unmask(payload, h.mask);
    Ok(Some((
        Frame {
            fin: h.fin,
            opcode: h.opcode,
            payload,
        },
        end,
    )))
}

/// XORs `data` with the repeating 4-byte `mask`, eight bytes at a time
/// (SDPs are kilobytes, and every client byte is masked).
pub fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // Whole chunks of 8 keep the mask's phase, so the tail starts at 0.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
}

/// Builds one unmasked server frame: room for the header is kept in front
/// of the payload, which is written straight into the frame's own buffer,
/// so a message is never copied into a frame afterwards.
pub struct FrameBuf {
    buf: BytesMut,
    opcode: Opcode,
}

impl FrameBuf {
    /// A frame of `opcode`, with room for `capacity` payload bytes.
    pub fn new(opcode: Opcode, capacity: usize) -> FrameBuf {
        let mut buf = BytesMut::with_capacity(MAX_HEADER + capacity);
        buf.put_bytes(0, 10);
        FrameBuf { buf, opcode }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The finished frame: its header written just before the payload.
    pub fn finish(self) -> Bytes {
        let FrameBuf { buf, opcode } = self;
        let len = buf.len() - 10;
        let mut head = [0u8; 10];
        head[0] = 0x80 | opcode.bits();
        let head_len = if len < 126 {
            head[1] = len as u8;
            2
        } else if let Ok(short) = u16::try_from(len) {
            head[1] = 126;
            head[2..4].copy_from_slice(&short.to_be_bytes());
            4
        } else {
            head[1] = 127;
            head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        };
        let mut buf = buf;
        let start = 10 - head_len;
        buf[start..10].copy_from_slice(&head[..head_len]);
        if buf.capacity() - buf.len() > 16 + start {
            // Frames wait in a resume backlog for the whole call: a short
            // message is not left holding a long buffer.
            Bytes::copy_from_slice(&buf[start..])
        } else {
            buf.freeze().slice(start..)
        }
    }
}

impl std::io::Write for FrameBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.push(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a close frame may carry `code` (RFC 6455 section 7.4 and the
/// IANA registry it set up): 1000–1003 and 1007–1014 are defined, 3000–4999
/// are for libraries and applications. The rest are unassigned, or (1005,
/// 1006, 1015) stand for a missing code and must never be sent.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The close frame answering a client's close whose payload is `body`
/// (sections 5.5.1 and 7.4): its code echoed when the body is well formed,
/// 1000 for an empty body; 1002 for a 1-byte body or a code no one may
/// send, 1007 for a reason that is not UTF-8 (as Autobahn's case 7.5.1
/// expects).
pub fn close_answer(body: &[u8]) -> (u16, &'static str) {
    match body {
        [] => (1000, ""),
        [_] => (1002, "a close body starts with a 2-byte code"),
        [a, b, reason @ ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            if !is_valid_close_code(code) {
                (1002, "invalid close code")
            } else if std::str::from_utf8(reason).is_err() {
                (1007, "close reason must be UTF-8")
            } else {
                (code, "")
            }
        }
    }
}

/// A whole text frame holding `text`.
pub fn text(text: &str) -> Bytes {
    let mut f = FrameBuf::new(Opcode::Text, text.len());
    f.push(text.as_bytes());
    f.finish()
}

/// A close frame with `code` and a short `reason` (cut to fit the 125
/// bytes a control frame may carry, on a character boundary).
pub fn close(code: u16, reason: &str) -> Bytes {
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut f = FrameBuf::new(Opcode::Close, 2 + cut);
    f.push(&code.to_be_bytes());
    f.push(&reason.as_bytes()[..cut]);
    f.finish()
}

/// The pong answering a ping with `payload`.
pub fn pong(payload: &[u8]) -> Bytes {
    let mut f = FrameBuf::new(Opcode::Pong, payload.len());
    f.push(payload);
    f.finish()
}

/// Whether `frame`, one of the server's own, is a pong.
pub fn is_pong(frame: &[u8]) -> bool {
    frame.first() == Some(&(0x80 | Opcode::Pong.bits()))
}

/// A client's frame, masked with `mask`: what a client sends (the load
/// generator and the tests use it; the server never sends one).
pub fn client_frame(fin: bool, opcode: Opcode, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode.bits()];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    unmask(&mut out[start..], mask);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_every_length_form_parse_back_whole_and_not_before() {
        for len in [0, 1, 7, 8, 9, 125, 126, 127, 4000, 65_535, 65_536, 200_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut wire = client_frame(true, Opcode::Text, &payload, [0x37, 0xfa, 0x21, 0x3d]);
            let total = wire.len();
            // Any strict prefix is "not yet".
            for cut in [0, 1, 2, total / 2, total - 1] {
                if cut < total {
                    assert!(
                        parse(&mut wire.clone()[..cut], 1 << 20).unwrap().is_none(),
                        "len {len} cut {cut}"
                    );
                }
            }
            assert_eq!(needed(&wire, 1 << 20).unwrap(), Some(total));
            let (frame, used) = parse(&mut wire, 1 << 20).unwrap().unwrap();
            assert_eq!(used, total);
            assert!(frame.fin);
            assert_eq!(frame.opcode, Opcode::Text);
            assert_eq!(frame.payload, &payload[..], "len {len}");
        }
    }

    #[test]
    fn what_a_client_may_not_send_is_named() {
        let mut unmasked = vec![0x81, 0x02, b'h', b'i'];
        assert_eq!(parse(&mut unmasked, 100).unwrap_err(), FrameError::Unmasked);
        let mut reserved = client_frame(true, Opcode::Text, b"hi", [1, 2, 3, 4]);
        reserved[0] |= 0x40;
        assert_eq!(parse(&mut reserved, 100).unwrap_err(), FrameError::Reserved);
        let mut opcode = client_frame(true, Opcode::Text, b"hi", [1, 2, 3, 4]);
        opcode[0] = 0x83;
        assert_eq!(parse(&mut opcode, 100).unwrap_err(), FrameError::Opcode);
        let mut long_ping = client_frame(true, Opcode::Ping, &[0; 126], [1, 2, 3, 4]);
        assert_eq!(
            parse(&mut long_ping, 1000).unwrap_err(),
            FrameError::Control
        );
        let mut split_ping = client_frame(false, Opcode::Ping, b"x", [1, 2, 3, 4]);
        assert_eq!(
            parse(&mut split_ping, 1000).unwrap_err(),
            FrameError::Control
        );
        // Too large is known from the header alone, before the payload.
        let big = client_frame(true, Opcode::Text, &[b'a'; 2000], [1, 2, 3, 4]);
        assert_eq!(needed(&big[..8], 1000).unwrap_err(), FrameError::TooLarge);
        assert_eq!(FrameError::TooLarge.close_code(), 1009);
    }

    #[test]
    fn server_frames_read_back_with_an_independent_parser() {
        use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
        for len in [0, 5, 125, 126, 65_535, 65_536, 70_000] {
            let body = "x".repeat(len);
            let frame = text(&body);
            let mut cursor = std::io::Cursor::new(&frame[..]);
            let (head, length) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
            assert!(head.is_final);
            assert!(head.mask.is_none(), "server frames are not masked");
            assert_eq!(length, len as u64);
            assert_eq!(&frame[cursor.position() as usize..], body.as_bytes());
        }
        let c = close(4000, &"é".repeat(100));
        assert!(
            c.len() <= 2 + 125,
            "a control frame holds 125 bytes at most"
        );
        assert_eq!(&c[2..4], &4000u16.to_be_bytes());
        assert!(
            std::str::from_utf8(&c[4..]).is_ok(),
            "cut on a character boundary"
        );
        assert_eq!(&pong(b"abc")[..], &[0x8A, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn unmasking_matches_the_byte_by_byte_definition() {
        let mask = [0xde, 0xad, 0xbe, 0xef];
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut fast = data.clone();
            unmask(&mut fast, mask);
            let slow: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(fast, slow);
        }
    }
}
