//! Who may read and write a pair's thread, judged person by person like a
//! call: the pair themselves, and the safeguarding leads of their schools.

use uuid::Uuid;

use crate::matching::Pair;
use crate::people::accounts::Role;

/// How someone takes part in a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadAccess {
    /// The mentee or mentor of a running match: reads and writes.
    Write,
    /// The mentee or mentor of an ended match: reads only.
    Read,
    /// A safeguarding lead of either pupil's school: reads everything,
    /// held and blocked messages too, and every opening is recorded.
    Oversee,
}

/// Who a safeguarding lead may name as a deputy: a teacher or coordinator
/// of their own school.
pub fn may_deputise(role: Role) -> bool {
    matches!(role, Role::Teacher | Role::Coordinator)
}

/// The rule, free of I/O. `schools` are the mentee's and the mentor's
/// schools; `deputy` is whether the caller is a deputy the lead of their
/// school has named. Coordinators and teachers otherwise have no access: a
/// thread is the pupils' and their safeguarding leads'.
pub fn thread_access(
    user: Uuid,
    role: Role,
    own_school: Option<Uuid>,
    deputy: bool,
    pair: &Pair,
    schools: [Option<Uuid>; 2],
) -> Option<ThreadAccess> {
    if role == Role::Student && pair.has(user) {
        return Some(if pair.open {
            ThreadAccess::Write
        } else {
            ThreadAccess::Read
        });
    }
    let lead = (role == Role::SafeguardingLead || deputy && may_deputise(role))
        && own_school.is_some()
        && schools.contains(&own_school);
    lead.then_some(ThreadAccess::Oversee)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pair_and_their_schools_safeguarding_leads_reach_a_thread() {
        let (mentee, mentor, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (a, b, c) = (
            Some(Uuid::new_v4()),
            Some(Uuid::new_v4()),
            Some(Uuid::new_v4()),
        );
        let mut pair = Pair {
            id: Uuid::new_v4(),
            partnership_id: Uuid::new_v4(),
            mentee_id: mentee,
            mentor_id: mentor,
            open: true,
        };
        let schools = [a, b];
        assert_eq!(
            thread_access(mentee, Role::Student, a, false, &pair, schools),
            Some(ThreadAccess::Write)
        );
        assert_eq!(
            thread_access(mentor, Role::Student, b, false, &pair, schools),
            Some(ThreadAccess::Write)
        );
        assert_eq!(
            thread_access(other, Role::Student, a, false, &pair, schools),
            None
        );
        for role in [Role::Coordinator, Role::Teacher, Role::Admin] {
            assert_eq!(
                thread_access(other, role, a, false, &pair, schools),
                None,
                "{role:?}"
            );
        }
        assert_eq!(
            thread_access(other, Role::SafeguardingLead, b, false, &pair, schools),
            Some(ThreadAccess::Oversee)
        );
        assert_eq!(
            thread_access(other, Role::SafeguardingLead, c, false, &pair, schools),
            None
        );
        // A deputy the lead named reads as the lead does; a student cannot be one.
        assert_eq!(
            thread_access(other, Role::Teacher, a, true, &pair, schools),
            Some(ThreadAccess::Oversee)
        );
        assert_eq!(
            thread_access(other, Role::Student, a, true, &pair, schools),
            None
        );
        pair.open = false;
        assert_eq!(
            thread_access(mentee, Role::Student, a, false, &pair, schools),
            Some(ThreadAccess::Read)
        );
    }
}
