//! Loading a page of sessions in a fixed number of queries, whatever the
//! number of sessions: the viewer's school, the sessions, everyone in them
//! and every school (`People`), and for staff the school's staff, its
//! partnerships, and per partnership and mentors' school (not per session)
//! the slots and free periods the move menus need.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::super::listing::{
    Choice, PageFilter, Row, SessionsPage, day_label, local_of, move_option, near_day_label, who,
};
use super::super::{Session, slot_fits};
use super::names::People;
use crate::calendar::align::Slot;
use crate::calendar::store::partnership_slots;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, User};
use crate::people::mentors::FreePeriod;
use crate::people::partnerships::Partnership;
use crate::people::referrals::Unavailable;
use crate::people::schools::School;
use crate::store::Store;

/// What the staff's view adds: the school's own staff, its partnerships.
struct StaffView {
    own_staff: Vec<User>,
    partnerships: Vec<Partnership>,
}

/// What moving a session needs: each partnership's next four weeks of
/// slots, and each mentor's free periods.
#[derive(Default)]
struct MoveMenus {
    slots: HashMap<Uuid, Vec<Slot>>,
    free: HashMap<Uuid, Vec<FreePeriod>>,
    /// By match: the times the mentee's referral rules out.
    busy: HashMap<Uuid, Vec<Unavailable>>,
}

impl Store {
    /// One page of sessions for `viewer` at their school: a student's own,
    /// or (staff) every session with a student of the school, filtered.
    /// `may_change` says whether the viewer may move or cancel a session of
    /// a partnership (the authorization policy's answer).
    pub async fn sessions_page(
        &self,
        viewer: &User,
        filter: &PageFilter,
        may_change: impl Fn(&Partnership) -> bool,
    ) -> Result<SessionsPage> {
        let school = viewer.school_id.ok_or(Error::Forbidden)?;
        let own = self.school(school).await?;
        let mut sessions = self.chosen_sessions(viewer, &own, filter).await?;
        let staff = if viewer.role == Role::Student {
            None
        } else {
            Some(StaffView {
                own_staff: self
                    .users_at_school(
                        school,
                        &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
                    )
                    .await?,
                partnerships: self.partnerships_of(school).await?,
            })
        };
        let supervisors = supervisor_choices(&staff, &sessions);
        if let Some(who) = filter.supervisor {
            sessions.retain(|s| s.supervisors.contains(&who));
        }
        let people = People::load(self, &sessions).await?;
        let partners = match &staff {
            Some(v) => partner_choices(&v.partnerships, school, &people)?,
            None => Vec::new(),
        };
        let changeable = match &staff {
            Some(v) => {
                self.changeable(&sessions, &v.partnerships, &may_change)
                    .await?
            }
            None => BTreeSet::new(),
        };
        let menus = self
            .move_menus(&sessions, &changeable, &staff, &own, &people)
            .await?;
        let page = Page {
            store: self,
            viewer,
            own: &own,
            today: own.today()?,
            people: &people,
            own_staff: staff.as_ref().map_or(&[][..], |v| &v.own_staff),
            menus: &menus,
        };
        let mut rows = Vec::with_capacity(sessions.len());
        for session in sessions {
            let can_change = changeable.contains(&session.id);
            rows.push(page.row(session, can_change).await?);
        }
        Ok(SessionsPage {
            rows,
            partners,
            supervisors,
        })
    }

    /// The viewer's sessions in the filter's range (a student's own, or
    /// every session with a student of their school), of the filter's
    /// partnership and on its day at the viewer's school.
    async fn chosen_sessions(
        &self,
        viewer: &User,
        own: &School,
        filter: &PageFilter,
    ) -> Result<Vec<Session>> {
        let (from, to) = filter.range(Utc::now());
        let mut sessions = if viewer.role == Role::Student {
            self.sessions_of_student(viewer.id, from, to).await?
        } else {
            self.sessions_at_school(own.id, from, to).await?
        };
        if let Some(p) = filter.partnership {
            sessions.retain(|s| s.partnership_id == p);
        }
        if let Some(d) = filter.day {
            sessions.retain(|s| s.local.get(&own.slug).is_some_and(|e| e.date == d));
        }
        Ok(sessions)
    }

    /// A student's coming sessions (today's first), as the Sessions page
    /// shows them but "Today" and "Tomorrow" where they are: the home page
    /// lists the next few with a Join button.
    pub async fn students_next(&self, student: &User, count: usize) -> Result<Vec<Row>> {
        let page = self
            .sessions_page(student, &PageFilter::default(), |_| false)
            .await?;
        let school = student.school_id.ok_or(Error::Forbidden)?;
        let today = self.school(school).await?.today()?;
        let now = Utc::now();
        let mut rows: Vec<Row> = page
            .rows
            .into_iter()
            .filter(|row| row.is_live() && row.session.ends_at > now)
            .take(count)
            .collect();
        for row in &mut rows {
            row.day = near_day_label(row.date, today);
        }
        Ok(rows)
    }

    /// The live sessions the viewer may move or cancel. A session at the
    /// school is in one of its partnerships; any other is read once each.
    async fn changeable(
        &self,
        sessions: &[Session],
        partnerships: &[Partnership],
        may_change: &impl Fn(&Partnership) -> bool,
    ) -> Result<BTreeSet<Uuid>> {
        let mut known: HashMap<Uuid, Partnership> =
            partnerships.iter().map(|p| (p.id, p.clone())).collect();
        let mut out = BTreeSet::new();
        for session in sessions {
            if !known.contains_key(&session.partnership_id) {
                let found = self.partnership(session.partnership_id).await?;
                known.insert(found.id, found);
            }
            if session.status.is_live()
                && known.get(&session.partnership_id).is_some_and(may_change)
            {
                out.insert(session.id);
            }
        }
        Ok(out)
    }

    /// The slots and free periods the changeable sessions' move menus
    /// need: per partnership and per mentors' school, not per session.
    async fn move_menus(
        &self,
        sessions: &[Session],
        changeable: &BTreeSet<Uuid>,
        staff: &Option<StaffView>,
        own: &School,
        people: &People,
    ) -> Result<MoveMenus> {
        let mut menus = MoveMenus::default();
        let Some(staff) = staff else {
            return Ok(menus);
        };
        let changing: Vec<&Session> = sessions
            .iter()
            .filter(|s| changeable.contains(&s.id))
            .collect();
        let today = own.today()?;
        let partnerships: BTreeSet<Uuid> = changing.iter().map(|s| s.partnership_id).collect();
        for id in partnerships {
            let partnership = match staff.partnerships.iter().find(|p| p.id == id) {
                Some(p) => p.clone(),
                None => self.partnership(id).await?,
            };
            let slots = next_slots(self, &partnership, today).await?;
            menus.slots.insert(id, slots);
        }
        let mut mentor_schools = BTreeSet::new();
        for session in &changing {
            let school = people.user(session.mentor_id)?.school_id;
            mentor_schools.extend(school);
        }
        for school in mentor_schools {
            for profile in self.mentor_profiles(school).await? {
                menus.free.insert(profile.user_id, profile.free_periods);
            }
        }
        let matches: Vec<Uuid> = changing
            .iter()
            .map(|s| s.match_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !matches.is_empty() {
            let referrals = self.referrals_of_matches(&matches).await?;
            let ids: Vec<Uuid> = referrals.iter().map(|(_, r)| *r).collect();
            let mut busy = self.unavailable_of_referrals(&ids).await?;
            for (m, r) in referrals {
                if let Some(times) = busy.remove(&r) {
                    menus.busy.insert(m, times);
                }
            }
        }
        Ok(menus)
    }
}

/// A partnership's slots over the next four weeks, for the move menus. A
/// partnership that cannot align slots yet (no slot policy, a calendar
/// missing) offers no moves; a database failure is an error.
async fn next_slots(
    store: &Store,
    partnership: &Partnership,
    today: NaiveDate,
) -> Result<Vec<Slot>> {
    match partnership_slots(store, partnership, today, today + Duration::days(27)).await {
        Ok(found) => Ok(found.alignment.slots),
        Err(e @ (Error::Database(_) | Error::Internal { .. })) => Err(e),
        Err(_) => Ok(Vec::new()),
    }
}

/// The supervisor filter's choices: the school's own staff who supervise
/// any of these sessions.
fn supervisor_choices(staff: &Option<StaffView>, sessions: &[Session]) -> Vec<Choice> {
    staff
        .iter()
        .flat_map(|v| &v.own_staff)
        .filter(|u| sessions.iter().any(|s| s.supervisors.contains(&u.id)))
        .map(|u| Choice {
            id: u.id,
            name: u.full_name(),
        })
        .collect()
}

/// The partnership filter's choices, each named by the other school.
fn partner_choices(
    partnerships: &[Partnership],
    school: Uuid,
    people: &People,
) -> Result<Vec<Choice>> {
    partnerships
        .iter()
        .map(|p| {
            let partner = people
                .schools
                .get(&p.partner_of(school))
                .ok_or(Error::NotFound("school"))?;
            Ok(Choice {
                id: p.id,
                name: partner.name.clone(),
            })
        })
        .collect()
}

/// What every row of one page shares.
struct Page<'a> {
    store: &'a Store,
    viewer: &'a User,
    own: &'a School,
    today: NaiveDate,
    people: &'a People,
    own_staff: &'a [User],
    menus: &'a MoveMenus,
}

impl Page<'_> {
    async fn row(&self, session: Session, can_change: bool) -> Result<Row> {
        let names = self.people.names(&session)?;
        let (date, time) = local_of(&session, &self.own.slug);
        let student = self.viewer.role == Role::Student;
        let supervisor = self
            .own_staff
            .iter()
            .find(|u| session.supervisors.contains(&u.id))
            .map(|u| u.full_name());
        let moves = if can_change {
            self.moves(&session)?
        } else {
            Vec::new()
        };
        let can_join =
            session.status.is_live() && date == self.today && self.in_call(&session).await?;
        Ok(Row {
            who: who(self.viewer.id, student, &session, &names),
            day: day_label(date),
            date,
            time,
            can_change,
            can_restore: false,
            moves,
            supervisor,
            can_join,
            call_ended: false,
            session,
        })
    }

    /// Whether the viewer may enter the session's call (the calls' rule).
    async fn in_call(&self, session: &Session) -> Result<bool> {
        // Only a safeguarding lead outside the session costs a query here.
        crate::attendance::has_seat(self.store, self.viewer, session).await
    }

    /// Only slots both students can make, by the optimiser's rules.
    fn moves(&self, session: &Session) -> Result<Vec<super::super::listing::MoveOption>> {
        let slug = |user: Uuid| -> Result<Option<&str>> {
            Ok(self.people.school_of(user)?.map(|s| s.slug.as_str()))
        };
        let (mentor_slug, mentee_slug) = (slug(session.mentor_id)?, slug(session.mentee_id)?);
        let free = self
            .menus
            .free
            .get(&session.mentor_id)
            .ok_or(Error::NotFound("mentor"))?;
        let busy = self
            .menus
            .busy
            .get(&session.match_id)
            .map_or(&[][..], Vec::as_slice);
        let now = Utc::now();
        Ok(self
            .menus
            .slots
            .get(&session.partnership_id)
            .into_iter()
            .flatten()
            .filter(|slot| slot.start_utc > now && slot.start_utc != session.starts_at)
            .filter(|slot| slot_fits(free, busy, mentor_slug, mentee_slug, slot).is_none())
            .filter_map(|slot| move_option(slot, &self.own.slug))
            .collect())
    }
}
