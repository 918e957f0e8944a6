//! What the server plugs into the hub: the chat filter it asks before
//! relaying chat, and the ICE servers each joining person is given.

use uuid::Uuid;

use super::Seat;
use crate::ice::IceServer;

/// Decides whether chat may pass (the school-managed word filter lives in
/// the server; the hub only asks).
pub trait ChatFilter: Send + Sync {
    /// `Err(reason)` stops the message; the sender is told, nobody else
    /// sees it, and the event keeps it for the safeguarding lead.
    fn check(&self, seat: &Seat, text: &str) -> Result<(), String>;
}

/// Lets every message through.
#[derive(Debug, Default)]
pub struct NoFilter;

impl ChatFilter for NoFilter {
    fn check(&self, _seat: &Seat, _text: &str) -> Result<(), String> {
        Ok(())
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
