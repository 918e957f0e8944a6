//! The one authorization policy: who may do what, to which school's data.
//!
//! Every handler names the [`Action`] it is about to perform and calls
//! [`authorize`] before touching data. Only the arms below allow anything;
//! everything else is denied. Scope is by school: staff act within their own
//! school, and across a partnership only where the partnership needs it.

use uuid::Uuid;

use super::Actor;
use crate::error::{Error, Result};
use crate::people::accounts::Role;
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
    ViewStaff {
        /// The school.
        school: Uuid,
    },
    /// Add a member of staff to a school.
    CreateStaff {
        school: Uuid,
        /// Whether the account would be the school's first coordinator (the
        /// school has none yet, and this is one).
        first_coordinator: bool,
    },
    /// See a school's students, in full.
    ViewStudents {
        /// The school.
        school: Uuid,
    },
    /// Add a student to a school.
    CreateStudent {
        /// The school.
        school: Uuid,
    },
    /// Set a new password for a student.
    ResetStudentPassword {
        /// The student's school.
        school: Uuid,
    },
    /// See the partnerships a school is in.
    ViewPartnerships {
        /// The school.
        school: Uuid,
    },
    /// Propose a partnership on behalf of a school.
    ProposePartnership {
        /// The proposing school.
        school: Uuid,
    },
    /// Accept a proposed partnership.
    AcceptPartnership {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// See the partner school's students, limited to what pairing needs.
    ViewPartnerStudents {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// See a school's calendar and bell schedule.
    ViewCalendar {
        /// The school.
        school: Uuid,
    },
    /// Upload or change a school's calendar and bell schedule.
    ManageCalendar {
        /// The school.
        school: Uuid,
    },
    /// See a partnership's policy and aligned slots.
    ViewSlots {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// Set a partnership's slot policy.
    SetSlotPolicy {
        /// The partnership.
        partnership: &'a Partnership,
    },
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
    ViewMatches {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// Run the optimiser, pin or forbid pairs, and approve a proposal for
    /// one's own school.
    ManageMatching {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// See one's own sessions and keep one's own calendar subscription.
    OwnCalendar,
    /// Run the pre-call check of one's iPad (camera, microphone, network).
    PrecallCheck,
    /// Set where one's own invites are emailed (staff only: students have
    /// no address in mentorbridge).
    OwnInviteAddress,
    /// See every session with a student of a school in it.
    ViewSessions {
        /// The school.
        school: Uuid,
    },
    /// Keep a school's calendar subscription.
    ManageSchoolFeed {
        /// The school.
        school: Uuid,
    },
    /// See which invites were emailed to a school's staff, and which failed.
    ViewInvites {
        /// The school.
        school: Uuid,
    },
    /// Move or cancel a session of a partnership.
    ManageSession {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// See who attended a partnership's sessions.
    ViewAttendance {
        /// The partnership.
        partnership: &'a Partnership,
    },
    /// Correct the attendance record, with a reason.
    CorrectAttendance {
        /// The partnership.
        partnership: &'a Partnership,
    },
}

/// Allows the action, or says why not ([`Error::Forbidden`]).
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<()> {
    if allowed(actor.role(), actor.school_id(), action) {
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
        // Any of the school's staff put a referral forward (or ask for
        // `matched`, to be told that approving a match does that); approving,
        // returning to draft and closing take a coordinator or safeguarding
        // lead; only a coordinator runs a referral once it is under way.
        (
            Coordinator | Teacher | SafeguardingLead,
            MoveReferral {
                school,
                to: ReferralStatus::Submitted | ReferralStatus::Matched,
            },
        ) => at(school),
        (
            Coordinator | SafeguardingLead,
            MoveReferral {
                school,
                to: ReferralStatus::Approved | ReferralStatus::Draft | ReferralStatus::Closed,
            },
        ) => at(school),
        (
            Coordinator,
            MoveReferral {
                school,
                to: ReferralStatus::Active | ReferralStatus::Review,
            },
        ) => at(school),
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
        (Student | Coordinator | Teacher | SafeguardingLead, PrecallCheck) => own_school.is_some(),
        (Coordinator | Teacher | SafeguardingLead, ViewSessions { school }) => at(school),
        (Coordinator, ManageSchoolFeed { school }) => at(school),
        (Coordinator, ViewInvites { school }) => at(school),
        (Coordinator | Teacher, ManageSession { partnership }) => member(partnership),
        (Coordinator | Teacher | SafeguardingLead, ViewAttendance { partnership }) => {
            member(partnership)
        }
        (Coordinator | Teacher, CorrectAttendance { partnership }) => member(partnership),

        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partnership(a: Uuid, b: Uuid, status: PartnershipStatus) -> Partnership {
        Partnership::new_for_test(a, b, status)
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
}
