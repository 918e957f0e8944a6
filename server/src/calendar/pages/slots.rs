//! A partnership's slot grid: eight weeks of aligned slots from both
//! schools' local view, the days without any and why, and the form where
//! each school's coordinator sets its share of the slot policy: a form of
//! its bell schedule's periods, or the policy as TOML for scripts.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use chrono::{Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use serde::Deserialize;
use uuid::Uuid;

use super::hm;
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::calendar::align::Slot;
use crate::calendar::model::{PeriodKind, TeachingDays};
use crate::calendar::store::{parse_policy, partnership_slots, policy_input};
use crate::calendar::{PartnershipSlots, PolicyInput, SlotPolicy};
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{FormFields, Nav, after_form, notice_text, render};

pub(super) fn routes(routes: Routes) -> Routes {
    routes
        .get("/partnerships/{partnership_id}/slots", slots_page)
        .post("/partnerships/{partnership_id}/policy", policy_submit)
        .post(
            "/partnerships/{partnership_id}/policy/form",
            share_form_submit,
        )
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
    pub devices: String,
    pub supervisors: String,
    /// The first school's local date, for the list.
    pub date: String,
}

/// A weekday in the grid.
pub struct DayView {
    pub date: NaiveDate,
    /// "Mon 30 Nov".
    pub label: String,
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
    /// The viewer's own school's share as a form, when they may set it.
    share: Option<ShareForm>,
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

/// One school's share of the policy as a form: its bell schedule's periods
/// to tick, the session length, and whether calls wait for a supervisor.
pub struct ShareForm {
    pub school: String,
    pub session_minutes: String,
    pub periods: Vec<PeriodChoice>,
    pub require_supervisor: bool,
}

/// A period of the school's bell schedule, to tick.
pub struct PeriodChoice {
    pub code: String,
    /// "tutor", "lunch" …
    pub kind: &'static str,
    /// "Mon–Fri 08:40–09:00", or the days it has.
    pub when: String,
    pub ticked: bool,
}

/// The share form as typed, kept to show again if it is refused.
struct ShareTyped {
    session_minutes: String,
    periods: Vec<String>,
    require_supervisor: bool,
}

/// Each period code of a calendar once: its kind, and when it happens.
fn periods_of(
    calendar: &crate::calendar::model::SchoolCalendar,
) -> Vec<(String, PeriodKind, String)> {
    // By code: kind, first start (for the order), first times, weekdays.
    let mut by_code: BTreeMap<&str, (PeriodKind, NaiveTime, String, Vec<Weekday>)> =
        BTreeMap::new();
    for p in calendar.schedules.iter().flat_map(|s| &s.periods) {
        let entry = by_code.entry(&p.code).or_insert_with(|| {
            let times = format!("{}–{}", hm(p.start), hm(p.end));
            (p.kind, p.start, times, Vec::new())
        });
        if !entry.3.contains(&p.day) {
            entry.3.push(p.day);
        }
    }
    let mut out: Vec<_> = by_code
        .into_iter()
        .map(|(code, (kind, start, times, days))| {
            let on = TeachingDays::of(days).map_or_else(String::new, |d| d.to_string());
            (start, code.to_owned(), kind, format!("{on} {times}"))
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out.into_iter().map(|(_, c, k, w)| (c, k, w)).collect()
}

/// The viewer's own school's share as a form: as typed when refused,
/// otherwise as stored.
async fn share_form(
    state: &AppState,
    actor: &Actor,
    p: &crate::people::partnerships::Partnership,
    policy: Option<&SlotPolicy>,
    typed: Option<&ShareTyped>,
) -> Result<Option<ShareForm>> {
    let Some(own) = actor.school_id() else {
        return Ok(None);
    };
    if own != p.school_low && own != p.school_high {
        return Ok(None);
    }
    let school = state.store.school(own).await?;
    let calendar = state.store.school_calendar(own).await?;
    let stored = policy
        .and_then(|p| p.schools.get(&own))
        .cloned()
        .unwrap_or_default();
    let periods = periods_of(&calendar)
        .into_iter()
        .map(|(code, kind, when)| PeriodChoice {
            ticked: match typed {
                Some(t) => t.periods.contains(&code),
                None => stored.kinds.contains(&kind) || stored.codes.contains(&code),
            },
            code,
            kind: kind.as_str(),
            when,
        })
        .collect();
    Ok(Some(ShareForm {
        school: school.name,
        session_minutes: match typed {
            Some(t) => t.session_minutes.clone(),
            None => policy.map_or(20, |p| p.session_minutes).to_string(),
        },
        periods,
        require_supervisor: typed.map_or(stored.require_supervisor(), |t| t.require_supervisor),
    }))
}

async fn share_form_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let mut fields = FormFields::parse(&body);
    let typed = ShareTyped {
        periods: fields.all("period"),
        session_minutes: fields.one("session_minutes"),
        require_supervisor: !fields.all("require_supervisor").is_empty(),
    };
    let result = async {
        let p = state.store.partnership(id).await?;
        authorize(&actor, Action::SetSlotPolicy { partnership: &p })?;
        let own = actor.school_id().ok_or(Error::Forbidden)?;
        let school = state.store.school(own).await?;
        let minutes = typed.session_minutes.trim();
        let session_minutes = minutes.parse().map_err(|_| {
            Error::invalid(
                "session_minutes",
                format!("the session length must be a number of minutes, not `{minutes}`"),
            )
        })?;
        if typed.periods.is_empty() {
            return Err(Error::invalid(
                "period",
                format!(
                    "tick at least one of {}'s periods for mentoring",
                    school.name
                ),
            ));
        }
        // A kind whose every period is ticked is kept as the kind, so a
        // tutor period added to the bells later is in too.
        let all = periods_of(&state.store.school_calendar(own).await?);
        let mut share = crate::calendar::align::SchoolSlotPolicy {
            require_supervisor: Some(typed.require_supervisor),
            ..Default::default()
        };
        for (_, kind, _) in &all {
            let of_kind: Vec<&String> = all
                .iter()
                .filter(|(_, k, _)| k == kind)
                .map(|(c, _, _)| c)
                .collect();
            if of_kind.iter().all(|c| typed.periods.contains(c)) {
                share.kinds.insert(*kind);
            }
        }
        for code in &typed.periods {
            let kind = all.iter().find(|(c, _, _)| c == code).map(|(_, k, _)| *k);
            if kind.is_none_or(|k| !share.kinds.contains(&k)) {
                share.codes.insert(code.clone());
            }
        }
        let input = PolicyInput {
            session_minutes,
            schools: BTreeMap::from([(school.slug, share)]),
        };
        let policy = parse_policy(&state.store, &p, &input, Some(own)).await?;
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
            Typed::Share(&typed),
        )
    })
    .await
}

/// A starting point for a school's own share of a new policy.
const POLICY_TEMPLATE: &str =
    "session_minutes = 20\n\n[schools.SLUG]\nkinds = [\"tutor\", \"registration\"]\n";

#[derive(Deserialize)]
struct SlotsQuery {
    from: Option<NaiveDate>,
    notice: Option<String>,
}

/// The slot grid's content for eight weeks from `start`: the first two
/// weeks day by day, the next slots still to come, and the weeks with none
/// (with why).
struct Grid {
    grid: Vec<GridWeek>,
    upcoming: Vec<SlotView>,
    empty_weeks: Vec<(String, Vec<String>)>,
}

/// Eight weeks of the first school's teaching days (the dates slots are
/// aligned on), from the week of `start`.
fn empty_weeks_from(days: TeachingDays, start: NaiveDate) -> BTreeMap<NaiveDate, GridWeek> {
    let first = days.week_of(start);
    (0..8)
        .map(|w| {
            let week_start = first + Days::new(7 * w);
            let week = GridWeek {
                label: format!("Week of {}", week_start.format("%-d %b")),
                days: (0..7)
                    .map(|i| week_start + Days::new(i))
                    .filter(|d| days.contains(d.weekday()))
                    .map(|d| DayView {
                        date: d,
                        label: d.format("%a %-d %b").to_string(),
                        slots: Vec::new(),
                        reasons: Vec::new(),
                    })
                    .collect(),
                count: 0,
            };
            (week_start, week)
        })
        .collect()
}

/// `a_days`: the days the first school teaches.
fn grid_of(found: &PartnershipSlots, a_days: TeachingDays, start: NaiveDate) -> Grid {
    let mut weeks = empty_weeks_from(a_days, start);
    fn day_of(
        weeks: &mut BTreeMap<NaiveDate, GridWeek>,
        days: TeachingDays,
        date: NaiveDate,
    ) -> Option<&mut DayView> {
        weeks
            .get_mut(&days.week_of(date))
            .and_then(|w| w.days.iter_mut().find(|d| d.date == date))
    }
    for slot in &found.alignment.slots {
        let Some(date) = slot.schools.get(&found.a.slug).map(|e| e.date) else {
            continue;
        };
        if let (Some(day), Some(view)) = (
            day_of(&mut weeks, a_days, date),
            slot_view(slot, &found.a, &found.b),
        ) {
            day.slots.push(view);
        }
    }
    for empty in &found.alignment.empty_days {
        if let Some(day) = day_of(&mut weeks, a_days, empty.date) {
            day.reasons = empty.reasons.clone();
        }
    }
    for week in weeks.values_mut() {
        week.count = week.days.iter().map(|d| d.slots.len()).sum();
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
    Grid {
        grid: weeks.into_values().take(2).collect(),
        upcoming,
        empty_weeks,
    }
}

/// The policy form's text: what was just submitted (to correct it), the
/// stored policy, or a starting point naming the viewer's own school.
async fn policy_text(
    state: &AppState,
    actor: &Actor,
    submitted: Option<String>,
    policy: Option<&SlotPolicy>,
    first: &School,
) -> Result<String> {
    Ok(match (submitted, policy) {
        (Some(text), _) => text,
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
    })
}

/// What the page's forms hold when it is shown again after a refusal.
enum Typed<'a> {
    /// Nothing refused: the stored policy.
    Nothing,
    /// The TOML as sent.
    Policy(String),
    /// The share form as sent.
    Share(&'a ShareTyped),
}

async fn show_slots(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    from: Option<NaiveDate>,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: Typed<'_>,
) -> Result<SlotsPage> {
    let p = state.store.partnership(id).await?;
    authorize(actor, Action::ViewSlots { partnership: &p })?;
    let first = state.store.school(p.proposed_by_school).await?;
    // Slots are aligned on the first school's dates: its weeks, its days.
    let first_days = state.store.teaching_days(first.id).await?;
    let start = first_days.week_of(match from {
        Some(from) => from,
        None => first.today()?,
    });
    let end = start + Days::new(8 * 7 - 1);
    let policy = state.store.slot_policy(id).await?;
    let (submitted_policy, typed) = match typed {
        Typed::Nothing => (None, None),
        Typed::Policy(text) => (Some(text), None),
        Typed::Share(share) => (None, Some(share)),
    };
    let policy_toml = policy_text(state, actor, submitted_policy, policy.as_ref(), &first).await?;
    let can_set_policy = authorize(actor, Action::SetSlotPolicy { partnership: &p }).is_ok();
    let share = if can_set_policy {
        share_form(state, actor, &p, policy.as_ref(), typed).await?
    } else {
        None
    };
    let (a, b, session_minutes, grid) = if policy.is_some() {
        let found = partnership_slots(&state.store, &p, start, end).await?;
        let grid = grid_of(&found, first_days, start);
        (found.a, found.b, found.session_minutes, grid)
    } else {
        let other = state.store.school(p.partner_of(first.id)).await?;
        let grid = Grid {
            grid: Vec::new(),
            upcoming: Vec::new(),
            empty_weeks: Vec::new(),
        };
        (first, other, 0, grid)
    };
    Ok(SlotsPage {
        nav: Nav::for_actor(actor),
        partnership_id: id,
        can_set_policy,
        share,
        has_policy: policy.is_some(),
        a,
        b,
        session_minutes,
        grid: grid.grid,
        upcoming: grid.upcoming,
        empty_weeks: grid.empty_weeks,
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
        Typed::Nothing,
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
            Typed::Policy(form.policy.clone()),
        )
    })
    .await
}
