//! Schools: the organisations that own pupils, staff and calendars.
//!
//! A school has a short slug (used by IT staff in scripts), a name, and the
//! IANA time zone that all of its local rules (bell times, term dates) are
//! read in. Input is parsed into newtypes here so that nothing behind them
//! re-checks it.

pub mod http;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::people::accounts::NewUser;
use crate::store::{Store, unique_violation};
use crate::{on_pool, on_tx};

/// A school's short, URL-safe name: lowercase letters, digits and hyphens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug, naming what is wrong with a bad one.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.len() < 2 || s.len() > 40 {
            return Err(Error::invalid("slug", "must be 2 to 40 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || s.starts_with('-')
            || s.ends_with('-')
        {
            return Err(Error::invalid(
                "slug",
                format!(
                    "`{s}` may use only lowercase letters, digits and inner hyphens, e.g. `hillside-academy`"
                ),
            ));
        }
        Ok(Slug(s.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A school's time zone: an IANA name that chrono-tz knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchoolTz(chrono_tz::Tz);

/// Common Windows zone names, so a coordinator who pastes one from Outlook is
/// told the IANA name to use instead.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("India Standard Time", "Asia/Kolkata"),
];

impl SchoolTz {
    /// Parses an IANA zone name such as `Europe/London`.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if let Some((_, iana)) = WINDOWS_ZONES
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(s))
        {
            return Err(Error::invalid(
                "time_zone",
                format!("`{s}` is a Windows time-zone name; use the IANA name `{iana}`"),
            ));
        }
        s.parse::<chrono_tz::Tz>().map(SchoolTz).map_err(|_| {
            Error::invalid(
                "time_zone",
                format!("`{s}` is not a known IANA time zone (e.g. `Europe/London`)"),
            )
        })
    }

    /// The zone for local-time conversions.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// An ISO 3166-1 alpha-2 country code, and an optional ISO 3166-2
/// subdivision (bank holidays differ between, say, `GB-SCT` and `GB-ENG`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale {
    country: String,
    region: Option<String>,
}

impl Locale {
    /// Parses `country` (e.g. `GB`) and an optional `region` (e.g. `GB-NIR`).
    pub fn parse(country: &str, region: Option<&str>) -> Result<Self> {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Error::invalid(
                "country",
                "must be a two-letter ISO 3166 country code, e.g. `GB`",
            ));
        }
        let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => {
                let r = r.to_ascii_uppercase();
                let valid = r.strip_prefix(&format!("{country}-")).is_some_and(|sub| {
                    (1..=3).contains(&sub.len()) && sub.chars().all(|c| c.is_ascii_alphanumeric())
                });
                if !valid {
                    return Err(Error::invalid(
                        "region",
                        format!(
                            "must be an ISO 3166-2 code within {country}, e.g. `{country}-ENG`"
                        ),
                    ));
                }
                Some(r)
            }
        };
        Ok(Locale { country, region })
    }
}

/// A school's display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolName(String);

impl SchoolName {
    /// Parses a name: not blank, at most 120 characters.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        if s.chars().count() > 120 {
            return Err(Error::invalid("name", "must be at most 120 characters"));
        }
        Ok(SchoolName(s.to_owned()))
    }
}

/// A stored school.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct School {
    /// Stable identifier.
    pub id: Uuid,
    /// Short name for scripts and URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// ISO 3166-2 subdivision, if given.
    pub region: Option<String>,
    /// When the school was added.
    pub created_at: DateTime<Utc>,
}

impl School {
    /// Today's date where the school is (dates in its rules are local).
    pub fn today(&self) -> Result<chrono::NaiveDate> {
        let tz = SchoolTz::parse(&self.time_zone)?.tz();
        Ok(Utc::now().with_timezone(&tz).date_naive())
    }
}

/// A school as submitted by a form, the API or the CLI, before parsing.
#[derive(Clone, Debug, Deserialize)]
pub struct SchoolInput {
    /// See [`Slug`].
    pub slug: String,
    /// See [`SchoolName`].
    pub name: String,
    /// See [`SchoolTz`].
    pub time_zone: String,
    /// See [`Locale`]; defaults to `GB`.
    #[serde(default)]
    pub country: Option<String>,
    /// See [`Locale`].
    #[serde(default)]
    pub region: Option<String>,
}

/// A school whose every field has been parsed.
#[derive(Clone, Debug)]
pub struct NewSchool {
    slug: Slug,
    name: SchoolName,
    tz: SchoolTz,
    locale: Locale,
}

impl NewSchool {
    /// Parses every field, reporting the first that is wrong.
    pub fn parse(input: &SchoolInput) -> Result<Self> {
        Ok(NewSchool {
            slug: Slug::parse(&input.slug)?,
            name: SchoolName::parse(&input.name)?,
            tz: SchoolTz::parse(&input.time_zone)?,
            locale: Locale::parse(
                input.country.as_deref().unwrap_or("GB"),
                input.region.as_deref(),
            )?,
        })
    }
}

fn map_school_conflict(err: sqlx::Error, slug: &Slug) -> Error {
    match unique_violation(&err) {
        Some(c) if c.contains("slug") => Error::conflict(
            "slug",
            format!("a school with slug `{}` already exists", slug.as_str()),
        ),
        _ => Error::Database(err),
    }
}

const SCHOOL_COLUMNS: &str = "id, slug, name, time_zone, country, region, created_at";

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
            crate::people::accounts::insert_user(&mut tx, user, Some(row.id))
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

    /// All schools, by name.
    pub async fn list_schools(&self) -> Result<Vec<School>> {
        let sql = format!("SELECT {SCHOOL_COLUMNS} FROM schools ORDER BY name");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await)?)
    }

    /// One school by id.
    pub async fn school(&self, id: Uuid) -> Result<School> {
        let sql = format!("SELECT {SCHOOL_COLUMNS} FROM schools WHERE id = $1");
        on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound("school"))
    }

    /// One school by slug.
    pub async fn school_by_slug(&self, slug: &str) -> Result<School> {
        let sql = format!("SELECT {SCHOOL_COLUMNS} FROM schools WHERE slug = $1");
        on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(slug)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::NotFound("school"))
    }
}

// ---- Called by calendar (moves into this domain's store.rs when the folder is reshaped) ----

/// How a school counts its timetable cycle, as stored on its row: the
/// calendar domain reads these with the zone its local rules are in.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SchoolCycle {
    pub time_zone: String,
    /// A date in Week A; none for the first day of the first term.
    pub cycle_anchor: Option<chrono::NaiveDate>,
    /// Whether holiday weeks advance the cycle.
    pub cycle_holidays_advance: bool,
}

impl Store {
    /// A school's zone and cycle settings.
    pub async fn school_cycle(&self, school: Uuid) -> Result<SchoolCycle> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT time_zone, cycle_anchor, cycle_holidays_advance FROM schools WHERE id = $1"
        )
        .bind(school)
        .fetch_optional(pool)
        .await)?
        .ok_or(Error::NotFound("school"))
    }
}

/// Sets a school's cycle anchor and whether holidays advance the cycle,
/// inside the caller's transaction (the calendar stores the weeks declared
/// by hand alongside, all or nothing).
pub async fn set_cycle_in_tx(
    tx: &mut crate::store::Tx,
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

// ---- End of the block called by calendar ----

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_windows_zone_name_is_rejected_with_the_iana_name_to_use() {
        let err = SchoolTz::parse("GMT Standard Time").unwrap_err();
        assert_eq!(err.field(), Some("time_zone"));
        assert!(err.to_string().contains("Europe/London"), "{err}");
    }

    #[test]
    fn an_iana_zone_is_accepted_and_keeps_its_canonical_name() {
        assert_eq!(
            SchoolTz::parse(" America/New_York ").unwrap().name(),
            "America/New_York"
        );
        assert!(SchoolTz::parse("Mars/Olympus_Mons").is_err());
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert!(Slug::parse("hillside-academy").is_ok());
        for bad in ["Hillside", "a", "-lead", "trail-", "sp ace", "emoji-🙂"] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn a_region_must_lie_within_its_country() {
        assert!(Locale::parse("gb", Some("gb-sct")).is_ok());
        let err = Locale::parse("GB", Some("US-NY")).unwrap_err();
        assert_eq!(err.field(), Some("region"));
        assert!(Locale::parse("GBR", None).is_err());
    }
}
