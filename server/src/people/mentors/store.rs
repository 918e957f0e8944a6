//! The `mentor_profiles` table: what a mentor offers, their capacity and
//! free periods (as JSON text), their training and their clearance. A
//! mentor without a row yet has an empty profile; the row is made on the
//! first change.

mod figures;
pub use figures::MentorReadiness;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    MentorProfile, ProfileInput, TrainingInput, check_profile, check_training, mentor_account,
    missing,
};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::on_pool;
use crate::people::accounts::{Role, StudentKind, User};
use crate::store::{IN_LIST_MAX, Store, placeholders};

const COLUMNS: &str = "user_id, offers, capacity, free_periods, training_course, training_date, \
                       cleared_by, cleared_at";

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
    let missing = missing(&offers, training_date.is_some(), cleared_by.is_some());
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

impl Store {
    async fn profile_row(&self, user: Uuid) -> Result<Option<Row>> {
        let sql = format!("SELECT {COLUMNS} FROM mentor_profiles WHERE user_id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user)
            .fetch_optional(pool)
            .await)?)
    }

    /// The rows of these mentors, in a fixed number of statements however
    /// many mentors there are per statement.
    async fn profile_rows(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Row>> {
        let mut out = HashMap::new();
        for chunk in users.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT {COLUMNS} FROM mentor_profiles WHERE user_id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<Row> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows.into_iter().map(|r| (r.user_id, r)));
        }
        Ok(out)
    }

    /// The mentor whose id this is, and their school.
    pub async fn mentor_school(&self, id: Uuid) -> Result<Uuid> {
        mentor_account(self, id)
            .await?
            .school_id
            .ok_or(Error::NotFound("mentor"))
    }

    pub async fn mentor_profile(&self, id: Uuid) -> Result<MentorProfile> {
        let user = mentor_account(self, id).await?;
        profile(&user, self.profile_row(id).await?)
    }

    /// Every mentor at a school, with their readiness (the profiles read
    /// together, not one query per mentor).
    pub async fn mentor_profiles(&self, school: Uuid) -> Result<Vec<MentorProfile>> {
        let mentors: Vec<User> = self
            .users_at_school(school, &[Role::Student])
            .await?
            .into_iter()
            .filter(|u| u.kind == Some(StudentKind::Mentor))
            .collect();
        let ids: Vec<Uuid> = mentors.iter().map(|u| u.id).collect();
        let mut rows = self.profile_rows(&ids).await?;
        mentors
            .iter()
            .map(|u| profile(u, rows.remove(&u.id)))
            .collect()
    }

    /// Sets what a mentor offers, their capacity and free periods (keeping
    /// training and clearance).
    pub async fn set_mentor_profile(
        &self,
        id: Uuid,
        input: &ProfileInput,
    ) -> Result<MentorProfile> {
        let mentor = mentor_account(self, id).await?;
        let input = check_profile(input)?;
        if let Some(school) = mentor.school_id {
            use crate::calendar::store::{TimetableTime, WithoutSchedule, check_timetable_times};
            let times: Vec<TimetableTime<'_>> = input
                .free_periods
                .iter()
                .map(|p| TimetableTime {
                    week: (p.week != "*").then_some(p.week.as_str()),
                    day: &p.day,
                    period: Some(&p.period),
                    label: format!(
                        "free period {} {} {}",
                        if p.week == "*" { "every week" } else { &p.week },
                        p.day,
                        p.period
                    ),
                })
                .collect();
            // A school may set up its mentors before its bells; their
            // periods are checked once it has a timetable to check them by.
            check_timetable_times(
                self,
                school,
                "free_periods",
                &times,
                WithoutSchedule::Accept,
            )
            .await?;
        }
        let offers = serde_json::to_string(&input.offers)
            .map_err(|e| Error::internal_from("mentor offers JSON", e))?;
        let free = serde_json::to_string(&input.free_periods)
            .map_err(|e| Error::internal_from("mentor free periods JSON", e))?;
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

    pub async fn record_training(&self, id: Uuid, input: &TrainingInput) -> Result<MentorProfile> {
        let course = check_training(input)?;
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
        mentor_account(self, id).await?;
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
