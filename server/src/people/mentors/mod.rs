//! Mentor readiness: what a mentor offers (subjects and levels), how many
//! mentees they can take at once, when they are free, their training, and
//! their clearance by a member of staff. Only a ready mentor is matched.

pub mod http;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::on_pool;
use crate::people::accounts::{Role, StudentKind, User};
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
    /// The subject (e.g. "Maths", "English poetry").
    pub subject: String,
    /// The level.
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
    /// Subjects and levels offered.
    pub offers: Vec<Offer>,
    /// Mentees at once (1 to 4).
    pub capacity: u8,
    /// Free periods.
    #[serde(default)]
    pub free_periods: Vec<FreePeriod>,
}

/// Training a mentor has completed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// The course.
    pub course: String,
    /// When it was completed.
    pub date: NaiveDate,
}

/// A mentor and their readiness, as their own school sees it.
#[derive(Clone, Debug, Serialize)]
pub struct MentorProfile {
    /// The mentor's account.
    pub user_id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Year group.
    pub year_group: Option<i32>,
    /// Offers.
    pub offers: Vec<Offer>,
    /// Capacity.
    pub capacity: u8,
    /// Free periods.
    pub free_periods: Vec<FreePeriod>,
    /// Training course.
    pub training_course: Option<String>,
    /// Training date.
    pub training_date: Option<NaiveDate>,
    /// Who cleared them.
    pub cleared_by: Option<Uuid>,
    /// When.
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
    /// Given name.
    pub given_name: String,
    /// Year group.
    pub year_group: Option<i32>,
    /// Offers.
    pub offers: Vec<Offer>,
    /// Capacity.
    pub capacity: u8,
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Uuid,
    offers: String,
    capacity: i32,
    free_periods: String,
    training_course: Option<String>,
    training_date: Option<NaiveDate>,
    cleared_by: Option<Uuid>,
    cleared_at: Option<DateTime<Utc>>,
}

const DAYS: [&str; 5] = ["Mon", "Tue", "Wed", "Thu", "Fri"];

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
        let day = DAYS
            .iter()
            .find(|d| d.eq_ignore_ascii_case(p.day.trim().get(..3).unwrap_or("")))
            .ok_or_else(|| {
                Error::invalid(
                    "free_periods",
                    format!("`{}` is not a school day (Mon to Fri)", p.day),
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

fn profile(user: &User, row: Option<Row>) -> Result<MentorProfile> {
    let (offers, capacity, free_periods, training_course, training_date, cleared_by, cleared_at) =
        match row {
            None => (Vec::new(), 1, Vec::new(), None, None, None, None),
            Some(r) => (
                serde_json::from_str(&r.offers)
                    .map_err(|e| Error::internal_from("stored offers", e))?,
                u8::try_from(r.capacity).unwrap_or(1),
                serde_json::from_str(&r.free_periods)
                    .map_err(|e| Error::internal_from("stored free periods", e))?,
                r.training_course,
                r.training_date,
                r.cleared_by,
                r.cleared_at,
            ),
        };
    let mut missing = Vec::new();
    if Vec::<Offer>::is_empty(&offers) {
        missing.push("subjects offered");
    }
    if training_date.is_none() {
        missing.push("training");
    }
    if cleared_by.is_none() {
        missing.push("safeguarding clearance");
    }
    Ok(MentorProfile {
        user_id: user.id,
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        year_group: user.year_group,
        ready: missing.is_empty(),
        missing,
        offers,
        capacity,
        free_periods,
        training_course,
        training_date,
        cleared_by,
        cleared_at,
    })
}

/// The mentor behind an id: a student of the mentor kind.
async fn mentor(store: &Store, id: Uuid) -> Result<User> {
    match store.user(id).await {
        Ok(u) if u.role == Role::Student && u.kind == Some(StudentKind::Mentor) => Ok(u),
        Ok(_) | Err(Error::NotFound(_)) => Err(Error::NotFound("mentor")),
        Err(e) => Err(e),
    }
}

impl Store {
    async fn profile_row(&self, user: Uuid) -> Result<Option<Row>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT user_id, offers, capacity, free_periods, training_course, training_date, cleared_by, cleared_at \
             FROM mentor_profiles WHERE user_id = $1"
        )
        .bind(user)
        .fetch_optional(pool)
        .await
        })?)
    }

    /// The mentor whose id this is, and their school.
    pub async fn mentor_school(&self, id: Uuid) -> Result<Uuid> {
        mentor(self, id)
            .await?
            .school_id
            .ok_or(Error::NotFound("mentor"))
    }

    /// One mentor's profile.
    pub async fn mentor_profile(&self, id: Uuid) -> Result<MentorProfile> {
        let user = mentor(self, id).await?;
        profile(&user, self.profile_row(id).await?)
    }

    /// Every mentor at a school, with their readiness (one query for all
    /// the profiles, not one per mentor).
    pub async fn mentor_profiles(&self, school: Uuid) -> Result<Vec<MentorProfile>> {
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT p.user_id, p.offers, p.capacity, p.free_periods, p.training_course, p.training_date, \
             p.cleared_by, p.cleared_at FROM mentor_profiles p JOIN users u ON u.id = p.user_id \
             WHERE u.school_id = $1"
        )
        .bind(school)
        .fetch_all(pool)
        .await
        })?;
        let mut rows: std::collections::HashMap<Uuid, Row> =
            rows.into_iter().map(|r| (r.user_id, r)).collect();
        self.users_at_school(school, &[Role::Student])
            .await?
            .into_iter()
            .filter(|u| u.kind == Some(StudentKind::Mentor))
            .map(|u| {
                let row = rows.remove(&u.id);
                profile(&u, row)
            })
            .collect()
    }

    /// Sets what a mentor offers, their capacity and free periods (keeping
    /// training and clearance).
    pub async fn set_mentor_profile(
        &self,
        id: Uuid,
        input: &ProfileInput,
    ) -> Result<MentorProfile> {
        mentor(self, id).await?;
        let input = check_profile(input)?;
        let offers = serde_json::to_string(&input.offers)
            .map_err(|e| Error::internal_from("offers JSON", e))?;
        let free = serde_json::to_string(&input.free_periods)
            .map_err(|e| Error::internal_from("free periods JSON", e))?;
        let exists = self.profile_row(id).await?.is_some();
        let sql = if exists {
            "UPDATE mentor_profiles SET offers = $2, capacity = $3, free_periods = $4, updated_at = $5 WHERE user_id = $1"
        } else {
            "INSERT INTO mentor_profiles (user_id, offers, capacity, free_periods, updated_at) VALUES ($1, $2, $3, $4, $5)"
        };
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(&offers)
            .bind(i32::from(input.capacity))
            .bind(&free)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        self.mentor_profile(id).await
    }

    /// Records a mentor's training.
    pub async fn record_training(&self, id: Uuid, input: &TrainingInput) -> Result<MentorProfile> {
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
        self.ensure_profile(id).await?;
        on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE mentor_profiles SET training_course = $2, training_date = $3, updated_at = $4 WHERE user_id = $1"
        )
        .bind(id)
        .bind(course)
        .bind(input.date)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.mentor_profile(id).await
    }

    /// Records that `actor` has cleared the mentor on safeguarding grounds.
    pub async fn clear_mentor(&self, id: Uuid, actor: &Actor) -> Result<MentorProfile> {
        self.ensure_profile(id).await?;
        on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE mentor_profiles SET cleared_by = $2, cleared_at = $3, updated_at = $3 WHERE user_id = $1"
        )
        .bind(id)
        .bind(actor.user.id)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.mentor_profile(id).await
    }

    async fn ensure_profile(&self, id: Uuid) -> Result<()> {
        mentor(self, id).await?;
        if self.profile_row(id).await?.is_none() {
            on_pool!(self, |pool| {
                sqlx::query(
                "INSERT INTO mentor_profiles (user_id, offers, capacity, free_periods, updated_at) VALUES ($1, '[]', 1, '[]', $2)"
            )
            .bind(id)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }
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
        bad.free_periods[0].day = "Saturday".into();
        assert_eq!(
            check_profile(&bad).err().and_then(|e| e.field()),
            Some("free_periods")
        );
    }
}
