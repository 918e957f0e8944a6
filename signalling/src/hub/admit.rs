//! `hello`: the join token checked, then the sender admitted to its room,
//! either resuming a dropped place (what it missed replayed) or as a fresh
//! join that the others are told of.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::replay::Replay;
use super::room::{Member, Members, Room, deliver, peers_of};
use super::{ConnId, Hub, Outbox, RoomEvent, State};
use crate::protocol::{ErrorCode, Peer, Resume, ServerBody};
use crate::token::{CallRole, JoinClaims, TokenError};

/// Who a connection speaks for, once `hello` is accepted: what the call
/// needs of the token's claims, and no more (a connection keeps it for
/// its whole life, so it is kept small).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seat {
    /// The booked session (the room).
    pub session: Uuid,
    pub user: Uuid,
    /// Their school (for its word filter).
    pub school: Uuid,
    pub role: CallRole,
}

impl From<&JoinClaims> for Seat {
    fn from(claims: &JoinClaims) -> Self {
        Seat {
            session: claims.session,
            user: claims.user,
            school: claims.school,
            role: claims.role,
        }
    }
}

/// A member's place, once `hello` is accepted.
#[derive(Debug)]
pub struct Admitted {
    pub seat: Seat,
    pub conn: ConnId,
    /// Its outgoing queue (the one it was admitted with).
    pub outbox: Arc<Outbox>,
}

/// Why a message (`hello`, or one after it) was refused.
#[derive(Debug)]
pub struct Refused {
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

pub(crate) fn refused(code: ErrorCode, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

fn token_refused(e: TokenError) -> Refused {
    let code = match e {
        TokenError::Malformed | TokenError::BadSignature => ErrorCode::BadToken,
        TokenError::Expired => ErrorCode::TokenExpired,
        TokenError::Reused => ErrorCode::TokenReused,
        TokenError::OutsideWindow { .. } => ErrorCode::OutsideWindow,
    };
    refused(code, e.to_string())
}

impl Hub {
    /// Checks a `hello` and admits its sender: a fresh join, or a resume of
    /// a dropped connection (replaying what it missed).
    pub fn admit(
        &self,
        outbox: Arc<Outbox>,
        token: &str,
        resume: Option<Resume>,
        now: DateTime<Utc>,
    ) -> Result<Admitted, Refused> {
        let claims = self.0.key.verify(token, now).map_err(token_refused)?;
        let mut state = self.lock();
        if self.is_shutting_down() {
            return Err(refused(
                ErrorCode::ShuttingDown,
                "the server is shutting down; connect again in a moment",
            ));
        }
        let conn = state.next_conn_id();
        let room = state.open_room(&claims)?;
        let welcome = self.welcome(&claims, room);
        let (session, user) = (claims.session, claims.user);
        let event = match resume.filter(|r| resumable(room, user, r)) {
            Some(r) => {
                resume_place(room, user, r.last_seq, conn, &outbox, welcome)?;
                Some(RoomEvent::Resumed {
                    session,
                    user,
                    at: now,
                })
            }
            None => {
                let rejoining = join_afresh(room, &claims, conn, &outbox, welcome);
                (!rejoining).then_some(RoomEvent::Joined {
                    session,
                    user,
                    role: claims.role,
                    at: now,
                })
            }
        };
        drop(state);
        if let Some(event) = event {
            self.emit(event);
        }
        Ok(Admitted {
            seat: Seat::from(&claims),
            conn,
            outbox,
        })
    }

    /// The `welcome` the member is given, whichever way they came in,
    /// but for their place (`sid`) and whether it is `resumed`.
    fn welcome(
        &self,
        claims: &JoinClaims,
        room: &Room,
    ) -> impl FnOnce(Uuid, bool) -> ServerBody + use<> {
        let config = &self.0.config;
        let role = claims.role;
        let peers = peers_of(room, claims.user);
        let ice_servers = self.0.ice.servers(claims.user);
        let ping_interval = u32::try_from(config.ping_interval.as_secs()).unwrap_or(10);
        let resume_ttl = u32::try_from(config.resume_ttl.as_secs()).unwrap_or(30);
        let needs_supervisor = room.needs_supervisor;
        move |sid, resumed| ServerBody::Welcome {
            sid,
            role,
            peers,
            ice_servers,
            ping_interval,
            resume_ttl,
            needs_supervisor,
            resumed,
        }
    }
}

impl State {
    fn next_conn_id(&mut self) -> ConnId {
        let conn = self.next_conn;
        self.next_conn = self.next_conn.wrapping_add(1);
        conn
    }

    /// The token's room, opened by its first member; refused once a
    /// supervisor has ended the call.
    fn open_room(&mut self, claims: &JoinClaims) -> Result<&mut Room, Refused> {
        let room = self.rooms.entry(claims.session).or_insert_with(|| Room {
            members: Members::default(),
            closes_at: claims.closes_at,
            needs_supervisor: claims.needs_supervisor,
            ended: false,
        });
        if room.ended {
            return Err(refused(
                ErrorCode::CallEnded,
                "a supervisor has ended this call",
            ));
        }
        Ok(room)
    }
}

/// A resume: the same person, the connection id the server gave them, and
/// a backlog still holding everything after `last_seq`.
fn resumable(room: &Room, user: Uuid, resume: &Resume) -> bool {
    room.members
        .get(&user)
        .is_some_and(|m| m.sid == resume.sid && m.can_replay_after(resume.last_seq))
}

/// Moves a dropped member's place to the new connection, and replays what
/// it missed.
fn resume_place(
    room: &mut Room,
    user: Uuid,
    last_seq: u64,
    conn: ConnId,
    outbox: &Arc<Outbox>,
    welcome: impl FnOnce(Uuid, bool) -> ServerBody,
) -> Result<(), Refused> {
    let member = room
        .members
        .get_mut(&user)
        .ok_or_else(|| refused(ErrorCode::CannotResume, "start the call again"))?;
    if let Some(old) = member.tx.take() {
        old.close(
            ErrorCode::Replaced,
            "this call carried on in a newer connection",
        );
    }
    member.conn = conn;
    member.dropped_at = None;
    // Replay first, then the welcome (with a fresh seq), so the client
    // sees what it missed in order.
    member.replay_after(last_seq, outbox);
    member.tx = Some(outbox.clone());
    let sid = member.sid;
    deliver(member, welcome(sid, true), Replay::Restated);
    Ok(())
}

/// A fresh join. The same person already here (another tab, or a resume
/// that came too late) is replaced: the old connection is told so and
/// closed, and the others see them join again so they negotiate afresh.
/// Returns whether they were already here.
fn join_afresh(
    room: &mut Room,
    claims: &JoinClaims,
    conn: ConnId,
    outbox: &Arc<Outbox>,
    welcome: impl FnOnce(Uuid, bool) -> ServerBody,
) -> bool {
    let rejoining = if let Some(mut old) = room.members.remove(&claims.user) {
        if let Some(old_tx) = old.tx.take() {
            old_tx.close(
                ErrorCode::Replaced,
                "you joined this call from another window",
            );
        }
        true
    } else {
        false
    };
    let sid = Uuid::new_v4();
    let mut member = Member {
        role: claims.role,
        sid,
        conn,
        tx: Some(outbox.clone()),
        seq: 0,
        forgot: 0,
        backlog: None,
        dropped_at: None,
    };
    deliver(&mut member, welcome(sid, false), Replay::Restated);
    let joined = Peer {
        user: claims.user,
        role: claims.role,
    };
    for other in room.members.values_mut() {
        deliver(
            other,
            ServerBody::PeerJoined {
                peer: joined.clone(),
            },
            Replay::Unkept,
        );
    }
    room.members.insert(claims.user, member);
    rejoining
}
