//! The calendar's pages: a school's calendar (terms, closures, the bell
//! schedule as a week view, the teaching days and the cycle) with its upload and edit forms, and
//! a partnership's slot grid with its policy form (`slots`). The same as
//! JSON is in [`super::http`].
//!
//! Uploading term dates or bells, changing the teaching days, or adding a
//! closure, that would cancel
//! sessions first shows a confirm step listing them ([`ConfirmPage`]); its
//! form carries what was uploaded or typed back, with a fingerprint of the
//! list, so the coordinator does not choose the file again and nothing is
//! cancelled that they were not shown.

mod slots;

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::capacity::{CapacityInput, CapacityPlan, PeriodCapacity, SchoolCapacity};
use super::import::uploaded_text;
use super::model::{
    EntryKind, PeriodKind, SchoolCalendar, TeachingDays, long_day, short_day, week_label,
};
use super::store::{
    CalendarChange, change_bells, change_closure, change_teaching_days, change_term_dates,
    declare_capacity, save_cycle,
};
use super::{ClosureInput, CycleInput, since_always};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::people::accounts::Role;
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{FormFields, Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    let routes = routes
        .get("/school/calendar", calendar_page)
        .post("/school/calendar/terms", upload_terms)
        .post("/school/calendar/bells", upload_bells)
        .post("/school/calendar/cycle", cycle_submit)
        .post("/school/calendar/days", days_submit)
        .post("/school/calendar/closures", closure_submit)
        .post("/school/calendar/capacity", capacity_submit)
        .post(
            "/school/calendar/capacity/{from}/delete",
            capacity_delete_submit,
        )
        .post(
            "/school/calendar/entries/{entry_id}/delete",
            entry_delete_submit,
        );
    slots::routes(routes)
}

/// One cell of the week view.
pub struct Cell {
    pub code: String,
    /// Kind, for colour.
    pub kind: &'static str,
}

/// One row of the week view: a time band and what each weekday has in it.
pub struct Row {
    /// "08:40–09:10".
    pub time: String,
    /// Monday to Friday.
    pub cells: Vec<Option<Cell>>,
}

/// One cycle week of the bell schedule.
pub struct WeekView {
    /// "Week A", or "Every week" for a one-week cycle.
    pub label: String,
    pub rows: Vec<Row>,
}

/// A local time as the pages show it: "08:40".
fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn week_views(calendar: &SchoolCalendar, on: NaiveDate) -> (Option<NaiveDate>, Vec<WeekView>) {
    let Some(schedule) = calendar
        .schedule_for(on)
        .or_else(|| calendar.schedules.iter().min_by_key(|s| s.effective_from))
    else {
        return (None, Vec::new());
    };
    let views = (1..=schedule.cycle_weeks)
        .map(|week| {
            let periods: Vec<_> = schedule
                .periods
                .iter()
                .filter(|p| p.week.is_none_or(|w| w == week))
                .collect();
            let mut bands: Vec<(NaiveTime, NaiveTime)> =
                periods.iter().map(|p| (p.start, p.end)).collect();
            bands.sort();
            bands.dedup();
            let rows = bands
                .into_iter()
                .map(|(start, end)| Row {
                    time: format!("{}–{}", hm(start), hm(end)),
                    cells: calendar
                        .days
                        .in_order()
                        .iter()
                        .map(|day| {
                            periods
                                .iter()
                                .find(|p| p.day == *day && p.start == start && p.end == end)
                                .map(|p| Cell {
                                    code: p.code.clone(),
                                    kind: p.kind.as_str(),
                                })
                        })
                        .collect(),
                })
                .collect();
            WeekView {
                label: if schedule.cycle_weeks == 1 {
                    "Every week".into()
                } else {
                    format!("Week {}", week_label(week))
                },
                rows,
            }
        })
        .collect();
    (Some(schedule.effective_from), views)
}

/// A term or closure as a line on the page.
pub struct EntryLine {
    /// Its id, for removing it.
    pub id: Uuid,
    /// "Wed 2 Sep 2026".
    pub start: String,
    pub end: String,
    /// Whether it is a closure.
    pub closure: bool,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    nav: Nav,
    school: School,
    can_manage: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    entries: Vec<EntryLine>,
    schedule_from: Option<String>,
    schedules: usize,
    weeks: Vec<WeekView>,
    this_week: Option<String>,
    anchor: String,
    holidays_advance: bool,
    weeks_text: String,
    /// The teaching days, in the school's week order, as the grid's heads.
    weekdays: Vec<&'static str>,
    /// Every day of the week from the school's first, and whether it teaches.
    day_choices: Vec<DayChoice>,
    kinds: Vec<&'static str>,
    /// The school's declarations of iPads and supervisors.
    declared: Vec<DeclaredLine>,
    /// The capacity form, as stored today or as typed when refused.
    capacity: CapacityForm,
}

/// A checkbox of the teaching days form.
pub struct DayChoice {
    /// "Sun", the value sent.
    pub value: &'static str,
    /// "Sunday".
    pub label: &'static str,
    pub ticked: bool,
}

/// A declaration of iPads and supervisors as a line on the page.
pub struct DeclaredLine {
    /// "from the start" or "from Mon 2 Nov 2026".
    pub from: String,
    /// The date for removing it ("2026-11-02").
    pub from_value: String,
    /// "6", or "6 (FORM: 5)".
    pub ipads: String,
    /// Supervisors by name.
    pub supervisors: String,
    pub pairs: u32,
}

/// What the capacity form shows in its fields.
pub struct CapacityForm {
    pub from: String,
    pub devices: String,
    pub pairs: String,
    /// Each period of the bell schedule and its own iPads ("" = as above).
    pub periods: Vec<(String, String)>,
    /// Staff: username, name, ticked.
    pub staff: Vec<(String, String, bool)>,
}

fn long_date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

async fn show_calendar(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<CalendarPage> {
    show_page(state, actor, notice, error, None).await
}

async fn show_calendar_typed(
    state: &AppState,
    actor: &Actor,
    error: Option<String>,
    typed: Option<&CapacityTyped>,
) -> Result<CalendarPage> {
    show_page(state, actor, None, error, typed).await
}

async fn show_page(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: Option<&CapacityTyped>,
) -> Result<CalendarPage> {
    let school_id = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewCalendar { school: school_id })?;
    let school = state.store.school(school_id).await?;
    let calendar = state.store.school_calendar(school_id).await?;
    let today = Utc::now().with_timezone(&calendar.tz).date_naive();
    let (from, weeks) = week_views(&calendar, today);
    let plan = state.store.school_capacity(school_id).await?;
    let staff = state
        .store
        .users_at_school(
            school_id,
            &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
        )
        .await?;
    Ok(CalendarPage {
        nav: Nav::for_actor(actor),
        can_manage: authorize(actor, Action::ManageCalendar { school: school_id }).is_ok(),
        school,
        notice,
        error,
        entries: state
            .store
            .calendar_entries(school_id)
            .await?
            .into_iter()
            .map(|e| EntryLine {
                id: e.id,
                start: long_date(e.start_date),
                end: long_date(e.end_date),
                closure: e.kind == EntryKind::Closure,
                label: e.label,
            })
            .collect(),
        schedule_from: from.filter(|d| *d > since_always()).map(long_date),
        schedules: calendar.schedules.len(),
        weeks,
        this_week: calendar
            .schedule_for(today)
            .filter(|s| s.cycle_weeks > 1)
            .and(calendar.cycle_week(today))
            .map(|w| format!("This is Week {}.", week_label(w))),
        anchor: calendar
            .cycle
            .anchor
            .map(|d| d.to_string())
            .unwrap_or_default(),
        holidays_advance: calendar.cycle.holidays_advance,
        weeks_text: calendar
            .cycle
            .overrides
            .iter()
            .map(|(monday, week)| format!("{monday} {}", week_label(*week)))
            .collect::<Vec<_>>()
            .join("\n"),
        weekdays: calendar
            .days
            .in_order()
            .into_iter()
            .map(short_day)
            .collect(),
        day_choices: std::iter::successors(Some(calendar.days.first()), |d| Some(d.succ()))
            .take(7)
            .map(|d| DayChoice {
                value: short_day(d),
                label: long_day(d),
                ticked: calendar.days.contains(d),
            })
            .collect(),
        kinds: PeriodKind::ALL.iter().map(|k| k.as_str()).collect(),
        declared: declared_lines(&plan, &staff),
        capacity: capacity_form(&plan, &calendar, &staff, today, typed),
    })
}

fn declared_lines(
    plan: &CapacityPlan,
    staff: &[crate::people::accounts::User],
) -> Vec<DeclaredLine> {
    let name = |username: &String| {
        staff.iter().find(|u| &u.username == username).map_or_else(
            || username.clone(),
            crate::people::accounts::User::full_name,
        )
    };
    plan.declared
        .iter()
        .map(|d| {
            let c = &d.capacity;
            let exceptions: Vec<String> = c
                .periods
                .iter()
                .filter_map(|(code, p)| p.devices.map(|n| format!("{code}: {n}")))
                .collect();
            DeclaredLine {
                from: if d.from <= since_always() {
                    "From the start".to_owned()
                } else {
                    format!("From {}", long_date(d.from))
                },
                from_value: d.from.to_string(),
                ipads: if exceptions.is_empty() {
                    c.devices.to_string()
                } else {
                    format!("{} ({})", c.devices, exceptions.join(", "))
                },
                supervisors: match c.supervisors.iter().map(name).collect::<Vec<_>>() {
                    names if names.is_empty() => "nobody yet".to_owned(),
                    names => names.join(", "),
                },
                pairs: c.pairs_per_supervisor(),
            }
        })
        .collect()
}

/// The form's fields: as typed when the form was refused, otherwise what
/// holds today (a new school starts from a blank form).
fn capacity_form(
    plan: &CapacityPlan,
    calendar: &SchoolCalendar,
    staff: &[crate::people::accounts::User],
    today: NaiveDate,
    typed: Option<&CapacityTyped>,
) -> CapacityForm {
    let stored;
    let shown = match typed {
        Some(t) => t,
        None => {
            stored = CapacityTyped::stored(plan, today);
            &stored
        }
    };
    CapacityForm {
        from: shown.from.clone(),
        devices: shown.devices.clone(),
        pairs: shown.pairs.clone(),
        periods: calendar
            .period_codes()
            .into_iter()
            .map(|c| {
                let v = shown.periods.get(&c).cloned().unwrap_or_default();
                (c, v)
            })
            .collect(),
        staff: staff
            .iter()
            .map(|u| {
                let ticked = shown.supervisors.contains(&u.username);
                (u.username.clone(), u.full_name(), ticked)
            })
            .collect(),
    }
}

/// The capacity form as typed, kept to show again if it is refused.
pub struct CapacityTyped {
    from: String,
    devices: String,
    pairs: String,
    periods: BTreeMap<String, String>,
    supervisors: Vec<String>,
}

impl CapacityTyped {
    /// What holds today, as the form shows it (blank before anything is
    /// declared).
    fn stored(plan: &CapacityPlan, today: NaiveDate) -> CapacityTyped {
        let now = plan.on(today).cloned().unwrap_or_default();
        CapacityTyped {
            from: String::new(),
            devices: if plan.is_empty() {
                String::new()
            } else {
                now.devices.to_string()
            },
            pairs: now.pairs_per_supervisor().to_string(),
            periods: now
                .periods
                .iter()
                .filter_map(|(code, p)| p.devices.map(|n| (code.clone(), n.to_string())))
                .collect(),
            supervisors: now.supervisors,
        }
    }

    fn read(body: &[u8]) -> CapacityTyped {
        let mut fields = FormFields::parse(body);
        let supervisors = fields.all("supervisor");
        let (from, devices, pairs) = (
            fields.one("from"),
            fields.one("devices"),
            fields.one("pairs_per_supervisor"),
        );
        let periods = fields
            .0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("period_devices.")
                    .map(|code| (code.to_owned(), v.clone()))
            })
            .collect();
        CapacityTyped {
            from,
            devices,
            pairs,
            periods,
            supervisors,
        }
    }

    /// The declaration it asks for, or what is wrong with it in words.
    fn input(&self) -> Result<CapacityInput> {
        let number = |raw: &str, field: &'static str, what: &str| -> Result<Option<u32>> {
            match raw.trim() {
                "" => Ok(None),
                n => n.parse().map(Some).map_err(|_| {
                    Error::invalid(field, format!("{what}: `{n}` is not a whole number"))
                }),
            }
        };
        let devices =
            number(&self.devices, "devices", "iPads in each period")?.ok_or_else(|| {
                Error::invalid("devices", "say how many iPads there are for mentoring")
            })?;
        let mut periods = BTreeMap::new();
        for (code, raw) in &self.periods {
            if let Some(n) = number(raw, "periods", &format!("iPads in {code}"))? {
                periods.insert(
                    code.clone(),
                    PeriodCapacity {
                        devices: Some(n),
                        supervisors: None,
                    },
                );
            }
        }
        Ok(CapacityInput {
            from: match self.from.trim() {
                "" => None,
                raw => Some(
                    raw.parse()
                        .map_err(|_| Error::invalid("from", format!("`{raw}` is not a date")))?,
                ),
            },
            capacity: SchoolCapacity {
                devices,
                supervisors: self.supervisors.clone(),
                pairs_per_supervisor: number(
                    &self.pairs,
                    "pairs_per_supervisor",
                    "pairs one supervisor watches",
                )?,
                periods,
            },
        })
    }
}

async fn capacity_submit(
    State(state): State<AppState>,
    actor: Actor,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let typed = CapacityTyped::read(&body);
    let result = async { declare_capacity(&state.store, school, &typed.input()?).await }.await;
    after_form(
        result,
        "/school/calendar?notice=capacity#capacity",
        |error| show_calendar_typed(&state, &actor, Some(error), Some(&typed)),
    )
    .await
}

async fn capacity_delete_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(from): Path<NaiveDate>,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let result = state.store.delete_school_capacity(school, from).await;
    back_to_calendar(&state, &actor, result, "capacity_removed").await
}

async fn calendar_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show_calendar(&state, &actor, notice_text(q.notice.as_deref()), None).await?,
    )))
}

/// The viewer's own school, if they may change its calendar: every
/// calendar form acts on the signed-in coordinator's school.
fn own_calendar(actor: &Actor) -> Result<Uuid> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ManageCalendar { school })?;
    Ok(school)
}

/// After a calendar form's step: back to the page with `notice`, or the
/// page again with the error when the input was refused.
async fn back_to_calendar<T>(
    state: &AppState,
    actor: &Actor,
    result: Result<T>,
    notice: &str,
) -> Result<Response, PageError> {
    after_form(
        result,
        &format!("/school/calendar?notice={notice}"),
        |error| show_calendar(state, actor, None, Some(error)),
    )
    .await
}

/// The file and the other fields of an upload form.
struct Upload {
    name: String,
    text: String,
    fields: BTreeMap<String, String>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload> {
    let mut upload = Upload {
        name: String::new(),
        text: String::new(),
        fields: BTreeMap::new(),
    };
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| Error::Malformed(format!("the upload could not be read: {e}")))?
    {
        let key = field.name().unwrap_or("").to_owned();
        if key == "file" && field.file_name().is_some_and(|n| !n.is_empty()) {
            upload.name = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Error::Malformed(format!("the upload could not be read: {e}")))?;
            upload.text = uploaded_text(&bytes, &upload.name)?;
        } else {
            let value = field
                .text()
                .await
                .map_err(|e| Error::Malformed(format!("the upload could not be read: {e}")))?;
            upload.fields.insert(key, value);
        }
    }
    // The confirm step sends the file back as text, not as a file.
    if upload.text.is_empty()
        && let Some(text) = upload.fields.remove("file_text")
    {
        upload.text = text;
        upload.name = upload.fields.remove("file_name").unwrap_or_default();
    }
    if upload.text.trim().is_empty() {
        return Err(Error::invalid("file", "choose a file to upload"));
    }
    Ok(upload)
}

/// A calendar change's confirm step: what it would cancel, and a form that
/// sends the same change back with the list's fingerprint.
#[derive(askama::Template)]
#[template(path = "calendar_confirm.html")]
struct ConfirmPage {
    nav: Nav,
    /// "Uploading terms.csv".
    what: String,
    /// "57 sessions of 9 pairs".
    counted: String,
    action: String,
    multipart: bool,
    /// What the form carries back (the file's text, the closure's fields).
    fields: Vec<(String, String)>,
    fingerprint: String,
    button: String,
    /// Shown again because the list changed since the last look.
    changed: bool,
    cancels: Vec<crate::booking::change::Cancellation>,
}

/// Where a calendar form's change stands once its dry run is known.
enum Step {
    /// Nothing to confirm (it cancels nothing, or the coordinator has
    /// confirmed exactly this list): go ahead.
    Apply,
    /// Show the confirm step.
    Confirm(Box<ConfirmPage>),
}

/// What the form's change would do, as `preview` says, decides: go ahead,
/// or ask first. `confirm` is the fingerprint the confirm step sent back.
fn step(
    actor: &Actor,
    preview: &CalendarChange,
    confirm: Option<&str>,
    page: impl FnOnce(Nav) -> ConfirmPage,
) -> Step {
    let list = &preview.cancellations;
    let fingerprint = list.fingerprint();
    if list.is_empty() || confirm == Some(fingerprint.as_str()) {
        return Step::Apply;
    }
    let mut shown = page(Nav::for_actor(actor));
    shown.counted = list.counted();
    shown.fingerprint = fingerprint;
    shown.changed = confirm.is_some_and(|c| !c.is_empty());
    shown.cancels = list.cancels.clone();
    Step::Confirm(Box::new(shown))
}

fn confirm_page(
    nav: Nav,
    what: String,
    action: String,
    multipart: bool,
    fields: Vec<(String, String)>,
    button: &str,
) -> ConfirmPage {
    ConfirmPage {
        nav,
        what,
        counted: String::new(),
        action,
        multipart,
        fields,
        fingerprint: String::new(),
        button: button.to_owned(),
        changed: false,
        cancels: Vec::new(),
    }
}

/// After a calendar form: its confirm step, or back to the calendar (with
/// `notice`, or `cancelled` when the change cancelled sessions).
async fn finish_change(
    state: &AppState,
    actor: &Actor,
    result: Result<Option<(Step, CalendarChange)>>,
    notice: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(Some((Step::Confirm(page), _))) => Ok(Html(render(&*page)).into_response()),
        Ok(Some((Step::Apply, done))) if !done.cancellations.is_empty() => {
            back_to_calendar(state, actor, Ok(()), "calendar_cancelled").await
        }
        Ok(_) => back_to_calendar(state, actor, Ok(()), notice).await,
        Err(e) => back_to_calendar(state, actor, Err::<(), _>(e), notice).await,
    }
}

async fn upload_terms(
    State(state): State<AppState>,
    actor: Actor,
    form: Multipart,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let result = async {
        let upload = read_upload(form).await?;
        let change =
            |dry_run| change_term_dates(&state.store, school, &upload.name, &upload.text, dry_run);
        let (_, preview) = change(true).await?;
        let confirm = upload.fields.get("confirm").map(String::as_str);
        let next = step(&actor, &preview, confirm, |nav| {
            confirm_page(
                nav,
                format!("Uploading {}", upload.name),
                format!("/school/calendar/terms?csrf={}", actor.csrf_token),
                true,
                vec![
                    ("file_name".into(), upload.name.clone()),
                    ("file_text".into(), upload.text.clone()),
                ],
                &format!("Upload and cancel {}", preview.cancellations.counted()),
            )
        });
        Ok(Some(match next {
            Step::Apply => (Step::Apply, change(false).await?.1),
            confirm => (confirm, preview),
        }))
    }
    .await;
    finish_change(&state, &actor, result, "terms").await
}

async fn upload_bells(
    State(state): State<AppState>,
    actor: Actor,
    form: Multipart,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let result = async {
        let upload = read_upload(form).await?;
        let raw_from = upload
            .fields
            .get("effective_from")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        let from =
            match raw_from.as_str() {
                "" => None,
                raw => Some(raw.parse::<NaiveDate>().map_err(|_| {
                    Error::invalid("effective_from", format!("`{raw}` is not a date"))
                })?),
            };
        let change = |dry_run| {
            change_bells(
                &state.store,
                school,
                &upload.name,
                &upload.text,
                from,
                dry_run,
            )
        };
        let (_, preview) = change(true).await?;
        let confirm = upload.fields.get("confirm").map(String::as_str);
        let next = step(&actor, &preview, confirm, |nav| {
            confirm_page(
                nav,
                format!("Uploading the bell schedule {}", upload.name),
                format!("/school/calendar/bells?csrf={}", actor.csrf_token),
                true,
                vec![
                    ("file_name".into(), upload.name.clone()),
                    ("file_text".into(), upload.text.clone()),
                    ("effective_from".into(), raw_from.clone()),
                ],
                &format!("Upload and cancel {}", preview.cancellations.counted()),
            )
        });
        Ok(Some(match next {
            Step::Apply => (Step::Apply, change(false).await?.1),
            confirm => (confirm, preview),
        }))
    }
    .await;
    finish_change(&state, &actor, result, "bells").await
}

#[derive(Deserialize)]
struct CycleForm {
    #[serde(default)]
    anchor: String,
    #[serde(default)]
    holidays_advance: Option<String>,
    #[serde(default)]
    weeks: String,
}

fn cycle_from_form(form: &CycleForm) -> Result<CycleInput> {
    let date = |raw: &str, field: &'static str| {
        raw.parse::<NaiveDate>()
            .map_err(|_| Error::invalid(field, format!("`{raw}` is not a date like 2027-01-04")))
    };
    let anchor = match form.anchor.trim() {
        "" => None,
        raw => Some(date(raw, "anchor")?),
    };
    let mut weeks = BTreeMap::new();
    for line in form.weeks.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (day, week) = line.split_once(char::is_whitespace).ok_or_else(|| {
            Error::invalid(
                "weeks",
                format!("`{line}` should be a date and a week, like `2027-01-04 B`"),
            )
        })?;
        weeks.insert(date(day, "weeks")?, week.trim().to_owned());
    }
    Ok(CycleInput {
        anchor,
        holidays_advance: form.holidays_advance.is_some(),
        weeks,
    })
}

async fn cycle_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<CycleForm>,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let result = async { save_cycle(&state.store, school, &cycle_from_form(&form)?).await }.await;
    back_to_calendar(&state, &actor, result, "cycle").await
}

/// The teaching days form: a checkbox per day (`days=Sun`, `days=Mon` …).
async fn days_submit(
    State(state): State<AppState>,
    actor: Actor,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let mut fields = FormFields::parse(&body);
    let ticked = fields.all("days");
    let confirm = fields.one("confirm");
    let result = async {
        let days = TeachingDays::parse(&ticked.join(","))
            .map_err(|_| Error::invalid("days", "tick at least one day the school teaches"))?;
        let preview = change_teaching_days(&state.store, school, days, true).await?;
        let next = step(&actor, &preview, Some(confirm.as_str()), |nav| {
            confirm_page(
                nav,
                format!("Teaching {days}"),
                "/school/calendar/days".into(),
                false,
                ticked
                    .iter()
                    .map(|d| ("days".to_owned(), d.clone()))
                    .collect(),
                &format!(
                    "Teach {days} and cancel {}",
                    preview.cancellations.counted()
                ),
            )
        });
        Ok(Some(match next {
            Step::Apply => (
                Step::Apply,
                change_teaching_days(&state.store, school, days, false).await?,
            ),
            confirm => (confirm, preview),
        }))
    }
    .await;
    finish_change(&state, &actor, result, "days").await
}

#[derive(Deserialize)]
struct ClosureForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    label: String,
    /// The fingerprint of what the confirm step showed it cancels.
    #[serde(default)]
    confirm: Option<String>,
}

async fn closure_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<ClosureForm>,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let result = async {
        let date = |raw: &str, field: &'static str| {
            raw.trim()
                .parse::<NaiveDate>()
                .map_err(|_| Error::invalid(field, format!("`{raw}` is not a date")))
        };
        let input = ClosureInput {
            start: date(&form.start, "start")?,
            end: if form.end.trim().is_empty() {
                None
            } else {
                Some(date(&form.end, "end")?)
            },
            label: form.label.clone(),
        };
        let preview = change_closure(&state.store, school, &input, true).await?;
        let (end, label) = input.checked()?;
        let what = if end == input.start {
            format!("Closing on {} ({label})", long_date(input.start))
        } else {
            format!(
                "Closing from {} to {} ({label})",
                long_date(input.start),
                long_date(end)
            )
        };
        let next = step(&actor, &preview, form.confirm.as_deref(), |nav| {
            confirm_page(
                nav,
                what,
                "/school/calendar/closures".into(),
                false,
                vec![
                    ("start".into(), form.start.clone()),
                    ("end".into(), form.end.clone()),
                    ("label".into(), form.label.clone()),
                ],
                &format!(
                    "Add the closure and cancel {}",
                    preview.cancellations.counted()
                ),
            )
        });
        Ok(Some(match next {
            Step::Apply => (
                Step::Apply,
                change_closure(&state.store, school, &input, false).await?,
            ),
            confirm => (confirm, preview),
        }))
    }
    .await;
    finish_change(&state, &actor, result, "closure").await
}

async fn entry_delete_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(entry): Path<Uuid>,
) -> Result<Response, PageError> {
    let school = own_calendar(&actor)?;
    let result = state.store.delete_calendar_entry(school, entry).await;
    back_to_calendar(&state, &actor, result, "removed").await
}
