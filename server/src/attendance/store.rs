//! Attendance's SQL, on its own tables only (`attendance_events`,
//! `attendance_corrections`), and the queries that build on
//! other domains' functions: each person's attendance, settling finished
//! sessions (booking keeps their status), and today's calls at a school.

use chrono::{DateTime, Duration, Utc};
use mentorbridge_signalling::hub::RoomEvent;
use mentorbridge_signalling::token::CallRole;
use uuid::Uuid;

use super::{
    CLOSES_AFTER, Correction, CorrectionInput, Event, EventKind, Presence, call_role_named, derive,
    event_row, was_held,
};
use crate::booking::{Session, SessionStatus};
use crate::calendar::align::SlotEnd;
use crate::error::Result;
use crate::store::Store;
use crate::{on_pool, on_tx};

impl Store {
    /// Stores one room event as attendance (chat is the pair's thread's:
    /// [`super::record_events`] keeps it there).
    pub async fn record_room_event(&self, event: &RoomEvent) -> Result<()> {
        let Some((session, user, kind, detail, at)) = event_row(event) else {
            return Ok(());
        };
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO attendance_events (session_id, user_id, kind, detail, at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(session)
        .bind(user)
        .bind(kind.as_str())
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
            if e.kind == EventKind::Joined && !names.iter().any(|(u, _, _)| *u == e.user_id) {
                let who = self.user(e.user_id).await?;
                names.push((who.id, who.full_name(), call_role_named(&e.detail)));
            }
        }
        Ok(derive(session, &events, &corrections, &names, Utc::now()))
    }

    /// Settles every session whose room has closed: `completed` when both
    /// students were there (by the signalling, or a correction), `missed`
    /// when either was not. Returns how many changed.
    pub async fn settle_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut settled = 0;
        for id in self.sessions_to_settle(now - CLOSES_AFTER).await? {
            let session = self.session(id).await?;
            settled += self.settle(&session).await?;
        }
        Ok(settled)
    }

    /// Sets a finished session's status from its attendance.
    async fn settle(&self, session: &Session) -> Result<u64> {
        let people = self.attendance(session).await?;
        self.settle_session(session.id, was_held(&people)).await
    }

    /// Keeps a teacher's correction beside the signalling's record.
    pub async fn correct_attendance(
        &self,
        session: &Session,
        input: &CorrectionInput,
        by: Uuid,
    ) -> Result<()> {
        let reason = input.checked_reason(session)?;
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
            SessionStatus::Completed | SessionStatus::Missed
        ) {
            self.settle(session).await?;
        }
        Ok(())
    }

    /// The calls still to happen or happening today at `school` (its own
    /// date), each with its times there: what *Today's calls* lists, and
    /// what the staff home page counts.
    pub async fn todays_calls(&self, school: Uuid) -> Result<Vec<(Session, SlotEnd)>> {
        let own = self.school(school).await?;
        let today = own.today()?;
        let from = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(14);
        Ok(self
            .sessions_at_school(school, from, from + Duration::hours(52))
            .await?
            .into_iter()
            .filter_map(|session| {
                let end = session.local.get(&own.slug).cloned()?;
                (end.date == today && session.status.is_live()).then_some((session, end))
            })
            .collect())
    }
}
