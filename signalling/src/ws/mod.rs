//! One websocket connection: the upgrade, `hello` first, then the relay.
//!
//! A connection is one task driving one `Conn`: it reads the client's
//! frames, hands each message to the [`Hub`](crate::hub::Hub) (which never waits on
//! anyone), and writes out what the hub has queued for it in its
//! [`Outbox`](crate::hub::Outbox). A client that sends too much, too large or too fast
//! (control frames included) is answered with an error code, then cut off
//! if it keeps on; one that stops reading fills only its own queue (one
//! pong at most, whatever it pings), is read no more while its writes
//! wait, and is cut off alone.
//!
//! ## Memory
//! Almost every connection is idle almost all the time (a call's
//! signalling is a burst at the start), so an idle connection holds no
//! buffers: bytes are read into one scratch buffer per worker thread and
//! handled there, in place; only the tail of a frame that has not all
//! arrived is kept, in a buffer that is freed once the frame is whole.
//! Outgoing frames are built once by the hub and written as they are,
//! several to a system call. The task itself holds the connection's state
//! and nothing else, and that state is kept under 152 bytes, so that
//! tokio's task (rounded up to a multiple of 128 bytes) is 256 bytes.
//!
//! ## Layout
//! - `upgrade`: the listening socket and the HTTP upgrade.
//! - `conn`: a connection's state, its phases and deadlines.
//! - `read`: frames in, parsed in place.
//! - `message`: `hello`, then each message to the hub.
//! - `write`: the outbox's frames out, then the goodbye.

mod conn;
mod message;
mod read;
mod upgrade;
mod write;

pub use conn::serve;
pub use upgrade::{BACKLOG, handler, listener};

#[cfg(test)]
use conn::Serve;
#[cfg(test)]
use hyper_util::rt::TokioIo;
#[cfg(test)]
use upgrade::accept_key;

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection's task is tokio's header (32 bytes), scheduler and id
    /// (16), the future behind a tag (8) and a trailer (48), rounded up to
    /// a multiple of 128. A future of at most 152 bytes keeps the task at
    /// 256 bytes; one more byte and every connection carries 128 more.
    #[test]
    fn a_connection_fits_a_256_byte_task() {
        let size = std::mem::size_of::<Serve<TokioIo<hyper::upgrade::Upgraded>>>();
        assert!(size <= 152, "a connection's state is {size} bytes");
    }

    #[test]
    fn the_accept_key_is_the_rfcs_example() {
        // RFC 6455, section 1.3.
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
