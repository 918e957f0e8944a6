//! The sessions a change to a school's calendar takes
//! ([`super::super::change`]'s rule over the sessions stored), and their
//! cancelling inside the transaction that writes the change.

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::super::change::{Cancellation, Cancellations, taken_by_change};
use super::super::listing::local_of;
use super::cancel_in_tx;
use crate::booking::Cancel;
use crate::calendar::model::SchoolCalendar;
use crate::error::Result;
use crate::store::{Store, Tx};

impl Store {
    /// The live sessions still to come with a student of `school` that
    /// changing its calendar from `old` to `new` takes, each with the
    /// reason its cancellation gives, earliest first. A preview shows
    /// exactly these; the change cancels exactly these
    /// ([`cancel_taken_in_tx`]).
    pub async fn sessions_taken_by(
        &self,
        school: Uuid,
        old: &SchoolCalendar,
        new: &SchoolCalendar,
    ) -> Result<Cancellations> {
        let own = self.school(school).await?;
        let now = Utc::now();
        // A series is at most a year long (52 weeks, holidays skipped).
        let mut taken = Vec::new();
        let mut reasons = Vec::new();
        for session in self
            .sessions_at_school(school, now, now + Duration::days(400))
            .await?
        {
            if !session.status.is_live() || session.starts_at <= now {
                continue;
            }
            let Some(end) = session.local.get(&own.slug) else {
                continue;
            };
            if let Some(reason) = taken_by_change(&own.name, end, old, new) {
                reasons.push(reason);
                taken.push(session);
            }
        }
        let names = self.session_names(&taken).await?;
        let cancels = taken
            .into_iter()
            .zip(names)
            .zip(reasons)
            .map(|((session, names), reason)| {
                let (date, time) = local_of(&session, &own.slug);
                Cancellation {
                    session_id: session.id,
                    match_id: session.match_id,
                    starts_at: session.starts_at,
                    date,
                    time,
                    mentee: names.mentee,
                    mentor: names.mentor,
                    reason,
                }
            })
            .collect();
        Ok(Cancellations::new(cancels))
    }
}

/// Cancels, inside the transaction that writes a calendar change, the
/// sessions [`Store::sessions_taken_by`] found it takes, each saying why.
/// Returns how many were still live to cancel.
pub async fn cancel_taken_in_tx(tx: &mut Tx, taken: &Cancellations) -> Result<u64> {
    let mut cancelled = 0;
    for c in &taken.cancels {
        cancelled += cancel_in_tx(tx, Cancel::Session(c.session_id), &c.reason).await?;
    }
    Ok(cancelled)
}
