//! What a member's messages mean for a resume: which are kept, within what
//! limits, and what a returning connection is replayed.
//!
//! Each member keeps a short backlog of the frames a resume would replay
//! (the very frames queued to them, shared, not copied). A member who
//! missed a frame the backlog does not hold cannot resume and starts
//! afresh instead (see `Member::forgot`).

use std::collections::VecDeque;

use bytes::Bytes;

use super::room::Member;
use super::{Hub, Outbox};

/// How much of a member's messages to keep for a resume.
#[derive(Clone, Copy)]
pub(super) struct Keep {
    messages: usize,
    bytes: usize,
}

/// What a message to a member means for a later resume.
#[derive(Clone, Copy)]
pub(super) enum Replay {
    /// Kept in the backlog (within these limits) and replayed to a
    /// member who missed it: offers, answers, candidates, chat.
    Kept(Keep),
    /// Not kept: a resume's fresh `welcome` says it again (the welcome
    /// itself, pongs).
    Restated,
    /// Not kept: it changed who is in the room (`peer_joined`,
    /// `peer_left`). A member who missed it starts afresh instead of
    /// resuming, and learns the room as it now is. Such a miss needs a
    /// drop and a change of members at the same moment, so it is rare;
    /// in exchange an idle pair keeps no backlog at all.
    Unkept,
}

/// A member's messages kept for a resume, oldest first.
#[derive(Default)]
pub(super) struct Backlog {
    frames: VecDeque<(u64, Bytes)>,
    bytes: u32,
}

impl Backlog {
    fn pop_front(&mut self) -> Option<u64> {
        let (seq, frame) = self.frames.pop_front()?;
        self.bytes -= frame_len(&frame);
        Some(seq)
    }
}

/// A frame's length for the backlog's byte count (frames are far below
/// 4 GiB: messages are limited to
/// [`Config::max_message_bytes`](super::Config::max_message_bytes)).
fn frame_len(frame: &Bytes) -> u32 {
    u32::try_from(frame.len()).unwrap_or(u32::MAX)
}

impl Hub {
    /// Messages that a resume replays are kept within these limits.
    pub(super) fn keep(&self) -> Replay {
        Replay::Kept(Keep {
            messages: self.0.config.backlog,
            bytes: self.0.config.backlog_bytes,
        })
    }
}

impl Member {
    /// Notes `frame`, just sent as the member's `seq`, for a resume, as
    /// `replay` says.
    pub(super) fn remember(&mut self, frame: &Bytes, replay: Replay) {
        match replay {
            Replay::Kept(keep) => {
                let backlog = self.backlog.get_or_insert_default();
                backlog.bytes += frame_len(frame);
                backlog.frames.push_back((self.seq, frame.clone()));
                while backlog.frames.len() > keep.messages || backlog.bytes as usize > keep.bytes {
                    match backlog.pop_front() {
                        Some(seq) => self.forgot = seq,
                        None => break,
                    }
                }
            }
            Replay::Restated => {}
            Replay::Unkept => self.forgot = self.seq,
        }
    }

    /// Whether a connection that has read up to `last_seq` can be given
    /// everything after it.
    pub(super) fn can_replay_after(&self, last_seq: u64) -> bool {
        (self.forgot..=self.seq).contains(&last_seq)
    }

    /// Queues on `outbox` what the member has not read (after `last_seq`).
    pub(super) fn replay_after(&self, last_seq: u64, outbox: &Outbox) {
        for (seq, frame) in self.backlog.iter().flat_map(|b| b.frames.iter()) {
            if *seq > last_seq {
                outbox.push_own(frame.clone());
            }
        }
    }

    /// The client has read up to `read`: nothing up to there is kept any
    /// longer, nor asked for again.
    pub(super) fn forget_read(&mut self, read: u64) {
        if let Some(backlog) = &mut self.backlog {
            while backlog.frames.front().is_some_and(|(seq, _)| *seq <= read) {
                backlog.pop_front();
            }
            if backlog.frames.is_empty() {
                self.backlog = None;
            }
        }
        self.forgot = self.forgot.max(read);
    }
}
