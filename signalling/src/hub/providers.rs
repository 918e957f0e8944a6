//! What the server plugs into the hub: the chat filter it asks before
//! relaying chat, and the ICE servers each joining person is given.

use uuid::Uuid;

use super::Seat;
use crate::ice::IceServer;

/// What the filter decided about one chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatVerdict {
    /// Relayed to the room.
    Deliver,
    /// Kept back until a safeguarding lead has looked: the sender is told
    /// (the reason), nobody else sees it.
    Hold(String),
    /// Not sent: the sender is told why, nobody else sees it.
    Block(String),
}

/// Decides whether chat may pass (the school-managed word filter lives in
/// the server; the hub only asks). Whatever it decides, the room event
/// keeps the message for the safeguarding lead.
pub trait ChatFilter: Send + Sync {
    fn check(&self, seat: &Seat, text: &str) -> ChatVerdict;
}

/// Lets every message through.
#[derive(Debug, Default)]
pub struct NoFilter;

impl ChatFilter for NoFilter {
    fn check(&self, _seat: &Seat, _text: &str) -> ChatVerdict {
        ChatVerdict::Deliver
    }
}

/// Gives each joining person their ICE servers (STUN, and TURN with fresh
/// credentials).
pub trait IceProvider: Send + Sync {
    fn servers(&self, user: Uuid) -> Vec<IceServer>;
}

/// A fixed list, for tests and for STUN-only set-ups.
#[derive(Debug, Default)]
pub struct StaticIce(pub Vec<IceServer>);

impl IceProvider for StaticIce {
    fn servers(&self, _user: Uuid) -> Vec<IceServer> {
        self.0.clone()
    }
}
