//! The school's Referrals page: its referrals with the moves the viewer may
//! make, and the forms that refer a mentee and move a referral on.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{CONCERNS, ConsentInput, Referral, ReferralInput, ReferralStatus, may_move, visible};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::people::accounts::{Role, StudentKind, User};
use crate::state::{AppState, Routes};
use crate::web::{FormFields, Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/school/referrals", referrals_page)
        .post("/school/referrals", referral_submit)
        .post("/school/referrals/{referral_id}/status", status_submit)
}

/// A referral as a row on the page, with the moves the viewer may make.
pub struct ReferralRow {
    pub referral: Referral,
    /// Buttons: (target status, label).
    pub moves: Vec<(&'static str, &'static str)>,
    /// How the viewer may end it, if they may.
    pub end: Option<Ending>,
}

/// Ending a referral, said as what it does: before a match it is withdrawn
/// and nothing else changes; once matched, closing it ends the match and
/// cancels the sessions still to come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Withdraw,
    Close,
}

impl Ending {
    fn of(referral: &Referral, actor: &Actor) -> Option<Self> {
        use ReferralStatus::*;
        if !may_move(referral, actor, Closed) {
            return None;
        }
        Some(match referral.status {
            Draft | Submitted | Approved => Self::Withdraw,
            Matched | Active | Review | Closed => Self::Close,
        })
    }

    pub fn summary(self) -> &'static str {
        match self {
            Self::Withdraw => "Withdraw…",
            Self::Close => "Close…",
        }
    }

    pub fn button(self) -> &'static str {
        match self {
            Self::Withdraw => "Withdraw this referral",
            Self::Close => "Close and cancel the sessions to come",
        }
    }
}

#[derive(askama::Template)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    nav: Nav,
    rows: Vec<ReferralRow>,
    mentees: Vec<User>,
    concerns: &'static [&'static str],
    /// The teaching days to tick as not free: (value, label).
    days: Vec<(&'static str, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
    /// What the form holds: as typed when the server refused it, so
    /// nothing is lost; otherwise the defaults.
    typed: BTreeMap<String, Vec<String>>,
    /// The field the refusal is about, and what is wrong with it, shown
    /// beside the field.
    field_error: Option<(&'static str, String)>,
}

impl ReferralsPage {
    /// A field's value as typed (or its default).
    fn val(&self, key: &str) -> &str {
        self.typed
            .get(key)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }

    /// Whether a checkbox or option was chosen.
    fn chose(&self, key: &str, value: &str) -> bool {
        self.typed
            .get(key)
            .is_some_and(|v| v.iter().any(|x| x == value))
    }

    /// What is wrong with the field `name` (or one of its parts, as
    /// `consent` for `consent.date`), if that is what was refused.
    fn error_on(&self, name: &str) -> Option<&str> {
        self.field_error.as_ref().and_then(|(field, message)| {
            (*field == name || field.strip_prefix(name).is_some_and(|r| r.starts_with('.')))
                .then_some(message.as_str())
        })
    }
}

/// A referral field's name as the form labels it.
fn field_label(field: &str) -> &'static str {
    match field.split('.').next().unwrap_or(field) {
        "mentee_id" => "Mentee",
        "priority" => "Priority",
        "focus" => "Focus requested",
        "planned_weeks" => "Planned length",
        "review_date" => "Review date",
        "concerns" => "Areas of concern",
        "unavailable" => "Not free for mentoring on",
        "preferred_days" => "Would rather meet on",
        "reasons" => "Reasons for referral",
        "strengths" => "Strengths",
        "support_received" => "Support already received",
        "strategies_tried" => "Strategies tried",
        "agencies" => "Other agencies involved",
        "consent" => "Parental consent",
        "entry_criteria_met" => "Entry criteria",
        _ => "The referral",
    }
}

fn moves(referral: &Referral, actor: &Actor) -> Vec<(&'static str, &'static str)> {
    let candidates = [
        (
            ReferralStatus::Submitted,
            "submitted",
            "Submit for countersignature",
        ),
        (
            ReferralStatus::Approved,
            "approved",
            "Countersign and approve",
        ),
        (ReferralStatus::Draft, "draft", "Return to draft"),
        (ReferralStatus::Active, "active", "Mark active"),
        (ReferralStatus::Review, "review", "Start review"),
    ];
    candidates
        .into_iter()
        .filter(|(to, _, _)| may_move(referral, actor, *to))
        .map(|(_, value, label)| (value, label))
        .collect()
}

async fn show(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<ReferralsPage> {
    let defaults = BTreeMap::from([
        ("priority".to_owned(), vec!["2".to_owned()]),
        ("planned_weeks".to_owned(), vec!["6".to_owned()]),
    ]);
    show_form(state, actor, notice, error, defaults, None).await
}

async fn show_form(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: BTreeMap<String, Vec<String>>,
    field_error: Option<(&'static str, String)>,
) -> Result<ReferralsPage> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewReferrals { school })?;
    let referrals = state.store.referrals_at(school).await?;
    let open: Vec<Uuid> = referrals
        .iter()
        .filter(|r| r.status != ReferralStatus::Closed)
        .map(|r| r.mentee_id)
        .collect();
    let mentees = state
        .store
        .users_at_school(school, &[Role::Student])
        .await?
        .into_iter()
        .filter(|u| u.kind == Some(StudentKind::Mentee) && !open.contains(&u.id))
        .collect();
    Ok(ReferralsPage {
        nav: Nav::for_actor(actor),
        rows: referrals
            .into_iter()
            .map(|r| ReferralRow {
                moves: moves(&r, actor),
                end: Ending::of(&r, actor),
                referral: r,
            })
            .collect(),
        mentees,
        concerns: CONCERNS,
        days: state
            .store
            .teaching_days(school)
            .await?
            .in_order()
            .into_iter()
            .map(|d| {
                let name = crate::calendar::model::long_day(d);
                (crate::calendar::model::short_day(d), format!("{name}s"))
            })
            .collect(),
        notice,
        error,
        typed,
        field_error,
    })
}

async fn referrals_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show(&state, &actor, notice_text(q.notice.as_deref()), None).await?,
    )))
}

/// The referral form: repeated `concerns` checkboxes arrive as one string per tick.
async fn referral_submit(
    State(state): State<AppState>,
    actor: Actor,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::WriteReferral { school })?;
    let result = async {
        let input = referral_form(&body)?;
        state.store.create_referral(school, &actor, &input).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/school/referrals?notice=referred").into_response()),
        // Refused: the form again with everything as typed, and what is
        // wrong beside the field it is about.
        Err(Error::Invalid { field, message }) => {
            let mut typed: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in FormFields::parse(&body).0 {
                if k != "csrf" {
                    typed.entry(k).or_default().push(v);
                }
            }
            let top = format!(
                "Nothing was saved yet. {}: {message}. Everything you typed is still below.",
                field_label(field)
            );
            let page = show_form(
                &state,
                &actor,
                None,
                Some(top),
                typed,
                Some((field, message)),
            )
            .await?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(render(&page)),
            )
                .into_response())
        }
        Err(other) => {
            after_form(Err::<(), _>(other), "/school/referrals", |error| {
                show(&state, &actor, None, Some(error))
            })
            .await
        }
    }
}

/// Reads the referral form (an empty or unreadable number is left for
/// [`super::check`] to refuse).
fn referral_form(body: &[u8]) -> Result<ReferralInput> {
    let mut fields = FormFields::parse(body);
    let mentee_id = fields
        .one("mentee_id")
        .parse::<Uuid>()
        .map_err(|_| Error::invalid("mentee_id", "choose the mentee"))?;
    let consent_by = fields.one("consent_given_by");
    let consent_date = fields.one("consent_date");
    let consent = match (consent_by.trim(), consent_date.trim()) {
        ("", "") => None,
        (by, date) => Some(ConsentInput {
            given_by: by.to_owned(),
            date: date
                .parse()
                .map_err(|_| Error::invalid("consent.date", "give the date consent was given"))?,
        }),
    };
    Ok(ReferralInput {
        mentee_id,
        priority: fields.one("priority").parse().unwrap_or(2),
        strengths: fields.one("strengths"),
        concerns: fields.all("concerns"),
        reasons: fields.one("reasons"),
        focus: fields.one("focus").split(',').map(str::to_owned).collect(),
        support_received: fields.one("support_received"),
        strategies_tried: fields.one("strategies_tried"),
        agencies: fields.one("agencies"),
        consent,
        entry_criteria_met: !fields.all("entry_criteria_met").is_empty(),
        unavailable: fields
            .all("unavailable_day")
            .into_iter()
            .map(|day| super::Unavailable {
                week: None,
                day,
                period: None,
            })
            .collect(),
        preferred_days: fields.all("preferred_day"),
        planned_weeks: fields.one("planned_weeks").parse().unwrap_or(0),
        review_date: match fields.one("review_date").trim() {
            "" => None,
            raw => Some(
                raw.parse()
                    .map_err(|_| Error::invalid("review_date", format!("`{raw}` is not a date")))?,
            ),
        },
    })
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn status_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    let referral = visible(&state.store, &actor, id).await?;
    authorize(
        &actor,
        Action::WriteReferral {
            school: referral.school_id,
        },
    )?;
    let result = async {
        let to: ReferralStatus = form.to.parse()?;
        let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
        state
            .store
            .set_referral_status(&referral, &actor, to, reason)
            .await
    }
    .await;
    after_form(result, "/school/referrals?notice=referral", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}
