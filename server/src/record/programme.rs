//! A mentee's programme as one viewer reaches it: the referral, the
//! matches it has had, and the viewer's [`RecordAccess`]; and the whole
//! [`Record`] assembled from the domains that hold its parts (referrals,
//! matching, booking, attendance) and the record's own tables.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::store::Side;
use super::{
    Abilities, Record, RecordReferral, TimelineSession, check_in_due, compare, reminders,
    review_due,
};
use crate::auth::Actor;
use crate::auth::policy::{
    RecordAccess, RecordParties, feedback_role, may_exit, may_plan, may_review, note_kind,
    record_access,
};
use crate::booking::{Session, SessionStatus};
use crate::error::{Error, Result};
use crate::matching::Pair;
use crate::people::accounts::{Role, StudentKind, User};
use crate::people::referrals::{Referral, ReferralStatus};
use crate::people::schools::School;
use crate::store::Store;

/// A programme and how the viewer reaches it.
#[derive(Clone, Debug)]
pub struct Programme {
    pub referral: Referral,
    /// The mentee's school, whose dates and times the record reads in.
    pub school: School,
    pub pairs: Vec<Pair>,
    /// Every mentor the mentee has had.
    pub mentors: Vec<User>,
    pub parties: RecordParties,
    pub access: RecordAccess,
}

impl Programme {
    /// Loads the programme of `referral` for `actor`, or a 403 for anyone
    /// the record is not for (as a referral is refused to another school).
    pub async fn load(store: &Store, actor: &Actor, referral: Uuid) -> Result<Programme> {
        let referral = match store.referral(referral).await {
            Ok(r) => r,
            Err(Error::NotFound(_)) => return Err(Error::NotFound("record")),
            Err(e) => return Err(e),
        };
        let pairs = store.pairs_of_referral(referral.id).await?;
        let ids: Vec<Uuid> = pairs.iter().map(|p| p.mentor_id).collect();
        let mentors = store.users_by_id(&ids).await?;
        let parties = RecordParties {
            mentee: referral.mentee_id,
            mentee_school: referral.school_id,
            mentors: pairs
                .iter()
                .map(|p| {
                    let school = mentors
                        .iter()
                        .find(|m| m.id == p.mentor_id)
                        .and_then(|m| m.school_id);
                    (p.mentor_id, school, p.open)
                })
                .collect(),
        };
        let access = record_access(actor.user.id, actor.role(), actor.school_id(), &parties)
            .ok_or_else(|| {
                tracing::info!(user = %actor.user.id, referral = %referral.id, "denied a record");
                Error::Forbidden
            })?;
        let school = store.school(referral.school_id).await?;
        Ok(Programme {
            referral,
            school,
            pairs,
            mentors,
            parties,
            access,
        })
    }

    /// A student's own programme: the mentee's newest, or the mentor's
    /// running one (else their latest). Staff have none: a 403.
    pub async fn own(store: &Store, actor: &Actor) -> Result<Option<Programme>> {
        if actor.role() != Role::Student {
            return Err(Error::Forbidden);
        }
        let referral = match actor.user.kind {
            Some(StudentKind::Mentee) => store.newest_referral_of(actor.user.id).await?,
            _ => {
                let pairs = store.pairs_of(actor.user.id).await?;
                match pairs.iter().find(|p| p.open).or(pairs.first()) {
                    Some(p) => Some(store.referral_of_match(p.id).await?),
                    None => None,
                }
            }
        };
        match referral {
            Some(id) => Ok(Some(Programme::load(store, actor, id).await?)),
            None => Ok(None),
        }
    }

    pub fn closed(&self) -> bool {
        self.referral.status == ReferralStatus::Closed
    }

    /// Under way: matched and not closed.
    pub fn under_way(&self) -> bool {
        self.referral.status.under_way()
    }

    /// Today at the mentee's school.
    pub fn today(&self) -> Result<NaiveDate> {
        self.school.today()
    }

    /// A mentor's given name.
    fn mentor_name(&self, id: Uuid) -> String {
        self.mentors
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.given_name.clone())
            .unwrap_or_default()
    }

    /// The viewer works on the plan, or a 403.
    pub fn check_plan(&self, actor: &Actor) -> Result<Side> {
        if !may_plan(self.access, actor.user.id, &self.parties, self.closed()) {
            return Err(if self.closed() {
                Error::conflict(
                    "status",
                    "this mentoring has ended; its plan is kept as it was",
                )
            } else {
                Error::Forbidden
            });
        }
        Ok(match self.access {
            RecordAccess::Mentee => Side::Mentee,
            RecordAccess::Mentor => Side::Mentor,
            _ => Side::Staff,
        })
    }

    /// Whether `session` belongs to this programme.
    pub fn has_session(&self, session: &Session) -> bool {
        self.pairs.iter().any(|p| p.id == session.match_id)
    }
}

/// Every session of a programme, earliest first.
pub async fn sessions(store: &Store, programme: &Programme) -> Result<Vec<Session>> {
    let mut out = Vec::new();
    for pair in &programme.pairs {
        out.extend(store.sessions_of_match(pair.id).await?);
    }
    out.sort_by_key(|s| s.starts_at);
    Ok(out)
}

/// The whole record, as the viewer may see it.
pub async fn record(store: &Store, actor: &Actor, programme: &Programme) -> Result<Record> {
    let referral = &programme.referral;
    let access = programme.access;
    let school = &programme.school;
    let tz = school.tz()?;
    let identifiers = store.record_identifiers(referral.school_id).await?;
    let assessments = store.assessments(referral.id).await?;
    let targets = store.targets(referral.id).await?;
    let reviews = store.reviews(referral.id).await?;
    let exit = store.exit(referral.id).await?;
    let feedback = store.feedback(referral.id).await?;
    let sessions = sessions(store, programme).await?;
    let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
    let mut notes: HashMap<Uuid, Vec<super::SessionNote>> = HashMap::new();
    for note in store.session_notes(&ids).await? {
        notes.entry(note.session_id).or_default().push(note);
    }
    let now = Utc::now();
    let mut timeline = Vec::with_capacity(sessions.len());
    let (mut delivered_sessions, mut delivered_minutes) = (0, 0);
    for s in &sessions {
        let (mentee_present, mentor_present) = if s.status == SessionStatus::Missed {
            let people = store.attendance(s).await?;
            let present = |id| people.iter().find(|p| p.user_id == id).map(|p| p.present);
            (present(s.mentee_id), present(s.mentor_id))
        } else if s.status == SessionStatus::Completed {
            (Some(true), Some(true))
        } else {
            (None, None)
        };
        if s.status == crate::booking::DELIVERED {
            delivered_sessions += 1;
            delivered_minutes += crate::booking::delivered_minutes(s);
        }
        let begun = s.starts_at <= now && s.status != SessionStatus::Cancelled;
        let may_note = begun
            .then(|| note_kind(actor.user.id, actor.role(), s.mentor_id, &s.supervisors))
            .flatten();
        timeline.push(TimelineSession {
            id: s.id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            when: when(s, &school.slug, tz),
            status: s.status,
            reason: s.reason.clone(),
            mentor_name: programme.mentor_name(s.mentor_id),
            mentee_present,
            mentor_present,
            notes: notes.remove(&s.id).unwrap_or_default(),
            may_note,
        });
    }
    let today = now.with_timezone(&tz).date_naive();
    let review_due = review_due(reviews.last().map(|r| r.next_review), referral.review_date);
    let planned_end = sessions
        .iter()
        .find(|s| s.status != SessionStatus::Cancelled)
        .map(|s| {
            s.starts_at.with_timezone(&tz).date_naive()
                + chrono::Duration::weeks(i64::from(referral.planned_weeks))
        });
    let closed = programme.closed();
    let abilities = Abilities {
        // The exit check-in can follow the exit itself.
        assess_own: access == RecordAccess::Mentee && (programme.under_way() || exit.is_some()),
        assess_staff: access == RecordAccess::School,
        plan: may_plan(access, actor.user.id, &programme.parties, closed),
        review: may_review(access, actor.role()) && !closed,
        exit: may_exit(access, actor.role()) && programme.under_way(),
        feedback: feedback_role(access, actor.role()),
    };
    let comparison = compare(&assessments);
    let record = Record {
        access,
        referral: RecordReferral {
            id: referral.id,
            school_id: referral.school_id,
            mentee_id: referral.mentee_id,
            mentee_name: if access == RecordAccess::School {
                referral.mentee_name.clone()
            } else {
                referral.given_name.clone()
            },
            year_group: referral.year_group,
            status: referral.status,
            focus: referral.focus.clone(),
            planned_weeks: referral.planned_weeks,
            // Shown to the mentee's school only (`for_viewer`).
            referred_by: if access == RecordAccess::School {
                Some(store.user(referral.referred_by).await?.full_name())
            } else {
                None
            },
            concerns: referral.concerns.clone(),
            reasons: Some(referral.reasons.clone()),
            strengths: Some(referral.strengths.clone()),
            created_at: referral.created_at,
        },
        identifiers,
        assessments,
        comparison,
        targets,
        sessions: timeline,
        reviews,
        exit,
        feedback,
        reminders: reminders(closed, review_due, planned_end, today),
        abilities,
        delivered_sessions,
        delivered_minutes,
    };
    Ok(record.for_viewer(actor.user.id))
}

/// "Tue 8 Sep 2026, 08:40–09:00" at the mentee's school.
fn when(session: &Session, slug: &str, tz: Tz) -> String {
    match session.local.get(slug) {
        Some(end) => format!(
            "{}, {}–{}",
            end.date.format("%a %-d %b %Y"),
            end.start.format("%H:%M"),
            end.end.format("%H:%M")
        ),
        None => {
            let start = session.starts_at.with_timezone(&tz);
            let end = session.ends_at.with_timezone(&tz);
            format!(
                "{}, {}–{}",
                start.format("%a %-d %b %Y"),
                start.format("%H:%M"),
                end.format("%H:%M")
            )
        }
    }
}

/// What a student's home page says of their record: where it is, and the
/// one thing waiting for them there, if any.
#[derive(Clone, Debug)]
pub struct StudentSummary {
    pub referral_id: Uuid,
    /// The check-in the mentee is asked to do next.
    pub check_in: Option<super::Stage>,
    /// The mentor's latest session that has no note from them yet, with
    /// its date as the mentee's school reads it.
    pub note_due: Option<(Uuid, String)>,
    /// Targets waiting for this student to agree them.
    pub to_agree: usize,
}

/// The [`StudentSummary`] of `actor`, if they are a student with a
/// programme.
pub async fn student_summary(store: &Store, actor: &Actor) -> Result<Option<StudentSummary>> {
    if actor.role() != Role::Student {
        return Ok(None);
    }
    let Some(programme) = Programme::own(store, actor).await? else {
        return Ok(None);
    };
    let referral = programme.referral.id;
    let check_in = if programme.access == RecordAccess::Mentee {
        let assessments = store.assessments(referral).await?;
        let exited = store.exit(referral).await?.is_some();
        check_in_due(&assessments, programme.under_way(), exited)
    } else {
        None
    };
    let targets = store.targets(referral).await?;
    let to_agree = if programme.closed() {
        0
    } else {
        targets
            .iter()
            .filter(|t| t.outcome.is_none())
            .filter(|t| match programme.access {
                RecordAccess::Mentee => t.mentee_agreed_at.is_none(),
                RecordAccess::Mentor => t.mentor_agreed_at.is_none(),
                _ => false,
            })
            .count()
    };
    let mut note_due = None;
    if programme.access == RecordAccess::Mentor {
        let now = Utc::now();
        let held: Vec<Session> = sessions(store, &programme)
            .await?
            .into_iter()
            .filter(|s| {
                s.mentor_id == actor.user.id
                    && s.starts_at <= now
                    && s.status == SessionStatus::Completed
            })
            .collect();
        if let Some(last) = held.last() {
            let notes = store.session_notes(&[last.id]).await?;
            if !notes.iter().any(|n| n.author == actor.user.id) {
                let school = &programme.school;
                note_due = Some((last.id, when(last, &school.slug, school.tz()?)));
            }
        }
    }
    Ok(Some(StudentSummary {
        referral_id: referral,
        check_in,
        note_due,
        to_agree,
    }))
}

/// How many of a school's running programmes have a review due within a
/// week (or overdue): the latest review's next date, else the referral's
/// review date.
pub async fn reviews_due(store: &Store, school: Uuid) -> Result<usize> {
    let running: Vec<Referral> = store
        .referrals_at(school)
        .await?
        .into_iter()
        .filter(|r| r.status.under_way())
        .collect();
    let ids: Vec<Uuid> = running.iter().map(|r| r.id).collect();
    let latest = store.latest_reviews(&ids).await?;
    let soon = store.school(school).await?.today()? + chrono::Duration::days(super::REMIND_DAYS);
    Ok(running
        .iter()
        .filter(|r| {
            review_due(latest.get(&r.id).copied(), r.review_date).is_some_and(|d| d <= soon)
        })
        .count())
}
