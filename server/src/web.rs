//! Server-rendered pages: askama templates compiled into the binary from
//! `web/templates/`, and the static assets from `web/static/`, so the one
//! binary serves everything with no front-end build step.

use std::future::Future;

use askama::Template;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::auth::Actor;
use crate::error::{Error, PageError, Result};
use crate::people::accounts::Role;

/// Renders a template; a failure (a bug, never input) is logged and shown plainly.
pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "template failed to render");
        "Something went wrong showing this page; it has been logged.".to_owned()
    })
}

/// What the header bar of every signed-in page shows.
#[derive(Clone, Debug)]
pub struct Nav {
    /// The person's given name.
    pub name: String,
    /// Their role, for the menu.
    pub role: Role,
    /// Their role, as words.
    pub role_label: &'static str,
    /// For the sign-out form.
    pub csrf: String,
}

impl Nav {
    /// The header for `actor`.
    pub fn for_actor(actor: &Actor) -> Self {
        Nav {
            name: actor.user.given_name.clone(),
            role: actor.role(),
            role_label: actor.role().label(),
            csrf: actor.csrf_token.clone(),
        }
    }

    /// Whether the menu shows the safeguarding link.
    pub fn is_safeguarding_lead(&self) -> bool {
        self.role == Role::SafeguardingLead
    }

    /// Whether the menu shows school-staff links.
    pub fn is_staff(&self) -> bool {
        self.role.is_school_staff()
    }

    /// Whether the menu shows coordinator links.
    pub fn is_coordinator(&self) -> bool {
        self.role == Role::Coordinator
    }

    /// Whether the menu shows administrator links.
    pub fn is_scheme_lead(&self) -> bool {
        self.role == Role::SchemeLead
    }

    /// Whether the reports are in their menu (the policy decides what
    /// each report shows them).
    pub fn sees_reports(&self) -> bool {
        matches!(
            self.role,
            Role::Coordinator | Role::SafeguardingLead | Role::SchemeLead
        )
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A page that says what went wrong.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Heading.
    pub title: &'static str,
    /// What happened, safe to show.
    pub message: String,
}

/// The embedded static assets: name, content type, seconds a browser may
/// keep it, and the file.
const STATIC: &[(&str, &str, u32, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        3600,
        include_str!("../../web/static/app.css"),
    ),
    ("call.js", JS, 300, include_str!("../../web/static/call.js")),
    (
        "precall.js",
        JS,
        300,
        include_str!("../../web/static/precall.js"),
    ),
    (
        "today.js",
        JS,
        300,
        include_str!("../../web/static/today.js"),
    ),
    (
        "words.js",
        JS,
        300,
        include_str!("../../web/static/words.js"),
    ),
];

const JS: &str = "text/javascript; charset=utf-8";

/// Serves an embedded static asset.
pub async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, ..)| *name == file) {
        Some((_, content_type, max_age, body)) => (
            [
                (header::CONTENT_TYPE, (*content_type).to_owned()),
                (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The `?notice=` a page is redirected to after a form, naming what happened.
#[derive(Debug, serde::Deserialize)]
pub struct NoticeQuery {
    /// A code for [`notice_text`].
    pub notice: Option<String>,
}

/// A page-level message after a form was handled.
pub fn notice_text(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "created" => Some("Saved."),
        "revoked" => Some(
            "Link revoked. Calendars that used it stop updating; your other links keep working.",
        ),
        "digest" => Some("Saved. A digest comes once a day when something has changed."),
        "disabled" => Some(
            "Account turned off. They cannot sign in and have been signed out; their records are kept.",
        ),
        "enabled" => Some("Account turned on again. They can sign in with their password."),
        "password" => Some("Password changed. The student has been signed out everywhere."),
        "proposed" => {
            Some("Partnership proposed. The other school's coordinator can now accept it.")
        }
        "accepted" => Some("Partnership accepted."),
        "group_joined" => Some(
            "Your school has joined the group. Its scheme leads now see your school's figures (counts and averages, never a pupil) in the group's report.",
        ),
        "group_left" => {
            Some("Your school is out of the group. Its reports no longer include your figures.")
        }
        "terms" => Some("Term dates imported. The previous term dates were replaced."),
        "bells" => Some("Bell schedule imported."),
        "cycle" => Some("Week cycle saved."),
        "days" => Some(
            "Teaching days saved. Slots are on those days only, and Week A/B counts each week from the first of them.",
        ),
        "capacity" => Some(
            "iPads and supervisors saved. Every partnership of your school counts against them.",
        ),
        "capacity_removed" => Some("That change is taken back; the one before it holds on."),
        "referred" => {
            Some("Referral saved as a draft. Submit it when it is ready to be countersigned.")
        }
        "referral" => Some("Referral updated."),
        "mentor" => Some("Mentor updated."),
        "cleared" => Some("Mentor cleared. They can now be matched."),
        "certificate" => Some(
            "Certificate issued in your name. Download the PDF below; the mentor can download it from their home page too.",
        ),
        "closure" => Some(
            "Closure added. Slots on those days are gone, and sessions booked on them are cancelled.",
        ),
        "removed" => Some("Removed from the calendar."),
        "calendar_cancelled" => Some(
            "Calendar changed, and the sessions it took are cancelled. A cancelled session can be restored while its slot is free, and pairs left with nothing booked can be booked again, from the Sessions page.",
        ),
        "policy" => Some("Slot policy saved. The slots below use it."),
        "matched" => Some(
            "The optimiser has proposed new pairs. Both coordinators approve them before they are booked.",
        ),
        "rule" => Some("Rule saved and the optimiser run again with it."),
        "session_cancelled" => Some("Session cancelled. Everyone's calendar will drop it."),
        "session_moved" => Some("Session moved. Everyone's calendar will show the new time."),
        "session_restored" => {
            Some("Session restored. It is booked again, and everyone's calendar will show it.")
        }
        "booked_again" => Some(
            "Booked again from the approved matches. Everyone's calendar will show the sessions.",
        ),
        "email" => Some("Saved. Invites for your sessions go to that address from now on."),
        "match_approval" => {
            Some("Approved for your school. The other school's coordinator approves next.")
        }
        "match_approved" => {
            Some("Approved by both schools. The referrals are now matched and ready for booking.")
        }
        _ => None,
    }
}

/// Finishes a form submission. Success redirects to `done` (so a reload does
/// not submit twice); input the person can fix (422, 409) shows the form
/// again via `redisplay`, with the message and what they typed; anything else
/// is an error page.
pub async fn after_form<T, P, Fut>(
    result: Result<T>,
    done: &str,
    redisplay: impl FnOnce(String) -> Fut,
) -> Result<Response, PageError>
where
    Fut: Future<Output = Result<P>>,
    P: Template,
{
    match result {
        Ok(_) => Ok(Redirect::to(done).into_response()),
        Err(err @ (Error::Invalid { .. } | Error::Conflict { .. } | Error::Import(_))) => {
            let status = err.status();
            let page = redisplay(err.to_string()).await?;
            Ok((status, Html(render(&page))).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// The fields of a submitted form, taken out by name.
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    /// The fields of an urlencoded body.
    pub fn parse(body: &[u8]) -> FormFields {
        FormFields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// Every value of a repeated field (ticked checkboxes).
    pub fn all(&mut self, key: &str) -> Vec<String> {
        let (taken, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|(k, _)| k == key);
        self.0 = rest;
        taken.into_iter().map(|(_, v)| v).collect()
    }

    /// A single field's value, or empty.
    pub fn one(&mut self, key: &str) -> String {
        self.all(key).into_iter().next().unwrap_or_default()
    }
}
