//! Schools: the organisations that own pupils, staff and calendars.
//!
//! A school has a short slug (used by IT staff in scripts), a name, and the
//! IANA time zone that all of its local rules (bell times, term dates) are
//! read in. Input is parsed into newtypes here so that nothing behind them
//! re-checks it.
//!
//! `store` keeps the `schools` table; `http` serves the JSON API and
//! `pages` the administrators' Schools page, both through [`create`].

pub mod http;
pub mod pages;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::people::accounts::{ParsedAccount, StaffInput};
use crate::store::Store;

/// A school's short, URL-safe name: lowercase letters, digits and hyphens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Names what is wrong with a bad slug.
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
    /// Reads an IANA zone name such as `Europe/London`; a Windows zone name
    /// is refused with the IANA name to use.
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

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// An ISO 3166-1 alpha-2 country code, and an optional ISO 3166-2
/// subdivision (bank holidays differ between, say, `GB-SCT` and `GB-ENG`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale {
    pub(crate) country: String,
    pub(crate) region: Option<String>,
}

impl Locale {
    /// Reads `country` (e.g. `GB`) and an optional `region` (e.g. `GB-NIR`).
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolName(pub(crate) String);

impl SchoolName {
    /// One line, not blank, at most 120 characters.
    pub fn parse(raw: &str) -> Result<Self> {
        crate::text::line("name", raw, 120, true).map(SchoolName)
    }
}

/// Finds the school `raw` names, by slug or id; one that does not exist is
/// an [`Error::Invalid`] naming `field`, so the person who typed it is told
/// which of their inputs is wrong.
pub async fn find(store: &Store, raw: &str, field: &'static str) -> Result<School> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(field, "name a school (its slug or id)"));
    }
    let found = match Uuid::parse_str(raw) {
        Ok(id) => store.school(id).await,
        Err(_) => store.school_by_slug(raw).await,
    };
    match found {
        Err(Error::NotFound(_)) => Err(Error::invalid(
            field,
            format!("no school is called `{raw}`"),
        )),
        other => other,
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct School {
    pub id: Uuid,
    /// Short name for scripts and URLs.
    pub slug: String,
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// ISO 3166-2 subdivision, if given.
    pub region: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl School {
    /// The school's time zone (stored as checked, so this fails only on a
    /// row written by hand).
    pub fn tz(&self) -> Result<chrono_tz::Tz> {
        Ok(SchoolTz::parse(&self.time_zone)?.tz())
    }

    /// Today's date where the school is (dates in its rules are local).
    pub fn today(&self) -> Result<chrono::NaiveDate> {
        Ok(Utc::now().with_timezone(&self.tz()?).date_naive())
    }
}

/// A school as submitted by a form, the API or the CLI, before parsing.
#[derive(Clone, Debug, Deserialize)]
pub struct SchoolInput {
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    /// See [`Locale`]; defaults to `GB`.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
}

/// A school whose every field has been parsed.
#[derive(Clone, Debug)]
pub struct NewSchool {
    pub(crate) slug: Slug,
    pub(crate) name: SchoolName,
    pub(crate) tz: SchoolTz,
    pub(crate) locale: Locale,
}

impl NewSchool {
    /// Parses every field, reporting the first that is wrong.
    pub fn parse(input: &SchoolInput) -> Result<Self> {
        let school = NewSchool {
            slug: Slug::parse(&input.slug)?,
            name: SchoolName::parse(&input.name)?,
            tz: SchoolTz::parse(&input.time_zone)?,
            locale: Locale::parse(
                input.country.as_deref().unwrap_or("GB"),
                input.region.as_deref(),
            )?,
        };
        school.check_summer_time()?;
        Ok(school)
    }

    /// Refuses a zone without summer time (GMT, UTC) for a school in a
    /// country that has it (the UK, Ireland): a UK school on `GMT` is an hour out from the
    /// last Sunday in March, and every summer slot is lost.
    fn check_summer_time(&self) -> Result<()> {
        let local = match self.locale.country.as_str() {
            "GB" => "Europe/London",
            "IE" => "Europe/Dublin",
            _ => return Ok(()),
        };
        let name = self.tz.name();
        let offset = |month| {
            use chrono::{Offset, TimeZone};
            chrono::NaiveDate::from_ymd_opt(2026, month, 15)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .map(|t| self.tz.tz().offset_from_utc_datetime(&t).fix())
        };
        let fixed = offset(1) == offset(7);
        if fixed {
            return Err(Error::invalid(
                "time_zone",
                format!(
                    "`{name}` has no summer time, but {} has: from the last Sunday in March every slot would be an hour out. Use `{local}`, or give the country the school is in",
                    self.locale.country
                ),
            ));
        }
        Ok(())
    }
}

/// A school's first coordinator, created with it.
#[derive(Clone, Deserialize)]
pub struct CoordinatorInput {
    pub username: String,
    pub password: String,
    pub given_name: String,
    pub family_name: String,
}

/// Adds a school (and its first coordinator, if given): parses everything
/// first, then writes school and coordinator together.
pub async fn create(
    store: &Store,
    actor: &Actor,
    school: &SchoolInput,
    coordinator: Option<CoordinatorInput>,
) -> Result<School> {
    authorize(actor, Action::CreateSchool)?;
    let new_school = NewSchool::parse(school)?;
    let coordinator = match coordinator {
        None => None,
        Some(c) => Some(parse_coordinator(c)?.hash().await?),
    };
    let created = store
        .create_school(&new_school, coordinator.as_ref())
        .await?;
    tracing::info!(school = %created.id, slug = %created.slug, by = %actor.user.id, "school created");
    Ok(created)
}

/// A coordinator's account, its errors naming the `coordinator.` fields the
/// form and the API show them against.
fn parse_coordinator(c: CoordinatorInput) -> Result<ParsedAccount> {
    ParsedAccount::staff(&StaffInput {
        username: c.username,
        password: c.password,
        given_name: c.given_name,
        family_name: c.family_name,
        role: "coordinator".into(),
        email: None,
    })
    .map_err(|err| match err {
        Error::Invalid { field, message } => Error::Invalid {
            field: match field {
                "username" => "coordinator.username",
                "password" => "coordinator.password",
                "given_name" => "coordinator.given_name",
                "family_name" => "coordinator.family_name",
                other => other,
            },
            message,
        },
        other => other,
    })
}

/// How a school counts its timetable cycle, as stored on its row: the
/// calendar domain reads these with the zone its local rules are in.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SchoolCycle {
    pub time_zone: String,
    /// A date in Week A; none for the first day of the first term.
    pub cycle_anchor: Option<chrono::NaiveDate>,
    /// Whether holiday weeks advance the cycle.
    pub cycle_holidays_advance: bool,
    /// The days it teaches, as `Sun,Mon,Tue,Wed,Thu`.
    pub teaching_days: String,
}

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
