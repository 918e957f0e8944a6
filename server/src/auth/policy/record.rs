//! Who may see and write a mentee's record, judged person by person like a
//! thread: the record belongs to the mentee's school, and the partner
//! school sees the part of it the pair share.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::people::accounts::Role;
use crate::record::{FeedbackFrom, NoteKind};

/// How someone reaches a record; [`crate::record::Record::for_viewer`]
/// leaves out what each may not see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordAccess {
    /// Staff of the mentee's school: everything (the safeguarding lead, the
    /// coordinator, the referring teacher and colleagues, who already read
    /// the referral in full).
    School,
    /// The mentee: their own record, in their own words.
    Mentee,
    /// A mentor the mentee has had: the plan and the sessions they share.
    Mentor,
    /// Staff of a mentor's school, the safeguarding lead among them: what
    /// their pupil shares in, never the referral's confidential details.
    Partner,
}

/// The people a record is about: the mentee and their school, and each
/// mentor they have had (with the mentor's school and whether that match
/// is still running).
#[derive(Clone, Debug)]
pub struct RecordParties {
    pub mentee: Uuid,
    pub mentee_school: Uuid,
    pub mentors: Vec<(Uuid, Option<Uuid>, bool)>,
}

/// The rule, free of I/O.
pub fn record_access(
    user: Uuid,
    role: Role,
    own_school: Option<Uuid>,
    parties: &RecordParties,
) -> Option<RecordAccess> {
    if role == Role::Student {
        if user == parties.mentee {
            return Some(RecordAccess::Mentee);
        }
        return parties
            .mentors
            .iter()
            .any(|(m, _, _)| *m == user)
            .then_some(RecordAccess::Mentor);
    }
    if !role.is_school_staff() {
        return None;
    }
    let school = own_school?;
    if school == parties.mentee_school {
        return Some(RecordAccess::School);
    }
    parties
        .mentors
        .iter()
        .any(|(_, s, _)| *s == Some(school))
        .then_some(RecordAccess::Partner)
}

/// Whether `user` works on the plan (adds targets, agrees them, notes
/// progress and outcomes): the mentee, a mentor whose match is running, and
/// the mentee's school's staff; nobody once the programme is closed.
pub fn may_plan(access: RecordAccess, user: Uuid, parties: &RecordParties, closed: bool) -> bool {
    if closed {
        return false;
    }
    match access {
        RecordAccess::School | RecordAccess::Mentee => true,
        RecordAccess::Mentor => parties
            .mentors
            .iter()
            .any(|(m, _, open)| *m == user && *open),
        RecordAccess::Partner => false,
    }
}

/// A review is the coordinator's; an exit the coordinator's or the
/// safeguarding lead's, as closing a referral is.
pub fn may_review(access: RecordAccess, role: Role) -> bool {
    access == RecordAccess::School && role == Role::Coordinator
}

/// See [`may_review`].
pub fn may_exit(access: RecordAccess, role: Role) -> bool {
    access == RecordAccess::School && matches!(role, Role::Coordinator | Role::SafeguardingLead)
}

/// Whose feedback `user` gives, if any: the mentee and a mentor as
/// themselves; the mentee's school's teachers and coordinators as the
/// referring school.
pub fn feedback_role(access: RecordAccess, role: Role) -> Option<FeedbackFrom> {
    match access {
        RecordAccess::Mentee => Some(FeedbackFrom::Mentee),
        RecordAccess::Mentor => Some(FeedbackFrom::Mentor),
        RecordAccess::School if matches!(role, Role::Teacher | Role::Coordinator) => {
            Some(FeedbackFrom::Teacher)
        }
        _ => None,
    }
}

/// What note `user` may write on a session that has begun: the session's
/// own mentor writes the account; one of its supervisors (staff, at either
/// school) an observation.
pub fn note_kind(
    user: Uuid,
    role: Role,
    session_mentor: Uuid,
    supervisors: &[Uuid],
) -> Option<NoteKind> {
    if role == Role::Student {
        return (user == session_mentor).then_some(NoteKind::Mentor);
    }
    (role.is_school_staff() && supervisors.contains(&user)).then_some(NoteKind::Observer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_the_mentee_schools_and_the_partner_sees_what_the_pair_share() {
        let (mentee, mentor, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let parties = RecordParties {
            mentee,
            mentee_school: a,
            mentors: vec![(mentor, Some(b), true)],
        };
        let access = |user, role, school| record_access(user, role, school, &parties);
        assert_eq!(
            access(mentee, Role::Student, Some(a)),
            Some(RecordAccess::Mentee)
        );
        assert_eq!(
            access(mentor, Role::Student, Some(b)),
            Some(RecordAccess::Mentor)
        );
        assert_eq!(access(other, Role::Student, Some(a)), None);
        for role in [Role::Coordinator, Role::Teacher, Role::SafeguardingLead] {
            assert_eq!(access(other, role, Some(a)), Some(RecordAccess::School));
            assert_eq!(access(other, role, Some(b)), Some(RecordAccess::Partner));
            assert_eq!(access(other, role, Some(c)), None);
        }
        assert_eq!(access(other, Role::Admin, None), None);
        assert!(may_plan(RecordAccess::Mentor, mentor, &parties, false));
        assert!(!may_plan(RecordAccess::Mentor, mentor, &parties, true));
        assert!(!may_plan(RecordAccess::Partner, other, &parties, false));
        let ended = RecordParties {
            mentors: vec![(mentor, Some(b), false)],
            ..parties.clone()
        };
        assert!(!may_plan(RecordAccess::Mentor, mentor, &ended, false));
        assert!(may_review(RecordAccess::School, Role::Coordinator));
        assert!(!may_review(RecordAccess::School, Role::Teacher));
        assert!(!may_review(RecordAccess::Partner, Role::Coordinator));
        assert!(may_exit(RecordAccess::School, Role::SafeguardingLead));
        assert!(!may_exit(RecordAccess::Partner, Role::SafeguardingLead));
        assert_eq!(
            feedback_role(RecordAccess::School, Role::Teacher),
            Some(FeedbackFrom::Teacher)
        );
        assert_eq!(feedback_role(RecordAccess::Partner, Role::Teacher), None);
    }

    #[test]
    fn the_sessions_mentor_writes_the_account_and_its_supervisors_observe() {
        let (mentor, teacher, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let sup = [teacher];
        assert_eq!(
            note_kind(mentor, Role::Student, mentor, &sup),
            Some(NoteKind::Mentor)
        );
        assert_eq!(
            note_kind(teacher, Role::Teacher, mentor, &sup),
            Some(NoteKind::Observer)
        );
        assert_eq!(note_kind(teacher, Role::Student, mentor, &sup), None);
        assert_eq!(note_kind(other, Role::Coordinator, mentor, &sup), None);
    }
}
