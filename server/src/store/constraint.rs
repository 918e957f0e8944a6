//! The database constraints the code turns into messages a person can act
//! on (a taken username is a 409 naming `username`, not a 500).
//!
//! Each constraint is known by two names, because the backends report a
//! violation differently: PostgreSQL names the constraint (or index) that
//! refused the row; SQLite names the columns instead (`UNIQUE constraint
//! failed: users.username`), or, for a trigger, the message the trigger
//! raised. [`Constraint::of`] reads either, so a caller matches one enum
//! variant on both. The schema-parity test checks every name below exists
//! in both freshly migrated schemas.
//!
//! SQLite reports a foreign-key violation without saying which key
//! (`FOREIGN KEY constraint failed`), so no foreign key is listed: code
//! that must tell them apart checks the row first.

/// A constraint the code maps to a message, on either backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// `schools.slug` is unique.
    SchoolSlug,
    /// `users.username` is unique.
    UserUsername,
    /// A student reference is unique within its school.
    UserStudentRef,
    /// One partnership per pair of schools.
    PartnershipPair,
    /// One open (not closed) referral per mentee.
    ReferralOpenMentee,
    /// One approval per school per proposal (the primary key).
    MatchApproval,
    /// One rule per mentee–mentor pair in a partnership (the primary key).
    MatchRule,
    /// One pinned mentor per mentee in a partnership.
    MatchRuleOnePin,
    /// A mentor has one approved mentee per period.
    MatchMentorPeriod,
    /// A referral has one approved match.
    MatchReferral,
    /// One live calendar link of each name per person.
    FeedLiveUser,
    /// One live calendar link of each name per school.
    FeedLiveSchool,
    /// No two claims on one resource for overlapping times: an exclusion
    /// constraint on PostgreSQL, a trigger on SQLite.
    SessionClaimOverlap,
    /// A mentee's own assessment, and the school's, once per stage.
    RecordAssessmentStage,
    /// Feedback at the end, once per person.
    RecordFeedbackEnd,
    /// A group of schools' name is unique.
    GroupName,
}

/// How SQLite names a constraint in its error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqliteSignature {
    /// A unique index or primary key: its columns as SQLite lists them,
    /// `table.column, table.column`.
    Unique(&'static str),
    /// A trigger's `RAISE(ABORT, …)`: the start of its message.
    Trigger(&'static str),
}

impl Constraint {
    /// Every known constraint.
    pub const ALL: [Constraint; 16] = [
        Constraint::SchoolSlug,
        Constraint::UserUsername,
        Constraint::UserStudentRef,
        Constraint::PartnershipPair,
        Constraint::ReferralOpenMentee,
        Constraint::MatchApproval,
        Constraint::MatchRule,
        Constraint::MatchRuleOnePin,
        Constraint::MatchMentorPeriod,
        Constraint::MatchReferral,
        Constraint::FeedLiveUser,
        Constraint::FeedLiveSchool,
        Constraint::SessionClaimOverlap,
        Constraint::RecordAssessmentStage,
        Constraint::RecordFeedbackEnd,
        Constraint::GroupName,
    ];

    /// Its name in the PostgreSQL schema (constraint or unique index).
    pub fn postgres_name(self) -> &'static str {
        match self {
            Constraint::SchoolSlug => "schools_slug_key",
            Constraint::UserUsername => "users_username_key",
            Constraint::UserStudentRef => "users_school_ref_key",
            Constraint::PartnershipPair => "partnerships_pair_key",
            Constraint::ReferralOpenMentee => "referrals_open_mentee_key",
            Constraint::MatchApproval => "match_approvals_pkey",
            Constraint::MatchRule => "match_rules_pkey",
            Constraint::MatchRuleOnePin => "match_rules_one_pin_key",
            Constraint::MatchMentorPeriod => "matches_mentor_period_key",
            Constraint::MatchReferral => "matches_referral_key",
            Constraint::FeedLiveUser => "calendar_feeds_live_user_key",
            Constraint::FeedLiveSchool => "calendar_feeds_live_school_key",
            Constraint::SessionClaimOverlap => "session_claims_no_overlap",
            Constraint::RecordAssessmentStage => "record_assessments_stage_key",
            Constraint::RecordFeedbackEnd => "record_feedback_end_key",
            Constraint::GroupName => "school_groups_name_key",
        }
    }

    /// How SQLite's error message names it.
    pub fn sqlite_signature(self) -> SqliteSignature {
        use SqliteSignature::{Trigger, Unique};
        match self {
            Constraint::SchoolSlug => Unique("schools.slug"),
            Constraint::UserUsername => Unique("users.username"),
            Constraint::UserStudentRef => Unique("users.school_id, users.student_ref"),
            Constraint::PartnershipPair => {
                Unique("partnerships.school_low, partnerships.school_high")
            }
            Constraint::ReferralOpenMentee => Unique("referrals.mentee_id"),
            Constraint::MatchApproval => {
                Unique("match_approvals.proposal_id, match_approvals.school_id")
            }
            Constraint::MatchRule => {
                Unique("match_rules.partnership_id, match_rules.mentee_id, match_rules.mentor_id")
            }
            Constraint::MatchRuleOnePin => {
                Unique("match_rules.partnership_id, match_rules.mentee_id")
            }
            Constraint::MatchMentorPeriod => Unique("matches.mentor_id, matches.mentor_period"),
            Constraint::MatchReferral => Unique("matches.referral_id"),
            Constraint::FeedLiveUser => Unique("calendar_feeds.user_id, calendar_feeds.label"),
            Constraint::FeedLiveSchool => Unique("calendar_feeds.school_id, calendar_feeds.label"),
            Constraint::SessionClaimOverlap => Trigger("session_claims_no_overlap"),
            Constraint::RecordAssessmentStage => Unique(
                "record_assessments.referral_id, record_assessments.stage, record_assessments.view",
            ),
            Constraint::RecordFeedbackEnd => {
                Unique("record_feedback.referral_id, record_feedback.by_user")
            }
            Constraint::GroupName => Unique("school_groups.name"),
        }
    }

    /// The known constraint `err` violated, if it is a violation of one.
    pub fn of(err: &sqlx::Error) -> Option<Constraint> {
        let sqlx::Error::Database(db) = err else {
            return None;
        };
        if let Some(name) = db.constraint() {
            // PostgreSQL (SQLite never fills this in).
            return Constraint::ALL
                .into_iter()
                .find(|c| c.postgres_name() == name);
        }
        Constraint::from_sqlite_message(db.message())
    }

    /// Reads a SQLite constraint error's message.
    fn from_sqlite_message(message: &str) -> Option<Constraint> {
        let unique = message.strip_prefix("UNIQUE constraint failed: ");
        Constraint::ALL
            .into_iter()
            .find(|c| match (c.sqlite_signature(), unique) {
                (SqliteSignature::Unique(columns), Some(failed)) => failed == columns,
                (SqliteSignature::Trigger(start), _) => message.starts_with(start),
                (SqliteSignature::Unique(_), None) => false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_their_constraint() {
        let of = Constraint::from_sqlite_message;
        assert_eq!(
            of("UNIQUE constraint failed: users.username"),
            Some(Constraint::UserUsername)
        );
        assert_eq!(
            of("UNIQUE constraint failed: match_rules.partnership_id, match_rules.mentee_id"),
            Some(Constraint::MatchRuleOnePin)
        );
        assert_eq!(
            of("session_claims_no_overlap: already booked for an overlapping time"),
            Some(Constraint::SessionClaimOverlap)
        );
        assert_eq!(of("UNIQUE constraint failed: outbox.id"), None);
        assert_eq!(of("FOREIGN KEY constraint failed"), None);
    }

    #[test]
    fn every_constraint_has_its_own_names() {
        for (i, a) in Constraint::ALL.iter().enumerate() {
            for b in &Constraint::ALL[i + 1..] {
                assert_ne!(a.postgres_name(), b.postgres_name());
                assert_ne!(a.sqlite_signature(), b.sqlite_signature());
            }
        }
    }
}
