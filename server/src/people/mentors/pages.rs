//! The school's Mentors page: each mentor's readiness, and the forms that
//! set a profile (offers and free periods written as text), record
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
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

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
    let rows = state
        .store
        .mentor_profiles(school)
        .await?
        .into_iter()
        .map(|p| MentorRow {
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

#[derive(Deserialize)]
struct ProfileForm {
    #[serde(default)]
    offers: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    free_periods: String,
}

async fn profile_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<ProfileForm>,
) -> Result<Response, PageError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ManageMentor { school })?;
    let result = async {
        let input = ProfileInput {
            offers: parse_offers(&form.offers)?,
            capacity: form
                .capacity
                .trim()
                .parse()
                .map_err(|_| Error::invalid("capacity", "give a number from 1 to 4"))?,
            free_periods: parse_free(&form.free_periods)?,
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
