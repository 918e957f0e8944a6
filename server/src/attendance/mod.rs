//! Calls and attendance, where booked sessions meet the signalling: a join
//! token for each person the policy seats in a call ([`call_role`]), the
//! `/ws` websocket, *Today's calls*, and attendance from the signalling
//! itself. The hub's room events are stored as they happen, and each
//! person's attendance (joined at, connected minutes, left at, late,
//! no-show) is derived from them ([`derive()`]). A teacher may correct it with
//! a reason; the correction is kept beside the events, so the record holds
//! both.
//!
//! Layout: this module holds the types and rules; [`store`] its SQL (room
//! events, corrections, the chat log) and the queries built on other
//! domains' functions; [`http`] the JSON API and the websocket route;
//! [`pages`] the call page, the pre-call check and *Today's calls*.

/// How long the TURN credentials of a pre-call check last: the check holds
/// its connection for a minute.
pub const PRECALL_TURN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// Pre-call checks' relay credentials per person in ten minutes (a check,
/// and a few tries again).
pub const PRECALL_CHECKS_PER_TEN_MINUTES: std::num::NonZeroU32 =
    std::num::NonZeroU32::new(5).unwrap();

pub mod http;
pub mod pages;
pub mod store;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use mentorbridge_signalling::hub::RoomEvent;
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::auth::policy::{self, CallParties};
use crate::booking::Session;
use crate::error::{Error, Result};
use crate::people::accounts::User;
use crate::store::Store;

/// The room opens this long before a session starts.
pub const OPENS_BEFORE: Duration = Duration::minutes(10);
/// And closes this long after it ends.
pub const CLOSES_AFTER: Duration = Duration::minutes(10);
/// Joining later than this after the start counts as late.
pub const LATE_AFTER: Duration = Duration::minutes(5);

/// When a session's room is open.
pub fn window(session: &Session) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        session.starts_at - OPENS_BEFORE,
        session.ends_at + CLOSES_AFTER,
    )
}

/// How `user` takes part in `session`'s call, or `Forbidden`, as the policy
/// says ([`policy::call_role`]).
pub async fn call_role(store: &Store, user: &User, session: &Session) -> Result<CallRole> {
    let call = call_parties(store, user, session).await?;
    policy::call_role(user, &call)
}

/// Whether `user` has a seat in `session`'s call, asked without logging a
/// refusal: what a list of sessions asks of every row.
pub async fn has_seat(store: &Store, user: &User, session: &Session) -> Result<bool> {
    let call = call_parties(store, user, session).await?;
    Ok(policy::seat(user.id, user.role, user.school_id, &call).is_some())
}

/// Who `session`'s call is for, as the policy judges `user` by. The
/// students' schools are looked up only when the seat depends on them: for
/// a safeguarding lead who is not in the session by name.
async fn call_parties<'a>(
    store: &Store,
    user: &User,
    session: &'a Session,
) -> Result<CallParties<'a>> {
    let mut call = CallParties {
        mentee: session.mentee_id,
        mentor: session.mentor_id,
        supervisors: &session.supervisors,
        schools: None,
    };
    if policy::watches_by_school(user.role)
        && policy::seat(user.id, user.role, user.school_id, &call).is_none()
    {
        call.schools = Some([
            store.user(session.mentee_id).await?.school_id,
            store.user(session.mentor_id).await?.school_id,
        ]);
    }
    Ok(call)
}

/// A call role's stored name (in a `joined` event's detail), the same as
/// its JSON name. [`CallRole`] is the signalling crate's, so its names for
/// storage live here, with [`call_role_named`].
pub fn call_role_name(role: CallRole) -> &'static str {
    match role {
        CallRole::Mentor => "mentor",
        CallRole::Mentee => "mentee",
        CallRole::Supervisor => "supervisor",
    }
}

/// The call role a stored name stands for; anyone not booked as mentor or
/// mentee joined as a supervisor.
pub fn call_role_named(name: &str) -> CallRole {
    [CallRole::Mentor, CallRole::Mentee]
        .into_iter()
        .find(|r| call_role_name(*r) == name)
        .unwrap_or(CallRole::Supervisor)
}

/// Why someone left, as stored in a `left` event's detail.
fn leave_reason_name(reason: &LeaveReason) -> &'static str {
    match reason {
        LeaveReason::Left => "left",
        LeaveReason::TimedOut => "timed_out",
        LeaveReason::Ended => "ended",
        LeaveReason::WindowClosed => "window_closed",
        LeaveReason::ServerShutdown => "server_shutdown",
    }
}

/// What happened to a person in a call, as stored in `attendance_events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Entered the room (detail: their call role).
    Joined,
    /// Came back on a new socket within the resume window.
    Resumed,
    /// Their media changed state (detail: the connection state).
    Media,
    /// Left the room (detail: why).
    Left,
    /// A supervisor ended the call for everyone.
    Ended,
}

impl EventKind {
    const ALL: [EventKind; 5] = [
        EventKind::Joined,
        EventKind::Resumed,
        EventKind::Media,
        EventKind::Left,
        EventKind::Ended,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Joined => "joined",
            EventKind::Resumed => "resumed",
            EventKind::Media => "media",
            EventKind::Left => "left",
            EventKind::Ended => "ended",
        }
    }
}

/// A stored event kind this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("stored attendance event kind `{0}`")]
pub struct UnknownEventKind(String);

impl FromStr for EventKind {
    type Err = UnknownEventKind;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| UnknownEventKind(text.to_owned()))
    }
}

impl TryFrom<String> for EventKind {
    type Error = UnknownEventKind;

    fn try_from(text: String) -> std::result::Result<Self, Self::Error> {
        text.parse()
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with a stored name, as tests reading the events do.
impl PartialEq<&str> for EventKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One stored event.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Event {
    pub user_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    /// The role, the connection state, or the reason.
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// A teacher's correction.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Correction {
    /// Whose attendance.
    pub user_id: Uuid,
    /// Whether they were there.
    pub present: bool,
    /// Minutes they took part, when known.
    pub minutes: Option<i32>,
    pub reason: String,
    /// Who corrected it.
    pub by_user: Uuid,
    pub at: DateTime<Utc>,
}

/// A correction as submitted.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionInput {
    /// Whose attendance.
    pub user_id: Uuid,
    /// Whether they were there.
    pub present: bool,
    /// Minutes they took part.
    #[serde(default)]
    pub minutes: Option<i32>,
    /// Why (required).
    pub reason: String,
}

impl CorrectionInput {
    /// The reason, trimmed, once the correction is one that `session` can
    /// take: a reason of at most 300 characters, a plausible number of
    /// minutes, and a person booked in the session.
    pub fn checked_reason(&self, session: &Session) -> Result<&str> {
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 300 {
            return Err(Error::invalid(
                "reason",
                "say why the record is corrected (at most 300 characters)",
            ));
        }
        if self.minutes.is_some_and(|m| !(0..=600).contains(&m)) {
            return Err(Error::invalid("minutes", "between 0 and 600"));
        }
        let booked = self.user_id == session.mentee_id
            || self.user_id == session.mentor_id
            || session.supervisors.contains(&self.user_id);
        if !booked {
            return Err(Error::invalid(
                "user_id",
                "that person is not booked in this session",
            ));
        }
        Ok(reason)
    }
}

/// One person's attendance at one session.
#[derive(Clone, Debug, Serialize)]
pub struct Presence {
    pub user_id: Uuid,
    /// Their given name.
    pub name: String,
    pub role: CallRole,
    /// First joined.
    pub joined_at: Option<DateTime<Utc>>,
    /// Last left, unless they are still in.
    pub left_at: Option<DateTime<Utc>>,
    /// In the room now.
    pub in_call: bool,
    /// Their media is connected now, as both ends say: they and someone
    /// else in the call both report it.
    pub connected: bool,
    /// Minutes with media connected, counted only while both ends of a
    /// connection said so (a device's word alone proves nothing: a client
    /// can send `connected` without any media).
    pub connected_minutes: i64,
    /// Minutes this person's own device said it was connected.
    pub reported_minutes: i64,
    /// Joined more than [`LATE_AFTER`] after the start.
    pub late: bool,
    /// Expected (mentor or mentee), and the session is over without them.
    pub no_show: bool,
    /// What the signalling says, or the latest correction where there is one.
    pub present: bool,
    /// The latest correction.
    pub correction: Option<Correction>,
}

/// Each person's attendance from the stored events and corrections, as of
/// `now`. `names` gives the people to list whether or not they came
/// (mentee and mentor), with anyone else who joined added.
pub fn derive(
    session: &Session,
    events: &[Event],
    corrections: &[Correction],
    names: &[(Uuid, String, CallRole)],
    now: DateTime<Utc>,
) -> Vec<Presence> {
    let mut people: Vec<(Uuid, String, CallRole)> = names.to_vec();
    for e in events.iter().filter(|e| e.kind == EventKind::Joined) {
        if !people.iter().any(|(u, _, _)| *u == e.user_id) {
            people.push((e.user_id, String::new(), call_role_named(&e.detail)));
        }
    }
    let until = now.min(session.ends_at + CLOSES_AFTER);
    let tracks: Vec<Track> = people
        .iter()
        .map(|(user, _, _)| {
            let mine: Vec<&Event> = events.iter().filter(|e| e.user_id == *user).collect();
            Track::follow(&mine, until)
        })
        .collect();
    people
        .into_iter()
        .zip(&tracks)
        .enumerate()
        .map(|(i, ((user, name, role), track))| {
            let mine: Vec<&Event> = events.iter().filter(|e| e.user_id == user).collect();
            let others: Vec<&Track> = tracks
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, t)| t)
                .collect();
            let confirmed = confirmed_secs(track, &others);
            let someone_else_connected = others
                .iter()
                .any(|t| t.in_call && t.connected_since.is_some());
            let correction = corrections
                .iter()
                .filter(|c| c.user_id == user)
                .max_by_key(|c| c.at)
                .cloned();
            let joined_at = mine
                .iter()
                .find(|e| e.kind == EventKind::Joined)
                .map(|e| e.at);
            let expected = role != CallRole::Supervisor;
            let present = correction
                .as_ref()
                .map_or(joined_at.is_some(), |c| c.present);
            Presence {
                user_id: user,
                name,
                role,
                joined_at,
                left_at: track.left_at,
                in_call: track.in_call,
                connected: track.in_call
                    && track.connected_since.is_some()
                    && someone_else_connected,
                connected_minutes: (confirmed.max(0) + 30) / 60,
                reported_minutes: (track.connected_secs.max(0) + 30) / 60,
                late: joined_at.is_some_and(|j| j > session.starts_at + LATE_AFTER),
                no_show: expected && now >= session.ends_at && !present,
                present,
                correction,
            }
        })
        .collect()
}

/// Seconds of `track`'s connected time during which at least one of
/// `others` was connected too.
fn confirmed_secs(track: &Track, others: &[&Track]) -> i64 {
    let mut theirs: Vec<(DateTime<Utc>, DateTime<Utc>)> = others
        .iter()
        .flat_map(|t| t.spans.iter().copied())
        .collect();
    theirs.sort();
    // Their spans merged, so an overlap is not counted twice.
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (start, end) in theirs {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    track
        .spans
        .iter()
        .flat_map(|&(a, b)| {
            merged
                .iter()
                .map(move |&(c, d)| (b.min(d) - a.max(c)).num_seconds().max(0))
        })
        .sum()
}

/// One person's way through a call, followed event by event.
struct Track {
    in_call: bool,
    left_at: Option<DateTime<Utc>>,
    /// Media connected since then, and not since disconnected.
    connected_since: Option<DateTime<Utc>>,
    connected_secs: i64,
    /// Each stretch of connected media, the last one up to `until`.
    spans: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Track {
    /// Follows `events` (one person's, in order); media still connected
    /// counts until `until` (now, or the room's closing if that is sooner).
    fn follow(events: &[&Event], until: DateTime<Utc>) -> Track {
        let mut track = Track {
            in_call: false,
            left_at: None,
            connected_since: None,
            connected_secs: 0,
            spans: Vec::new(),
        };
        for e in events {
            match (e.kind, e.detail.as_str()) {
                (EventKind::Joined | EventKind::Resumed, _) => {
                    track.in_call = true;
                    track.left_at = None;
                }
                (EventKind::Media, "connected") => {
                    track.connected_since.get_or_insert(e.at);
                }
                (EventKind::Media, _) => track.disconnect(e.at),
                (EventKind::Left | EventKind::Ended, _) => {
                    track.in_call = false;
                    track.left_at = Some(e.at);
                    track.disconnect(e.at);
                }
            }
        }
        if let Some(s) = track.connected_since {
            track.connected_secs += (until - s).num_seconds();
            track.spans.push((s, until));
        }
        track
    }

    fn disconnect(&mut self, at: DateTime<Utc>) {
        if let Some(s) = self.connected_since.take() {
            self.connected_secs += (at - s).num_seconds();
            self.spans.push((s, at));
        }
    }
}

/// An attendance event's row: session, person, kind, detail, time. Chat is
/// not attendance (it goes to the chat log), so it has none.
fn event_row(event: &RoomEvent) -> Option<(Uuid, Uuid, EventKind, String, DateTime<Utc>)> {
    Some(match event {
        RoomEvent::Joined {
            session,
            user,
            role,
            at,
        } => (
            *session,
            *user,
            EventKind::Joined,
            call_role_name(*role).to_owned(),
            *at,
        ),
        RoomEvent::Resumed { session, user, at } => {
            (*session, *user, EventKind::Resumed, String::new(), *at)
        }
        RoomEvent::Media {
            session,
            user,
            state,
            at,
        } => (*session, *user, EventKind::Media, state.clone(), *at),
        RoomEvent::Left {
            session,
            user,
            reason,
            at,
        } => (
            *session,
            *user,
            EventKind::Left,
            leave_reason_name(reason).to_owned(),
            *at,
        ),
        RoomEvent::Ended { session, by, at } => {
            (*session, *by, EventKind::Ended, String::new(), *at)
        }
        RoomEvent::Chat { .. } => return None,
    })
}

/// Keeps a call's chat message in the pair's thread, as the hub decided.
async fn store_chat(
    store: &Store,
    moderator: &crate::safeguarding::Moderator,
    session: Uuid,
    user: Uuid,
    text: &str,
    verdict: &mentorbridge_signalling::hub::ChatVerdict,
    at: DateTime<Utc>,
) -> Result<()> {
    use crate::messaging::{NewMessage, Status};
    use mentorbridge_signalling::hub::ChatVerdict;
    let session = store.session(session).await?;
    let (findings, category) = match moderator.decide_in_call(session.id, text) {
        Ok((checked, v)) => (checked.findings, v.category),
        Err(_) => (Vec::new(), None),
    };
    let status = match verdict {
        ChatVerdict::Deliver => Status::Delivered,
        ChatVerdict::Hold(_) => Status::Held,
        ChatVerdict::Block(_) => Status::Blocked,
    };
    let findings =
        serde_json::to_string(&findings).map_err(|e| Error::internal_from("chat findings", e))?;
    store
        .post_message(&NewMessage {
            match_id: session.match_id,
            sender_id: user,
            session_id: Some(session.id),
            text,
            status,
            category: category.map(|c| c.as_str()),
            findings,
            sent_at: at,
            visible_at: (status == Status::Delivered).then_some(at),
        })
        .await?;
    if status == Status::Held
        && let Some(school) = store.user(user).await?.school_id
    {
        crate::safeguarding::alert(store, school).await?;
    }
    Ok(())
}

/// Whether a finished session was held: both students were there, by the
/// signalling or by a correction.
pub fn was_held(people: &[Presence]) -> bool {
    people
        .iter()
        .filter(|p| p.role != CallRole::Supervisor)
        .all(|p| p.present)
}

/// Settles finished sessions every minute until the task is dropped.
pub async fn settle_forever(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = store.settle_sessions(Utc::now()).await {
            tracing::warn!(error = %e, "settling finished sessions");
        }
    }
}

/// Stores room events as they come, until the hub is gone: chat into the
/// pair's thread (checked again for its findings, which the hub's verdict
/// does not carry), the rest as attendance. A failure is logged, not
/// fatal: the call goes on.
pub async fn record_events(
    store: Store,
    moderator: std::sync::Arc<crate::safeguarding::Moderator>,
    events: &mut mpsc::Receiver<RoomEvent>,
) {
    while let Some(event) = events.recv().await {
        let stored = match &event {
            RoomEvent::Chat {
                session,
                user,
                text,
                verdict,
                at,
            } => store_chat(&store, &moderator, *session, *user, text, verdict, *at).await,
            _ => store.record_room_event(&event).await,
        };
        if let Err(e) = stored {
            // Not the event itself: chat text is personal.
            tracing::warn!(error = %e, "could not store a room event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_and_call_role_reads_back_from_its_stored_name() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>().ok(), Some(kind));
        }
        assert!("chat".parse::<EventKind>().is_err());
        for role in [CallRole::Mentor, CallRole::Mentee, CallRole::Supervisor] {
            assert_eq!(call_role_named(call_role_name(role)), role);
        }
    }

    #[test]
    fn a_track_counts_connected_time_until_the_person_leaves_or_the_room_closes() {
        let user = Uuid::new_v4();
        let start = Utc::now();
        let event = |kind, detail: &str, minutes| Event {
            user_id: user,
            kind,
            detail: detail.to_owned(),
            at: start + Duration::minutes(minutes),
        };
        let events = [
            event(EventKind::Joined, "mentee", 0),
            event(EventKind::Media, "connected", 1),
            event(EventKind::Media, "disconnected", 4),
            event(EventKind::Media, "connected", 5),
            event(EventKind::Left, "left", 9),
        ];
        let all: Vec<&Event> = events.iter().collect();
        let gone = Track::follow(&all, start + Duration::minutes(30));
        assert!(!gone.in_call);
        assert_eq!(gone.left_at, Some(start + Duration::minutes(9)));
        assert_eq!(gone.connected_secs, 7 * 60);
        // Still connected: counted up to `until`.
        let still = Track::follow(&all[..4], start + Duration::minutes(8));
        assert!(still.in_call && still.connected_since.is_some());
        assert_eq!(still.connected_secs, 6 * 60);
    }

    #[test]
    fn connected_minutes_count_only_while_both_ends_say_so() {
        let start = Utc::now();
        let event = |user, kind, detail: &str, minutes| Event {
            user_id: user,
            kind,
            detail: detail.to_owned(),
            at: start + Duration::minutes(minutes),
        };
        let (mentee, mentor) = (Uuid::new_v4(), Uuid::new_v4());
        let session = crate::booking::Session {
            id: Uuid::new_v4(),
            match_id: Uuid::new_v4(),
            partnership_id: Uuid::new_v4(),
            mentee_id: mentee,
            mentor_id: mentor,
            uid: String::new(),
            series_uid: String::new(),
            recurrence_at: start,
            sequence: 0,
            starts_at: start,
            ends_at: start + Duration::minutes(20),
            slot_key: String::new(),
            local: Default::default(),
            status: crate::booking::SessionStatus::Scheduled,
            reason: None,
            supervisors: Vec::new(),
            updated_at: start,
        };
        let names = [
            (mentee, "Aoife".to_owned(), CallRole::Mentee),
            (mentor, "Sam".to_owned(), CallRole::Mentor),
        ];
        // The mentee's client says it is connected from minute 1; the
        // mentor joins at 5 and connects at 6, until 16.
        let events = [
            event(mentee, EventKind::Joined, "mentee", 0),
            event(mentee, EventKind::Media, "connected", 1),
            event(mentor, EventKind::Joined, "mentor", 5),
            event(mentor, EventKind::Media, "connected", 6),
            event(mentor, EventKind::Left, "left", 16),
            event(mentee, EventKind::Left, "left", 18),
        ];
        let people = derive(
            &session,
            &events,
            &[],
            &names,
            start + Duration::minutes(30),
        );
        let of = |u| people.iter().find(|p| p.user_id == u).unwrap();
        assert_eq!(of(mentee).reported_minutes, 17, "what its own device said");
        assert_eq!(
            of(mentee).connected_minutes,
            10,
            "only while the mentor's said so too"
        );
        assert_eq!(of(mentor).connected_minutes, 10);
        // A client alone in the room, claiming media, is not connected.
        let alone = derive(
            &session,
            &events[..2],
            &[],
            &names,
            start + Duration::minutes(3),
        );
        assert!(!alone[0].connected);
        assert_eq!(alone[0].connected_minutes, 0);
    }
}
