//! Undoing cancellations: restoring a cancelled session while its slot is
//! still free, and booking a pair again from its approved match when
//! fewer of its planned weeks are held or booked than it planned (after a
//! calendar change took them, or a cancellation made by mistake: a pair
//! left with no session to come is the plainest case). Both take their claims the way booking
//! does, in the transaction that writes the session, so the database's
//! claim constraint decides every race.

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::super::{Attempt, SeriesReport, Session, SessionStatus, with_retries};
use super::book::{Step, claim, local_json, queue_for};
use crate::calendar::align::Slot;
use crate::calendar::model::DayStatus;
use crate::calendar::store::partnership_slots;
use crate::error::{Error, Result};
use crate::matching::{MatchRecord, key_of};
use crate::on_tx;
use crate::people::partnerships::Partnership;
use crate::store::Store;

/// A pair with an approved match and weeks of its plan neither held nor
/// booked, and what booking them again would book.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Unbooked {
    pub match_id: Uuid,
    /// The mentee's given name.
    pub mentee: String,
    /// The mentor's given name.
    pub mentor: String,
    /// Planned weeks not yet held or booked: what "Book again" books.
    pub weeks_left: u32,
    /// Their live sessions still to come.
    pub booked_ahead: usize,
    /// Their sessions still to come that were cancelled.
    pub cancelled_ahead: usize,
}

/// Where a match's series stands now.
struct Standing {
    /// Live sessions still to come.
    ahead: Vec<Session>,
    /// Planned weeks neither held (completed or missed) nor still booked.
    weeks_left: u32,
    /// Cancelled sessions still to come, by start: booking again restores
    /// these where the slot comes round, so calendars keep their UIDs.
    cancelled_ahead: Vec<Session>,
}

impl Store {
    /// Restores a cancelled session still to come at its own time: the day
    /// must still be a school day at both schools and the time one of the
    /// partnership's slots, and its students, an iPad and a supervisor at
    /// each school free then. Its SEQUENCE rises, it is booked again, and
    /// everyone's calendars are told.
    pub async fn restore_session(&self, session: &Session) -> Result<Session> {
        if session.status != SessionStatus::Cancelled {
            return Err(Error::conflict(
                "status",
                format!(
                    "only a cancelled session can be restored; this one is {}",
                    session.status.as_str()
                ),
            ));
        }
        if session.starts_at <= Utc::now() {
            return Err(Error::conflict(
                "starts_at",
                "it has already begun: only a session still to come can be restored",
            ));
        }
        let record = self.approved_match(session).await?;
        let slot = self.slot_to_restore(session).await?;
        with_retries(|| self.try_restore(&record, session, &slot)).await
    }

    /// The session's match, while it is approved (a match ends with its
    /// referral, and its sessions with it).
    async fn approved_match(&self, session: &Session) -> Result<MatchRecord> {
        self.partnership_matches(session.partnership_id)
            .await?
            .into_iter()
            .find(|m| m.id == session.match_id)
            .ok_or_else(|| {
                Error::conflict(
                    "status",
                    "the pair's match has ended, so its sessions cannot be restored",
                )
            })
    }

    /// The aligned slot at the session's own time, or why there is none.
    async fn slot_to_restore(&self, session: &Session) -> Result<Slot> {
        for (slug, end) in &session.local {
            let school = self.school_by_slug(slug).await?;
            let reason = match self.school_calendar(school.id).await?.day_status(end.date) {
                DayStatus::InSession => continue,
                DayStatus::Closed { label } => {
                    format!("{} is closed that day: {label}", school.name)
                }
                DayStatus::Holiday => format!(
                    "{} is not in term on {}",
                    school.name,
                    end.date.format("%a %-d %b %Y")
                ),
                DayStatus::Weekend => format!(
                    "{} does not teach on {}s",
                    school.name,
                    end.date.format("%A")
                ),
            };
            return Err(Error::conflict("starts_at", reason));
        }
        let partnership = self.partnership(session.partnership_id).await?;
        let day = session.starts_at.date_naive();
        partnership_slots(
            self,
            &partnership,
            day - Duration::days(1),
            day + Duration::days(1),
        )
        .await?
        .alignment
        .slots
        .into_iter()
        .find(|s| s.start_utc == session.starts_at && s.end_utc == session.ends_at)
        .ok_or_else(|| {
            Error::conflict(
                "starts_at",
                "that time is no longer one of the partnership's slots (a bell schedule or the \
                 slot policy has changed since); book the pair again instead",
            )
        })
    }

    async fn try_restore(
        &self,
        record: &MatchRecord,
        session: &Session,
        slot: &Slot,
    ) -> Step<Session> {
        let claims = self
            .claims_for(record.mentee_id, record.mentor_id, slot)
            .await?;
        let local = local_json(slot)?;
        let supervisors = claims.supervisors_json()?;
        let mut tx = self.begin().await?;
        queue_for(&mut tx, &claims.claims).await?;
        let done = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE mentoring_sessions SET status = $1, reason = NULL, sequence = sequence + 1, \
                 updated_at = $2, supervisors = $3, local = $4 \
                 WHERE id = $5 AND status = $6 AND sequence = $7",
            )
            .bind(SessionStatus::Scheduled.as_str())
            .bind(Utc::now())
            .bind(&supervisors)
            .bind(&local)
            .bind(session.id)
            .bind(SessionStatus::Cancelled.as_str())
            .bind(session.sequence)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(Attempt::Failed(Error::conflict(
                "status",
                "someone else changed this session first; reload it",
            )));
        }
        claim(&mut tx, session.id, &claims.claims, slot).await?;
        crate::invites::store::enqueue(&mut tx, &[session.id]).await?;
        tx.commit().await?;
        Ok(self.session(session.id).await?)
    }

    /// Where a match's series stands: what is booked ahead, and how many
    /// of its planned weeks are left.
    async fn standing(&self, record: &MatchRecord) -> Result<Standing> {
        let planned = self.referral(record.referral_id).await?.planned_weeks;
        let sessions = self.sessions_of_match(record.id).await?;
        let now = Utc::now();
        // A week is spent once it is held (or missed) or still booked; a
        // live session already begun is held or about to be.
        let spent = sessions
            .iter()
            .filter(|s| {
                s.status.is_live()
                    || matches!(s.status, SessionStatus::Completed | SessionStatus::Missed)
            })
            .count();
        let ahead = sessions
            .iter()
            .filter(|s| s.status.is_live() && s.starts_at > now)
            .cloned()
            .collect();
        let cancelled_ahead = sessions
            .into_iter()
            .filter(|s| s.status == SessionStatus::Cancelled && s.starts_at > now)
            .collect();
        Ok(Standing {
            ahead,
            weeks_left: u32::try_from(planned)
                .unwrap_or(0)
                .saturating_sub(u32::try_from(spent).unwrap_or(u32::MAX)),
            cancelled_ahead,
        })
    }

    /// The partnership's pairs with an approved match and weeks of their
    /// plan left unbooked: the pairs "Book again" is for.
    pub async fn unbooked_pairs(&self, partnership: Uuid) -> Result<Vec<Unbooked>> {
        let mut out = Vec::new();
        for record in self.partnership_matches(partnership).await? {
            let standing = self.standing(&record).await?;
            if standing.weeks_left == 0 {
                continue;
            }
            let mentee = self.user(record.mentee_id).await?.given_name;
            let mentor = self.user(record.mentor_id).await?.given_name;
            out.push(Unbooked {
                match_id: record.id,
                mentee,
                mentor,
                weeks_left: standing.weeks_left,
                booked_ahead: standing.ahead.len(),
                cancelled_ahead: standing.cancelled_ahead.len(),
            });
        }
        Ok(out)
    }

    /// Books a pair again from its approved match: the weeks of its plan
    /// left (planned weeks less those held or still booked), on the next
    /// free occurrences of the match's weekly slot. Where a cancelled
    /// session of theirs stands at an occurrence it is restored (its UID
    /// kept, its SEQUENCE up); the other occurrences are booked as approval
    /// books a series ([`Store::book_series`]). An occurrence someone else
    /// has taken is skipped, saying why, and one after it tried; one they
    /// are booked in already is passed over. Refused when every planned
    /// week is held or booked.
    pub async fn book_again(&self, record: &MatchRecord) -> Result<SeriesReport> {
        let standing = self.standing(record).await?;
        if standing.weeks_left == 0 {
            return Err(Error::conflict(
                "match_id",
                "every week of this pair's plan is held or booked already",
            ));
        }
        let partnership = self.partnership(record.partnership_id).await?;
        let from = self.school(partnership.proposed_by_school).await?.today()?;
        // A year ahead is enough for any planned length, holidays skipped.
        let slots = partnership_slots(self, &partnership, from, from + Duration::days(399))
            .await?
            .alignment
            .slots;
        let want = usize::try_from(standing.weeks_left).unwrap_or(usize::MAX);
        let now = Utc::now();
        // The occurrences they are not already booked in.
        let mut occurrences = slots.iter().filter(|s| {
            s.start_utc > now
                && key_of(s) == record.slot.key
                && !standing.ahead.iter().any(|a| a.starts_at == s.start_utc)
        });
        let mut report = SeriesReport::default();
        // In date order: a cancelled session of theirs standing at an
        // occurrence is restored; the other occurrences are booked as one
        // new series (announced once), and any of those someone else took
        // is made up from the occurrences after.
        while report.booked.len() < want {
            let mut batch: Vec<&Slot> = Vec::new();
            for slot in occurrences.by_ref() {
                let cancelled = standing
                    .cancelled_ahead
                    .iter()
                    .find(|s| s.starts_at == slot.start_utc && s.ends_at == slot.end_utc);
                match cancelled {
                    None => batch.push(slot),
                    Some(session) => {
                        match with_retries(|| self.try_restore(record, session, slot)).await {
                            Ok(session) => report.booked.push(session),
                            Err(Error::Conflict { message, .. }) => report.skipped.push(message),
                            Err(other) => return Err(other),
                        }
                    }
                }
                if report.booked.len() + batch.len() >= want {
                    break;
                }
            }
            if batch.is_empty() {
                break;
            }
            let run = self.book_series(record, &batch).await?;
            report.booked.extend(run.booked);
            report.skipped.extend(run.skipped);
        }
        report.booked.sort_by_key(|s| (s.starts_at, s.id));
        if report.booked.len() < want {
            report.skipped.push(format!(
                "only {} of the {want} weeks left could be booked in the year ahead",
                report.booked.len()
            ));
        }
        Ok(report)
    }

    /// Books again every pair of the partnership that [`Store::unbooked_pairs`]
    /// lists. Returns each pair's match and what was booked.
    pub async fn book_again_all(
        &self,
        partnership: &Partnership,
    ) -> Result<Vec<(Uuid, SeriesReport)>> {
        let waiting = self.unbooked_pairs(partnership.id).await?;
        let matches = self.partnership_matches(partnership.id).await?;
        let mut out = Vec::new();
        for pair in waiting {
            if let Some(record) = matches.iter().find(|m| m.id == pair.match_id) {
                out.push((record.id, self.book_again(record).await?));
            }
        }
        Ok(out)
    }

    /// One approved match of a partnership.
    pub async fn approved_match_of(
        &self,
        partnership: Uuid,
        match_id: Uuid,
    ) -> Result<MatchRecord> {
        self.partnership_matches(partnership)
            .await?
            .into_iter()
            .find(|m| m.id == match_id)
            .ok_or(Error::NotFound("approved match"))
    }
}
