//! How members go: Leave, a supervisor's End, a dropped connection (which
//! may still resume), and the sweep that turns a drop past the resume time
//! into a leave and empties rooms whose window has closed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::admit::{Refused, Seat, refused};
use super::replay::Replay;
use super::room::deliver;
use super::{ConnId, Hub, RoomEvent, State};
use crate::protocol::{ErrorCode, LeaveReason, ServerBody};
use crate::token::CallRole;

impl Hub {
    /// Takes a member out of the room and tells the others why.
    fn remove(
        &self,
        state: &mut State,
        session: Uuid,
        user: Uuid,
        reason: LeaveReason,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(room) = state.rooms.get_mut(&session) else {
            return false;
        };
        if room.members.remove(&user).is_none() {
            return false;
        }
        for other in room.members.values_mut() {
            deliver(
                other,
                ServerBody::PeerLeft { peer: user, reason },
                Replay::Unkept,
            );
        }
        if room.members.is_empty() && !room.ended {
            state.rooms.remove(&session);
        }
        self.emit(RoomEvent::Left {
            session,
            user,
            reason,
            at,
        });
        true
    }

    /// The member pressed Leave.
    pub fn leave(&self, seat: &Seat, conn: ConnId, now: DateTime<Utc>) {
        let mut state = self.lock();
        let current = state
            .rooms
            .get(&seat.session)
            .and_then(|r| r.members.get(&seat.user))
            .is_some_and(|m| m.conn == conn);
        if current {
            self.remove(&mut state, seat.session, seat.user, LeaveReason::Left, now);
        }
    }

    /// A supervisor ends the call: everyone is told and disconnected, and
    /// nobody can join it again.
    pub fn end(&self, seat: &Seat, now: DateTime<Utc>) -> Result<(), Refused> {
        if seat.role != CallRole::Supervisor {
            return Err(refused(
                ErrorCode::NotAllowed,
                "only a supervising teacher can end the call",
            ));
        }
        let keep = self.keep();
        let mut state = self.lock();
        let Some(room) = state.rooms.get_mut(&seat.session) else {
            return Ok(());
        };
        room.ended = true;
        let members: Vec<Uuid> = room.members.keys().copied().collect();
        for member in room.members.values_mut() {
            deliver(member, ServerBody::Ended { by: seat.user }, keep);
            if let Some(tx) = member.tx.take() {
                tx.close(ErrorCode::CallEnded, "a supervising teacher ended the call");
            }
        }
        room.members.clear();
        drop(state);
        self.emit(RoomEvent::Ended {
            session: seat.session,
            by: seat.user,
            at: now,
        });
        for user in members {
            self.emit(RoomEvent::Left {
                session: seat.session,
                user,
                reason: LeaveReason::Ended,
                at: now,
            });
        }
        Ok(())
    }

    /// The connection `conn` of a member closed without a Leave: they may
    /// resume within [`Config::resume_ttl`](super::Config::resume_ttl).
    pub fn dropped(&self, seat: &Seat, conn: ConnId, now: DateTime<Utc>) {
        let mut state = self.lock();
        if let Some(member) = state
            .rooms
            .get_mut(&seat.session)
            .and_then(|r| r.members.get_mut(&seat.user))
            .filter(|m| m.conn == conn)
        {
            member.tx = None;
            if member.dropped_at.is_none() {
                member.dropped_at = Some(now);
            }
        }
    }

    /// Housekeeping, run every second or so: members dropped for longer
    /// than the resume time have left (at the moment they dropped), and
    /// rooms whose window has closed are emptied.
    pub fn sweep(&self, now: DateTime<Utc>) {
        let ttl = self.0.config.resume_ttl;
        let keep = self.keep();
        let mut state = self.lock();
        let mut gone = Vec::new();
        let mut closed = Vec::new();
        for (session, room) in &state.rooms {
            if now >= room.closes_at {
                closed.push(*session);
                continue;
            }
            for (user, m) in room.members.iter() {
                if let Some(at) = m.dropped_at
                    && (now - at).to_std().is_ok_and(|away| away >= ttl)
                {
                    gone.push((*session, *user, at));
                }
            }
        }
        for (session, user, at) in gone {
            self.remove(&mut state, session, user, LeaveReason::TimedOut, at);
        }
        for session in closed {
            if let Some(mut room) = state.rooms.remove(&session) {
                for (user, member) in room.members.iter_mut() {
                    deliver(
                        member,
                        ServerBody::Error {
                            code: ErrorCode::OutsideWindow,
                            message: "the session's time is over".into(),
                        },
                        keep,
                    );
                    if let Some(tx) = member.tx.take() {
                        tx.close(ErrorCode::OutsideWindow, "the session's time is over");
                    }
                    let at = member.dropped_at.unwrap_or(now);
                    self.emit(RoomEvent::Left {
                        session,
                        user: *user,
                        reason: LeaveReason::WindowClosed,
                        at,
                    });
                }
            }
        }
    }

    /// Runs [`Hub::sweep`] every `every` until the task is dropped.
    pub async fn sweep_forever(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            self.sweep(Utc::now());
        }
    }
}
