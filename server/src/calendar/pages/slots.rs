//! A partnership's slot grid: eight weeks of aligned slots from both
//! schools' local view, the days without any and why, and the form where
//! each school's coordinator writes its share of the slot policy (TOML).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use chrono::{Datelike, Days, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::hm;
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::calendar::align::Slot;
use crate::calendar::model::monday_of;
use crate::calendar::store::{parse_policy, partnership_slots, policy_input};
use crate::calendar::{PartnershipSlots, PolicyInput, SlotPolicy};
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, notice_text, render};

pub(super) fn routes(routes: Routes) -> Routes {
    routes
        .get("/partnerships/{partnership_id}/slots", slots_page)
        .post("/partnerships/{partnership_id}/policy", policy_submit)
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

fn empty_weeks_from(start: NaiveDate) -> BTreeMap<NaiveDate, GridWeek> {
    (0..8)
        .map(|w| {
            let monday = start + Days::new(7 * w);
            let week = GridWeek {
                label: format!("Week of {}", monday.format("%-d %b")),
                days: (0..5)
                    .map(|i| DayView {
                        label: (monday + Days::new(i)).format("%a %-d %b").to_string(),
                        slots: Vec::new(),
                        reasons: Vec::new(),
                    })
                    .collect(),
                count: 0,
            };
            (monday, week)
        })
        .collect()
}

fn grid_of(found: &PartnershipSlots, start: NaiveDate) -> Grid {
    let mut weeks = empty_weeks_from(start);
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

async fn show_slots(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    from: Option<NaiveDate>,
    notice: Option<&'static str>,
    error: Option<String>,
    submitted_policy: Option<String>,
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
    let policy_toml = policy_text(state, actor, submitted_policy, policy.as_ref(), &first).await?;
    let (a, b, session_minutes, grid) = if policy.is_some() {
        let found = partnership_slots(&state.store, &p, start, end).await?;
        let grid = grid_of(&found, start);
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
        can_set_policy: authorize(actor, Action::SetSlotPolicy { partnership: &p }).is_ok(),
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
