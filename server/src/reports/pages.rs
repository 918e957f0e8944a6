//! The Reports page: one report (a school's, a partnership's or a group's)
//! with its headline, charts, tables and a CSV link for each table, for
//! the range chosen (or a term, one tap away).
//!
//! `/reports` is the reader's own: a coordinator's or safeguarding lead's
//! school, a scheme lead's group. The page prints on A4 as it shows (the
//! print stylesheet drops the menus and forms and keeps each chart with
//! its table).

use axum::extract::{Path, Query, State};
use axum::response::Html;
use uuid::Uuid;

use super::charts::{self, AMBER, BLUE, Bar, SLATE, TEAL};
use super::http::ReportQuery;
use super::{DateRange, Report, Scope, ScopeKind, Table, build, hours_text, percent};
use crate::auth::Actor;
use crate::error::{Error, PageError, Result};
use crate::people::accounts::Role;
use crate::state::{AppState, Routes};
use crate::web::{Nav, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/reports", own_report)
        .get("/reports/partnerships/{partnership_id}", partnership_report)
        .get("/reports/groups/{group_id}", group_report)
}

/// The SVG of each chart (empty when it would have nothing to show).
#[derive(Default)]
struct Charts {
    people: String,
    sessions: String,
    identifiers: String,
    targets: String,
    terms: String,
}

/// A link to another report the reader may open (a school's partnerships).
struct Link {
    href: String,
    label: String,
}

#[derive(askama::Template)]
#[template(path = "reports.html")]
struct ReportPage {
    nav: Nav,
    /// "School report", "Partnership report", "Group report".
    kind_label: &'static str,
    scope_name: String,
    /// This page's path, for the range form and the term links.
    path: String,
    /// Where the CSV of each table is fetched from, up to `table=`.
    csv_base: String,
    from: String,
    to: String,
    report: Option<Report>,
    headline: String,
    hours: String,
    attendance: String,
    charts: Charts,
    tables: Vec<Table>,
    /// The first school's terms, as ranges one tap away.
    term_links: Vec<Link>,
    others: Vec<Link>,
    error: Option<String>,
}

impl ReportPage {
    fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn draw(report: &Report) -> Result<Charts> {
    let m = &report.mentors;
    let e = &report.mentees;
    let s = &report.sessions;
    let people = charts::bars(
        &[
            Bar::count("Mentors recruited", m.recruited, BLUE),
            Bar::count("Mentors trained", m.trained, BLUE),
            Bar::count("Mentors cleared", m.cleared, BLUE),
            Bar::count("Mentees referred", e.referred, TEAL),
            Bar::count("Mentees approved", e.approved, TEAL),
            Bar::count("Mentees matched", e.matched, TEAL),
        ],
        None,
    )?;
    let sessions = charts::bars(
        &[
            Bar::count("Delivered", s.delivered, TEAL),
            Bar::count("Missed", s.missed, AMBER),
            Bar::count("Cancelled", s.cancelled, SLATE),
            Bar::count("Still to come", s.to_come, BLUE),
        ],
        None,
    )?;
    let identifiers = if report.identifiers.is_empty() {
        String::new()
    } else {
        let rows: Vec<_> = report
            .identifiers
            .iter()
            .map(|i| (i.label.clone(), i.baseline_average, i.exit_average))
            .collect();
        charts::paired(&rows, "Baseline", "Exit")?
    };
    let t = &report.targets;
    let targets = if t.met + t.partly_met + t.dropped + t.open == 0 {
        String::new()
    } else {
        charts::bars(
            &[
                Bar::count("Met", t.met, TEAL),
                Bar::count("Partly met", t.partly_met, BLUE),
                Bar::count("Dropped", t.dropped, SLATE),
                Bar::count("Still open", t.open, AMBER),
            ],
            None,
        )?
    };
    let terms = if report.terms.is_empty() {
        String::new()
    } else {
        let bars: Vec<Bar> = report
            .terms
            .iter()
            .map(|term| {
                let hours = term.sessions.hours_delivered();
                Bar {
                    label: term.label.clone(),
                    value: hours,
                    shown: hours_text(hours),
                    colour: TEAL,
                }
            })
            .collect();
        charts::bars(&bars, None)?
    };
    Ok(Charts {
        people,
        sessions,
        identifiers,
        targets,
        terms,
    })
}

async fn show(
    state: &AppState,
    actor: &Actor,
    scope: Scope,
    path: String,
    api: String,
    q: &ReportQuery,
) -> Result<ReportPage> {
    let kind_label = match scope.kind {
        ScopeKind::School => "School report",
        ScopeKind::Partnership => "Partnership report",
        ScopeKind::Group => "Group report",
    };
    let term_links = term_links(state, &scope, &path).await?;
    let others = if scope.kind == ScopeKind::School {
        let mut links = Vec::new();
        for p in scope
            .partnerships
            .iter()
            .filter(|p| p.status == crate::people::partnerships::PartnershipStatus::Accepted)
        {
            let partner = state.store.school(p.partner_of(scope.id)).await?;
            links.push(Link {
                href: format!("/reports/partnerships/{}", p.id),
                label: format!("With {}", partner.name),
            });
        }
        links
    } else {
        Vec::new()
    };
    let mut page = ReportPage {
        nav: Nav::for_actor(actor),
        kind_label,
        scope_name: scope.name.clone(),
        path,
        csv_base: String::new(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        report: None,
        headline: String::new(),
        hours: String::new(),
        attendance: String::new(),
        charts: Charts::default(),
        tables: Vec::new(),
        term_links,
        others,
        error: None,
    };
    let range = match q.range() {
        Ok(r) => r,
        Err(err @ Error::Invalid { .. }) => {
            page.error = Some(err.to_string());
            return Ok(page);
        }
        Err(err) => return Err(err),
    };
    page.from = range.from.to_string();
    page.to = range.to.to_string();
    match build(&state.store, &scope, range).await {
        Ok(report) => {
            page.csv_base = format!(
                "{api}?from={}&to={}&format=csv&table=",
                range.from, range.to
            );
            page.headline = report.headline();
            page.hours = hours_text(report.sessions.hours_delivered());
            page.attendance = percent(report.sessions.attendance_rate());
            page.charts = draw(&report)?;
            page.tables = report.tables();
            page.report = Some(report);
        }
        // An empty range says so on the page, with the form to choose
        // another.
        Err(err @ Error::Invalid { .. }) => page.error = Some(err.to_string()),
        Err(err) => return Err(err),
    }
    Ok(page)
}

async fn term_links(state: &AppState, scope: &Scope, path: &str) -> Result<Vec<Link>> {
    let Some(first) = scope.schools.first() else {
        return Ok(Vec::new());
    };
    let year = DateRange::school_year_of(chrono::Utc::now().date_naive());
    let mut terms: Vec<_> = state
        .store
        .calendar_entries(first.id)
        .await?
        .into_iter()
        .filter(|e| e.kind == crate::calendar::model::EntryKind::Term)
        // This school year's terms and the last one's: enough to choose from.
        .filter(|e| e.end_date >= year.from - chrono::Days::new(366) && e.start_date <= year.to)
        .collect();
    terms.sort_by_key(|e| e.start_date);
    Ok(terms
        .into_iter()
        .map(|e| Link {
            href: format!("{path}?from={}&to={}", e.start_date, e.end_date),
            label: e.label,
        })
        .collect())
}

async fn own_report(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<ReportQuery>,
) -> Result<Html<String>, PageError> {
    let (scope, api) = match (actor.role(), actor.school_id(), actor.user.group_id) {
        (Role::SchemeLead, _, Some(group)) => (
            Scope::group(&state.store, &actor, group).await?,
            format!("/api/reports/groups/{group}"),
        ),
        (_, Some(school), _) => {
            let school = state.store.school(school).await?;
            let id = school.id;
            (
                Scope::school(&state.store, &actor, school).await?,
                format!("/api/reports/schools/{id}"),
            )
        }
        _ => return Err(Error::Forbidden.into()),
    };
    let page = show(&state, &actor, scope, "/reports".into(), api, &q).await?;
    Ok(Html(render(&page)))
}

async fn partnership_report(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ReportQuery>,
) -> Result<Html<String>, PageError> {
    let scope = Scope::partnership(&state.store, &actor, id).await?;
    let page = show(
        &state,
        &actor,
        scope,
        format!("/reports/partnerships/{id}"),
        format!("/api/reports/partnerships/{id}"),
        &q,
    )
    .await?;
    Ok(Html(render(&page)))
}

async fn group_report(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ReportQuery>,
) -> Result<Html<String>, PageError> {
    let scope = Scope::group(&state.store, &actor, id).await?;
    let page = show(
        &state,
        &actor,
        scope,
        format!("/reports/groups/{id}"),
        format!("/api/reports/groups/{id}"),
        &q,
    )
    .await?;
    Ok(Html(render(&page)))
}
