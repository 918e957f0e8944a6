//! The `schools` table: adding a school (with its first coordinator, in one
//! transaction) and finding schools by id or slug.

use chrono::Utc;
use uuid::Uuid;

use super::{NewSchool, School, SchoolCycle, Slug};
use crate::error::{Error, Result};
use crate::people::accounts::NewUser;
use crate::store::{Constraint, Store, Tx, placeholders};
use crate::{on_pool, on_tx};

fn map_school_conflict(err: sqlx::Error, slug: &Slug) -> Error {
    match Constraint::of(&err) {
        Some(Constraint::SchoolSlug) => Error::conflict(
            "slug",
            format!("a school with slug `{}` already exists", slug.as_str()),
        ),
        _ => Error::Database(err),
    }
}

const SCHOOL_COLUMNS: &str = "id, slug, name, time_zone, country, region, created_at";

/// The schools with these ids (a pair's two, say), read inside an open
/// transaction in one statement.
pub(crate) async fn schools_in_tx(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<School>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {SCHOOL_COLUMNS} FROM schools WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    Ok(on_tx!(&mut *tx, |conn| {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(conn).await
    })?)
}

impl Store {
    /// Adds a school and, optionally, its first coordinator, in one
    /// transaction: either both exist afterwards or neither does.
    pub async fn create_school(
        &self,
        school: &NewSchool,
        first_coordinator: Option<&NewUser>,
    ) -> Result<School> {
        let row = School {
            id: Uuid::new_v4(),
            slug: school.slug.as_str().to_owned(),
            name: school.name.0.clone(),
            time_zone: school.tz.name().to_owned(),
            country: school.locale.country.clone(),
            region: school.locale.region.clone(),
            created_at: Utc::now(),
        };
        let sql = "INSERT INTO schools (id, slug, name, time_zone, country, region, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(sql)
            .bind(row.id)
            .bind(&row.slug)
            .bind(&row.name)
            .bind(&row.time_zone)
            .bind(&row.country)
            .bind(&row.region)
            .bind(row.created_at)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|err| map_school_conflict(err, &school.slug))?;
        if let Some(user) = first_coordinator {
            crate::people::accounts::store::insert_user(&mut tx, user, Some(row.id))
                .await
                .map_err(|err| match err {
                    Error::Conflict { message, .. } => Error::Conflict {
                        field: "coordinator.username",
                        message,
                    },
                    other => other,
                })?;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Every school, ordered by name.
    pub async fn list_schools(&self) -> Result<Vec<School>> {
        let sql = format!("SELECT {SCHOOL_COLUMNS} FROM schools ORDER BY name");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn school(&self, id: Uuid) -> Result<School> {
        let sql = format!("SELECT {SCHOOL_COLUMNS} FROM schools WHERE id = $1");
        on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound("school"))
    }

    pub async fn school_by_slug(&self, slug: &str) -> Result<School> {
        let sql = format!("SELECT {SCHOOL_COLUMNS} FROM schools WHERE slug = $1");
        on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(slug)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound("school"))
    }
}

impl Store {
    /// A school's zone and cycle settings.
    pub async fn school_cycle(&self, school: Uuid) -> Result<SchoolCycle> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT time_zone, cycle_anchor, cycle_holidays_advance, teaching_days FROM schools WHERE id = $1"
        )
        .bind(school)
        .fetch_optional(pool)
        .await)?
        .ok_or(Error::NotFound("school"))
    }
}

/// Sets the days a school teaches (as `Sun,Mon,Tue,Wed,Thu`) inside the
/// caller's transaction, which also cancels what they no longer hold.
pub(crate) async fn set_teaching_days_in_tx(tx: &mut Tx, school: Uuid, days: &str) -> Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE schools SET teaching_days = $1 WHERE id = $2"
    )
    .bind(days)
    .bind(school)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets a school's cycle anchor and whether holidays advance the cycle,
/// inside the caller's transaction (the calendar stores the weeks declared
/// by hand alongside, all or nothing).
pub(crate) async fn set_cycle_in_tx(
    tx: &mut Tx,
    school: Uuid,
    anchor: Option<chrono::NaiveDate>,
    holidays_advance: bool,
) -> Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE schools SET cycle_anchor = $1, cycle_holidays_advance = $2 WHERE id = $3"
    )
    .bind(anchor)
    .bind(holidays_advance)
    .bind(school)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
