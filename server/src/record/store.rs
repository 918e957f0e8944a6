//! The record's SQL, on its own tables only. Names of the people who wrote
//! each part are the accounts domain's, read through its store.

mod figures;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    Assessment, CheckedAssessment, CheckedReview, CheckedTarget, Decision, Exit, ExitReason,
    Feedback, FeedbackFrom, FeedbackInput, Identifier, NoteKind, Outcome, Progress, Review, Score,
    SessionNote, Target, View, check_feedback, default_identifiers,
};
use crate::error::{Error, Result};
use crate::people::accounts::User;
use crate::store::{Constraint, Store, Tx};
use crate::{on_pool, on_tx};

/// Which of the pair a target is being agreed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Mentee,
    Mentor,
    /// Staff, who set targets with the pair but agree for neither.
    Staff,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    id: Uuid,
    referral_id: Uuid,
    what: String,
    measure: String,
    by_date: NaiveDate,
    review_date: Option<NaiveDate>,
    set_by: Uuid,
    set_at: DateTime<Utc>,
    mentee_agreed_at: Option<DateTime<Utc>>,
    mentor_agreed_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    outcome_note: Option<String>,
    outcome_at: Option<DateTime<Utc>>,
}

const TARGET_COLUMNS: &str = "id, referral_id, what, measure, by_date, review_date, set_by, set_at, \
     mentee_agreed_at, mentor_agreed_at, outcome, outcome_note, outcome_at";

impl TargetRow {
    fn into_target(self) -> Result<Target> {
        Ok(Target {
            id: self.id,
            referral_id: self.referral_id,
            what: self.what,
            measure: self.measure,
            by_date: self.by_date,
            review_date: self.review_date,
            set_by: self.set_by,
            set_at: self.set_at,
            mentee_agreed_at: self.mentee_agreed_at,
            mentor_agreed_at: self.mentor_agreed_at,
            outcome: self.outcome.as_deref().map(str::parse).transpose()?,
            outcome_note: self.outcome_note,
            outcome_at: self.outcome_at,
            progress: Vec::new(),
        })
    }
}

impl Store {
    /// The people who wrote parts of a record, by id, in one query (through
    /// the accounts domain's store).
    async fn people(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, User>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        Ok(self
            .users_by_id(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }

    /// What a school's mentees score themselves on: its own list, or the
    /// defaults until it sets one.
    pub async fn record_identifiers(&self, school: Uuid) -> Result<Vec<Identifier>> {
        let rows: Vec<(String, String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT key, label, question FROM record_identifiers \
             WHERE school_id = $1 AND retired_at IS NULL ORDER BY position"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        if rows.is_empty() {
            return Ok(default_identifiers());
        }
        Ok(rows
            .into_iter()
            .map(|(key, label, question)| Identifier {
                key,
                label,
                question,
            })
            .collect())
    }

    /// Replaces a school's list. Identifiers left out are retired, not
    /// deleted, so a key used again later means what it meant.
    pub async fn set_record_identifiers(&self, school: Uuid, list: &[Identifier]) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE record_identifiers SET retired_at = $1 WHERE school_id = $2 AND retired_at IS NULL"
        )
        .bind(now)
        .bind(school)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        for (position, id) in list.iter().enumerate() {
            let position = i32::try_from(position).unwrap_or(i32::MAX);
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                "INSERT INTO record_identifiers (school_id, key, label, question, position, retired_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL) \
                 ON CONFLICT (school_id, key) DO UPDATE SET label = $3, question = $4, position = $5, retired_at = NULL"
            )
            .bind(school)
            .bind(&id.key)
            .bind(&id.label)
            .bind(&id.question)
            .bind(position)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A programme's assessments, with their scores, in stage order.
    pub async fn assessments(&self, referral: Uuid) -> Result<Vec<Assessment>> {
        let heads: Vec<(Uuid, String, String, Uuid, String, DateTime<Utc>)> =
            on_pool!(self, |pool| sqlx::query_as(
                "SELECT id, stage, view, by_user, note, at FROM record_assessments \
                 WHERE referral_id = $1 ORDER BY at"
            )
            .bind(referral)
            .fetch_all(pool)
            .await)?;
        let scores: Vec<(Uuid, String, String, i32)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT s.assessment_id, s.identifier, s.label, s.score FROM record_scores s \
             JOIN record_assessments a ON a.id = s.assessment_id \
             WHERE a.referral_id = $1 ORDER BY s.position"
        )
        .bind(referral)
        .fetch_all(pool)
        .await)?;
        let mut by_assessment: HashMap<Uuid, Vec<Score>> = HashMap::new();
        for (id, identifier, label, score) in scores {
            by_assessment.entry(id).or_default().push(Score {
                identifier,
                label,
                score: i64::from(score),
            });
        }
        let mut out = heads
            .into_iter()
            .map(|(id, stage, view, by_user, note, at)| {
                Ok(Assessment {
                    id,
                    stage: stage.parse()?,
                    view: view.parse()?,
                    by_user,
                    note,
                    at,
                    scores: by_assessment.remove(&id).unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|a| (a.stage, a.view == View::Staff));
        Ok(out)
    }

    /// Stores an assessment whole. The mentee's own is made once per
    /// stage; the school's view of a stage is replaced by a newer one.
    pub async fn save_assessment(
        &self,
        referral: Uuid,
        by: Uuid,
        checked: &CheckedAssessment,
    ) -> Result<Uuid> {
        let id = Uuid::new_v4();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        if checked.view == View::Staff {
            on_tx!(&mut tx, |conn| sqlx::query(
                "DELETE FROM record_assessments WHERE referral_id = $1 AND stage = $2 AND view = $3"
            )
            .bind(referral)
            .bind(checked.stage.as_str())
            .bind(checked.view.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO record_assessments (id, referral_id, stage, view, by_user, note, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(id)
        .bind(referral)
        .bind(checked.stage.as_str())
        .bind(checked.view.as_str())
        .bind(by)
        .bind(&checked.note)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))
        .map_err(|err| match Constraint::of(&err) {
            Some(Constraint::RecordAssessmentStage) => Error::conflict(
                "stage",
                format!(
                    "the {} check-in is already done; it is kept as it was first written",
                    checked.stage.title().to_lowercase()
                ),
            ),
            _ => Error::Database(err),
        })?;
        for (position, s) in checked.scores.iter().enumerate() {
            on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO record_scores (assessment_id, identifier, label, position, score) \
                 VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(id)
            .bind(&s.identifier)
            .bind(&s.label)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .bind(i32::try_from(s.score).unwrap_or(0))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// One target, without its progress.
    pub async fn target(&self, id: Uuid) -> Result<Target> {
        let sql = format!("SELECT {TARGET_COLUMNS} FROM record_targets WHERE id = $1");
        let row: Option<TargetRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("target"))?.into_target()
    }

    /// A programme's action plan, oldest target first, each with its
    /// progress.
    pub async fn targets(&self, referral: Uuid) -> Result<Vec<Target>> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM record_targets WHERE referral_id = $1 ORDER BY set_at, id"
        );
        let rows: Vec<TargetRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(referral)
            .fetch_all(pool)
            .await)?;
        type ProgressRow = (Uuid, Uuid, Option<Uuid>, String, DateTime<Utc>);
        let progress: Vec<ProgressRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT p.target_id, p.by_user, p.session_id, p.note, p.at FROM record_progress p \
                 JOIN record_targets t ON t.id = p.target_id \
                 WHERE t.referral_id = $1 ORDER BY p.at, p.id"
        )
        .bind(referral)
        .fetch_all(pool)
        .await)?;
        let ids: Vec<Uuid> = progress.iter().map(|p| p.1).collect();
        let people = self.people(&ids).await?;
        let mut by_target: HashMap<Uuid, Vec<Progress>> = HashMap::new();
        for (target, by_user, session_id, note, at) in progress {
            let by_name = people
                .get(&by_user)
                .map(|u| u.given_name.clone())
                .unwrap_or_default();
            by_target.entry(target).or_default().push(Progress {
                by_user,
                by_name,
                session_id,
                note,
                at,
            });
        }
        rows.into_iter()
            .map(|row| {
                let mut target = row.into_target()?;
                target.progress = by_target.remove(&target.id).unwrap_or_default();
                Ok(target)
            })
            .collect()
    }

    /// Adds a target to the plan, agreed already by whichever of the pair
    /// set it.
    pub async fn add_target(
        &self,
        referral: Uuid,
        by: Uuid,
        side: Side,
        target: &CheckedTarget,
    ) -> Result<Target> {
        let id = Uuid::new_v4();
        let now = Utc::now();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO record_targets (id, referral_id, what, measure, by_date, review_date, set_by, set_at, \
             mentee_agreed_at, mentor_agreed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(id)
        .bind(referral)
        .bind(&target.what)
        .bind(&target.measure)
        .bind(target.by_date)
        .bind(target.review_date)
        .bind(by)
        .bind(now)
        .bind((side == Side::Mentee).then_some(now))
        .bind((side == Side::Mentor).then_some(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.target(id).await
    }

    /// Records that the mentee or the mentor agrees a target (again is no
    /// change).
    pub async fn agree_target(&self, target: Uuid, side: Side) -> Result<Target> {
        let column = match side {
            Side::Mentee => "mentee_agreed_at",
            Side::Mentor => "mentor_agreed_at",
            Side::Staff => {
                return Err(Error::invalid(
                    "target",
                    "a target is agreed by the mentee and the mentor",
                ));
            }
        };
        let sql = format!(
            "UPDATE record_targets SET {column} = $1 WHERE id = $2 AND {column} IS NULL AND outcome IS NULL"
        );
        on_pool!(self, |pool| sqlx::query(&sql)
            .bind(Utc::now())
            .bind(target)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        self.target(target).await
    }

    /// Notes progress on a target, at a session or between them.
    pub async fn add_progress(
        &self,
        target: Uuid,
        by: Uuid,
        session: Option<Uuid>,
        note: &str,
    ) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO record_progress (id, target_id, session_id, by_user, note, at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(Uuid::new_v4())
        .bind(target)
        .bind(session)
        .bind(by)
        .bind(note)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks an open target met, partly met or dropped. Only an open one:
    /// two people marking it at once cannot both land.
    pub async fn set_outcome(
        &self,
        target: &Target,
        by: Uuid,
        outcome: Outcome,
        note: &str,
    ) -> Result<Target> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE record_targets SET outcome = $1, outcome_note = $2, outcome_by = $3, outcome_at = $4 \
             WHERE id = $5 AND outcome IS NULL"
        )
        .bind(outcome.as_str())
        .bind(note)
        .bind(by)
        .bind(Utc::now())
        .bind(target.id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            let now = self.target(target.id).await?;
            let already = now.outcome.map_or("finished", |o| o.title());
            return Err(Error::conflict(
                "outcome",
                format!("this target is already marked “{already}”"),
            ));
        }
        self.target(target.id).await
    }

    /// The notes on these sessions, oldest first.
    pub async fn session_notes(&self, sessions: &[Uuid]) -> Result<Vec<SessionNote>> {
        type NoteRow = (
            Uuid,
            Uuid,
            String,
            String,
            String,
            DateTime<Utc>,
            DateTime<Utc>,
        );
        let mut rows: Vec<NoteRow> = Vec::new();
        for chunk in sessions.chunks(crate::store::IN_LIST_MAX) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT session_id, author, kind, body, next_step, at, updated_at FROM record_session_notes \
                 WHERE session_id IN ({}) ORDER BY at",
                crate::store::placeholders(1, chunk.len())
            );
            let chunk_rows: Vec<NoteRow> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            rows.extend(chunk_rows);
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.1).collect();
        let people = self.people(&ids).await?;
        rows.into_iter()
            .map(
                |(session_id, author, kind, body, next_step, at, updated_at)| {
                    // A pupil by their given name only: the other school reads it.
                    let author_name = people
                        .get(&author)
                        .map(|u| {
                            if u.role == crate::people::accounts::Role::Student {
                                u.given_name.clone()
                            } else {
                                u.full_name()
                            }
                        })
                        .unwrap_or_default();
                    Ok(SessionNote {
                        session_id,
                        author,
                        author_name,
                        kind: kind.parse()?,
                        body,
                        next_step,
                        at,
                        updated_at,
                    })
                },
            )
            .collect()
    }

    /// Writes (or rewrites) `author`'s note on a session.
    pub async fn save_session_note(
        &self,
        session: Uuid,
        author: Uuid,
        kind: NoteKind,
        body: &str,
        next_step: &str,
    ) -> Result<()> {
        let now = Utc::now();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO record_session_notes (session_id, author, kind, body, next_step, at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (session_id, author) DO UPDATE SET body = $4, next_step = $5, updated_at = $6"
        )
        .bind(session)
        .bind(author)
        .bind(kind.as_str())
        .bind(body)
        .bind(next_step)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A programme's reviews, oldest first.
    pub async fn reviews(&self, referral: Uuid) -> Result<Vec<Review>> {
        type ReviewRow = (
            Uuid,
            String,
            String,
            bool,
            Option<NaiveDate>,
            Uuid,
            DateTime<Utc>,
        );
        let rows: Vec<ReviewRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, decision, note, plan_reviewed, next_review, by_user, at FROM record_reviews \
             WHERE referral_id = $1 ORDER BY at"
        )
        .bind(referral)
        .fetch_all(pool)
        .await
        })?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.5).collect();
        let people = self.people(&ids).await?;
        rows.into_iter()
            .map(
                |(id, decision, note, plan_reviewed, next_review, by_user, at)| {
                    Ok(Review {
                        id,
                        decision: decision.parse()?,
                        note,
                        plan_reviewed,
                        next_review,
                        by_user,
                        by_name: people
                            .get(&by_user)
                            .map(User::full_name)
                            .unwrap_or_default(),
                        at,
                    })
                },
            )
            .collect()
    }

    /// For each of these programmes that has been reviewed, the next
    /// review its latest review set (`None` when it set none).
    pub async fn latest_reviews(
        &self,
        referrals: &[Uuid],
    ) -> Result<HashMap<Uuid, Option<NaiveDate>>> {
        let mut out = HashMap::new();
        for chunk in referrals.chunks(crate::store::IN_LIST_MAX) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT referral_id, next_review FROM record_reviews WHERE referral_id IN ({}) ORDER BY at",
                crate::store::placeholders(1, chunk.len())
            );
            let rows: Vec<(Uuid, Option<NaiveDate>)> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            // Oldest first, so the latest is left standing.
            out.extend(rows);
        }
        Ok(out)
    }

    /// Records a review. A decision to close is the exit too, in the same
    /// transaction: both land or neither.
    pub async fn add_review(
        &self,
        referral: Uuid,
        by: Uuid,
        review: &CheckedReview,
    ) -> Result<Option<u64>> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO record_reviews (id, referral_id, decision, note, plan_reviewed, next_review, by_user, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(Uuid::new_v4())
        .bind(referral)
        .bind(review.decision.as_str())
        .bind(&review.note)
        .bind(review.plan_reviewed)
        .bind(review.next_review)
        .bind(by)
        .bind(Utc::now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        let cancelled = match (review.decision, review.exit_reason) {
            (Decision::Close, Some(reason)) => {
                Some(exit_in_tx(&mut tx, referral, by, reason, &review.note).await?)
            }
            _ => None,
        };
        tx.commit().await?;
        Ok(cancelled)
    }

    /// How a programme ended, once it has.
    pub async fn exit(&self, referral: Uuid) -> Result<Option<Exit>> {
        let row: Option<(String, String, i32, Uuid, DateTime<Utc>)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT reason, note, sessions_cancelled, by_user, at FROM record_exits WHERE referral_id = $1"
            )
            .bind(referral)
            .fetch_optional(pool)
            .await
        })?;
        row.map(|(reason, note, sessions_cancelled, by_user, at)| {
            Ok(Exit {
                reason: reason.parse()?,
                note,
                sessions_cancelled: i64::from(sessions_cancelled),
                by_user,
                at,
            })
        })
        .transpose()
    }

    /// Records the exit: the match ends, its sessions still to come are
    /// cancelled (with their invites) and the referral is closed, all in
    /// one transaction. Returns how many sessions were cancelled.
    pub async fn record_exit(
        &self,
        referral: Uuid,
        by: Uuid,
        reason: ExitReason,
        note: &str,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let cancelled = exit_in_tx(&mut tx, referral, by, reason, note).await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    /// A programme's feedback, oldest first.
    pub async fn feedback(&self, referral: Uuid) -> Result<Vec<Feedback>> {
        type FeedbackRow = (
            Uuid,
            String,
            String,
            Uuid,
            i32,
            String,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<FeedbackRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, from_role, stage, by_user, rating, went_well, even_better, at FROM record_feedback \
             WHERE referral_id = $1 ORDER BY at"
        )
        .bind(referral)
        .fetch_all(pool)
        .await
        })?;
        rows.into_iter()
            .map(
                |(id, from_role, stage, by_user, rating, went_well, even_better, at)| {
                    Ok(Feedback {
                        id,
                        from_role: from_role.parse()?,
                        stage: stage.parse()?,
                        by_user,
                        rating: i64::from(rating),
                        went_well,
                        even_better,
                        at,
                    })
                },
            )
            .collect()
    }

    /// Keeps feedback; at the end, once per person.
    pub async fn add_feedback(
        &self,
        referral: Uuid,
        by: Uuid,
        from: FeedbackFrom,
        input: &FeedbackInput,
    ) -> Result<()> {
        let (rating, went_well, even_better) = check_feedback(input)?;
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO record_feedback (id, referral_id, from_role, stage, by_user, rating, went_well, even_better, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(Uuid::new_v4())
        .bind(referral)
        .bind(from.as_str())
        .bind(input.stage.as_str())
        .bind(by)
        .bind(i32::try_from(rating).unwrap_or(0))
        .bind(&went_well)
        .bind(&even_better)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .map_err(|err| match Constraint::of(&err) {
            Some(Constraint::RecordFeedbackEnd) => Error::conflict(
                "stage",
                "you have already given your feedback for the end of this mentoring; thank you",
            ),
            _ => Error::Database(err),
        })?;
        Ok(())
    }
}

/// The exit inside `tx`: its row, then the referral closed through its
/// owner (which ends the match and cancels the sessions to come).
async fn exit_in_tx(
    tx: &mut Tx,
    referral: Uuid,
    by: Uuid,
    reason: ExitReason,
    note: &str,
) -> Result<u64> {
    let cancelled =
        crate::people::referrals::store::close_in_tx(tx, referral, reason.title()).await?;
    on_tx!(&mut *tx, |conn| sqlx::query(
        "INSERT INTO record_exits (referral_id, reason, note, sessions_cancelled, by_user, at) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(referral)
    .bind(reason.as_str())
    .bind(note)
    .bind(i32::try_from(cancelled).unwrap_or(i32::MAX))
    .bind(by)
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(cancelled)
}
