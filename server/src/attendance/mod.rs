//! Attendance, from the signalling itself: the hub's room events are stored
//! as they happen, and each person's attendance (joined at, connected
//! minutes, left at, late, no-show) is derived from them. A teacher may
//! correct it with a reason; the correction is kept beside the events, so
//! the record holds both.
//!
//! Who may enter a call is decided here too ([`call_role`]): the booked
//! mentor and mentee, the session's supervisors, and a safeguarding lead of
//! either school (who can see everything). Nobody else gets a join token.

pub mod http;

use chrono::{DateTime, Duration, Utc};
use mentorbridge_signalling::hub::RoomEvent;
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::booking::Session;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, User};
use crate::store::Store;
use crate::{on_pool, on_tx};

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

/// How `user` takes part in `session`'s call, or `Forbidden`.
pub async fn call_role(store: &Store, user: &User, session: &Session) -> Result<CallRole> {
    if user.id == session.mentee_id {
        return Ok(CallRole::Mentee);
    }
    if user.id == session.mentor_id {
        return Ok(CallRole::Mentor);
    }
    if user.role != Role::Student && session.supervisors.contains(&user.id) {
        return Ok(CallRole::Supervisor);
    }
    if user.role == Role::SafeguardingLead {
        let schools = [
            store.user(session.mentee_id).await?.school_id,
            store.user(session.mentor_id).await?.school_id,
        ];
        if user.school_id.is_some() && schools.contains(&user.school_id) {
            return Ok(CallRole::Supervisor);
        }
    }
    Err(Error::Forbidden)
}

/// One stored event.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Event {
    /// Who.
    pub user_id: Uuid,
    /// `joined`, `resumed`, `media`, `left` or `ended`.
    pub kind: String,
    /// The role, the connection state, or the reason.
    pub detail: String,
    /// When.
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
    /// Why it was corrected.
    pub reason: String,
    /// Who corrected it.
    pub by_user: Uuid,
    /// When.
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

/// One person's attendance at one session.
#[derive(Clone, Debug, Serialize)]
pub struct Presence {
    /// Who.
    pub user_id: Uuid,
    /// Their given name.
    pub name: String,
    /// `mentee`, `mentor` or `supervisor`.
    pub role: CallRole,
    /// First joined.
    pub joined_at: Option<DateTime<Utc>>,
    /// Last left, unless they are still in.
    pub left_at: Option<DateTime<Utc>>,
    /// In the room now.
    pub in_call: bool,
    /// Their media is connected now.
    pub connected: bool,
    /// Minutes with media connected.
    pub connected_minutes: i64,
    /// Joined more than [`LATE_AFTER`] after the start.
    pub late: bool,
    /// Expected (mentor or mentee), and the session is over without them.
    pub no_show: bool,
    /// What the signalling says, or the latest correction where there is one.
    pub present: bool,
    /// The latest correction.
    pub correction: Option<Correction>,
}

fn role_of(detail: &str) -> CallRole {
    match detail {
        "mentor" => CallRole::Mentor,
        "mentee" => CallRole::Mentee,
        _ => CallRole::Supervisor,
    }
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
    for e in events.iter().filter(|e| e.kind == "joined") {
        if !people.iter().any(|(u, _, _)| *u == e.user_id) {
            people.push((e.user_id, String::new(), role_of(&e.detail)));
        }
    }
    let over = now >= session.ends_at;
    people
        .into_iter()
        .map(|(user, name, role)| {
            let mine: Vec<&Event> = events.iter().filter(|e| e.user_id == user).collect();
            let joined_at = mine.iter().find(|e| e.kind == "joined").map(|e| e.at);
            let mut in_call = false;
            let mut left_at = None;
            let mut since: Option<DateTime<Utc>> = None;
            let mut connected_secs = 0_i64;
            for e in &mine {
                match (e.kind.as_str(), e.detail.as_str()) {
                    ("joined" | "resumed", _) => {
                        in_call = true;
                        left_at = None;
                    }
                    ("media", "connected") => {
                        since.get_or_insert(e.at);
                    }
                    ("media", _) => {
                        if let Some(s) = since.take() {
                            connected_secs += (e.at - s).num_seconds();
                        }
                    }
                    ("left" | "ended", _) => {
                        in_call = false;
                        left_at = Some(e.at);
                        if let Some(s) = since.take() {
                            connected_secs += (e.at - s).num_seconds();
                        }
                    }
                    _ => {}
                }
            }
            if let Some(s) = since {
                connected_secs += (now.min(session.ends_at + CLOSES_AFTER) - s).num_seconds();
            }
            let correction = corrections
                .iter()
                .filter(|c| c.user_id == user)
                .max_by_key(|c| c.at)
                .cloned();
            let expected = role != CallRole::Supervisor;
            let present = correction
                .as_ref()
                .map_or(joined_at.is_some(), |c| c.present);
            Presence {
                user_id: user,
                name,
                role,
                joined_at,
                left_at,
                in_call,
                connected: in_call && since.is_some(),
                connected_minutes: (connected_secs.max(0) + 30) / 60,
                late: joined_at.is_some_and(|j| j > session.starts_at + LATE_AFTER),
                no_show: expected && over && !present,
                present,
                correction,
            }
        })
        .collect()
}

/// An attendance event's row: session, person, kind, detail, time. Chat is
/// not attendance (it goes to the chat log), so it has none.
fn event_row(event: &RoomEvent) -> Option<(Uuid, Uuid, &'static str, String, DateTime<Utc>)> {
    Some(match event {
        RoomEvent::Joined {
            session,
            user,
            role,
            at,
        } => {
            let role = match role {
                CallRole::Mentor => "mentor",
                CallRole::Mentee => "mentee",
                CallRole::Supervisor => "supervisor",
            };
            (*session, *user, "joined", role.to_owned(), *at)
        }
        RoomEvent::Resumed { session, user, at } => {
            (*session, *user, "resumed", String::new(), *at)
        }
        RoomEvent::Media {
            session,
            user,
            state,
            at,
        } => (*session, *user, "media", state.clone(), *at),
        RoomEvent::Left {
            session,
            user,
            reason,
            at,
        } => {
            let reason = match reason {
                LeaveReason::Left => "left",
                LeaveReason::TimedOut => "timed_out",
                LeaveReason::Ended => "ended",
                LeaveReason::WindowClosed => "window_closed",
            };
            (*session, *user, "left", reason.to_owned(), *at)
        }
        RoomEvent::Ended { session, by, at } => (*session, *by, "ended", String::new(), *at),
        RoomEvent::Chat { .. } => return None,
    })
}

impl Store {
    /// Stores one room event (chat goes to the chat log).
    pub async fn record_room_event(&self, event: &RoomEvent) -> Result<()> {
        if let RoomEvent::Chat {
            session,
            user,
            text,
            blocked,
            at,
        } = event
        {
            on_pool!(self, |pool| {
                sqlx::query(
                "INSERT INTO call_chat (session_id, user_id, text, blocked, at) VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(session)
            .bind(user)
            .bind(text)
            .bind(blocked.as_deref())
            .bind(at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            })?;
            return Ok(());
        }
        let Some((session, user, kind, detail, at)) = event_row(event) else {
            return Ok(());
        };
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO attendance_events (session_id, user_id, kind, detail, at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(session)
        .bind(user)
        .bind(kind)
        .bind(&detail)
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A session's stored events, in order.
    pub async fn attendance_events(&self, session: Uuid) -> Result<Vec<Event>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT user_id, kind, detail, at FROM attendance_events WHERE session_id = $1 ORDER BY at, id"
        )
        .bind(session)
        .fetch_all(pool)
        .await
        })?)
    }

    /// A session's corrections, in order.
    pub async fn attendance_corrections(&self, session: Uuid) -> Result<Vec<Correction>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT user_id, present, minutes, reason, by_user, at FROM attendance_corrections \
             WHERE session_id = $1 ORDER BY at, id"
        )
        .bind(session)
        .fetch_all(pool)
        .await)?)
    }

    /// Each person's attendance at `session` now.
    pub async fn attendance(&self, session: &Session) -> Result<Vec<Presence>> {
        let events = self.attendance_events(session.id).await?;
        let corrections = self.attendance_corrections(session.id).await?;
        let mentee = self.user(session.mentee_id).await?;
        let mentor = self.user(session.mentor_id).await?;
        let mut names = vec![
            (mentee.id, mentee.given_name, CallRole::Mentee),
            (mentor.id, mentor.given_name, CallRole::Mentor),
        ];
        for e in &events {
            if e.kind == "joined" && !names.iter().any(|(u, _, _)| *u == e.user_id) {
                let who = self.user(e.user_id).await?;
                names.push((who.id, who.full_name(), role_of(&e.detail)));
            }
        }
        Ok(derive(session, &events, &corrections, &names, Utc::now()))
    }

    /// Settles every session whose room has closed: `completed` when both
    /// students were there (by the signalling, or a correction), `missed`
    /// when either was not. Returns how many changed.
    pub async fn settle_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let ids: Vec<(Uuid,)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id FROM mentoring_sessions WHERE status IN ('scheduled', 'moved') AND ends_at < $1 \
             ORDER BY ends_at LIMIT 500"
        )
        .bind(now - CLOSES_AFTER)
        .fetch_all(pool)
        .await
        })?;
        let mut settled = 0;
        for (id,) in ids {
            let session = self.session(id).await?;
            settled += self.settle(&session).await?;
        }
        Ok(settled)
    }

    /// Sets a finished session's status from its attendance.
    async fn settle(&self, session: &Session) -> Result<u64> {
        let people = self.attendance(session).await?;
        let both = people
            .iter()
            .filter(|p| p.role != CallRole::Supervisor)
            .all(|p| p.present);
        let status = if both { "completed" } else { "missed" };
        Ok(on_pool!(self, |pool| sqlx::query(
            "UPDATE mentoring_sessions SET status = $1, updated_at = $2 \
             WHERE id = $3 AND status IN ('scheduled', 'moved', 'completed', 'missed')"
        )
        .bind(status)
        .bind(Utc::now())
        .bind(session.id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Keeps a teacher's correction beside the signalling's record.
    pub async fn correct_attendance(
        &self,
        session: &Session,
        input: &CorrectionInput,
        by: Uuid,
    ) -> Result<()> {
        let reason = input.reason.trim();
        if reason.is_empty() || reason.chars().count() > 300 {
            return Err(Error::invalid(
                "reason",
                "say why the record is corrected (at most 300 characters)",
            ));
        }
        if input.minutes.is_some_and(|m| !(0..=600).contains(&m)) {
            return Err(Error::invalid("minutes", "between 0 and 600"));
        }
        let allowed = input.user_id == session.mentee_id
            || input.user_id == session.mentor_id
            || session.supervisors.contains(&input.user_id);
        if !allowed {
            return Err(Error::invalid(
                "user_id",
                "that person is not booked in this session",
            ));
        }
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO attendance_corrections (id, session_id, user_id, present, minutes, reason, by_user, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(Uuid::new_v4())
        .bind(session.id)
        .bind(input.user_id)
        .bind(input.present)
        .bind(input.minutes)
        .bind(reason)
        .bind(by)
        .bind(Utc::now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        // A settled session follows its corrected record.
        if matches!(
            session.status,
            crate::booking::SessionStatus::Completed | crate::booking::SessionStatus::Missed
        ) {
            self.settle(session).await?;
        }
        Ok(())
    }
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

/// Stores room events as they come, until the hub is gone. A failure is
/// logged, not fatal: the call goes on.
pub async fn record_events(store: Store, mut events: mpsc::UnboundedReceiver<RoomEvent>) {
    while let Some(event) = events.recv().await {
        if let Err(e) = store.record_room_event(&event).await {
            // Not the event itself: chat text is personal.
            tracing::warn!(error = %e, "could not store a room event");
        }
    }
}
