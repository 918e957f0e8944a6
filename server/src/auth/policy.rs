//! The one authorization policy: who may do what, to which school's data.
//!
//! Every handler names the [`Action`] it is about to perform and calls
//! [`authorize`] before touching data. Only the arms below allow anything;
//! everything else is denied. Scope is by school: staff act within their own
//! school, and across a partnership only where the partnership needs it.
//!
//! A call is the one thing judged person by person rather than by role and
//! school: [`call_role`] says who may enter a session's call, and as what.

use mentorbridge_signalling::token::CallRole;
use uuid::Uuid;

mod record;
mod threads;

pub use record::{
    RecordAccess, RecordParties, feedback_role, may_exit, may_plan, may_review, note_kind,
    record_access,
};
pub use threads::{ThreadAccess, may_deputise, thread_access};

use super::Actor;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, User};
use crate::people::partnerships::{Partnership, PartnershipStatus};
use crate::people::referrals::ReferralStatus;

/// Something an actor wants to do.
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// List every school on the platform.
    ListSchools,
    /// Add a school (and its first coordinator).
    CreateSchool,
    /// See a school's staff list.
    ViewStaff { school: Uuid },
    /// Add a member of staff to a school.
    CreateStaff {
        school: Uuid,
        /// Whether the account would be the school's first coordinator (the
        /// school has none yet, and this is one).
        first_coordinator: bool,
    },
    /// See a school's students, in full.
    ViewStudents { school: Uuid },
    /// Add a student to a school.
    CreateStudent { school: Uuid },
    /// Set a new password for a student.
    ResetStudentPassword {
        /// The student's school.
        school: Uuid,
    },
    /// Turn an account at a school off, or on again.
    DisableAccount {
        /// The account's school.
        school: Uuid,
    },
    /// Change one's own password.
    ChangeOwnPassword,
    /// See the partnerships a school is in.
    ViewPartnerships { school: Uuid },
    /// Propose a partnership on behalf of a school.
    ProposePartnership {
        /// The proposing school.
        school: Uuid,
    },
    /// Accept a proposed partnership.
    AcceptPartnership { partnership: &'a Partnership },
    /// See the partner school's students, limited to what pairing needs.
    ViewPartnerStudents { partnership: &'a Partnership },
    /// See a school's calendar and bell schedule.
    ViewCalendar { school: Uuid },
    /// Upload or change a school's calendar and bell schedule.
    ManageCalendar { school: Uuid },
    /// See a partnership's policy and aligned slots.
    ViewSlots { partnership: &'a Partnership },
    /// Set a partnership's slot policy.
    SetSlotPolicy { partnership: &'a Partnership },
    /// Read a school's referrals in full.
    ViewReferrals {
        /// The mentee's school.
        school: Uuid,
    },
    /// Write a referral, or save changes to one.
    WriteReferral {
        /// The mentee's school.
        school: Uuid,
    },
    /// Move a referral on to `to`. Who may ask for each step is decided
    /// here; whether the step exists from where the referral stands, and
    /// what it needs (consent, a countersignature, a reason), is the
    /// referrals domain's business, answered with a 409 or 422 that says so.
    MoveReferral {
        /// The mentee's school.
        school: Uuid,
        /// Where the referral would go.
        to: ReferralStatus,
    },
    /// Set what a mentor offers, and record their training.
    ManageMentor {
        /// The mentor's school.
        school: Uuid,
    },
    /// Clear a mentor on safeguarding grounds.
    ClearMentor {
        /// The mentor's school.
        school: Uuid,
    },
    /// See a partnership's match proposal and approved matches (first
    /// names, years, focus and offers only).
    ViewMatches { partnership: &'a Partnership },
    /// Run the optimiser, pin or forbid pairs, and approve a proposal for
    /// one's own school.
    ManageMatching { partnership: &'a Partnership },
    /// See one's own sessions and keep one's own calendar subscription.
    OwnCalendar,
    /// Run the pre-call check of one's iPad (camera, microphone, network).
    PrecallCheck,
    /// Set where one's own invites are emailed (staff only: students have
    /// no address in mentorbridge).
    OwnInviteAddress,
    /// Ask for (or stop) one email a day listing the changes to sessions at
    /// one's own school (coordinators, who are not invited to sessions).
    OwnInviteDigest,
    /// See every session with a student of a school in it.
    ViewSessions { school: Uuid },
    /// See *Today's calls* at a school: the live register of its calls
    /// (and the count on the home page).
    ViewTodaysCalls { school: Uuid },
    /// Keep a school's calendar subscription.
    ManageSchoolFeed { school: Uuid },
    /// See which invites were emailed to a school's staff, and which failed.
    ViewInvites { school: Uuid },
    /// Move or cancel a session of a partnership.
    ManageSession { partnership: &'a Partnership },
    /// Undo cancellations in a partnership: restore a cancelled session,
    /// or book a pair left with no sessions again from its approved match.
    RestoreSessions { partnership: &'a Partnership },
    /// See who attended a partnership's sessions.
    ViewAttendance { partnership: &'a Partnership },
    /// Correct the attendance record, with a reason.
    CorrectAttendance { partnership: &'a Partnership },
    /// Edit a school's own word list and its message rules (what happens
    /// for each category, messaging hours).
    ManageMessageRules { school: Uuid },
    /// Review a school's held messages, handle concerns about its pupils,
    /// search its pupils' messages and read the record of staff reads.
    /// Reading a thread itself is [`thread_access`]'s business.
    OverseeMessages { school: Uuid },
    /// Name or remove the school's deputy safeguarding leads.
    NameDeputies { school: Uuid },
    /// Set what a school's mentees score themselves on. A record itself is
    /// judged person by person: [`record_access`].
    ManageRecordIdentifiers { school: Uuid },
    /// See the list of a school's mentees' records.
    ViewRecords { school: Uuid },
    /// Issue a volunteering certificate, signed in one's own name, to a
    /// mentor of a school.
    IssueCertificate {
        /// The mentor's school.
        school: Uuid,
    },
    /// List and download the certificates issued to a mentor of a school.
    /// (Checking one by its code is public: the verification page.)
    ViewCertificates {
        /// The mentor's school.
        school: Uuid,
        /// Whether the mentor is the one asking.
        own: bool,
    },
    /// Make a group of schools (a local authority's or a trust's scheme).
    CreateGroup,
    /// List every group of schools.
    ListGroups,
    /// Invite a school into a group, and add the group's scheme leads.
    ManageGroup { group: Uuid },
    /// See a group, its schools and whether each has agreed to join.
    ViewGroup { group: Uuid },
    /// Agree, on a school's behalf, to its figures joining a group's
    /// reports, or take them out again.
    JoinGroup {
        /// The school invited.
        school: Uuid,
    },
    /// See a school's aggregate report (counts and averages, no pupil).
    ViewSchoolReport { school: Uuid },
    /// See a partnership's aggregate report.
    ViewPartnershipReport { partnership: &'a Partnership },
    /// See a group's aggregate report: its member schools, together and
    /// one by one, and never a pupil.
    ViewGroupReport { group: Uuid },
}

/// Allows the action, or says why not ([`Error::Forbidden`]).
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<()> {
    if allowed(actor.role(), actor.school_id(), action)
        || allowed_in_group(actor.role(), actor.user.group_id, action)
    {
        Ok(())
    } else {
        tracing::info!(user = %actor.user.id, role = %actor.role(), ?action, "denied");
        Err(Error::Forbidden)
    }
}

/// The rule itself, free of I/O so it can be tested exhaustively.
pub fn allowed(role: Role, own_school: Option<Uuid>, action: Action<'_>) -> bool {
    use Action::*;
    use Role::*;
    let at = |school: Uuid| own_school == Some(school);
    // Cross-school access exists only inside an accepted partnership that
    // includes the actor's school.
    let member = |p: &Partnership| {
        p.status == PartnershipStatus::Accepted && own_school.is_some_and(|s| p.includes(s))
    };
    match (role, action) {
        (Admin, ListSchools | CreateSchool) => true,
        // School names are public; a coordinator needs them to propose a
        // partnership.
        (Coordinator, ListSchools) => true,
        // The platform administrator only bootstraps a school: its first
        // coordinator. After that the school's own coordinators add staff,
        // so nobody outside the school can give themselves a way in. The
        // administrator sees no pupil data.
        (Admin, ViewStaff { .. }) => true,
        (
            Admin,
            CreateStaff {
                first_coordinator: true,
                ..
            },
        ) => true,

        (Coordinator, ViewStaff { school } | CreateStaff { school, .. }) => at(school),
        (Coordinator, CreateStudent { school } | ProposePartnership { school }) => at(school),
        (Coordinator | Teacher | SafeguardingLead, ViewStudents { school }) => at(school),
        (Coordinator | Teacher | SafeguardingLead, ResetStudentPassword { school }) => at(school),
        (Coordinator | Teacher | SafeguardingLead, ViewPartnerships { school }) => at(school),
        (Coordinator, DisableAccount { school }) => at(school),
        (_, ChangeOwnPassword) => true,
        (SafeguardingLead | Teacher, ViewStaff { school }) => at(school),

        // Only the school that did not propose can accept (whether it is
        // still open to accept is the store's business: that is a 409).
        (Coordinator, AcceptPartnership { partnership }) => own_school
            .is_some_and(|s| partnership.includes(s) && s != partnership.proposed_by_school),
        (Coordinator | Teacher | SafeguardingLead, ViewPartnerStudents { partnership }) => {
            member(partnership)
        }

        (Coordinator | Teacher, ManageMentor { school }) => at(school),
        (Coordinator | SafeguardingLead, ClearMentor { school }) => at(school),
        (Coordinator | Teacher | SafeguardingLead, ViewCalendar { school }) => at(school),
        (
            Coordinator | Teacher | SafeguardingLead,
            ViewReferrals { school } | WriteReferral { school },
        ) => at(school),
        (_, MoveReferral { school, to }) => at(school) && may_move_referral(role, to),
        (Coordinator, ManageCalendar { school }) => at(school),
        (Coordinator | Teacher | SafeguardingLead, ViewSlots { partnership }) => {
            member(partnership)
        }
        (Coordinator, SetSlotPolicy { partnership }) => member(partnership),
        (Coordinator | Teacher | SafeguardingLead, ViewMatches { partnership }) => {
            member(partnership)
        }
        (Coordinator, ManageMatching { partnership }) => member(partnership),
        (Student | Coordinator | Teacher | SafeguardingLead, OwnCalendar) => own_school.is_some(),
        (Coordinator | Teacher | SafeguardingLead, OwnInviteAddress) => own_school.is_some(),
        (Coordinator, OwnInviteDigest) => own_school.is_some(),
        (Student | Coordinator | Teacher | SafeguardingLead, PrecallCheck) => own_school.is_some(),
        (Coordinator | Teacher | SafeguardingLead, ViewSessions { school }) => at(school),
        // Staff see every call at their school today; whether each shows its
        // register, its correction form or its Open button is the
        // attendance, correction and call rules' business, call by call.
        (Coordinator | Teacher | SafeguardingLead, ViewTodaysCalls { school }) => at(school),
        (Coordinator, ManageSchoolFeed { school }) => at(school),
        (Coordinator, ViewInvites { school }) => at(school),
        (Coordinator | Teacher, ManageSession { partnership }) => member(partnership),
        // Booking again takes students, iPads and supervisors at both
        // schools, as approving matches does: the coordinators' call.
        (Coordinator, RestoreSessions { partnership }) => member(partnership),
        (Coordinator | Teacher | SafeguardingLead, ViewAttendance { partnership }) => {
            member(partnership)
        }
        (Coordinator | Teacher, CorrectAttendance { partnership }) => member(partnership),
        // Coordinators run the scheme and know their pupils' local slang, so
        // they keep the word list with the safeguarding lead; neither
        // coordinators nor teachers read messages: only the safeguarding
        // lead oversees them (teachers see a call's chat live, from the
        // calls they supervise).
        (Coordinator | SafeguardingLead, ManageMessageRules { school }) => at(school),
        (SafeguardingLead, OverseeMessages { school }) => at(school),
        (SafeguardingLead, NameDeputies { school }) => at(school),
        (Coordinator, ManageRecordIdentifiers { school }) => at(school),
        (Coordinator | Teacher | SafeguardingLead, ViewRecords { school }) => at(school),
        // The coordinator signs as the mentor's assessor, so it is theirs
        // alone to issue; the mentor keeps their own certificates.
        (Coordinator, IssueCertificate { school } | ViewCertificates { school, .. }) => at(school),
        (Student, ViewCertificates { school, own: true }) => at(school),

        // The administrator sets a scheme up (a group, its invitations and
        // its leads), as it bootstraps a school; it sees no report.
        (Admin, CreateGroup | ListGroups | ManageGroup { .. } | ViewGroup { .. }) => true,
        // A school's figures join a group only on its own coordinator's
        // word: consent is the school's, not the administrator's.
        (Coordinator, JoinGroup { school }) => at(school),
        // Reports are counts and averages, but of one school's pupils: the
        // staff who run the scheme there (not every teacher) see them.
        (Coordinator | SafeguardingLead, ViewSchoolReport { school }) => at(school),
        (Coordinator | SafeguardingLead, ViewPartnershipReport { partnership }) => {
            member(partnership)
        }

        _ => false,
    }
}

/// The group-scoped rule: a scheme lead sees their own group and its
/// aggregate report, and nothing else (everything school- or
/// pupil-scoped is denied by [`allowed`], where a scheme lead has no
/// school). Free of I/O, like [`allowed`].
pub fn allowed_in_group(role: Role, own_group: Option<Uuid>, action: Action<'_>) -> bool {
    let ours = |group: Uuid| own_group == Some(group);
    match (role, action) {
        (Role::SchemeLead, Action::ViewGroup { group } | Action::ViewGroupReport { group }) => {
            ours(group)
        }
        _ => false,
    }
}

/// Who may ask for each step of a referral's life. Any of the school's
/// staff put a referral forward (or ask for `matched`, to be told that
/// approving a match does that); approving, returning to draft and closing
/// take a coordinator or safeguarding lead; only a coordinator runs a
/// referral once it is under way.
fn may_move_referral(role: Role, to: ReferralStatus) -> bool {
    use ReferralStatus::*;
    match to {
        Submitted | Matched => role.is_school_staff(),
        Approved | Draft | Closed => matches!(role, Role::Coordinator | Role::SafeguardingLead),
        Active | Review => role == Role::Coordinator,
    }
}

/// Who a session's call is for: what [`call_role`] judges by.
#[derive(Clone, Copy, Debug)]
pub struct CallParties<'a> {
    pub mentee: Uuid,
    pub mentor: Uuid,
    pub supervisors: &'a [Uuid],
    /// The mentee's and the mentor's schools, when the caller's seat depends
    /// on them ([`watches_by_school`]); `None` otherwise, which admits nobody
    /// by school.
    pub schools: Option<[Option<Uuid>; 2]>,
}

/// Whether `role` may watch any call with a student of their school in it
/// (so [`CallParties::schools`] must be known to judge them): a safeguarding
/// lead can see everything their school's students take part in.
pub fn watches_by_school(role: Role) -> bool {
    role == Role::SafeguardingLead
}

/// How `user` takes part in a call, or [`Error::Forbidden`]: nobody else
/// gets a join token or the call page.
pub fn call_role(user: &User, call: &CallParties<'_>) -> Result<CallRole> {
    seat(user.id, user.role, user.school_id, call).ok_or_else(|| {
        tracing::info!(user = %user.id, role = %user.role, "denied a seat in the call");
        Error::Forbidden
    })
}

/// The rule itself, free of I/O: the booked mentee and mentor as
/// themselves; the session's supervisors (never a student, whatever the
/// list says) and a safeguarding lead of either student's school as
/// supervisors.
pub fn seat(
    user: Uuid,
    role: Role,
    own_school: Option<Uuid>,
    call: &CallParties<'_>,
) -> Option<CallRole> {
    if user == call.mentee {
        return Some(CallRole::Mentee);
    }
    if user == call.mentor {
        return Some(CallRole::Mentor);
    }
    if role != Role::Student && call.supervisors.contains(&user) {
        return Some(CallRole::Supervisor);
    }
    let by_school = watches_by_school(role)
        && own_school.is_some()
        && call
            .schools
            .is_some_and(|schools| schools.contains(&own_school));
    by_school.then_some(CallRole::Supervisor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partnership(a: Uuid, b: Uuid, status: PartnershipStatus) -> Partnership {
        Partnership::new_for_test(a, b, status)
    }

    /// Every action a test can name without data of its own, with `school`
    /// and a partnership of it: the matrix the scheme lead tests run over.
    fn every_school_action(school: Uuid, p: &Partnership) -> Vec<Action<'_>> {
        use ReferralStatus::*;
        let mut all = vec![
            Action::ListSchools,
            Action::CreateSchool,
            Action::ViewStaff { school },
            Action::CreateStaff {
                school,
                first_coordinator: true,
            },
            Action::ViewStudents { school },
            Action::CreateStudent { school },
            Action::ResetStudentPassword { school },
            Action::DisableAccount { school },
            Action::ViewPartnerships { school },
            Action::ProposePartnership { school },
            Action::AcceptPartnership { partnership: p },
            Action::ViewPartnerStudents { partnership: p },
            Action::ViewCalendar { school },
            Action::ManageCalendar { school },
            Action::ViewSlots { partnership: p },
            Action::SetSlotPolicy { partnership: p },
            Action::ViewReferrals { school },
            Action::WriteReferral { school },
            Action::ManageMentor { school },
            Action::ClearMentor { school },
            Action::ViewMatches { partnership: p },
            Action::ManageMatching { partnership: p },
            Action::OwnCalendar,
            Action::PrecallCheck,
            Action::OwnInviteAddress,
            Action::OwnInviteDigest,
            Action::ViewSessions { school },
            Action::ViewTodaysCalls { school },
            Action::ManageSchoolFeed { school },
            Action::ViewInvites { school },
            Action::ManageSession { partnership: p },
            Action::RestoreSessions { partnership: p },
            Action::ViewAttendance { partnership: p },
            Action::CorrectAttendance { partnership: p },
            Action::ManageMessageRules { school },
            Action::OverseeMessages { school },
            Action::NameDeputies { school },
            Action::CreateGroup,
            Action::ListGroups,
            Action::JoinGroup { school },
            Action::ViewSchoolReport { school },
            Action::ViewPartnershipReport { partnership: p },
        ];
        for to in [Draft, Submitted, Approved, Matched, Active, Review, Closed] {
            all.push(Action::MoveReferral { school, to });
        }
        all
    }

    #[test]
    fn a_scheme_lead_sees_only_their_own_groups_report_and_nothing_of_a_school() {
        let (school, group, other_group) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let p = partnership(school, Uuid::new_v4(), PartnershipStatus::Accepted);
        let lead = |action| {
            allowed(Role::SchemeLead, None, action)
                || allowed_in_group(Role::SchemeLead, Some(group), action)
        };
        for action in every_school_action(school, &p) {
            assert!(!lead(action), "{action:?}");
        }
        assert!(lead(Action::ViewGroupReport { group }));
        assert!(lead(Action::ViewGroup { group }));
        assert!(!lead(Action::ViewGroupReport { group: other_group }));
        assert!(!lead(Action::ManageGroup { group }));
        assert!(lead(Action::ChangeOwnPassword));
        // Nobody else reaches a group's report through the group rule.
        for role in Role::ALL {
            if role != Role::SchemeLead {
                assert!(
                    !allowed_in_group(role, Some(group), Action::ViewGroupReport { group }),
                    "{role}"
                );
                assert!(!allowed(
                    role,
                    Some(school),
                    Action::ViewGroupReport { group }
                ));
            }
        }
    }

    #[test]
    fn reports_are_for_the_schools_coordinators_and_safeguarding_leads() {
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
        let report = Action::ViewSchoolReport { school: mine };
        for role in [Role::Coordinator, Role::SafeguardingLead] {
            assert!(allowed(role, Some(mine), report), "{role}");
            assert!(!allowed(role, Some(other), report), "{role}");
        }
        for role in [Role::Teacher, Role::Student] {
            assert!(!allowed(role, Some(mine), report), "{role}");
        }
        assert!(!allowed(Role::Admin, None, report));
        let accepted = partnership(mine, other, PartnershipStatus::Accepted);
        let proposed = partnership(mine, other, PartnershipStatus::Proposed);
        let of = |p| Action::ViewPartnershipReport { partnership: p };
        assert!(allowed(Role::Coordinator, Some(other), of(&accepted)));
        assert!(!allowed(Role::Coordinator, Some(mine), of(&proposed)));
        assert!(!allowed(
            Role::Coordinator,
            Some(Uuid::new_v4()),
            of(&accepted)
        ));
    }

    #[test]
    fn only_a_schools_own_coordinator_puts_it_in_a_group_and_only_the_administrator_sets_one_up() {
        let (school, group) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(allowed(
            Role::Coordinator,
            Some(school),
            Action::JoinGroup { school }
        ));
        for role in [Role::Teacher, Role::SafeguardingLead, Role::Student] {
            assert!(
                !allowed(role, Some(school), Action::JoinGroup { school }),
                "{role}"
            );
        }
        assert!(!allowed(
            Role::Coordinator,
            Some(Uuid::new_v4()),
            Action::JoinGroup { school }
        ));
        assert!(!allowed(Role::Admin, None, Action::JoinGroup { school }));
        for action in [
            Action::CreateGroup,
            Action::ListGroups,
            Action::ManageGroup { group },
        ] {
            assert!(allowed(Role::Admin, None, action), "{action:?}");
            assert!(
                !allowed(Role::Coordinator, Some(school), action),
                "{action:?}"
            );
        }
    }

    #[test]
    fn students_may_do_nothing_to_school_data() {
        let school = Uuid::new_v4();
        let p = partnership(school, Uuid::new_v4(), PartnershipStatus::Accepted);
        for action in [
            Action::ListSchools,
            Action::CreateSchool,
            Action::ViewStaff { school },
            Action::ViewStudents { school },
            Action::CreateStudent { school },
            Action::ResetStudentPassword { school },
            Action::ViewPartnerships { school },
            Action::ViewPartnerStudents { partnership: &p },
        ] {
            assert!(!allowed(Role::Student, Some(school), action), "{action:?}");
        }
    }

    #[test]
    fn staff_act_only_within_their_own_school() {
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(allowed(
            Role::Coordinator,
            Some(mine),
            Action::ViewStudents { school: mine }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(mine),
            Action::ViewStudents { school: other }
        ));
        assert!(!allowed(
            Role::Admin,
            None,
            Action::ViewStudents { school: mine }
        ));
    }

    #[test]
    fn only_the_invited_school_accepts_and_only_accepted_partnerships_share_students() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let proposed = partnership(a, b, PartnershipStatus::Proposed);
        assert!(!allowed(
            Role::Coordinator,
            Some(a),
            Action::AcceptPartnership {
                partnership: &proposed
            }
        ));
        assert!(allowed(
            Role::Coordinator,
            Some(b),
            Action::AcceptPartnership {
                partnership: &proposed
            }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(c),
            Action::AcceptPartnership {
                partnership: &proposed
            }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(b),
            Action::ViewPartnerStudents {
                partnership: &proposed
            }
        ));
        let accepted = partnership(a, b, PartnershipStatus::Accepted);
        assert!(allowed(
            Role::Teacher,
            Some(a),
            Action::ViewPartnerStudents {
                partnership: &accepted
            }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(c),
            Action::ViewPartnerStudents {
                partnership: &accepted
            }
        ));
    }

    #[test]
    fn the_administrator_bootstraps_schools_but_reads_no_pupil_or_calendar_data() {
        let school = Uuid::new_v4();
        let p = partnership(school, Uuid::new_v4(), PartnershipStatus::Accepted);
        for action in [
            Action::ListSchools,
            Action::CreateSchool,
            Action::ViewStaff { school },
            Action::CreateStaff {
                school,
                first_coordinator: true,
            },
        ] {
            assert!(allowed(Role::Admin, None, action), "{action:?}");
        }
        assert!(!allowed(
            Role::Admin,
            None,
            Action::CreateStaff {
                school,
                first_coordinator: false
            }
        ));
        for action in [
            Action::ViewStudents { school },
            Action::ResetStudentPassword { school },
            Action::ViewPartnerships { school },
            Action::ViewPartnerStudents { partnership: &p },
            Action::ViewCalendar { school },
            Action::ManageCalendar { school },
            Action::ViewSlots { partnership: &p },
            Action::SetSlotPolicy { partnership: &p },
            Action::ProposePartnership { school },
        ] {
            assert!(!allowed(Role::Admin, None, action), "{action:?}");
        }
    }

    #[test]
    fn calendars_are_changed_only_by_their_own_coordinators_and_slots_seen_only_within_the_partnership()
     {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert!(allowed(
            Role::Coordinator,
            Some(a),
            Action::ManageCalendar { school: a }
        ));
        assert!(!allowed(
            Role::Teacher,
            Some(a),
            Action::ManageCalendar { school: a }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(b),
            Action::ManageCalendar { school: a }
        ));
        assert!(allowed(
            Role::SafeguardingLead,
            Some(a),
            Action::ViewCalendar { school: a }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(b),
            Action::ViewCalendar { school: a }
        ));
        let proposed = partnership(a, b, PartnershipStatus::Proposed);
        let accepted = partnership(a, b, PartnershipStatus::Accepted);
        assert!(!allowed(
            Role::Coordinator,
            Some(b),
            Action::ViewSlots {
                partnership: &proposed
            }
        ));
        assert!(allowed(
            Role::Teacher,
            Some(b),
            Action::ViewSlots {
                partnership: &accepted
            }
        ));
        assert!(!allowed(
            Role::Teacher,
            Some(b),
            Action::SetSlotPolicy {
                partnership: &accepted
            }
        ));
        assert!(allowed(
            Role::Coordinator,
            Some(b),
            Action::SetSlotPolicy {
                partnership: &accepted
            }
        ));
        assert!(!allowed(
            Role::Coordinator,
            Some(c),
            Action::ViewSlots {
                partnership: &accepted
            }
        ));
        assert!(!allowed(
            Role::Student,
            Some(a),
            Action::ViewSlots {
                partnership: &accepted
            }
        ));
    }

    #[test]
    fn who_may_ask_for_each_step_of_a_referral() {
        use ReferralStatus::*;
        let school = Uuid::new_v4();
        let may = |role, to| allowed(role, Some(school), Action::MoveReferral { school, to });
        for to in [Submitted, Matched] {
            for role in [Role::Coordinator, Role::Teacher, Role::SafeguardingLead] {
                assert!(may(role, to), "{role:?} to {to:?}");
            }
        }
        for to in [Approved, Draft, Closed] {
            assert!(may(Role::Coordinator, to), "coordinator to {to:?}");
            assert!(may(Role::SafeguardingLead, to), "lead to {to:?}");
            assert!(!may(Role::Teacher, to), "teacher to {to:?}");
        }
        for to in [Active, Review] {
            assert!(may(Role::Coordinator, to), "coordinator to {to:?}");
            assert!(!may(Role::SafeguardingLead, to), "lead to {to:?}");
            assert!(!may(Role::Teacher, to), "teacher to {to:?}");
        }
        for role in [Role::Student, Role::Admin] {
            assert!(!may(role, Submitted), "{role:?}");
        }
        let elsewhere = Uuid::new_v4();
        assert!(!allowed(
            Role::Coordinator,
            Some(elsewhere),
            Action::MoveReferral { school, to: Closed }
        ));
    }

    #[test]
    fn only_the_partnerships_coordinators_undo_cancellations() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let accepted = partnership(a, b, PartnershipStatus::Accepted);
        let proposed = partnership(a, b, PartnershipStatus::Proposed);
        let undo = |p| Action::RestoreSessions { partnership: p };
        assert!(allowed(Role::Coordinator, Some(a), undo(&accepted)));
        assert!(allowed(Role::Coordinator, Some(b), undo(&accepted)));
        assert!(!allowed(Role::Coordinator, Some(c), undo(&accepted)));
        assert!(!allowed(Role::Coordinator, Some(a), undo(&proposed)));
        for role in [Role::Teacher, Role::SafeguardingLead, Role::Student] {
            assert!(!allowed(role, Some(a), undo(&accepted)), "{role}");
        }
        assert!(!allowed(Role::Admin, None, undo(&accepted)));
    }

    #[test]
    fn only_staff_of_the_school_see_its_calls_today() {
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
        let today = Action::ViewTodaysCalls { school: mine };
        for role in [Role::Coordinator, Role::Teacher, Role::SafeguardingLead] {
            assert!(allowed(role, Some(mine), today), "{role}");
            assert!(!allowed(role, Some(other), today), "{role}");
        }
        assert!(!allowed(Role::Student, Some(mine), today));
        assert!(!allowed(Role::Admin, None, today));
    }

    #[test]
    fn a_call_seats_its_students_its_supervisors_and_the_safeguarding_leads_of_their_schools() {
        let (mentee, mentor, teacher, stranger) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let supervisors = [teacher];
        let call = CallParties {
            mentee,
            mentor,
            supervisors: &supervisors,
            schools: Some([Some(b), Some(a)]),
        };
        let seat_of = |user, role, school| seat(user, role, Some(school), &call);
        assert_eq!(seat_of(mentee, Role::Student, b), Some(CallRole::Mentee));
        assert_eq!(seat_of(mentor, Role::Student, a), Some(CallRole::Mentor));
        assert_eq!(
            seat_of(teacher, Role::Teacher, a),
            Some(CallRole::Supervisor)
        );
        // A student listed as a supervisor is not seated as one.
        assert_eq!(seat_of(teacher, Role::Student, a), None);
        for school in [a, b] {
            assert_eq!(
                seat_of(stranger, Role::SafeguardingLead, school),
                Some(CallRole::Supervisor)
            );
            // Other staff of the schools are not, unless supervising.
            assert_eq!(seat_of(stranger, Role::Coordinator, school), None);
            assert_eq!(seat_of(stranger, Role::Teacher, school), None);
        }
        assert_eq!(seat_of(stranger, Role::SafeguardingLead, c), None);
        assert_eq!(seat(stranger, Role::SafeguardingLead, None, &call), None);
        assert_eq!(seat(stranger, Role::Admin, None, &call), None);
        // With the schools unknown, nobody is seated by school.
        let unknown = CallParties {
            schools: None,
            ..call
        };
        assert_eq!(
            seat(stranger, Role::SafeguardingLead, Some(a), &unknown),
            None
        );
        assert!(watches_by_school(Role::SafeguardingLead));
        assert!(!watches_by_school(Role::Coordinator));
    }

    #[test]
    fn a_coordinator_issues_certificates_and_a_mentor_downloads_only_their_own() {
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
        let issue = Action::IssueCertificate { school: mine };
        let view = |own| Action::ViewCertificates { school: mine, own };
        assert!(allowed(Role::Coordinator, Some(mine), issue));
        assert!(allowed(Role::Coordinator, Some(mine), view(false)));
        assert!(!allowed(Role::Coordinator, Some(other), issue));
        assert!(!allowed(Role::Coordinator, Some(other), view(false)));
        for role in [Role::Teacher, Role::SafeguardingLead, Role::Student] {
            assert!(!allowed(role, Some(mine), issue), "{role}");
            assert!(!allowed(role, Some(mine), view(false)), "{role}");
        }
        assert!(allowed(Role::Student, Some(mine), view(true)));
        assert!(!allowed(Role::Student, Some(other), view(true)));
        assert!(!allowed(Role::Admin, None, issue));
        assert!(!allowed(Role::Admin, None, view(false)));
    }
}
