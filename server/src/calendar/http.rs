//! Calendars and slots over HTTP: coordinators upload term dates and bell
//! schedules, see them as a week view, set a partnership's slot policy, and
//! see the aligned grid; the same as JSON.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use chrono::{Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use serde::Deserialize;
use uuid::Uuid;

use super::align::Slot;
use super::model::{EntryKind, PeriodKind, SchoolCalendar, monday_of, week_label};
use super::store::{
    ClosureInput, CycleInput, PartnershipSlots, PolicyInput, add_closure, import_bells,
    import_term_dates, parse_policy, partnership_slots, policy_input, save_cycle,
};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, PageForm};
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

/// The calendar and slot routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/calendar", api_calendar)
        .put("/api/schools/{school_id}/calendar/terms", api_put_terms)
        .put("/api/schools/{school_id}/calendar/bells", api_put_bells)
        .put("/api/schools/{school_id}/calendar/cycle", api_put_cycle)
        .post(
            "/api/schools/{school_id}/calendar/closures",
            api_add_closure,
        )
        .delete(
            "/api/schools/{school_id}/calendar/entries/{entry_id}",
            api_delete_entry,
        )
        .get("/api/partnerships/{partnership_id}/policy", api_policy)
        .put("/api/partnerships/{partnership_id}/policy", api_put_policy)
        .get("/api/partnerships/{partnership_id}/slots", api_slots)
        .get("/school/calendar", calendar_page)
        .post("/school/calendar/terms", upload_terms)
        .post("/school/calendar/bells", upload_bells)
        .post("/school/calendar/cycle", cycle_submit)
        .post("/school/calendar/closures", closure_submit)
        .post(
            "/school/calendar/entries/{entry_id}/delete",
            entry_delete_submit,
        )
        .get("/partnerships/{partnership_id}/slots", slots_page)
        .post("/partnerships/{partnership_id}/policy", policy_submit)
}

/// The largest calendar file accepted.
const MAX_FILE_BYTES: usize = 512 * 1024;

fn utf8(bytes: &[u8], file: &str) -> Result<String> {
    crate::import::uploaded_text(bytes, file, "file", MAX_FILE_BYTES)
}

// ---- JSON API ----

async fn api_calendar(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<SchoolCalendar>, ApiError> {
    authorize(&actor, Action::ViewCalendar { school })?;
    Ok(Json(state.store.school_calendar(school).await?))
}

#[derive(Deserialize)]
struct UploadQuery {
    /// The file's name, for error messages.
    file: Option<String>,
    /// Bells only: the first date the schedule applies to.
    effective_from: Option<NaiveDate>,
}

async fn api_put_terms(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let name = q.file.unwrap_or_else(|| "terms".into());
    let n = import_term_dates(&state.store, school, &name, &utf8(&body, &name)?).await?;
    Ok(Json(serde_json::json!({ "imported": n })))
}

async fn api_put_bells(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let name = q.file.unwrap_or_else(|| "bells".into());
    let schedule = import_bells(
        &state.store,
        school,
        &name,
        &utf8(&body, &name)?,
        q.effective_from,
    )
    .await?;
    Ok(Json(serde_json::json!({
        "effective_from": schedule.effective_from,
        "cycle_weeks": schedule.cycle_weeks,
        "periods": schedule.periods.len(),
    })))
}

async fn api_put_cycle(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<CycleInput>,
) -> Result<Json<CycleInput>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    save_cycle(&state.store, school, &input).await?;
    Ok(Json(input))
}

async fn api_add_closure(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<ClosureInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let cancelled = add_closure(&state.store, school, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "sessions_cancelled": cancelled })),
    ))
}

async fn api_delete_entry(
    State(state): State<AppState>,
    actor: Actor,
    Path((school, entry)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    state.store.delete_calendar_entry(school, entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<PolicyInput>, ApiError> {
    let p = state.store.partnership(id).await?;
    authorize(&actor, Action::ViewSlots { partnership: &p })?;
    let policy = state
        .store
        .slot_policy(id)
        .await?
        .ok_or(Error::NotFound("slot policy"))?;
    Ok(Json(policy_input(&state.store, &policy).await?))
}

async fn api_put_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<Json<PolicyInput>, ApiError> {
    let p = state.store.partnership(id).await?;
    authorize(&actor, Action::SetSlotPolicy { partnership: &p })?;
    let policy = parse_policy(&state.store, &p, &input, actor.school_id()).await?;
    state.store.put_slot_policy(id, &policy).await?;
    Ok(Json(input))
}

#[derive(Deserialize)]
struct RangeQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

async fn api_slots(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<PartnershipSlots>, ApiError> {
    let p = state.store.partnership(id).await?;
    authorize(&actor, Action::ViewSlots { partnership: &p })?;
    // Dates are the first school's local dates, so "today" is too.
    let from = match q.from {
        Some(from) => from,
        None => state.store.school(p.proposed_by_school).await?.today()?,
    };
    let to = q.to.unwrap_or(from + Days::new(27));
    Ok(Json(partnership_slots(&state.store, &p, from, to).await?))
}

// ---- Pages ----

/// One cell of the week view.
pub struct Cell {
    /// Period code.
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
    /// Its rows.
    pub rows: Vec<Row>,
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

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
                    cells: WEEKDAYS
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
    /// Last day.
    pub end: String,
    /// Whether it is a closure.
    pub closure: bool,
    /// Its label.
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
    weekdays: [&'static str; 5],
    kinds: Vec<&'static str>,
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
    let school_id = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewCalendar { school: school_id })?;
    let school = state.store.school(school_id).await?;
    let calendar = state.store.school_calendar(school_id).await?;
    let today = Utc::now().with_timezone(&calendar.tz).date_naive();
    let (from, weeks) = week_views(&calendar, today);
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
                closure: e.kind == EntryKind::Closure.as_str(),
                label: e.label,
            })
            .collect(),
        schedule_from: from
            .filter(|d| *d > super::store::since_always())
            .map(long_date),
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
        weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri"],
        kinds: PeriodKind::ALL.iter().map(|k| k.as_str()).collect(),
    })
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
        if key == "file" {
            upload.name = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Error::Malformed(format!("the upload could not be read: {e}")))?;
            upload.text = utf8(&bytes, &upload.name)?;
        } else {
            let value = field
                .text()
                .await
                .map_err(|e| Error::Malformed(format!("the upload could not be read: {e}")))?;
            upload.fields.insert(key, value);
        }
    }
    if upload.text.trim().is_empty() {
        return Err(Error::invalid("file", "choose a file to upload"));
    }
    Ok(upload)
}

async fn upload_terms(
    State(state): State<AppState>,
    actor: Actor,
    form: Multipart,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageCalendar { school })?;
    let result = match read_upload(form).await {
        Ok(upload) => import_term_dates(&state.store, school, &upload.name, &upload.text).await,
        Err(e) => Err(e),
    };
    after_form(result, "/school/calendar?notice=terms", |error| {
        show_calendar(&state, &actor, None, Some(error))
    })
    .await
}

async fn upload_bells(
    State(state): State<AppState>,
    actor: Actor,
    form: Multipart,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageCalendar { school })?;
    let result = async {
        let upload = read_upload(form).await?;
        let from =
            match upload
                .fields
                .get("effective_from")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
            {
                None => None,
                Some(raw) => Some(raw.parse::<NaiveDate>().map_err(|_| {
                    Error::invalid("effective_from", format!("`{raw}` is not a date"))
                })?),
            };
        import_bells(&state.store, school, &upload.name, &upload.text, from).await
    }
    .await;
    after_form(result, "/school/calendar?notice=bells", |error| {
        show_calendar(&state, &actor, None, Some(error))
    })
    .await
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
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageCalendar { school })?;
    let result = async { save_cycle(&state.store, school, &cycle_from_form(&form)?).await }.await;
    after_form(result, "/school/calendar?notice=cycle", |error| {
        show_calendar(&state, &actor, None, Some(error))
    })
    .await
}

#[derive(Deserialize)]
struct ClosureForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    label: String,
}

async fn closure_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<ClosureForm>,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageCalendar { school })?;
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
        add_closure(&state.store, school, &input).await
    }
    .await;
    after_form(result, "/school/calendar?notice=closure", |error| {
        show_calendar(&state, &actor, None, Some(error))
    })
    .await
}

async fn entry_delete_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(entry): Path<Uuid>,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageCalendar { school })?;
    let result = state.store.delete_calendar_entry(school, entry).await;
    after_form(result, "/school/calendar?notice=removed", |error| {
        show_calendar(&state, &actor, None, Some(error))
    })
    .await
}

/// One slot as the grid shows it: each school's local view.
pub struct SlotView {
    /// The first school's local start–end.
    pub a_time: String,
    /// The first school's period and week.
    pub a_period: String,
    /// The other school's local start–end, with its date when that differs.
    pub b_time: String,
    /// The other school's period and week.
    pub b_period: String,
    /// iPads at each end.
    pub devices: String,
    /// Supervisors at each end.
    pub supervisors: String,
    /// The first school's local date, for the list.
    pub date: String,
}

/// A weekday in the grid.
pub struct DayView {
    /// "Mon 30 Nov".
    pub label: String,
    /// Its slots.
    pub slots: Vec<SlotView>,
    /// Why it has none.
    pub reasons: Vec<String>,
}

/// A week in the grid.
pub struct GridWeek {
    /// "Week of 30 Nov".
    pub label: String,
    /// Monday to Friday.
    pub days: Vec<DayView>,
    /// How many slots the week has.
    pub count: usize,
}

#[derive(askama::Template)]
#[template(path = "slots.html")]
struct SlotsPage {
    nav: Nav,
    partnership_id: Uuid,
    a: School,
    b: School,
    session_minutes: u32,
    has_policy: bool,
    grid: Vec<GridWeek>,
    upcoming: Vec<SlotView>,
    empty_weeks: Vec<(String, Vec<String>)>,
    prev: String,
    next: String,
    can_set_policy: bool,
    policy_toml: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

fn slot_view(slot: &Slot, a: &School, b: &School) -> Option<SlotView> {
    let ea = slot.schools.get(&a.slug)?;
    let eb = slot.schools.get(&b.slug)?;
    let b_date = if eb.date == ea.date {
        String::new()
    } else {
        format!(" ({})", eb.date.format("%a %-d %b"))
    };
    Some(SlotView {
        a_time: format!("{}–{}", hm(ea.start), hm(ea.end)),
        a_period: format!("{} · Week {}", ea.period, ea.week),
        b_time: format!("{}–{}{b_date}", hm(eb.start), hm(eb.end)),
        b_period: format!("{} · Week {}", eb.period, eb.week),
        devices: format!("{} / {}", ea.devices, eb.devices),
        supervisors: format!("{} / {}", ea.supervisors, eb.supervisors),
        date: ea.date.format("%a %-d %b").to_string(),
    })
}

/// A starting point for a school's own share of a new policy.
const POLICY_TEMPLATE: &str = "session_minutes = 20\n\n[schools.SLUG]\nkinds = [\"tutor\", \"registration\"]\ndevices = 4\nsupervisors = []\n";

#[derive(Deserialize)]
struct SlotsQuery {
    from: Option<NaiveDate>,
    notice: Option<String>,
}

async fn show_slots(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    from: Option<NaiveDate>,
    notice: Option<&'static str>,
    error: Option<String>,
    policy_text: Option<String>,
) -> Result<SlotsPage> {
    let p = state.store.partnership(id).await?;
    authorize(actor, Action::ViewSlots { partnership: &p })?;
    let first = state.store.school(p.proposed_by_school).await?;
    let start = monday_of(match from {
        Some(from) => from,
        None => first.today()?,
    });
    let end = start + Days::new(8 * 7 - 1);
    let policy = state.store.slot_policy(id).await?;
    let policy_toml = match (&policy_text, &policy) {
        (Some(text), _) => text.clone(),
        (None, Some(policy)) => toml::to_string(&policy_input(&state.store, policy).await?)
            .map_err(|e| Error::internal_from("policy does not print as TOML", e))?,
        (None, None) => {
            // Each school writes its own share; the partner adds theirs.
            let own = match actor.school_id() {
                Some(school) => state.store.school(school).await?.slug,
                None => first.slug.clone(),
            };
            POLICY_TEMPLATE.replace("SLUG", &own)
        }
    };
    let (a, b, session_minutes, grid, upcoming, empty_weeks) = if policy.is_some() {
        let found = partnership_slots(&state.store, &p, start, end).await?;
        let mut weeks: BTreeMap<NaiveDate, GridWeek> = BTreeMap::new();
        for w in 0..8 {
            let monday = start + Days::new(7 * w);
            weeks.insert(
                monday,
                GridWeek {
                    label: format!("Week of {}", monday.format("%-d %b")),
                    days: (0..5)
                        .map(|i| DayView {
                            label: (monday + Days::new(i)).format("%a %-d %b").to_string(),
                            slots: Vec::new(),
                            reasons: Vec::new(),
                        })
                        .collect(),
                    count: 0,
                },
            );
        }
        for slot in &found.alignment.slots {
            let Some(date) = slot.schools.get(&found.a.slug).map(|e| e.date) else {
                continue;
            };
            let i = date.weekday().num_days_from_monday() as usize;
            if let (Some(week), Some(view)) = (
                weeks.get_mut(&monday_of(date)),
                slot_view(slot, &found.a, &found.b),
            ) && i < 5
            {
                week.days[i].slots.push(view);
                week.count += 1;
            }
        }
        for empty in &found.alignment.empty_days {
            let i = empty.date.weekday().num_days_from_monday() as usize;
            if let Some(week) = weeks.get_mut(&monday_of(empty.date))
                && i < 5
            {
                week.days[i].reasons = empty.reasons.clone();
            }
        }
        let empty_weeks = weeks
            .values()
            .filter(|w| w.count == 0)
            .map(|w| {
                let mut reasons: Vec<String> = w
                    .days
                    .iter()
                    .flat_map(|d| d.reasons.iter().cloned())
                    .collect();
                reasons.sort();
                reasons.dedup();
                (w.label.clone(), reasons)
            })
            .collect();
        let upcoming = found
            .alignment
            .slots
            .iter()
            .filter(|s| s.end_utc > Utc::now())
            .filter_map(|s| slot_view(s, &found.a, &found.b))
            .take(20)
            .collect();
        let grid = weeks.into_values().take(2).collect();
        (
            found.a,
            found.b,
            found.session_minutes,
            grid,
            upcoming,
            empty_weeks,
        )
    } else {
        let other = state.store.school(p.partner_of(first.id)).await?;
        (first, other, 0, Vec::new(), Vec::new(), Vec::new())
    };
    Ok(SlotsPage {
        nav: Nav::for_actor(actor),
        partnership_id: id,
        can_set_policy: authorize(actor, Action::SetSlotPolicy { partnership: &p }).is_ok(),
        has_policy: policy.is_some(),
        a,
        b,
        session_minutes,
        grid,
        upcoming,
        empty_weeks,
        prev: (start - Days::new(14)).to_string(),
        next: (start + Days::new(14)).to_string(),
        policy_toml,
        error,
        notice,
    })
}

async fn slots_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<SlotsQuery>,
) -> Result<Html<String>, PageError> {
    let page = show_slots(
        &state,
        &actor,
        id,
        q.from,
        notice_text(q.notice.as_deref()),
        None,
        None,
    )
    .await?;
    Ok(Html(render(&page)))
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    policy: String,
}

async fn policy_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<PolicyForm>,
) -> Result<Response, PageError> {
    let result = async {
        let p = state.store.partnership(id).await?;
        authorize(&actor, Action::SetSlotPolicy { partnership: &p })?;
        let input: PolicyInput =
            toml::from_str(&form.policy).map_err(|e| Error::invalid("policy", e.to_string()))?;
        let policy = parse_policy(&state.store, &p, &input, actor.school_id()).await?;
        state.store.put_slot_policy(id, &policy).await
    }
    .await;
    let done = format!("/partnerships/{id}/slots?notice=policy");
    after_form(result, &done, |error| {
        show_slots(
            &state,
            &actor,
            id,
            None,
            None,
            Some(error),
            Some(form.policy.clone()),
        )
    })
    .await
}
