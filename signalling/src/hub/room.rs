//! A room and its members, and delivery to one member: numbering each
//! message, keeping it for a resume, and queueing it without waiting.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ConnId;
use super::outbox::{Outbox, QueueError};
use super::replay::{Backlog, Replay};
use crate::frame::{FrameBuf, Opcode};
use crate::protocol::{ErrorCode, Peer, ServerBody, ServerMessage};
use crate::token::CallRole;

pub(super) struct Member {
    pub(super) sid: Uuid,
    pub(super) role: CallRole,
    /// Which connection holds the member now; an older one's cleanup must
    /// not touch a newer one.
    pub(super) conn: ConnId,
    pub(super) tx: Option<Arc<Outbox>>,
    pub(super) seq: u64,
    /// The last `seq` a resume cannot replay (an [`Replay::Unkept`]
    /// message, one the backlog's limits pushed out, or one the client
    /// said it has): a member who has not seen it starts afresh.
    pub(super) forgot: u64,
    /// What a resume would replay; none once the client has said it has
    /// everything (see [`Hub::pong`](super::Hub::pong)), so an idle call
    /// keeps nothing.
    pub(super) backlog: Option<Box<Backlog>>,
    /// When the connection dropped (wall clock: it is what the
    /// attendance record shows, and what the resume time counts from).
    pub(super) dropped_at: Option<DateTime<Utc>>,
}

/// A room's members. A call has two to four people, so a short list
/// searched in order is both smaller and quicker than a hash map.
#[derive(Default)]
pub(super) struct Members(Vec<(Uuid, Member)>);

impl Members {
    pub(super) fn get(&self, user: &Uuid) -> Option<&Member> {
        self.0.iter().find(|(u, _)| u == user).map(|(_, m)| m)
    }

    pub(super) fn get_mut(&mut self, user: &Uuid) -> Option<&mut Member> {
        self.0.iter_mut().find(|(u, _)| u == user).map(|(_, m)| m)
    }

    pub(super) fn remove(&mut self, user: &Uuid) -> Option<Member> {
        let at = self.0.iter().position(|(u, _)| u == user)?;
        Some(self.0.swap_remove(at).1)
    }

    pub(super) fn insert(&mut self, user: Uuid, member: Member) {
        self.remove(&user);
        if self.0.capacity() == 0 {
            // Most rooms are a pair.
            self.0.reserve_exact(2);
        }
        self.0.push((user, member));
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Uuid, &Member)> {
        self.0.iter().map(|(u, m)| (u, m))
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&Uuid, &mut Member)> {
        self.0.iter_mut().map(|(u, m)| (&*u, m))
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Member> {
        self.0.iter().map(|(_, m)| m)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Member> {
        self.0.iter_mut().map(|(_, m)| m)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &Uuid> {
        self.0.iter().map(|(u, _)| u)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

pub(super) struct Room {
    pub(super) members: Members,
    pub(super) closes_at: DateTime<Utc>,
    pub(super) needs_supervisor: bool,
    pub(super) ended: bool,
}

impl Room {
    pub(super) fn has_supervisor(&self) -> bool {
        self.members
            .values()
            .any(|m| m.role == CallRole::Supervisor && m.dropped_at.is_none())
    }
}

/// Everyone in the room but `except`, in a fixed order.
pub(super) fn peers_of(room: &Room, except: Uuid) -> Vec<Peer> {
    let mut peers: Vec<Peer> = room
        .members
        .iter()
        .filter(|(user, _)| **user != except)
        .map(|(user, m)| Peer {
            user: *user,
            role: m.role,
        })
        .collect();
    peers.sort_by_key(|p| p.user);
    peers
}

/// Queues `body` for a member, kept for a resume as `replay` says. A
/// full queue means the client is not reading: it is cut off (and may
/// resume later).
pub(super) fn deliver(member: &mut Member, body: ServerBody, replay: Replay) {
    deliver_frame(member, replay, 256, |seq, frame| {
        serde_json::to_writer(frame, &ServerMessage { seq, body }).is_ok()
    });
}

/// Queues a message that `render` writes into a text frame (of about
/// `size` bytes) for the member's next `seq`, returning false if it
/// could not; keeps it for a resume as `replay` says.
pub(super) fn deliver_frame(
    member: &mut Member,
    replay: Replay,
    size: usize,
    render: impl FnOnce(u64, &mut FrameBuf) -> bool,
) {
    let mut frame = FrameBuf::new(Opcode::Text, size);
    if !render(member.seq + 1, &mut frame) {
        return;
    }
    member.seq += 1;
    let frame = frame.finish();
    member.remember(&frame, replay);
    if let Some(tx) = &member.tx {
        match tx.push(frame) {
            Ok(()) => {}
            Err(QueueError::Full) => {
                tx.close(
                    ErrorCode::SlowConsumer,
                    "you fell too far behind; reconnecting",
                );
                member.tx = None;
                member.dropped_at = Some(Utc::now());
            }
            Err(QueueError::Closed) => member.tx = None,
        }
    }
}
