//! Gathering a partnership's matching problem from the store: its weekly
//! slots, approved referrals, mentors (with what approved matches already
//! take of their time and of the iPads), rules and the last proposal.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use uuid::Uuid;

use crate::calendar::store::partnership_slots;
use crate::error::Result;
use crate::matching::{
    HORIZON_WEEKS, MatchInput, MatchRecord, MenteeCase, MentorCase, PeriodRef, Person, SchoolRef,
    WeeklyEnd, weekly_slots,
};
use crate::people::partnerships::Partnership;
use crate::people::referrals::ReferralStatus;
use crate::people::schools::School;
use crate::store::Store;

impl Store {
    /// Gathers a partnership's matching problem: slots over the next
    /// [`HORIZON_WEEKS`] weeks, approved referrals, mentors, rules and the
    /// last proposal's pairs.
    pub async fn match_input(&self, partnership: &Partnership) -> Result<MatchInput> {
        let first = self.school(partnership.proposed_by_school).await?;
        let from = first.today()?;
        let to = from + Duration::weeks(HORIZON_WEEKS) - Duration::days(1);
        let aligned = partnership_slots(self, partnership, from, to).await?;
        let mut slots = weekly_slots(&aligned.alignment.slots);
        let schools = [&aligned.a, &aligned.b];

        // The iPads and mentors are the schools', not the partnership's:
        // approved matches in any partnership of either school count.
        let approved = self.approved_matches_of(schools).await?;
        let held = held_at(&approved, &[&aligned.a.slug, &aligned.b.slug]);
        for slot in &mut slots {
            slot.count_use(&held);
        }

        let mut mentees = Vec::new();
        let mut mentors = Vec::new();
        for school in schools {
            mentees.extend(self.mentees_waiting(school).await?);
            mentors.extend(self.mentors_at(school, &approved).await?);
        }
        // Same data, same order, same proposal, on either database.
        mentees.sort_by_key(|m| m.referral_id);
        mentors.sort_by_key(|m| m.person.id);
        let previous = self
            .latest_proposal(partnership.id)
            .await?
            .map(|p| {
                p.body
                    .matches
                    .iter()
                    .map(|m| ((m.mentee.id, m.mentor.id), m.slot_key.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(MatchInput {
            schools: schools
                .iter()
                .map(|s| SchoolRef {
                    id: s.id,
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                })
                .collect(),
            slots,
            mentees,
            mentors,
            rules: self.match_rules(partnership.id).await?,
            previous,
        })
    }

    /// The approved matches of every partnership either school is in.
    async fn approved_matches_of(&self, schools: [&School; 2]) -> Result<Vec<MatchRecord>> {
        let mut partnerships = BTreeSet::new();
        for school in schools {
            for p in self.partnerships_of(school.id).await? {
                partnerships.insert(p.id);
            }
        }
        let mut matches = Vec::new();
        for p in partnerships {
            matches.extend(self.partnership_matches(p).await?);
        }
        Ok(matches)
    }

    /// A school's mentees with an approved referral, waiting for a match.
    async fn mentees_waiting(&self, school: &School) -> Result<Vec<MenteeCase>> {
        Ok(self
            .referrals_at(school.id)
            .await?
            .into_iter()
            .filter(|r| r.status == ReferralStatus::Approved)
            .map(|r| MenteeCase {
                referral_id: r.id,
                person: Person {
                    id: r.mentee_id,
                    school_id: school.id,
                    given_name: r.given_name.clone(),
                    year_group: r.year_group,
                },
                priority: u8::try_from(r.priority).unwrap_or(1),
                focus: r.focus.clone(),
                unavailable: r.unavailable.clone(),
                preferred_days: r.preferred_days.clone(),
            })
            .collect())
    }

    /// A school's mentors, ready or not, with the room and the periods
    /// their approved matches leave them.
    async fn mentors_at(
        &self,
        school: &School,
        approved: &[MatchRecord],
    ) -> Result<Vec<MentorCase>> {
        let load = mentor_load(approved, &school.slug);
        Ok(self
            .mentor_profiles(school.id)
            .await?
            .into_iter()
            .map(|m| {
                let (count, busy) = load.get(&m.user_id).cloned().unwrap_or_default();
                MentorCase {
                    person: Person {
                        id: m.user_id,
                        school_id: school.id,
                        given_name: m.given_name.clone(),
                        year_group: m.year_group,
                    },
                    ready: m.ready,
                    offers: m.offers.clone(),
                    capacity_left: u32::from(m.capacity).saturating_sub(count),
                    free_periods: m.free_periods.clone(),
                    busy,
                }
            })
            .collect())
    }
}

/// Each of these schools' ends of its approved matches, by slug: the
/// times its iPads and supervisors are already held.
fn held_at(approved: &[MatchRecord], slugs: &[&str]) -> BTreeMap<String, Vec<WeeklyEnd>> {
    let mut held: BTreeMap<String, Vec<WeeklyEnd>> = BTreeMap::new();
    for m in approved {
        for (slug, end) in &m.slot.ends {
            if slugs.contains(&slug.as_str()) {
                held.entry(slug.clone()).or_default().push(end.clone());
            }
        }
    }
    held
}

/// For each mentor: approved matches, and the periods of their own
/// timetable (at the school with this slug) those take. Only the school's
/// own mentors are ever looked up in it.
fn mentor_load(approved: &[MatchRecord], slug: &str) -> BTreeMap<Uuid, (u32, BTreeSet<PeriodRef>)> {
    let mut load: BTreeMap<Uuid, (u32, BTreeSet<PeriodRef>)> = BTreeMap::new();
    for m in approved {
        let entry = load.entry(m.mentor_id).or_default();
        entry.0 += 1;
        if let Some(end) = m.slot.ends.get(slug) {
            entry
                .1
                .insert((end.week.clone(), end.day.clone(), end.period.clone()));
        }
    }
    load
}
