//! What the hub tells the server: [`RoomEvent`]s, sent into the channel the
//! server's attendance module reads (and the safeguarding log keeps).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::protocol::LeaveReason;
use crate::token::CallRole;

/// What happened in a room, for the server's attendance record and the
/// safeguarding log. Times are when the hub saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomEvent {
    /// Someone entered the room.
    Joined {
        session: Uuid,
        user: Uuid,
        role: CallRole,
        at: DateTime<Utc>,
    },
    /// A dropped connection came back in time: presence never broke.
    Resumed {
        session: Uuid,
        user: Uuid,
        at: DateTime<Utc>,
    },
    /// A member's peer connection changed state (`connected`,
    /// `disconnected`, `failed` …), as their browser reported it.
    Media {
        session: Uuid,
        user: Uuid,
        /// `RTCPeerConnection.connectionState`.
        state: String,
        at: DateTime<Utc>,
    },
    /// Someone left. For a drop that never resumed, `at` is when the
    /// connection dropped, not when the hub gave up on it.
    Left {
        session: Uuid,
        user: Uuid,
        reason: LeaveReason,
        at: DateTime<Utc>,
    },
    /// In-call text, with the filter's verdict.
    Chat {
        session: Uuid,
        /// Who wrote it.
        user: Uuid,
        text: String,
        /// What the filter decided.
        verdict: super::ChatVerdict,
        at: DateTime<Utc>,
    },
    /// A supervisor ended the call.
    Ended {
        session: Uuid,
        /// The supervisor.
        by: Uuid,
        at: DateTime<Utc>,
    },
}
