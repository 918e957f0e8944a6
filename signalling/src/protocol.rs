//! The signalling protocol: JSON messages over one websocket at `/ws`.
//!
//! Every message is an object with a `type`. The client's first message is
//! `hello`, carrying the join token (in the body, so it never lands in an
//! access log as part of a URL). Every server message carries a rising `seq`
//! so a client that resumes after a dropped socket can say what it last saw.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ice::IceServer;
use crate::token::CallRole;

/// Where a resuming client left off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The connection id the server gave in `welcome`.
    pub sid: Uuid,
    /// The last `seq` the client received.
    pub last_seq: u64,
}

/// An ICE candidate, as the browser's `RTCIceCandidate.toJSON()` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub candidate: String,
    /// The media stream id.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// The media line index.
    #[serde(default)]
    pub sdp_m_line_index: Option<u16>,
}

/// A message from a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// The first message: who I am, and optionally where I left off.
    Hello {
        /// The join token the server minted.
        token: String,
        /// Present when reconnecting after a drop.
        #[serde(default)]
        resume: Option<Resume>,
    },
    /// An SDP offer. A call with an observer is a mesh of peer
    /// connections, one per pair, so each offer names its peer (`to`);
    /// without `to` it goes to everyone else in the room.
    Offer {
        sdp: String,
        #[serde(default)]
        to: Option<Uuid>,
    },
    /// An SDP answer (`to` as for an offer).
    Answer {
        sdp: String,
        #[serde(default)]
        to: Option<Uuid>,
    },
    /// A trickled ICE candidate (`to` as for an offer).
    Candidate {
        candidate: Candidate,
        #[serde(default)]
        to: Option<Uuid>,
    },
    /// The peer connection's state changed (for attendance: `connected`).
    State {
        /// `RTCPeerConnection.connectionState`.
        pc_state: String,
    },
    /// In-call text, relayed through the server so it can be filtered.
    Chat { text: String },
    /// Heartbeat, saying how far the client has read: the server need
    /// keep nothing up to `last_seq` for a resume.
    Ping {
        /// The last `seq` the client has handled.
        #[serde(default)]
        last_seq: Option<u64>,
    },
    /// Leaving on purpose (not a drop).
    Leave,
    /// A supervisor ends the call for everyone.
    End,
}

/// Why a peer left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// They pressed Leave.
    Left,
    /// Their socket dropped and did not resume in time.
    TimedOut,
    /// A supervisor ended the call.
    Ended,
    /// The booked window closed.
    WindowClosed,
    /// The signalling server shut down (for a restart, say) while they
    /// were in the call.
    ServerShutdown,
}

/// What went wrong, for the client to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The token was not one we signed, or was altered.
    BadToken,
    /// The token's lifetime is over.
    TokenExpired,
    /// The token was already used.
    TokenReused,
    /// The room is not open yet or has closed.
    OutsideWindow,
    /// The first message was not `hello`, or a message came before it.
    HelloFirst,
    /// The message could not be parsed or has an unknown type.
    BadMessage,
    /// The message is larger than allowed.
    TooLarge,
    /// Too many messages too quickly.
    RateLimited,
    /// The client did not read its messages and fell too far behind.
    SlowConsumer,
    /// The same person joined from another device or tab.
    Replaced,
    /// A supervisor ended the call.
    CallEnded,
    /// The role may not do that (only a supervisor ends a call).
    NotAllowed,
    /// The partnership needs a supervisor in the call first.
    WaitingForSupervisor,
    /// No silence allowed for this long: the connection is closed.
    IdleTimeout,
    /// A resume named a connection the server no longer holds.
    CannotResume,
    /// Chat refused by the school's word filter (kept for the safeguarding
    /// lead).
    ChatBlocked,
    /// Chat kept back until a safeguarding lead has checked it.
    ChatHeld,
    /// Students chat once a supervising teacher is in the call.
    ChatWaitingForSupervisor,
    /// The server is shutting down: connect again in a moment.
    ShuttingDown,
}

/// A server message's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerBody {
    /// The reply to `hello`.
    Welcome {
        /// This connection's id, for `resume`.
        sid: Uuid,
        /// The role the token grants.
        role: CallRole,
        /// Who else is in the room.
        peers: Vec<Peer>,
        /// STUN/TURN servers with fresh credentials.
        ice_servers: Vec<IceServer>,
        /// Seconds between the client's pings.
        ping_interval: u32,
        /// Seconds a dropped connection may take to resume.
        resume_ttl: u32,
        /// Whether the students wait for a supervisor before the call
        /// starts (the partnership's policy).
        needs_supervisor: bool,
        /// True when this connection took up where a dropped one left off.
        resumed: bool,
    },
    /// Someone entered the room.
    PeerJoined { peer: Peer },
    /// Someone left the room.
    PeerLeft { peer: Uuid, reason: LeaveReason },
    /// An offer from a peer.
    Offer { from: Uuid, sdp: String },
    /// An answer from a peer.
    Answer { from: Uuid, sdp: String },
    /// A candidate from a peer.
    Candidate { from: Uuid, candidate: Candidate },
    /// Chat from a peer, after filtering.
    Chat { from: Uuid, text: String },
    /// A supervisor ended the call.
    Ended { by: Uuid },
    /// The reply to `ping`.
    Pong,
    /// Something went wrong.
    Error {
        code: ErrorCode,
        /// For people.
        message: String,
    },
}

/// A person in a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// Their account id.
    pub user: Uuid,
    pub role: CallRole,
}

/// A server message with its sequence number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerMessage {
    /// Rises by one per message on a connection.
    pub seq: u64,
    #[serde(flatten)]
    pub body: ServerBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_may_say_how_far_the_client_has_read() {
        assert_eq!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"ping"}"#).unwrap(),
            ClientMessage::Ping { last_seq: None }
        );
        assert_eq!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"ping","last_seq":7}"#).unwrap(),
            ClientMessage::Ping { last_seq: Some(7) }
        );
    }

    #[test]
    fn a_hello_with_resume_reads_from_the_wire_format() {
        let sid = Uuid::new_v4();
        let raw =
            format!(r#"{{"type":"hello","token":"t","resume":{{"sid":"{sid}","last_seq":7}}}}"#);
        let msg: ClientMessage = serde_json::from_str(&raw).unwrap();
        assert_eq!(
            msg,
            ClientMessage::Hello {
                token: "t".into(),
                resume: Some(Resume { sid, last_seq: 7 })
            }
        );
    }

    #[test]
    fn unknown_types_and_fields_are_rejected() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"shout"}"#).is_err());
        assert!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"chat","text":"hi","to":"x"}"#)
                .is_err()
        );
    }

    #[test]
    fn server_messages_carry_seq_beside_their_type() {
        let msg = ServerMessage {
            seq: 3,
            body: ServerBody::Error {
                code: ErrorCode::OutsideWindow,
                message: "the room opens at 08:35".into(),
            },
        };
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["seq"], 3);
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "outside_window");
        assert_eq!(serde_json::from_value::<ServerMessage>(json).unwrap(), msg);
    }
}
