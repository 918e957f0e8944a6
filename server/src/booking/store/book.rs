//! Booking and moving sessions: each takes its claims in the transaction
//! that writes the session, so the database decides every clash.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::super::{
    Attempt, Claim, SeriesReport, Session, SessionStatus, Unfit, movable, overlap_violation,
    slot_fits, when, with_retries,
};
use super::release_claims;
use crate::calendar::align::Slot;
use crate::calendar::store::partnership_slots;
use crate::error::{Error, Result};
use crate::matching::MatchRecord;
use crate::matching::key_of;
use crate::people::accounts::Role;
use crate::people::partnerships::Partnership;
use crate::store::{Store, Tx};
use crate::{on_pool, on_tx};

pub(super) type Step<T> = std::result::Result<T, Attempt>;

/// What one session holds, and who supervises it.
/// The series a booking run adds its sessions to, and whether each
/// session is announced as it is booked or the run as a whole at its end.
struct Series {
    uid: String,
    announce_now: bool,
}

impl Series {
    /// A new series, announced when its run is done.
    fn new(id: Uuid) -> Series {
        Series {
            uid: format!("series-{id}@mentorbridge"),
            announce_now: false,
        }
    }
}

pub(super) struct Claims {
    pub(super) claims: Vec<Claim>,
    supervisors: Vec<Uuid>,
}

impl Claims {
    pub(super) fn supervisors_json(&self) -> Result<String> {
        serde_json::to_string(&self.supervisors)
            .map_err(|e| Error::internal_from("supervisors JSON", e))
    }
}

pub(super) fn local_json(slot: &Slot) -> Result<String> {
    serde_json::to_string(&slot.schools).map_err(|e| Error::internal_from("session times JSON", e))
}

/// Queues this transaction behind any other that holds one of `claims`
/// (PostgreSQL transaction advisory locks, taken in sorted order). The
/// exclusion constraint then turns a later booking away at once, instead of
/// two bookings each waiting for the other's check into a deadlock. SQLite
/// has one writer, so it needs no queue.
pub(super) async fn queue_for(tx: &mut Tx, claims: &[Claim]) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        let mut sorted: Vec<String> = claims.iter().map(|c| c.to_stored()).collect();
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
pub(super) async fn claim(tx: &mut Tx, session: Uuid, claims: &[Claim], slot: &Slot) -> Step<()> {
    for resource in claims {
        let claimed = on_tx!(&mut *tx, |conn| {
            sqlx::query(
            "INSERT INTO session_claims (session_id, resource, starts_at, ends_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(session)
        .bind(resource.to_stored())
        .bind(slot.start_utc)
        .bind(slot.end_utc)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        });
        match claimed {
            Err(e) if overlap_violation(&e) => return Err(Attempt::Taken(resource.taken(slot))),
            other => other?,
        };
    }
    Ok(())
}

/// The claims any session holds at some moment of `slot`'s time.
async fn taken_during(store: &Store, slot: &Slot) -> Result<Vec<Claim>> {
    let taken: Vec<(String,)> = on_pool!(store, |pool| {
        sqlx::query_as("SELECT resource FROM session_claims WHERE starts_at < $1 AND $2 < ends_at")
            .bind(slot.end_utc)
            .bind(slot.start_utc)
            .fetch_all(pool)
            .await
    })?;
    Ok(taken.iter().filter_map(|(t,)| Claim::parse(t)).collect())
}

/// The lowest-numbered of a school's `devices` iPads that `taken` leaves
/// free. Two bookings may pick the same one at once; the claim's
/// constraint then turns one of them away.
fn free_device(taken: &[Claim], school: Uuid, devices: u32) -> Option<Claim> {
    (1..=devices)
        .map(|number| Claim::Device { school, number })
        .find(|c| !taken.contains(c))
}

/// A place with one of `usernames` (of `staff`) that `taken` leaves free:
/// the supervisor watching fewest pairs then, and their lowest-numbered
/// free place of `pairs`. Places are per person, not per partnership, so a
/// teacher supervising for two partnerships at once is counted once.
fn free_supervisor(
    taken: &[Claim],
    staff: &[crate::people::accounts::User],
    usernames: &[String],
    pairs: u32,
) -> Option<Claim> {
    let mut best: Option<(usize, Claim)> = None;
    for name in usernames {
        let Some(user) = staff.iter().find(|u| &u.username == name) else {
            continue;
        };
        let busy = taken
            .iter()
            .filter(|t| matches!(t, Claim::Supervisor { user: u, .. } if *u == user.id))
            .count();
        let free = (1..=pairs)
            .map(|place| Claim::Supervisor {
                user: user.id,
                place,
            })
            .find(|c| !taken.contains(c));
        if let Some(place) = free
            && best.as_ref().is_none_or(|(b, _)| busy < *b)
        {
            best = Some((busy, place));
        }
    }
    best.map(|(_, place)| place)
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
            let slots: Vec<&Slot> = series.collect();
            let run = self.book_series(&record, &slots).await?;
            report.booked.extend(run.booked);
            report.skipped.extend(run.skipped);
        }
        Ok(report)
    }

    /// Books a series of a match: a session in each of `slots`, as one
    /// new series that is announced once, when all are booked (a calendar
    /// gets one invite for the run, not one per session). A slot that
    /// clashes is skipped and said why.
    pub async fn book_series(&self, record: &MatchRecord, slots: &[&Slot]) -> Result<SeriesReport> {
        let run = Series::new(Uuid::new_v4());
        let mut report = SeriesReport::default();
        for slot in slots {
            match with_retries(|| self.try_book_session(record, slot, &run)).await {
                Ok(session) => report.booked.push(session),
                Err(Error::Conflict { message, .. }) => report.skipped.push(message),
                Err(other) => return Err(other),
            }
        }
        crate::invites::store::announce(self, &run.uid).await?;
        Ok(report)
    }

    /// Books one session of a match into a dated slot: the session and its
    /// claims on both students and an iPad at each school, all or nothing.
    /// A clash is a conflict naming the date; the database decides it. It
    /// is a series of its own (a one-off, not part of the weekly run), and
    /// is announced at once.
    pub async fn book_session(&self, record: &MatchRecord, slot: &Slot) -> Result<Session> {
        let run = Series {
            announce_now: true,
            ..Series::new(Uuid::new_v4())
        };
        with_retries(|| self.try_book_session(record, slot, &run)).await
    }

    async fn try_book_session(
        &self,
        record: &MatchRecord,
        slot: &Slot,
        series: &Series,
    ) -> Step<Session> {
        let id = Uuid::new_v4();
        let now = Utc::now();
        let local = local_json(slot)?;
        let claims = self
            .claims_for(record.mentee_id, record.mentor_id, slot)
            .await?;
        let mut tx = self.begin().await?;
        queue_for(&mut tx, &claims.claims).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO mentoring_sessions (id, match_id, partnership_id, mentee_id, mentor_id, uid, sequence, starts_at, ends_at, \
             slot_key, local, status, reason, created_at, updated_at, supervisors, series_uid, recurrence_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $13, NULL, $11, $11, $12, $14, $7)"
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
        .bind(SessionStatus::Scheduled.as_str())
        .bind(&series.uid)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        claim(&mut tx, id, &claims.claims, slot).await?;
        if series.announce_now {
            crate::invites::store::enqueue(&mut tx, &[id]).await?;
        } else {
            crate::invites::store::enqueue_later(&mut tx, &[id]).await?;
        }
        tx.commit().await?;
        Ok(self.session(id).await?)
    }

    /// What a session in `slot` must claim: both students, and at each of
    /// their schools an iPad (the lowest-numbered one free) and a place with
    /// a supervisor of that period (the one watching fewest pairs then).
    pub(super) async fn claims_for(
        &self,
        mentee: Uuid,
        mentor: Uuid,
        slot: &Slot,
    ) -> Result<Claims> {
        let mut claims = vec![Claim::Student(mentee), Claim::Student(mentor)];
        let mut supervisors = Vec::new();
        let mut schools = BTreeMap::new();
        for user in [mentee, mentor] {
            if let Some(school) = self.user(user).await?.school_id {
                schools.insert(school, self.school(school).await?);
            }
        }
        let taken = taken_during(self, slot).await?;
        for (id, school) in &schools {
            let end = slot.schools.get(&school.slug);
            let devices = end.map_or(0, |e| e.devices);
            let device = free_device(&taken, *id, devices).ok_or_else(|| {
                Error::conflict(
                    "starts_at",
                    format!("every iPad for mentoring is booked on {}", when(slot)),
                )
            })?;
            claims.push(device);
            // The school's own supervisors, shared by all its partnerships.
            let plan = self.school_capacity(*id).await?;
            let capacity = end
                .and_then(|e| plan.on(e.date))
                .cloned()
                .unwrap_or_default();
            let named = end.map_or(&[][..], |e| capacity.supervisors_in(&e.period));
            let staff = self
                .users_at_school(
                    *id,
                    &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
                )
                .await?;
            let place = free_supervisor(&taken, &staff, named, capacity.pairs_per_supervisor())
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
            if let Claim::Supervisor { user, .. } = place {
                supervisors.push(user);
            }
            claims.push(place);
        }
        // Claims are taken in the order of their stored names, so the same
        // clash always reports the same claim first.
        claims.sort_by_cached_key(|c| c.to_stored());
        Ok(Claims {
            claims,
            supervisors,
        })
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
            .ok_or_else(not_a_slot)?;
        self.check_move(session, &slot).await?;
        let series = std::slice::from_ref(session);
        let targets = [&slot];
        // One session moved is an override of its series: it keeps its
        // RECURRENCE-ID.
        let moved = with_retries(|| self.try_move_series(series, &targets, reason, None)).await?;
        moved
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("a move returned no session"))
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
        let first = aligned
            .iter()
            .find(|s| s.start_utc == to)
            .ok_or_else(not_a_slot)?;
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
        // The rest of a series moved is a new series: the old one's rule
        // ends where it was moved.
        let run = Series::new(Uuid::new_v4());
        with_retries(|| self.try_move_series(&series, &targets, &reason, Some(&run.uid))).await
    }

    async fn try_move_series(
        &self,
        series: &[Session],
        targets: &[&Slot],
        reason: &str,
        new_series: Option<&str>,
    ) -> Step<Vec<Session>> {
        let mut plans = Vec::with_capacity(series.len());
        let mut queue = Vec::new();
        for (session, slot) in series.iter().zip(targets) {
            let claims = self
                .claims_for(session.mentee_id, session.mentor_id, slot)
                .await?;
            queue.extend(claims.claims.iter().copied());
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
            queue.extend(held.iter().filter_map(|(r,)| Claim::parse(r)));
        }
        queue_for(&mut tx, &queue).await?;
        // Let every old claim go first, so the series may move onto its own
        // old times.
        for session in series {
            release_claims(&mut tx, session.id).await?;
        }
        for (session, slot, claims) in &plans {
            move_one(&mut tx, session, slot, claims, reason, new_series).await?;
        }
        let ids: Vec<Uuid> = series.iter().map(|s| s.id).collect();
        // The series they were in changes too (its rule ends, or one
        // instance moves) as well as the one they are in now.
        if new_series.is_some() {
            let mut was: Vec<String> = series.iter().map(|s| s.series_uid.clone()).collect();
            was.dedup();
            crate::invites::store::enqueue_series(&mut tx, &was).await?;
        }
        crate::invites::store::enqueue(&mut tx, &ids).await?;
        tx.commit().await?;
        let mut moved = Vec::with_capacity(series.len());
        for session in series {
            moved.push(self.session(session.id).await?);
        }
        Ok(moved)
    }

    /// Whether both students can take a session in `slot`: the mentor free
    /// in their own period (their profile's free periods), the mentee's end
    /// one of their school's periods and not a time their referral says
    /// they cannot make. The same rules the optimiser keeps.
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
        let referral = self
            .referral(self.referral_of_match(session.match_id).await?)
            .await?;
        match slot_fits(
            &profile.free_periods,
            &referral.unavailable,
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
                    "that is not one of the periods {}'s school uses for mentoring",
                    mentee.given_name
                ),
            )),
            Some(Unfit::MenteeBusy(u)) => Err(Error::invalid(
                "starts_at",
                format!(
                    "{} is not free then: their referral says not on {}",
                    mentee.given_name,
                    u.label()
                ),
            )),
            None => Ok(()),
        }
    }
}

fn not_a_slot() -> Error {
    Error::invalid(
        "starts_at",
        "that is not one of the partnership's slots (both schools in session, both periods free)",
    )
}

/// Moves one session of a series onto `slot` inside `tx`, if nobody
/// changed it since it was read, and takes its new claims.
async fn move_one(
    tx: &mut Tx,
    session: &Session,
    slot: &Slot,
    claims: &Claims,
    reason: &str,
    new_series: Option<&str>,
) -> Step<()> {
    let local = local_json(slot)?;
    let supervisors = claims.supervisors_json()?;
    let done = on_tx!(&mut *tx, |conn| {
        sqlx::query(
        "UPDATE mentoring_sessions SET starts_at = $1, ends_at = $2, slot_key = $3, local = $4, status = $10, \
         reason = $5, sequence = sequence + 1, updated_at = $6, supervisors = $9, \
         series_uid = COALESCE($12, series_uid), recurrence_at = CASE WHEN $12 IS NULL THEN recurrence_at ELSE $1 END \
         WHERE id = $7 AND sequence = $8 AND status IN ($11, $10)"
    )
    .bind(slot.start_utc)
    .bind(slot.end_utc)
    .bind(key_of(slot))
    .bind(&local)
    .bind((!reason.is_empty()).then_some(reason))
    .bind(Utc::now())
    .bind(session.id)
    .bind(session.sequence)
    .bind(&supervisors)
    .bind(SessionStatus::Moved.as_str())
    .bind(SessionStatus::Scheduled.as_str())
    .bind(new_series)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(Attempt::Failed(Error::conflict(
            "status",
            "someone else changed a session of this series first; reload it",
        )));
    }
    claim(tx, session.id, &claims.claims, slot).await
}
