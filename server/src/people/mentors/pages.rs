//! The school's Mentors page: each mentor's readiness, and the forms that
//! set a profile (offers as text, free periods ticked on a grid of the
//! school's bell schedule), record
//! training and clear a mentor, and the button that issues a mentor's
//! volunteering certificate (the certificates domain's, signed by the
//! coordinator who presses it).

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{FreePeriod, Level, MentorProfile, Offer, ProfileInput, TrainingInput};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::calendar::model::short_day;
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::state::{AppState, Routes};
use crate::web::{FormFields, Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/school/mentors", mentors_page)
        .post("/school/mentors/{user_id}/profile", profile_submit)
        .post("/school/mentors/{user_id}/training", training_submit)
        .post("/school/mentors/{user_id}/clearance", clearance_submit)
        .post("/school/mentors/{user_id}/certificate", certificate_submit)
}

/// A mentor as a row on the page, with their offers and free periods as text.
pub struct MentorRow {
    pub profile: MentorProfile,
    /// "Maths (GCSE); Physics (A level)".
    pub offers_text: String,
    /// "A Mon TUT; * Thu TUT".
    pub free_text: String,
    /// Their newest volunteering certificate, if they have one.
    pub certificate: Option<CertificateLine>,
    /// The grid's cells they are free in ("A Mon TUT").
    pub ticked: std::collections::BTreeSet<String>,
}

/// A checkbox of the grid: its value ("A Mon TUT") and a key for its id
/// ("A-Mon-TUT").
pub type FreeCell = (String, String);

/// One cycle week of the school's timetable as a grid of free periods.
pub struct FreeWeek {
    /// "Week A", or "Every week".
    pub label: String,
    /// Each period code (in the order of the day) and, on each teaching day,
    /// the value of its checkbox where the period runs that day ("A Mon
    /// TUT") with a key for its id ("A-Mon-TUT").
    pub rows: Vec<(String, Vec<Option<FreeCell>>)>,
}

/// The school's bell schedule in force today (or its first) as grids of
/// the periods a mentor can be free in, one per cycle week.
fn free_grid(calendar: &crate::calendar::model::SchoolCalendar) -> Vec<FreeWeek> {
    let today = chrono::Utc::now().with_timezone(&calendar.tz).date_naive();
    let Some(schedule) = calendar
        .schedule_for(today)
        .or_else(|| calendar.schedules.first())
    else {
        return Vec::new();
    };
    (1..=schedule.cycle_weeks)
        .map(|week| {
            let letter = crate::calendar::model::week_label(week);
            let value_week = if schedule.cycle_weeks == 1 {
                "*".to_owned()
            } else {
                letter.clone()
            };
            let periods: Vec<_> = schedule
                .periods
                .iter()
                .filter(|p| p.week.is_none_or(|w| w == week))
                .collect();
            let mut codes: Vec<(chrono::NaiveTime, String)> =
                periods.iter().map(|p| (p.start, p.code.clone())).collect();
            codes.sort();
            let mut seen = std::collections::BTreeSet::new();
            codes.retain(|(_, c)| seen.insert(c.clone()));
            FreeWeek {
                label: if schedule.cycle_weeks == 1 {
                    "Every week".to_owned()
                } else {
                    format!("Week {letter}")
                },
                rows: codes
                    .into_iter()
                    .map(|(_, code)| {
                        let cells = calendar
                            .days
                            .in_order()
                            .into_iter()
                            .map(|day| {
                                let name = short_day(day);
                                periods
                                    .iter()
                                    .any(|p| p.day == day && p.code == code)
                                    .then(|| {
                                        let key = if value_week == "*" {
                                            "all"
                                        } else {
                                            &value_week
                                        };
                                        (
                                            format!("{value_week} {name} {code}"),
                                            format!("{key}-{name}-{code}"),
                                        )
                                    })
                            })
                            .collect();
                        (code, cells)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The grid's cells a mentor's free periods cover.
fn ticked(grid: &[FreeWeek], free: &[FreePeriod]) -> std::collections::BTreeSet<String> {
    grid.iter()
        .flat_map(|w| w.rows.iter().flat_map(|(_, cells)| cells.iter().flatten()))
        .map(|(value, _)| value)
        .filter(|value| {
            let words: Vec<&str> = value.split(' ').collect();
            // A grid of one week says `*`: any week's free period is in it.
            free.iter().any(|f| match words[..] {
                ["*", day, period] => f.day == day && f.period.eq_ignore_ascii_case(period),
                [week, day, period] => f.covers(week, day, period),
                _ => false,
            })
        })
        .cloned()
        .collect()
}

/// A mentor's newest certificate, as the Mentors page mentions it.
pub struct CertificateLine {
    pub code: String,
    pub issued_on: String,
    /// "3 sessions, 1 hour".
    pub figures: String,
}

#[derive(askama::Template)]
#[template(path = "mentors.html")]
struct MentorsPage {
    nav: Nav,
    rows: Vec<MentorRow>,
    can_manage: bool,
    can_clear: bool,
    can_certify: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The school's timetable as free-period grids (empty without bells).
    grid: Vec<FreeWeek>,
    weekdays: Vec<&'static str>,
}

fn level_label(level: Level) -> &'static str {
    match level {
        Level::Ks3 => "KS3",
        Level::Gcse => "GCSE",
        Level::ALevel => "A level",
    }
}

fn offers_text(offers: &[Offer]) -> String {
    offers
        .iter()
        .map(|o| format!("{} ({})", o.subject, level_label(o.level)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn free_text(free: &[FreePeriod]) -> String {
    free.iter()
        .map(|f| format!("{} {} {}", f.week, f.day, f.period))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads "Maths (GCSE); Physics (A level)".
fn parse_offers(raw: &str) -> Result<Vec<Offer>> {
    raw.split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (subject, level) = item
                .rsplit_once('(')
                .and_then(|(s, l)| {
                    Some((s.trim(), l.strip_suffix(')')?.trim().to_ascii_lowercase()))
                })
                .ok_or_else(|| {
                    Error::invalid(
                        "offers",
                        format!("`{item}` should look like `Maths (GCSE)`"),
                    )
                })?;
            let level = match level.replace(['-', ' '], "").as_str() {
                "ks3" => Level::Ks3,
                "gcse" => Level::Gcse,
                "alevel" => Level::ALevel,
                _ => {
                    return Err(Error::invalid(
                        "offers",
                        format!("`{level}` is not a level; use KS3, GCSE or A level"),
                    ));
                }
            };
            Ok(Offer {
                subject: subject.to_owned(),
                level,
            })
        })
        .collect()
}

/// Reads "A Mon TUT; * Thu TUT" (the week may be left out for every week).
fn parse_free(raw: &str) -> Result<Vec<FreePeriod>> {
    raw.split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let words: Vec<&str> = item.split_whitespace().collect();
            match words[..] {
                [week, day, period] => Ok(FreePeriod {
                    week: week.into(),
                    day: day.into(),
                    period: period.into(),
                }),
                [day, period] => Ok(FreePeriod {
                    week: "*".into(),
                    day: day.into(),
                    period: period.into(),
                }),
                _ => Err(Error::invalid(
                    "free_periods",
                    format!("`{item}` should look like `A Mon TUT`"),
                )),
            }
        })
        .collect()
}

async fn show(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<MentorsPage> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewStudents { school })?;
    let can_certify = authorize(actor, Action::IssueCertificate { school }).is_ok();
    let mut certificates = if can_certify {
        state.store.latest_certificates(school).await?
    } else {
        Default::default()
    };
    let calendar = state.store.school_calendar(school).await?;
    let grid = free_grid(&calendar);
    let rows = state
        .store
        .mentor_profiles(school)
        .await?
        .into_iter()
        .map(|p| MentorRow {
            ticked: ticked(&grid, &p.free_periods),
            offers_text: offers_text(&p.offers),
            free_text: free_text(&p.free_periods),
            certificate: certificates.remove(&p.user_id).map(|c| CertificateLine {
                code: c.code.to_string(),
                issued_on: crate::certificates::Printed::date_text(c.printed.signed_on),
                figures: format!(
                    "{} session{}, {}",
                    c.printed.sessions,
                    if c.printed.sessions == 1 { "" } else { "s" },
                    c.printed.hours_text()
                ),
            }),
            profile: p,
        })
        .collect();
    Ok(MentorsPage {
        nav: Nav::for_actor(actor),
        rows,
        can_manage: authorize(actor, Action::ManageMentor { school }).is_ok(),
        can_clear: authorize(actor, Action::ClearMentor { school }).is_ok(),
        can_certify,
        notice,
        error,
        grid,
        weekdays: calendar
            .days
            .in_order()
            .into_iter()
            .map(short_day)
            .collect(),
    })
}

async fn mentors_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show(&state, &actor, notice_text(q.notice.as_deref()), None).await?,
    )))
}

/// The profile form: free periods come as one `free` per ticked cell of
/// the grid, or as text (`free_periods`) where the school has no bells yet.
async fn profile_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ManageMentor { school })?;
    let mut form = FormFields::parse(&body);
    let result = async {
        let ticked = form.all("free");
        let written = form.one("free_periods");
        let free_periods = if ticked.is_empty() {
            parse_free(&written)?
        } else {
            parse_free(&ticked.join(";"))?
        };
        let input = ProfileInput {
            offers: parse_offers(&form.one("offers"))?,
            capacity: form
                .one("capacity")
                .trim()
                .parse()
                .map_err(|_| Error::invalid("capacity", "give a number from 1 to 4"))?,
            free_periods,
        };
        state.store.set_mentor_profile(id, &input).await
    }
    .await;
    after_form(result, "/school/mentors?notice=mentor", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}

#[derive(Deserialize)]
struct TrainingForm {
    #[serde(default)]
    course: String,
    #[serde(default)]
    date: String,
}

async fn training_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<TrainingForm>,
) -> Result<Response, PageError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ManageMentor { school })?;
    let result = async {
        let date = form
            .date
            .trim()
            .parse()
            .map_err(|_| Error::invalid("date", "give the date the training was completed"))?;
        state
            .store
            .record_training(
                id,
                &TrainingInput {
                    course: form.course.clone(),
                    date,
                },
            )
            .await
    }
    .await;
    after_form(result, "/school/mentors?notice=mentor", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}

async fn clearance_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ClearMentor { school })?;
    let result = state.store.clear_mentor(id, &actor).await;
    after_form(result, "/school/mentors?notice=cleared", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}

/// Issues a certificate signed by the coordinator pressing the button; a
/// mentor with nothing delivered yet is told so on the page.
async fn certificate_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::IssueCertificate { school })?;
    let result = async {
        let mentor = state.store.user(id).await?;
        crate::certificates::issue(&state.store, &mentor, &actor.user).await
    }
    .await;
    let done = format!("/school/mentors?notice=certificate#mentor-{id}");
    after_form(result, &done, |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_and_free_periods_read_as_coordinators_write_them() {
        let offers = parse_offers("Maths (GCSE); English poetry (KS3)\nPhysics (A-level)").unwrap();
        assert_eq!(
            offers.iter().map(|o| o.level).collect::<Vec<_>>(),
            vec![Level::Gcse, Level::Ks3, Level::ALevel]
        );
        assert_eq!(offers[1].subject, "English poetry");
        assert_eq!(parse_offers("Maths").unwrap_err().field(), Some("offers"));
        let free = parse_free("A Mon TUT; Thu TUT").unwrap();
        assert_eq!((free[1].week.as_str(), free[1].day.as_str()), ("*", "Thu"));
        assert_eq!(
            parse_free("Monday").unwrap_err().field(),
            Some("free_periods")
        );
    }
}
