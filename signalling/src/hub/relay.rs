//! What members say to each other: offers, answers and candidates relayed
//! within the room (under the supervision rule), chat through the filter,
//! media states out as events, and pongs.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::admit::{Refused, Seat, refused};
use super::replay::Replay;
use super::room::{Member, deliver, deliver_frame};
use super::{ChatVerdict, Hub, RoomEvent};
use crate::protocol::{ErrorCode, ServerBody};
use crate::token::CallRole;

/// Which kind of session description is relayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdpKind {
    Offer,
    Answer,
}

impl Hub {
    /// Relays an offer, answer or candidate from `from` to `to` (or to
    /// everyone else), within the sender's room only.
    pub fn relay(
        &self,
        seat: &Seat,
        to: Option<Uuid>,
        body: impl Fn(Uuid) -> ServerBody,
    ) -> Result<(), Refused> {
        self.relay_with(seat, to, |member, keep| {
            deliver(member, body(seat.user), keep);
        })
    }

    /// The room's rules for relaying, with `send` for each recipient.
    fn relay_with(
        &self,
        seat: &Seat,
        to: Option<Uuid>,
        mut send: impl FnMut(&mut Member, Replay),
    ) -> Result<(), Refused> {
        let keep = self.keep();
        let mut state = self.lock();
        let room = state
            .rooms
            .get_mut(&seat.session)
            .ok_or_else(|| refused(ErrorCode::CallEnded, "this call has ended"))?;
        if room.needs_supervisor && seat.role != CallRole::Supervisor && !room.has_supervisor() {
            // Safeguarding: students do not connect before a supervisor
            // is in the call, whatever their page does.
            let to_student = match to {
                Some(t) => room
                    .members
                    .get(&t)
                    .is_some_and(|m| m.role != CallRole::Supervisor),
                None => true,
            };
            if to_student {
                return Err(refused(
                    ErrorCode::WaitingForSupervisor,
                    "the call starts when a supervising teacher joins",
                ));
            }
        }
        for (user, member) in room.members.iter_mut() {
            if *user == seat.user || to.is_some_and(|t| t != *user) {
                continue;
            }
            send(member, keep);
        }
        Ok(())
    }

    /// Relays an offer or answer whose `sdp` is still the JSON string the
    /// sender wrote (`raw`, quotes and escapes included): it is spliced into
    /// each recipient's message as it stands, never unescaped and escaped
    /// again. This is the hot path of a call set-up, and SDPs are large.
    pub fn relay_sdp(
        &self,
        seat: &Seat,
        to: Option<Uuid>,
        kind: SdpKind,
        raw: &str,
    ) -> Result<(), Refused> {
        debug_assert!(raw.starts_with('"'));
        let from = seat.user;
        let kind = match kind {
            SdpKind::Offer => "offer",
            SdpKind::Answer => "answer",
        };
        self.relay_with(seat, to, |member, keep| {
            deliver_frame(member, keep, raw.len() + 96, |seq, frame| {
                use std::io::Write as _;
                write!(
                    frame,
                    r#"{{"seq":{seq},"type":"{kind}","from":"{from}","sdp":"#
                )
                .is_ok()
                    && {
                        frame.push(raw.as_bytes());
                        frame.push(b"}");
                        true
                    }
            });
        })
    }

    /// Passes chat through the filter and to the room (the sender sees
    /// their own message come back, so every screen shows the same order).
    pub fn chat(&self, seat: &Seat, text: &str, now: DateTime<Utc>) -> Result<(), Refused> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > self.0.config.max_chat_chars {
            return Err(refused(
                ErrorCode::BadMessage,
                format!(
                    "a chat message has 1 to {} characters",
                    self.0.config.max_chat_chars
                ),
            ));
        }
        if seat.role != CallRole::Supervisor {
            // Safeguarding: as with media, students say nothing to each
            // other until a supervisor is in the call.
            let state = self.lock();
            let waiting = state
                .rooms
                .get(&seat.session)
                .is_some_and(|room| room.needs_supervisor && !room.has_supervisor());
            if waiting {
                return Err(refused(
                    ErrorCode::ChatWaitingForSupervisor,
                    "you can chat when a supervising teacher has joined the call",
                ));
            }
        }
        let verdict = self.0.filter.check(seat, text);
        self.emit(RoomEvent::Chat {
            session: seat.session,
            user: seat.user,
            text: text.to_owned(),
            verdict: verdict.clone(),
            at: now,
        });
        match verdict {
            ChatVerdict::Deliver => {}
            ChatVerdict::Hold(why) => return Err(refused(ErrorCode::ChatHeld, why)),
            ChatVerdict::Block(why) => return Err(refused(ErrorCode::ChatBlocked, why)),
        }
        let keep = self.keep();
        let mut state = self.lock();
        if let Some(room) = state.rooms.get_mut(&seat.session) {
            for member in room.members.values_mut() {
                deliver(
                    member,
                    ServerBody::Chat {
                        from: seat.user,
                        text: text.to_owned(),
                    },
                    keep,
                );
            }
        }
        Ok(())
    }

    /// Records a member's peer-connection state.
    pub fn media_state(&self, seat: &Seat, state: &str, now: DateTime<Utc>) {
        let state: String = state.chars().take(20).collect();
        self.emit(RoomEvent::Media {
            session: seat.session,
            user: seat.user,
            state,
            at: now,
        });
    }

    /// Answers a ping on the member's own queue, and forgets what the
    /// client says it has read (`last_seq`): it will not be asked for
    /// again, and a call's negotiation need not be kept for its whole
    /// length.
    pub fn pong(&self, seat: &Seat, last_seq: Option<u64>) {
        let mut state = self.lock();
        let Some(member) = state
            .rooms
            .get_mut(&seat.session)
            .and_then(|r| r.members.get_mut(&seat.user))
        else {
            return;
        };
        if let Some(read) = last_seq.filter(|read| *read <= member.seq) {
            member.forget_read(read);
        }
        deliver(member, ServerBody::Pong, Replay::Restated);
    }
}
