//! Bookings: an approved match becomes a series of weekly sessions.
//!
//! A series is the next *N* dated occurrences of the match's weekly slot,
//! where *N* is the referral's planned length in weeks: the aligned slots
//! already leave out every day either school is closed, so closures are
//! skipped, not counted. Each session is its own row with its own state and
//! a UID it keeps for life.
//!
//! Double booking is stopped by the database, not by code that checks
//! first: a session *claims* each student, and one iPad and one place with
//! a supervisor at each school, for its time, and `session_claims` refuses two claims on one resource for
//! overlapping times (an exclusion constraint on PostgreSQL, a trigger on
//! SQLite, whose single writer makes the trigger's check and the insert one
//! step). Any number of simultaneous attempts therefore leave exactly one
//! booking.

pub mod http;
pub mod pages;
mod settle;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::align::{Slot, SlotEnd};
use crate::calendar::store::partnership_slots;
use crate::error::{Error, Result};
use crate::matching::key_of;
use crate::matching::store::MatchRecord;
use crate::people::partnerships::Partnership;
use crate::store::{Store, Tx};
use crate::{on_pool, on_tx};

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Booked at its original time.
    Scheduled,
    /// Booked, at a time it was moved to.
    Moved,
    /// Called off, with a reason.
    Cancelled,
    /// Took place.
    Completed,
    /// Nobody came.
    Missed,
}

impl SessionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Moved => "moved",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Completed => "completed",
            SessionStatus::Missed => "missed",
        }
    }

    fn parse(raw: &str) -> Result<Self> {
        [
            SessionStatus::Scheduled,
            SessionStatus::Moved,
            SessionStatus::Cancelled,
            SessionStatus::Completed,
            SessionStatus::Missed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| Error::Internal(format!("stored session status `{raw}`")))
    }

    /// Whether the session still holds its people and iPads.
    pub fn is_live(self) -> bool {
        matches!(self, SessionStatus::Scheduled | SessionStatus::Moved)
    }
}

/// One mentoring session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// Its id.
    pub id: Uuid,
    /// The match it belongs to.
    pub match_id: Uuid,
    /// The partnership.
    pub partnership_id: Uuid,
    /// The mentee.
    pub mentee_id: Uuid,
    /// The mentor.
    pub mentor_id: Uuid,
    /// Its iCalendar UID, for life.
    pub uid: String,
    /// Its iCalendar SEQUENCE: rises on every change.
    pub sequence: i32,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// The weekly slot it was booked in.
    pub slot_key: String,
    /// Each school's local view, by school slug.
    pub local: BTreeMap<String, SlotEnd>,
    /// Where it stands.
    pub status: SessionStatus,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
    /// The staff supervising it, one at each school.
    pub supervisors: Vec<Uuid>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    match_id: Uuid,
    partnership_id: Uuid,
    mentee_id: Uuid,
    mentor_id: Uuid,
    uid: String,
    sequence: i32,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    slot_key: String,
    local: String,
    status: String,
    reason: Option<String>,
    supervisors: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Session {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Session {
            id: r.id,
            match_id: r.match_id,
            partnership_id: r.partnership_id,
            mentee_id: r.mentee_id,
            mentor_id: r.mentor_id,
            uid: r.uid,
            sequence: r.sequence,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            slot_key: r.slot_key,
            local: serde_json::from_str(&r.local)
                .map_err(|e| Error::Internal(format!("stored session times: {e}")))?,
            status: SessionStatus::parse(&r.status)?,
            reason: r.reason,
            supervisors: serde_json::from_str(&r.supervisors)
                .map_err(|e| Error::Internal(format!("stored session supervisors: {e}")))?,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, match_id, partnership_id, mentee_id, mentor_id, uid, sequence, starts_at, \
     ends_at, slot_key, local, status, reason, supervisors, updated_at";

/// What booking a series did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeriesReport {
    /// Sessions booked.
    pub booked: Vec<Session>,
    /// Dates left out, and why (a student or every iPad already booked).
    pub skipped: Vec<String>,
}

/// Whether a database error is the double-booking guard refusing a claim.
pub fn overlap_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23P01")
                || db.message().contains("session_claims_no_overlap")
        }
        _ => false,
    }
}

/// Whether PostgreSQL gave up on a transaction to break a deadlock (or a
/// serialization failure): safe to try again.
fn deadlock(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// Cancels, inside `tx`, every live session still to come that `filter`
/// (an SQL condition on `mentoring_sessions` with one parameter, `$1`,
/// bound to `key`) selects: status, reason, a higher SEQUENCE, and the
/// claims let go, and the cancellations queued for everyone's calendars.
/// Returns how many.
pub async fn cancel_in_tx(tx: &mut Tx, filter: &str, key: Uuid, reason: &str) -> Result<u64> {
    let live = "status IN ('scheduled', 'moved') AND starts_at > $2";
    let now = Utc::now();
    let select = format!("SELECT id FROM mentoring_sessions WHERE {filter} AND {live}");
    let ids: Vec<(Uuid,)> = on_tx!(&mut *tx, |conn| sqlx::query_as(&select)
        .bind(key)
        .bind(now)
        .fetch_all(conn)
        .await)?;
    let ids: Vec<Uuid> = ids.into_iter().map(|(id,)| id).collect();
    for id in &ids {
        on_tx!(&mut *tx, |conn| sqlx::query(
            "DELETE FROM session_claims WHERE session_id = $1"
        )
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut *tx, |conn| {
            sqlx::query(
            "UPDATE mentoring_sessions SET status = 'cancelled', reason = $1, sequence = sequence + 1, updated_at = $2 \
             WHERE id = $3"
        )
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    crate::invites::outbox::enqueue(tx, &ids).await?;
    Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
}

/// One session, read inside `tx` (so it sees the transaction's changes).
pub(crate) async fn session_in(tx: &mut Tx, id: Uuid) -> Result<Session> {
    let sql = format!("SELECT {COLUMNS} FROM mentoring_sessions WHERE id = $1");
    let row: Option<Row> = on_tx!(&mut *tx, |conn| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await)?;
    row.ok_or(Error::NotFound("session"))?.try_into()
}

/// A reason as people typed it, made safe for every calendar: line breaks
/// become `\n` (a stray carriage return breaks strict parsers), other
/// control characters go, and the ends are trimmed.
fn clean_reason(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The reason a cancellation gives, cleaned, once the session is found
/// live and the reason says something.
fn cancellable(session: &Session, reason: &str) -> Result<String> {
    let reason = clean_reason(reason);
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(Error::invalid(
            "reason",
            "say why it is cancelled (at most 300 characters)",
        ));
    }
    if !session.status.is_live() {
        return Err(Error::conflict(
            "status",
            format!("this session is already {}", session.status.as_str()),
        ));
    }
    Ok(reason)
}

/// The reason a move gives, cleaned (it may be empty), once the session
/// is found live and `to` in the future.
fn movable(session: &Session, to: DateTime<Utc>, reason: &str) -> Result<String> {
    let reason = clean_reason(reason);
    if reason.chars().count() > 300 {
        return Err(Error::invalid("reason", "at most 300 characters"));
    }
    if !session.status.is_live() {
        return Err(Error::conflict(
            "status",
            format!("a {} session cannot be moved", session.status.as_str()),
        ));
    }
    if to <= Utc::now() {
        return Err(Error::invalid("starts_at", "choose a time in the future"));
    }
    Ok(reason)
}

/// Who cannot make a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfit {
    /// The mentor is not free in their own period.
    Mentor,
    /// The mentee's end is not registration or tutor time.
    Mentee,
}

/// Whether both students can take a session in `slot` (the optimiser's
/// rules): the mentor's own end among their free periods, the mentee's end
/// registration or tutor time.
pub fn slot_fits(
    mentor_free: &[crate::people::mentors::FreePeriod],
    mentor_slug: Option<&str>,
    mentee_slug: Option<&str>,
    slot: &Slot,
) -> Option<Unfit> {
    let own = mentor_slug.and_then(|s| slot.schools.get(s));
    let free = own.is_some_and(|end| {
        let day = end.date.format("%a").to_string();
        mentor_free
            .iter()
            .any(|p| p.covers(&end.week, &day, &end.period))
    });
    if !free {
        return Some(Unfit::Mentor);
    }
    let theirs = mentee_slug.and_then(|s| slot.schools.get(s));
    let mentee_ok = theirs.is_some_and(|end| end.kind.is_form_time());
    (!mentee_ok).then_some(Unfit::Mentee)
}

/// A slot's start, for messages people read.
fn when(slot: &Slot) -> String {
    slot.start_utc.format("%a %-d %b %Y %H:%M UTC").to_string()
}

/// Queues this transaction behind any other that holds one of `resources`
/// (PostgreSQL transaction advisory locks, taken in sorted order). The
/// exclusion constraint then turns a later booking away at once, instead of
/// two bookings each waiting for the other's check into a deadlock. SQLite
/// has one writer, so it needs no queue.
async fn queue_for(tx: &mut Tx, resources: &[String]) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        let mut sorted: Vec<&String> = resources.iter().collect();
        sorted.sort();
        sorted.dedup();
        for resource in sorted {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(resource)
                .execute(&mut **t)
                .await?;
        }
    }
    Ok(())
}

/// Inserts a session's claims inside its transaction. The database refuses
/// an overlapping claim: a student's is a conflict on `starts_at`; an
/// iPad's is a conflict on `device` (another booking took that iPad first,
/// and trying again picks the next one).
async fn claim(tx: &mut Tx, session: Uuid, claims: &[String], slot: &Slot) -> Result<()> {
    for resource in claims {
        let claimed = on_tx!(&mut *tx, |conn| {
            sqlx::query(
            "INSERT INTO session_claims (session_id, resource, starts_at, ends_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(session)
        .bind(resource)
        .bind(slot.start_utc)
        .bind(slot.end_utc)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        });
        match claimed {
            Err(e) if overlap_violation(&e) => {
                return Err(if resource.starts_with("device:") {
                    Error::conflict(
                        "device",
                        format!("{}: the iPad it was given has just been booked", when(slot)),
                    )
                } else if resource.starts_with("supervisor:") {
                    Error::conflict(
                        "supervisor",
                        format!(
                            "{}: the supervisor's place it was given has just been booked",
                            when(slot)
                        ),
                    )
                } else {
                    Error::conflict(
                        "starts_at",
                        format!(
                            "{} is taken: a student in it is already booked then",
                            when(slot)
                        ),
                    )
                });
            }
            other => other?,
        };
    }
    Ok(())
}

/// Runs a booking step again when it lost a race it can win on a second
/// try: a PostgreSQL deadlock, or an iPad or supervisor's place another
/// booking took a moment before (the next try picks another).
async fn with_retries<T, F, Fut>(mut step: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempts = 0;
    loop {
        match step().await {
            Err(Error::Database(e)) if deadlock(&e) && attempts < 5 => attempts += 1,
            Err(Error::Conflict { field, .. })
                if (field == "device" || field == "supervisor") && attempts < 5 =>
            {
                attempts += 1;
            }
            other => return other,
        }
    }
}

/// What one session holds: resource names for `session_claims`, and who
/// supervises it.
struct Claims {
    resources: Vec<String>,
    supervisors: Vec<Uuid>,
}

impl Claims {
    fn supervisors_json(&self) -> Result<String> {
        serde_json::to_string(&self.supervisors)
            .map_err(|e| Error::Internal(format!("supervisors JSON: {e}")))
    }
}

/// A resource a session claims: a student.
fn student(id: Uuid) -> String {
    format!("student:{id}")
}

impl Store {
    /// Books the series of every approved match in the partnership that has
    /// no sessions yet (so it is safe to call again).
    pub async fn book_new_matches(&self, partnership: &Partnership) -> Result<SeriesReport> {
        let matches = self.partnership_matches(partnership.id).await?;
        let mut report = SeriesReport::default();
        let mut slots: Option<Vec<Slot>> = None;
        for record in matches {
            let (count,): (i64,) = on_pool!(self, |pool| sqlx::query_as(
                "SELECT COUNT(*) FROM mentoring_sessions WHERE match_id = $1"
            )
            .bind(record.id)
            .fetch_one(pool)
            .await)?;
            if count > 0 {
                continue;
            }
            if slots.is_none() {
                let first = self.school(partnership.proposed_by_school).await?;
                let from = first.today()?;
                // A year ahead is enough for any planned length (at most
                // 52 weeks) with the holidays skipped.
                let to = from + Duration::days(399);
                slots = Some(
                    partnership_slots(self, partnership, from, to)
                        .await?
                        .alignment
                        .slots,
                );
            }
            let planned = self.referral(record.referral_id).await?.planned_weeks;
            let now = Utc::now();
            let series = slots
                .iter()
                .flatten()
                .filter(|s| s.start_utc > now && key_of(s) == record.slot.key)
                .take(usize::try_from(planned).unwrap_or(0));
            for slot in series {
                match self.book_session(&record, slot).await {
                    Ok(session) => report.booked.push(session),
                    Err(Error::Conflict { message, .. }) => report.skipped.push(message),
                    Err(other) => return Err(other),
                }
            }
        }
        Ok(report)
    }

    /// Books one session of a match into a dated slot: the session and its
    /// claims on both students and an iPad at each school, all or nothing.
    /// A clash is a conflict naming the date; the database decides it.
    pub async fn book_session(&self, record: &MatchRecord, slot: &Slot) -> Result<Session> {
        with_retries(|| self.try_book_session(record, slot)).await
    }

    async fn try_book_session(&self, record: &MatchRecord, slot: &Slot) -> Result<Session> {
        let id = Uuid::new_v4();
        let now = Utc::now();
        let local = serde_json::to_string(&slot.schools)
            .map_err(|e| Error::Internal(format!("session times JSON: {e}")))?;
        let claims = self
            .claims_for(
                record.partnership_id,
                record.mentee_id,
                record.mentor_id,
                slot,
            )
            .await?;
        let mut tx = self.begin().await?;
        queue_for(&mut tx, &claims.resources).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO mentoring_sessions (id, match_id, partnership_id, mentee_id, mentor_id, uid, sequence, starts_at, ends_at, \
             slot_key, local, status, reason, created_at, updated_at, supervisors) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, 'scheduled', NULL, $11, $11, $12)"
        )
        .bind(id)
        .bind(record.id)
        .bind(record.partnership_id)
        .bind(record.mentee_id)
        .bind(record.mentor_id)
        .bind(format!("{id}@mentorbridge"))
        .bind(slot.start_utc)
        .bind(slot.end_utc)
        .bind(key_of(slot))
        .bind(&local)
        .bind(now)
        .bind(claims.supervisors_json()?)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        claim(&mut tx, id, &claims.resources, slot).await?;
        crate::invites::outbox::enqueue(&mut tx, &[id]).await?;
        tx.commit().await?;
        self.session(id).await
    }

    /// What a session in `slot` must claim: both students, and at each of
    /// their schools an iPad (the lowest-numbered one free) and a place with
    /// a supervisor of that period (the one watching fewest pairs then).
    async fn claims_for(
        &self,
        partnership: Uuid,
        mentee: Uuid,
        mentor: Uuid,
        slot: &Slot,
    ) -> Result<Claims> {
        let mut resources = vec![student(mentee), student(mentor)];
        let mut supervisors = Vec::new();
        let policy = self.slot_policy(partnership).await?.unwrap_or_default();
        let mut schools = BTreeMap::new();
        for user in [mentee, mentor] {
            if let Some(school) = self.user(user).await?.school_id {
                schools.insert(school, self.school(school).await?);
            }
        }
        for (id, school) in &schools {
            let end = slot.schools.get(&school.slug);
            let devices = end.map_or(0, |e| e.devices);
            let device = self.free_device(*id, devices, slot).await?.ok_or_else(|| {
                Error::conflict(
                    "starts_at",
                    format!("every iPad for mentoring is booked on {}", when(slot)),
                )
            })?;
            resources.push(device);
            let share = policy.schools.get(id).cloned().unwrap_or_default();
            let named = end.map_or(&[][..], |e| share.supervisors_in(&e.period));
            let (user, place) = self
                .free_supervisor(*id, named, share.pairs_per_supervisor(), slot)
                .await?
                .ok_or_else(|| {
                    Error::conflict(
                        "starts_at",
                        format!(
                            "every supervisor at {} is already watching as many pairs as they can on {}",
                            school.name,
                            when(slot)
                        ),
                    )
                })?;
            supervisors.push(user);
            resources.push(place);
        }
        resources.sort();
        Ok(Claims {
            resources,
            supervisors,
        })
    }

    /// A place with one of `usernames` (staff at `school`) free for the
    /// slot's time: the supervisor watching fewest pairs then, and their
    /// lowest-numbered free place of `pairs`. Places are per person, not
    /// per partnership, so a teacher supervising for two partnerships at
    /// once is counted once.
    async fn free_supervisor(
        &self,
        school: Uuid,
        usernames: &[String],
        pairs: u32,
        slot: &Slot,
    ) -> Result<Option<(Uuid, String)>> {
        let staff = self
            .users_at_school(
                school,
                &[
                    crate::people::accounts::Role::Coordinator,
                    crate::people::accounts::Role::Teacher,
                    crate::people::accounts::Role::SafeguardingLead,
                ],
            )
            .await?;
        let taken: Vec<(String,)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT resource FROM session_claims WHERE resource LIKE 'supervisor:%' AND starts_at < $1 AND $2 < ends_at"
        )
        .bind(slot.end_utc)
        .bind(slot.start_utc)
        .fetch_all(pool)
        .await
        })?;
        let mut best: Option<(usize, Uuid, String)> = None;
        for name in usernames {
            let Some(user) = staff.iter().find(|u| &u.username == name) else {
                continue;
            };
            let prefix = format!("supervisor:{}:", user.id);
            let busy = taken.iter().filter(|(t,)| t.starts_with(&prefix)).count();
            let free = (1..=pairs)
                .map(|n| format!("{prefix}{n}"))
                .find(|name| !taken.iter().any(|(t,)| t == name));
            if let Some(place) = free
                && best.as_ref().is_none_or(|(b, _, _)| busy < *b)
            {
                best = Some((busy, user.id, place));
            }
        }
        Ok(best.map(|(_, user, place)| (user, place)))
    }

    /// The lowest-numbered iPad at a school free for the slot's time, as a
    /// claim name, or none when all `devices` are booked. Two bookings may
    /// pick the same one at once; the claim's constraint then turns one of
    /// them away.
    async fn free_device(&self, school: Uuid, devices: u32, slot: &Slot) -> Result<Option<String>> {
        let prefix = format!("device:{school}:");
        let taken: Vec<(String,)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT resource FROM session_claims WHERE resource LIKE $1 AND starts_at < $2 AND $3 < ends_at"
        )
        .bind(format!("{prefix}%"))
        .bind(slot.end_utc)
        .bind(slot.start_utc)
        .fetch_all(pool)
        .await
        })?;
        Ok((1..=devices)
            .map(|n| format!("{prefix}{n}"))
            .find(|name| !taken.iter().any(|(t,)| t == name)))
    }

    /// One session.
    pub async fn session(&self, id: Uuid) -> Result<Session> {
        let sql = format!("SELECT {COLUMNS} FROM mentoring_sessions WHERE id = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("session"))?.try_into()
    }

    /// A student's sessions starting in `from..to`.
    pub async fn sessions_of_student(
        &self,
        user: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mentoring_sessions WHERE (mentee_id = $1 OR mentor_id = $1) \
             AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Session::try_from).collect()
    }

    /// Sessions with a student of `school` in them, starting in `from..to`.
    pub async fn sessions_at_school(
        &self,
        school: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mentoring_sessions s WHERE EXISTS (SELECT 1 FROM users u WHERE u.school_id = $1 \
             AND (u.id = s.mentee_id OR u.id = s.mentor_id)) AND starts_at >= $2 AND starts_at < $3 \
             ORDER BY starts_at, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Session::try_from).collect()
    }

    /// `session` and every later live session of its match, earliest first.
    async fn rest_of_series(&self, session: &Session) -> Result<Vec<Session>> {
        // A year ahead holds any series (at most 52 weeks, holidays skipped).
        Ok(self
            .sessions_of_student(
                session.mentee_id,
                session.starts_at,
                session.starts_at + Duration::days(400),
            )
            .await?
            .into_iter()
            .filter(|s| s.match_id == session.match_id && s.status.is_live())
            .collect())
    }

    /// Cancels a session and every later live session of its match, in
    /// one transaction, saying why (the pair stops meeting, or stops until
    /// the coordinators book them again). Returns them, earliest first.
    pub async fn cancel_series(&self, session: &Session, reason: &str) -> Result<Vec<Session>> {
        let reason = cancellable(session, reason)?;
        let series: Vec<Uuid> = self
            .rest_of_series(session)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut tx = self.begin().await?;
        for id in &series {
            cancel_in_tx(&mut tx, "id = $1", *id, &reason).await?;
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(series.len());
        for id in series {
            out.push(self.session(id).await?);
        }
        Ok(out)
    }

    /// Cancels a session, saying why: it lets go of its students and iPads,
    /// and its SEQUENCE rises so every calendar drops it.
    pub async fn cancel_session(&self, session: &Session, reason: &str) -> Result<Session> {
        let reason = cancellable(session, reason)?;
        let reason = reason.as_str();
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE mentoring_sessions SET status = 'cancelled', reason = $1, sequence = sequence + 1, updated_at = $2 \
             WHERE id = $3 AND status IN ('scheduled', 'moved')"
        )
        .bind(reason)
        .bind(Utc::now())
        .bind(session.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(Error::conflict(
                "status",
                "someone else changed this session first; reload it",
            ));
        }
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM session_claims WHERE session_id = $1"
        )
        .bind(session.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        crate::invites::outbox::enqueue(&mut tx, &[session.id]).await?;
        tx.commit().await?;
        self.session(session.id).await
    }

    /// Moves a live session to another aligned slot of its partnership (a
    /// start time from the partnership's slots, in the future): it lets go
    /// of its old claims and takes the new ones in one transaction, keeps
    /// its UID, and its SEQUENCE rises.
    pub async fn move_session(
        &self,
        session: &Session,
        to: DateTime<Utc>,
        reason: &str,
    ) -> Result<Session> {
        let reason = movable(session, to, reason)?;
        let reason = reason.as_str();
        let partnership = self.partnership(session.partnership_id).await?;
        let day = to.date_naive();
        let slots = partnership_slots(
            self,
            &partnership,
            day - Duration::days(1),
            day + Duration::days(1),
        )
        .await?;
        let slot = slots
            .alignment
            .slots
            .into_iter()
            .find(|s| s.start_utc == to)
            .ok_or_else(|| {
                Error::invalid(
                    "starts_at",
                    "that is not one of the partnership's slots (both schools in session, both periods free)",
                )
            })?;
        self.check_move(session, &slot).await?;
        let series = std::slice::from_ref(session);
        let targets = [&slot];
        let moved = with_retries(|| self.try_move_series(series, &targets, reason)).await?;
        moved
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("a move returned no session".into()))
    }

    /// Moves a session and every later live session of its match to the
    /// weekly slot that `to` starts: the first to `to`, the rest to that
    /// slot's following occurrences, in order. All of them move, or none.
    pub async fn move_series(
        &self,
        session: &Session,
        to: DateTime<Utc>,
        reason: &str,
    ) -> Result<Vec<Session>> {
        let reason = movable(session, to, reason)?;
        let partnership = self.partnership(session.partnership_id).await?;
        let day = to.date_naive();
        let aligned = partnership_slots(
            self,
            &partnership,
            day - Duration::days(1),
            day + Duration::days(399),
        )
        .await?
        .alignment
        .slots;
        let first = aligned.iter().find(|s| s.start_utc == to).ok_or_else(|| {
            Error::invalid(
                "starts_at",
                "that is not one of the partnership's slots (both schools in session, both periods free)",
            )
        })?;
        let key = key_of(first);
        let series = self.rest_of_series(session).await?;
        let targets: Vec<&Slot> = aligned
            .iter()
            .filter(|s| s.start_utc >= to && key_of(s) == key)
            .take(series.len())
            .collect();
        if targets.len() < series.len() {
            return Err(Error::invalid(
                "starts_at",
                format!(
                    "that weekly slot has only {} dates left this year for {} sessions",
                    targets.len(),
                    series.len()
                ),
            ));
        }
        self.check_move(session, first).await?;
        with_retries(|| self.try_move_series(&series, &targets, &reason)).await
    }

    async fn try_move_series(
        &self,
        series: &[Session],
        targets: &[&Slot],
        reason: &str,
    ) -> Result<Vec<Session>> {
        let mut plans = Vec::with_capacity(series.len());
        let mut queue = Vec::new();
        for (session, slot) in series.iter().zip(targets) {
            let claims = self
                .claims_for(
                    session.partnership_id,
                    session.mentee_id,
                    session.mentor_id,
                    slot,
                )
                .await?;
            queue.extend(claims.resources.iter().cloned());
            plans.push((session, *slot, claims));
        }
        let mut tx = self.begin().await?;
        for session in series {
            let held: Vec<(String,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
                "SELECT resource FROM session_claims WHERE session_id = $1"
            )
            .bind(session.id)
            .fetch_all(conn)
            .await)?;
            queue.extend(held.into_iter().map(|(r,)| r));
        }
        queue_for(&mut tx, &queue).await?;
        // Let every old claim go first, so the series may move onto its own
        // old times.
        for session in series {
            on_tx!(&mut tx, |conn| sqlx::query(
                "DELETE FROM session_claims WHERE session_id = $1"
            )
            .bind(session.id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        for (session, slot, claims) in &plans {
            let local = serde_json::to_string(&slot.schools)
                .map_err(|e| Error::Internal(format!("session times JSON: {e}")))?;
            let done = on_tx!(&mut tx, |conn| {
                sqlx::query(
                "UPDATE mentoring_sessions SET starts_at = $1, ends_at = $2, slot_key = $3, local = $4, status = 'moved', \
                 reason = $5, sequence = sequence + 1, updated_at = $6, supervisors = $9 WHERE id = $7 AND sequence = $8 \
                 AND status IN ('scheduled', 'moved')"
            )
            .bind(slot.start_utc)
            .bind(slot.end_utc)
            .bind(key_of(slot))
            .bind(&local)
            .bind((!reason.is_empty()).then_some(reason))
            .bind(Utc::now())
            .bind(session.id)
            .bind(session.sequence)
            .bind(claims.supervisors_json()?)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            })?;
            if done == 0 {
                return Err(Error::conflict(
                    "status",
                    "someone else changed a session of this series first; reload it",
                ));
            }
            claim(&mut tx, session.id, &claims.resources, slot).await?;
        }
        let ids: Vec<Uuid> = series.iter().map(|s| s.id).collect();
        crate::invites::outbox::enqueue(&mut tx, &ids).await?;
        tx.commit().await?;
        let mut moved = Vec::with_capacity(series.len());
        for session in series {
            moved.push(self.session(session.id).await?);
        }
        Ok(moved)
    }

    /// Whether both students can take a session in `slot`: the mentor free
    /// in their own period (their profile's free periods), the mentee's end
    /// in registration or tutor time. The same rules the optimiser keeps.
    pub async fn check_move(&self, session: &Session, slot: &Slot) -> Result<()> {
        let mentor = self.user(session.mentor_id).await?;
        let mentee = self.user(session.mentee_id).await?;
        let slug = |school: Option<Uuid>| async move {
            match school {
                Some(id) => self.school(id).await.map(|s| Some(s.slug)),
                None => Ok(None),
            }
        };
        let (mentor_slug, mentee_slug) =
            (slug(mentor.school_id).await?, slug(mentee.school_id).await?);
        let profile = self.mentor_profile(mentor.id).await?;
        match slot_fits(
            &profile.free_periods,
            mentor_slug.as_deref(),
            mentee_slug.as_deref(),
            slot,
        ) {
            Some(Unfit::Mentor) => Err(Error::invalid(
                "starts_at",
                format!(
                    "{} is not free then (not among their free periods)",
                    mentor.given_name
                ),
            )),
            Some(Unfit::Mentee) => Err(Error::invalid(
                "starts_at",
                format!(
                    "that is not registration or tutor time for {}",
                    mentee.given_name
                ),
            )),
            None => Ok(()),
        }
    }

    /// What a session cancelled by a school's closure says.
    pub async fn closure_reason(&self, school: Uuid, label: &str) -> Result<String> {
        Ok(format!(
            "{} is closed: {label}",
            self.school(school).await?.name
        ))
    }

    /// The live sessions still to come with a student of `school` on its
    /// local dates `start..=end`.
    pub async fn sessions_on_days(
        &self,
        school: Uuid,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<Vec<Uuid>> {
        let slug = self.school(school).await?.slug;
        let from = start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::days(1);
        let to = end.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::days(2);
        let now = Utc::now();
        Ok(self
            .sessions_at_school(school, from, to)
            .await?
            .into_iter()
            .filter(|s| s.status.is_live() && s.starts_at > now)
            .filter(|s| {
                s.local
                    .get(&slug)
                    .is_some_and(|e| start <= e.date && e.date <= end)
            })
            .map(|s| s.id)
            .collect())
    }

    /// Cancels, in one transaction, the live sessions still to come on days
    /// `school` no longer teaches (after its term dates changed): a closure
    /// says which, a day outside every term says so. Returns how many.
    pub async fn cancel_on_days_off(&self, school: Uuid) -> Result<u64> {
        use crate::calendar::model::DayStatus;
        let own = self.school(school).await?;
        let calendar = self.school_calendar(school).await?;
        let now = Utc::now();
        let mut off = Vec::new();
        for session in self
            .sessions_at_school(school, now, now + Duration::days(400))
            .await?
        {
            let Some(end) = session.local.get(&own.slug) else {
                continue;
            };
            if !session.status.is_live() {
                continue;
            }
            let reason = match calendar.day_status(end.date) {
                DayStatus::InSession => continue,
                DayStatus::Closed { label } => self.closure_reason(school, &label).await?,
                DayStatus::Holiday | DayStatus::Weekend => format!(
                    "{} is not in term on {}",
                    own.name,
                    end.date.format("%a %-d %b %Y")
                ),
            };
            off.push((session.id, reason));
        }
        if off.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut cancelled = 0;
        for (id, reason) in off {
            cancelled += cancel_in_tx(&mut tx, "id = $1", id, &reason).await?;
        }
        tx.commit().await?;
        Ok(cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_carriage_returns_and_control_characters() {
        assert_eq!(
            clean_reason("  Trip\r\nback\rlate\u{7}\u{0}  "),
            "Trip\nback\nlate"
        );
        assert_eq!(clean_reason("Sports day"), "Sports day");
    }
}
