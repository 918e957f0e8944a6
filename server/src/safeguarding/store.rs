//! Safeguarding's SQL, on its own tables only: `school_words`,
//! `message_rules`, `message_reviews`, `concerns`, `staff_reads` and
//! `safeguarding_alerts`. A decision on a held message is one transaction
//! with the message's own change, through messaging's store.

use chrono::{DateTime, NaiveTime, Utc};
use uuid::Uuid;

use super::moderate::{Action, Policy, WordList};
use super::{
    Concern, ConcernMove, ConcernState, Decide, ReadKind, Review, SchoolRules, StaffRead,
    checked_word,
};
use crate::error::{Error, Result};
use crate::people::schools::SchoolTz;
use crate::store::{IN_LIST_MAX, Store, placeholders};
use crate::{on_pool, on_tx};

/// A school's message rules as stored.
#[derive(Debug, sqlx::FromRow)]
struct RulesRow {
    swearing: String,
    school_words: String,
    contact: String,
    meeting: String,
    secrecy: String,
    hours_from: Option<String>,
    hours_until: Option<String>,
}

/// Messaging hours as `HH:MM` text.
fn parse_time(field: &'static str, text: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| Error::invalid(field, "a time like 07:30"))
}

/// What a school sets: per category, and its hours.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    pub policy: Policy,
    /// `HH:MM`, school time; both or neither.
    #[serde(default)]
    pub hours_from: Option<String>,
    #[serde(default)]
    pub hours_until: Option<String>,
}

impl Store {
    /// A school's words, policy, hours and zone (the defaults where it has
    /// set none).
    pub async fn school_rules(&self, school: Uuid) -> Result<SchoolRules> {
        let zone = SchoolTz::parse(&self.school(school).await?.time_zone)?.tz();
        let words = self.school_words(school).await?;
        let row: Option<RulesRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT swearing, school_words, contact, meeting, secrecy, hours_from, hours_until \
             FROM message_rules WHERE school_id = $1"
        )
        .bind(school)
        .fetch_optional(pool)
        .await)?;
        let (policy, hours) = match row {
            None => (Policy::default(), None),
            Some(row) => {
                let action = |s: &str| {
                    s.parse::<Action>()
                        .map_err(|e| Error::internal_from("message rules", e))
                };
                let policy = Policy {
                    swearing: action(&row.swearing)?,
                    school_words: action(&row.school_words)?,
                    contact: action(&row.contact)?,
                    meeting: action(&row.meeting)?,
                    secrecy: action(&row.secrecy)?,
                };
                let hours = match (row.hours_from, row.hours_until) {
                    (Some(a), Some(b)) => Some((
                        parse_time("hours_from", &a)?,
                        parse_time("hours_until", &b)?,
                    )),
                    _ => None,
                };
                (policy, hours)
            }
        };
        Ok(SchoolRules {
            words: WordList::new(words),
            policy,
            hours,
            zone,
        })
    }

    /// Sets a school's rules.
    pub async fn set_school_rules(&self, school: Uuid, input: &RulesInput, by: Uuid) -> Result<()> {
        let hours = match (&input.hours_from, &input.hours_until) {
            (None, None) => None,
            (Some(a), Some(b)) => {
                let (from, until) = (parse_time("hours_from", a)?, parse_time("hours_until", b)?);
                if from >= until {
                    return Err(Error::invalid(
                        "hours_until",
                        "the hours must end after they start",
                    ));
                }
                Some((
                    from.format("%H:%M").to_string(),
                    until.format("%H:%M").to_string(),
                ))
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "hours_from",
                    "give when the hours start too",
                ));
            }
            (Some(_), None) => {
                return Err(Error::invalid("hours_until", "give when the hours end too"));
            }
        };
        let p = &input.policy;
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO message_rules (school_id, swearing, school_words, contact, meeting, secrecy, hours_from, hours_until, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (school_id) DO UPDATE SET \
             swearing = excluded.swearing, school_words = excluded.school_words, contact = excluded.contact, \
             meeting = excluded.meeting, secrecy = excluded.secrecy, hours_from = excluded.hours_from, \
             hours_until = excluded.hours_until, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        )
        .bind(school)
        .bind(p.swearing.as_str())
        .bind(p.school_words.as_str())
        .bind(p.contact.as_str())
        .bind(p.meeting.as_str())
        .bind(p.secrecy.as_str())
        .bind(hours.as_ref().map(|h| h.0.as_str()))
        .bind(hours.as_ref().map(|h| h.1.as_str()))
        .bind(by)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A school's own words, in order.
    pub async fn school_words(&self, school: Uuid) -> Result<Vec<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT word FROM school_words WHERE school_id = $1 ORDER BY word"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?)
    }

    /// Adds a word or phrase to a school's list (`false`: it was there).
    pub async fn add_school_word(
        &self,
        school: Uuid,
        word: &str,
        by: Option<Uuid>,
    ) -> Result<bool> {
        let word = checked_word(word)?;
        let added = on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO school_words (school_id, word, added_by, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (school_id, word) DO NOTHING"
        )
        .bind(school)
        .bind(&word)
        .bind(by)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(added == 1)
    }

    /// Takes a word or phrase off a school's list (`false`: it was not on).
    pub async fn remove_school_word(&self, school: Uuid, word: &str) -> Result<bool> {
        let word = word.trim().to_lowercase();
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM school_words WHERE school_id = $1 AND word = $2"
        )
        .bind(school)
        .bind(&word)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(removed == 1)
    }

    /// Keeps a decision on held message `id` and settles the message, in
    /// one transaction: delivered as written, delivered redacted, or
    /// rejected.
    pub async fn review_message(
        &self,
        id: i64,
        decision: Decide,
        shown: Option<&str>,
        note: &str,
        by: Uuid,
    ) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        crate::messaging::store::settle_held_in_tx(&mut tx, id, shown, now).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO message_reviews (id, message_id, decision, note, by_user, at) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(decision.stored())
        .bind(note)
        .bind(by)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// The decisions on `messages`.
    pub async fn reviews_of(&self, messages: &[i64]) -> Result<Vec<Review>> {
        let mut found = Vec::new();
        for chunk in messages.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT message_id, decision, note, by_user, at FROM message_reviews WHERE message_id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<Review> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Raises a concern about a pair.
    pub async fn raise_concern(
        &self,
        reporter: Uuid,
        match_id: Uuid,
        session: Option<Uuid>,
        text: &str,
    ) -> Result<Concern> {
        let id = Uuid::new_v4();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO concerns (id, reporter_id, match_id, session_id, text, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(id)
        .bind(reporter)
        .bind(match_id)
        .bind(session)
        .bind(text)
        .bind(ConcernState::New.as_str())
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        self.concern(id).await
    }

    pub async fn concern(&self, id: Uuid) -> Result<Concern> {
        let row: Option<Concern> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM concerns WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        row.ok_or(Error::NotFound("concern"))
    }

    /// The concerns about `pairs`, newest first.
    pub async fn concerns_about(&self, pairs: &[Uuid]) -> Result<Vec<Concern>> {
        let mut found = Vec::new();
        for chunk in pairs.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT * FROM concerns WHERE match_id IN ({}) ORDER BY created_at DESC",
                placeholders(1, chunk.len())
            );
            let rows: Vec<Concern> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        found.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        Ok(found)
    }

    /// Moves a concern on: new → acknowledged → closed (with an outcome).
    pub async fn move_concern(&self, id: Uuid, to: &ConcernMove, by: Uuid) -> Result<Concern> {
        let now = Utc::now();
        let concern = self.concern(id).await?;
        let from = concern.state.as_str();
        let outcome = to.outcome.trim();
        let sql = match (from, to.state) {
            ("new", ConcernState::Acknowledged) => {
                "UPDATE concerns SET state = $1, acknowledged_by = $2, acknowledged_at = $3 WHERE id = $4 AND state = 'new'"
            }
            ("new" | "acknowledged", ConcernState::Closed) => {
                if outcome.is_empty() || outcome.chars().count() > 2000 {
                    return Err(Error::invalid(
                        "outcome",
                        "say what was done before closing the concern (at most 2,000 characters)",
                    ));
                }
                "UPDATE concerns SET state = $1, closed_by = $2, closed_at = $3, outcome = $5, \
                 acknowledged_by = COALESCE(acknowledged_by, $2), acknowledged_at = COALESCE(acknowledged_at, $3) \
                 WHERE id = $4 AND state <> 'closed'"
            }
            _ => {
                return Err(Error::conflict(
                    "state",
                    format!(
                        "this concern is {from}; it cannot become {}",
                        to.state.as_str()
                    ),
                ));
            }
        };
        on_pool!(self, |pool| {
            let q = sqlx::query(sql)
                .bind(to.state.as_str())
                .bind(by)
                .bind(now)
                .bind(id);
            let q = if to.state == ConcernState::Closed {
                q.bind(outcome)
            } else {
                q
            };
            q.execute(pool).await.map(|r| r.rows_affected())
        })?;
        self.concern(id).await
    }

    /// Records that a member of staff opened something.
    pub async fn record_read(
        &self,
        user: Uuid,
        school: Option<Uuid>,
        kind: ReadKind,
        target: &str,
    ) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO staff_reads (user_id, school_id, kind, target, at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(user)
        .bind(school)
        .bind(kind.as_str())
        .bind(target)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// What staff of `school` opened, newest first (at most 500).
    pub async fn staff_reads(&self, school: Uuid) -> Result<Vec<StaffRead>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT user_id, kind, target, at FROM staff_reads WHERE school_id = $1 ORDER BY id DESC LIMIT 500"
        )
        .bind(school)
        .fetch_all(pool)
        .await
        })?)
    }

    /// Whether `school`'s safeguarding leads may be emailed now that
    /// something is held (at most once in ten minutes); if so, it is
    /// counted as sent.
    pub async fn take_alert(&self, school: Uuid, now: DateTime<Utc>) -> Result<bool> {
        let since = now - chrono::Duration::minutes(10);
        let changed = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO safeguarding_alerts (school_id, last_sent_at) VALUES ($1, $2) \
             ON CONFLICT (school_id) DO UPDATE SET last_sent_at = excluded.last_sent_at \
             WHERE safeguarding_alerts.last_sent_at <= $3"
        )
        .bind(school)
        .bind(now)
        .bind(since)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}

impl Store {
    /// Whether `user` is a deputy safeguarding lead of `school`.
    pub async fn is_deputy(&self, user: Uuid, school: Uuid) -> Result<bool> {
        let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM safeguarding_deputies WHERE school_id = $1 AND user_id = $2"
        )
        .bind(school)
        .bind(user)
        .fetch_one(pool)
        .await)?;
        Ok(n > 0)
    }

    /// The deputies of `school`.
    pub async fn deputies(&self, school: Uuid) -> Result<Vec<Uuid>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT user_id FROM safeguarding_deputies WHERE school_id = $1 ORDER BY named_at"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?)
    }

    /// Names `user` a deputy of `school` (`false`: they already were).
    pub async fn name_deputy(&self, school: Uuid, user: Uuid, by: Uuid) -> Result<bool> {
        let added = on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO safeguarding_deputies (school_id, user_id, named_by, named_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (school_id, user_id) DO NOTHING"
        )
        .bind(school)
        .bind(user)
        .bind(by)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(added == 1)
    }

    /// Removes a deputy (`false`: they were not one).
    pub async fn remove_deputy(&self, school: Uuid, user: Uuid) -> Result<bool> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM safeguarding_deputies WHERE school_id = $1 AND user_id = $2"
        )
        .bind(school)
        .bind(user)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(removed == 1)
    }
}
