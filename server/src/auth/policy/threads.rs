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

/// The rule, free of I/O. `schools` are the mentee's and the mentor's
/// schools. Coordinators and teachers have no access: a thread is the
/// pupils' and their safeguarding leads'.
pub fn thread_access(
    user: Uuid,
    role: Role,
    own_school: Option<Uuid>,
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
    let lead =
        role == Role::SafeguardingLead && own_school.is_some() && schools.contains(&own_school);
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
            thread_access(mentee, Role::Student, a, &pair, schools),
            Some(ThreadAccess::Write)
        );
        assert_eq!(
            thread_access(mentor, Role::Student, b, &pair, schools),
            Some(ThreadAccess::Write)
        );
        assert_eq!(thread_access(other, Role::Student, a, &pair, schools), None);
        for role in [Role::Coordinator, Role::Teacher, Role::Admin] {
            assert_eq!(
                thread_access(other, role, a, &pair, schools),
                None,
                "{role:?}"
            );
        }
        assert_eq!(
            thread_access(other, Role::SafeguardingLead, b, &pair, schools),
            Some(ThreadAccess::Oversee)
        );
        assert_eq!(
            thread_access(other, Role::SafeguardingLead, c, &pair, schools),
            None
        );
        pair.open = false;
        assert_eq!(
            thread_access(mentee, Role::Student, a, &pair, schools),
            Some(ThreadAccess::Read)
        );
    }
}
