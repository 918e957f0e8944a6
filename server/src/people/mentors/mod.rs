//! Mentor readiness: what a mentor offers (subjects and levels), how many
//! mentees they can take at once, when they are free, their training, and
//! their clearance by a member of staff. Only a ready mentor is matched.
//!
//! Here are the types and their rules; `store` keeps the `mentor_profiles`
//! table (a mentor's account is the accounts domain's); `http` is the JSON
//! API and `pages` the school's Mentors page.

pub mod http;
pub mod pages;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, StudentKind, User};
use crate::people::partnerships::partner_school;
use crate::store::Store;

/// The level a mentor can help at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Key Stage 3 (Years 7–9).
    Ks3,
    /// GCSE (Years 10–11).
    Gcse,
    /// A level (Years 12–13).
    ALevel,
}

/// A subject at a level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// E.g. "Maths", "English poetry".
    pub subject: String,
    pub level: Level,
}

/// A period a mentor is free in, in their own school's timetable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreePeriod {
    /// The cycle week (A, B …), or `*` for every week.
    #[serde(default = "every_week")]
    pub week: String,
    /// The weekday (Mon … Fri).
    pub day: String,
    /// The period code (e.g. TUT).
    pub period: String,
}

impl FreePeriod {
    /// Whether this free period is the given period of the mentor's own
    /// timetable: same weekday and period code (any case), and the same
    /// cycle week unless it says `*` (every week).
    pub fn covers(&self, week: &str, day: &str, period: &str) -> bool {
        (self.week == "*" || self.week == week)
            && self.day == day
            && self.period.eq_ignore_ascii_case(period)
    }
}

fn every_week() -> String {
    "*".into()
}

/// What staff set for a mentor.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    pub offers: Vec<Offer>,
    /// Mentees at once (1 to 4).
    pub capacity: u8,
    #[serde(default)]
    pub free_periods: Vec<FreePeriod>,
}

/// Training a mentor has completed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    pub course: String,
    /// When it was completed.
    pub date: NaiveDate,
}

/// A mentor and their readiness, as their own school sees it.
#[derive(Clone, Debug, Serialize)]
pub struct MentorProfile {
    /// The mentor's account.
    pub user_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub year_group: Option<i32>,
    pub offers: Vec<Offer>,
    /// Mentees at once.
    pub capacity: u8,
    pub free_periods: Vec<FreePeriod>,
    pub training_course: Option<String>,
    pub training_date: Option<NaiveDate>,
    /// The member of staff who cleared them.
    pub cleared_by: Option<Uuid>,
    pub cleared_at: Option<DateTime<Utc>>,
    /// Trained, cleared, offering something, with room for a mentee.
    pub ready: bool,
    /// What is missing before they are ready, in words.
    pub missing: Vec<&'static str>,
}

/// What the partner school sees of a ready mentor.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerMentorView {
    /// The mentor (to refer to them in a match).
    pub id: Uuid,
    pub given_name: String,
    pub year_group: Option<i32>,
    pub offers: Vec<Offer>,
    pub capacity: u8,
}

impl From<MentorProfile> for PartnerMentorView {
    fn from(m: MentorProfile) -> Self {
        PartnerMentorView {
            id: m.user_id,
            given_name: m.given_name,
            year_group: m.year_group,
            offers: m.offers,
            capacity: m.capacity,
        }
    }
}

fn check_profile(input: &ProfileInput) -> Result<ProfileInput> {
    if !(1..=4).contains(&input.capacity) {
        return Err(Error::invalid(
            "capacity",
            "a mentor takes 1 to 4 mentees at once",
        ));
    }
    let mut offers: Vec<Offer> = Vec::new();
    for o in &input.offers {
        let subject = o.subject.trim();
        if subject.is_empty() || subject.chars().count() > 60 {
            return Err(Error::invalid(
                "offers",
                "each offer needs a subject of at most 60 characters",
            ));
        }
        if !offers
            .iter()
            .any(|x| x.subject.eq_ignore_ascii_case(subject) && x.level == o.level)
        {
            offers.push(Offer {
                subject: subject.to_owned(),
                level: o.level,
            });
        }
    }
    let mut free = Vec::new();
    for p in &input.free_periods {
        // Whether the school teaches that day is its bell schedule's to say.
        let day = crate::calendar::import::parse_day(p.day.trim().get(..3).unwrap_or(""))
            .map(crate::calendar::model::short_day)
            .ok_or_else(|| {
                Error::invalid(
                    "free_periods",
                    format!("`{}` is not a day of the week (Mon … Sun)", p.day),
                )
            })?;
        let week = p.week.trim().to_ascii_uppercase();
        if !(week == "*" || (week.len() == 1 && week.chars().all(|c| c.is_ascii_uppercase()))) {
            return Err(Error::invalid(
                "free_periods",
                format!("`{}` is not a week (*, A, B …)", p.week),
            ));
        }
        if p.period.trim().is_empty() {
            return Err(Error::invalid(
                "free_periods",
                "each free period needs its period code, e.g. TUT",
            ));
        }
        free.push(FreePeriod {
            week,
            day: (*day).to_owned(),
            period: p.period.trim().to_owned(),
        });
    }
    Ok(ProfileInput {
        offers,
        capacity: input.capacity,
        free_periods: free,
    })
}

/// Checks a course and its date: named, and not in the future.
fn check_training(input: &TrainingInput) -> Result<&str> {
    let course = input.course.trim();
    if course.is_empty() || course.chars().count() > 120 {
        return Err(Error::invalid(
            "course",
            "name the course (at most 120 characters)",
        ));
    }
    if input.date > Utc::now().date_naive() {
        return Err(Error::invalid(
            "date",
            "training cannot be completed in the future",
        ));
    }
    Ok(course)
}

/// What a mentor still lacks before they are ready, in words: something
/// offered, training, and safeguarding clearance.
fn missing(offers: &[Offer], trained: bool, cleared: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if offers.is_empty() {
        missing.push("subjects offered");
    }
    if !trained {
        missing.push("training");
    }
    if !cleared {
        missing.push("safeguarding clearance");
    }
    missing
}

/// The mentor behind an id: a student of the mentor kind.
async fn mentor_account(store: &Store, id: Uuid) -> Result<User> {
    match store.user(id).await {
        Ok(u) if u.role == Role::Student && u.kind == Some(StudentKind::Mentor) => Ok(u),
        Ok(_) | Err(Error::NotFound(_)) => Err(Error::NotFound("mentor")),
        Err(e) => Err(e),
    }
}

/// The partner school's ready mentors, cut down to what matching needs.
pub async fn partner_mentors(
    store: &Store,
    actor: &Actor,
    partnership: Uuid,
) -> Result<Vec<PartnerMentorView>> {
    let (_, partner) = partner_school(store, actor, partnership).await?;
    Ok(store
        .mentor_profiles(partner)
        .await?
        .into_iter()
        .filter(|m| m.ready)
        .map(PartnerMentorView::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_names_what_is_wrong() {
        let good = ProfileInput {
            offers: vec![Offer {
                subject: "Maths".into(),
                level: Level::Gcse,
            }],
            capacity: 2,
            free_periods: vec![FreePeriod {
                week: "a".into(),
                day: "monday".into(),
                period: "TUT".into(),
            }],
        };
        let checked = check_profile(&good).unwrap();
        assert_eq!(
            (
                checked.free_periods[0].week.as_str(),
                checked.free_periods[0].day.as_str()
            ),
            ("A", "Mon")
        );
        let mut bad = good.clone();
        bad.capacity = 9;
        assert_eq!(
            check_profile(&bad).err().and_then(|e| e.field()),
            Some("capacity")
        );
        let mut bad = good.clone();
        bad.free_periods[0].day = "Funday".into();
        assert_eq!(
            check_profile(&bad).err().and_then(|e| e.field()),
            Some("free_periods")
        );
    }
}
