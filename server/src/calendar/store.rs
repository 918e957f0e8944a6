//! Storing calendars and slot policies, and the domain calls that combine
//! them: replace a school's terms, add a bell schedule, align a partnership.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::align::{Alignment, SchoolSlotPolicy, Side, align_slots};
use super::model::{
    BellSchedule, CalendarEntry, CycleRule, EntryKind, Period, PeriodKind, SchoolCalendar,
};
use crate::error::{Error, Result};
use crate::people::accounts::Role;
use crate::people::partnerships::Partnership;
use crate::people::schools::{School, SchoolTz};
use crate::store::Store;
use crate::{on_pool, on_tx};

/// A partnership's slot policy: session length and each school's share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotPolicy {
    /// Minutes per mentoring session.
    pub session_minutes: u32,
    /// Each school's eligible periods and capacity, by school id.
    pub schools: BTreeMap<Uuid, SchoolSlotPolicy>,
}

/// A slot policy as people write it: schools named by slug.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Minutes per mentoring session (5 to 120).
    pub session_minutes: u32,
    /// Each school's share, by slug.
    pub schools: BTreeMap<String, SchoolSlotPolicy>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    start_date: NaiveDate,
    end_date: NaiveDate,
    kind: String,
    label: String,
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: Uuid,
    effective_from: NaiveDate,
    cycle_weeks: i32,
}

#[derive(sqlx::FromRow)]
struct PeriodRow {
    schedule_id: Uuid,
    week: Option<i32>,
    day: i32,
    code: String,
    start_time: NaiveTime,
    end_time: NaiveTime,
    kind: String,
}

#[derive(sqlx::FromRow)]
struct CycleRow {
    time_zone: String,
    cycle_anchor: Option<NaiveDate>,
    cycle_holidays_advance: bool,
}

#[derive(sqlx::FromRow)]
struct OverrideRow {
    week_monday: NaiveDate,
    week: i32,
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    session_minutes: i32,
    schools: String,
}

fn weekday_from(n: i32) -> Result<Weekday> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Weekday::try_from(n).ok())
        .ok_or_else(|| Error::internal(format!("stored weekday {n}")))
}

fn stored(what: &str, raw: &str) -> Error {
    Error::internal(format!("stored {what} `{raw}` is unknown"))
}

impl Store {
    /// Replaces a school's imported terms and closures in one transaction
    /// (closures added by hand stay).
    pub async fn replace_calendar_entries(
        &self,
        school: Uuid,
        entries: &[CalendarEntry],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM calendar_entries WHERE school_id = $1 AND manual = FALSE"
        )
        .bind(school)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        for e in entries {
            on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO calendar_entries (id, school_id, start_date, end_date, kind, label) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(Uuid::new_v4())
            .bind(school)
            .bind(e.start)
            .bind(e.end)
            .bind(e.kind.as_str())
            .bind(&e.label)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a bell schedule from its `effective_from` date, replacing one
    /// that starts on the same date; earlier schedules keep their history.
    pub async fn put_bell_schedule(&self, school: Uuid, schedule: &BellSchedule) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM bell_periods WHERE schedule_id IN \
             (SELECT id FROM bell_schedules WHERE school_id = $1 AND effective_from = $2)"
        )
        .bind(school)
        .bind(schedule.effective_from)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM bell_schedules WHERE school_id = $1 AND effective_from = $2"
        )
        .bind(school)
        .bind(schedule.effective_from)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let id = Uuid::new_v4();
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO bell_schedules (id, school_id, effective_from, cycle_weeks) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(school)
        .bind(schedule.effective_from)
        .bind(i32::from(schedule.cycle_weeks))
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        for p in &schedule.periods {
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                "INSERT INTO bell_periods (schedule_id, week, day, code, start_time, end_time, kind) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            .bind(id)
            .bind(p.week.map(i32::from))
            .bind(i32::try_from(p.day.num_days_from_monday()).unwrap_or(0))
            .bind(&p.code)
            .bind(p.start)
            .bind(p.end)
            .bind(p.kind.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets how a school counts its timetable cycle, and the weeks it has
    /// declared by hand (replacing earlier ones), in one transaction.
    pub async fn set_cycle_rule(&self, school: Uuid, rule: &CycleRule) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE schools SET cycle_anchor = $1, cycle_holidays_advance = $2 WHERE id = $3"
        )
        .bind(rule.anchor)
        .bind(rule.holidays_advance)
        .bind(school)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM cycle_overrides WHERE school_id = $1"
        )
        .bind(school)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        for (monday, week) in &rule.overrides {
            on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO cycle_overrides (school_id, week_monday, week) VALUES ($1, $2, $3)"
            )
            .bind(school)
            .bind(*monday)
            .bind(i32::from(*week))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A school's whole calendar.
    pub async fn school_calendar(&self, school: Uuid) -> Result<SchoolCalendar> {
        let cycle: Option<CycleRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT time_zone, cycle_anchor, cycle_holidays_advance FROM schools WHERE id = $1"
        )
        .bind(school)
        .fetch_optional(pool)
        .await)?;
        let cycle = cycle.ok_or(Error::NotFound("school"))?;
        let tz = SchoolTz::parse(&cycle.time_zone)
            .map_err(|_| stored("time zone", &cycle.time_zone))?
            .tz();
        let entries: Vec<EntryRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT start_date, end_date, kind, label FROM calendar_entries WHERE school_id = $1 ORDER BY start_date, end_date"
        )
        .bind(school)
        .fetch_all(pool)
        .await
        })?;
        let schedules: Vec<ScheduleRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, effective_from, cycle_weeks FROM bell_schedules WHERE school_id = $1 ORDER BY effective_from"
        )
        .bind(school)
        .fetch_all(pool)
        .await
        })?;
        let periods: Vec<PeriodRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT p.schedule_id, p.week, p.day, p.code, p.start_time, p.end_time, p.kind \
             FROM bell_periods p JOIN bell_schedules s ON s.id = p.schedule_id \
             WHERE s.school_id = $1 ORDER BY p.day, p.start_time"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        let overrides: Vec<OverrideRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT week_monday, week FROM cycle_overrides WHERE school_id = $1"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;

        let mut by_schedule: BTreeMap<Uuid, Vec<Period>> = BTreeMap::new();
        for p in periods {
            by_schedule.entry(p.schedule_id).or_default().push(Period {
                week: p.week.and_then(|w| u8::try_from(w).ok()),
                day: weekday_from(p.day)?,
                start: p.start_time,
                end: p.end_time,
                kind: PeriodKind::parse(&p.kind).ok_or_else(|| stored("period kind", &p.kind))?,
                code: p.code,
            });
        }
        Ok(SchoolCalendar {
            tz,
            entries: entries
                .into_iter()
                .map(|e| {
                    let kind = match e.kind.as_str() {
                        "term" => EntryKind::Term,
                        "closure" => EntryKind::Closure,
                        other => return Err(stored("calendar entry kind", other)),
                    };
                    Ok(CalendarEntry {
                        start: e.start_date,
                        end: e.end_date,
                        kind,
                        label: e.label,
                    })
                })
                .collect::<Result<_>>()?,
            schedules: schedules
                .into_iter()
                .map(|s| BellSchedule {
                    effective_from: s.effective_from,
                    cycle_weeks: u8::try_from(s.cycle_weeks).unwrap_or(1),
                    periods: by_schedule.remove(&s.id).unwrap_or_default(),
                })
                .collect(),
            cycle: CycleRule {
                anchor: cycle.cycle_anchor,
                holidays_advance: cycle.cycle_holidays_advance,
                overrides: overrides
                    .into_iter()
                    .filter_map(|o| Some((o.week_monday, u8::try_from(o.week).ok()?)))
                    .collect(),
            },
        })
    }

    /// Stores a partnership's slot policy, replacing any earlier one.
    pub async fn put_slot_policy(&self, partnership: Uuid, policy: &SlotPolicy) -> Result<()> {
        let json = serde_json::to_string(&policy.schools)
            .map_err(|e| Error::internal_from("policy does not serialise", e))?;
        let minutes = i32::try_from(policy.session_minutes).unwrap_or(i32::MAX);
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM slot_policies WHERE partnership_id = $1"
        )
        .bind(partnership)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO slot_policies (partnership_id, session_minutes, schools, updated_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(partnership)
        .bind(minutes)
        .bind(&json)
        .bind(Utc::now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// A partnership's slot policy, if one has been set.
    pub async fn slot_policy(&self, partnership: Uuid) -> Result<Option<SlotPolicy>> {
        let row: Option<PolicyRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT session_minutes, schools FROM slot_policies WHERE partnership_id = $1"
        )
        .bind(partnership)
        .fetch_optional(pool)
        .await)?;
        row.map(|r| {
            Ok(SlotPolicy {
                session_minutes: u32::try_from(r.session_minutes).unwrap_or(0),
                schools: serde_json::from_str(&r.schools)
                    .map_err(|e| Error::internal_from("stored policy is unreadable", e))?,
            })
        })
        .transpose()
    }
}

/// Checks a policy as written against the partnership it is for, and turns
/// slugs into ids: only the partnership's two schools, a sensible session
/// length, and supervisors who are staff at their school.
///
/// `editor` is the school of the coordinator saving it: each school decides
/// its own periods, iPads and supervisors, so a share of the other school
/// that differs from what is stored is refused, and a share left out keeps
/// what is stored. IT staff at the command line (`editor` = `None`) set both.
pub async fn parse_policy(
    store: &Store,
    partnership: &Partnership,
    input: &PolicyInput,
    editor: Option<Uuid>,
) -> Result<SlotPolicy> {
    if !(5..=120).contains(&input.session_minutes) {
        return Err(Error::invalid(
            "session_minutes",
            "must be between 5 and 120 minutes",
        ));
    }
    let a = store.school(partnership.school_low).await?;
    let b = store.school(partnership.school_high).await?;
    let stored = store.slot_policy(partnership.id).await?.unwrap_or_default();
    let mut schools = BTreeMap::new();
    for (slug, policy) in &input.schools {
        let school = [&a, &b]
            .into_iter()
            .find(|s| &s.slug == slug)
            .ok_or_else(|| {
                Error::invalid(
                    "schools",
                    format!(
                        "`{slug}` is not in this partnership (it is `{}` and `{}`)",
                        a.slug, b.slug
                    ),
                )
            })?;
        if editor.is_some_and(|e| e != school.id) {
            let current = stored.schools.get(&school.id).cloned().unwrap_or_default();
            if &current != policy {
                return Err(Error::invalid(
                    "schools",
                    format!(
                        "only {}'s coordinator can change {}'s periods, iPads and supervisors",
                        school.name, school.name
                    ),
                ));
            }
        }
        let staff = store
            .users_at_school(
                school.id,
                &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
            )
            .await?;
        let named = policy.supervisors.iter().chain(
            policy
                .periods
                .values()
                .filter_map(|p| p.supervisors.as_ref())
                .flatten(),
        );
        if policy.pairs_per_supervisor == Some(0) {
            return Err(Error::invalid(
                "pairs_per_supervisor",
                format!(
                    "{}: a supervisor must be able to watch at least one pair",
                    school.name
                ),
            ));
        }
        for username in named {
            if !staff.iter().any(|u| &u.username == username) {
                return Err(Error::invalid(
                    "supervisors",
                    format!("`{username}` is not a member of staff at {}", school.name),
                ));
            }
        }
        schools.insert(school.id, policy.clone());
    }
    for school in [&a, &b] {
        if schools.contains_key(&school.id) {
            continue;
        }
        match (editor, stored.schools.get(&school.id)) {
            (Some(_), Some(kept)) => {
                schools.insert(school.id, kept.clone());
            }
            // Not chosen yet: no periods, so no slots until that school says.
            (Some(_), None) => {
                schools.insert(school.id, SchoolSlotPolicy::default());
            }
            (None, _) => {
                return Err(Error::invalid(
                    "schools",
                    format!("say which periods `{}` can use", school.slug),
                ));
            }
        }
    }
    Ok(SlotPolicy {
        session_minutes: input.session_minutes,
        schools,
    })
}

/// The policy with schools named by slug again, for showing and editing.
pub async fn policy_input(store: &Store, policy: &SlotPolicy) -> Result<PolicyInput> {
    let mut schools = BTreeMap::new();
    for (id, p) in &policy.schools {
        schools.insert(store.school(*id).await?.slug, p.clone());
    }
    Ok(PolicyInput {
        session_minutes: policy.session_minutes,
        schools,
    })
}

/// A partnership's slots over a range, with what a page needs to show them.
#[derive(Debug, Serialize)]
pub struct PartnershipSlots {
    /// The school listed first.
    pub a: School,
    /// The other school.
    pub b: School,
    /// Minutes per session.
    pub session_minutes: u32,
    /// The slots and the empty days.
    #[serde(flatten)]
    pub alignment: Alignment,
    /// When this was worked out.
    pub computed_at: DateTime<Utc>,
}

/// Aligns a partnership's two calendars over `from..=to` (local dates of the
/// school listed first: the one that proposed the partnership).
pub async fn partnership_slots(
    store: &Store,
    partnership: &Partnership,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<PartnershipSlots> {
    if to < from {
        return Err(Error::invalid("to", "must not be before `from`"));
    }
    if (to - from).num_days() > 400 {
        return Err(Error::invalid("to", "ask for at most 400 days at a time"));
    }
    let policy = store.slot_policy(partnership.id).await?.ok_or_else(|| {
        Error::invalid(
            "policy",
            "set the partnership's slot policy first (which periods, iPads and supervisors)",
        )
    })?;
    let first = partnership.proposed_by_school;
    let a = store.school(first).await?;
    let b = store.school(partnership.partner_of(first)).await?;
    let (cal_a, cal_b) = (
        store.school_calendar(a.id).await?,
        store.school_calendar(b.id).await?,
    );
    let empty = SchoolSlotPolicy::default();
    let alignment = align_slots(
        Side {
            slug: &a.slug,
            name: &a.name,
            calendar: &cal_a,
            policy: policy.schools.get(&a.id).unwrap_or(&empty),
        },
        Side {
            slug: &b.slug,
            name: &b.name,
            calendar: &cal_b,
            policy: policy.schools.get(&b.id).unwrap_or(&empty),
        },
        policy.session_minutes,
        from,
        to,
    );
    Ok(PartnershipSlots {
        a,
        b,
        session_minutes: policy.session_minutes,
        alignment,
        computed_at: Utc::now(),
    })
}

/// Reads a term-dates file (CSV, or iCalendar when it looks like one) and
/// replaces the school's terms and closures with it: all or nothing.
pub async fn import_term_dates(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
) -> Result<usize> {
    let head = text.trim_start_matches(['\u{feff}', ' ', '\r', '\n', '\t']);
    let looks_ics = head
        .get(..15)
        .is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:VCALENDAR"));
    let entries = if looks_ics {
        super::import::parse_term_ics(file_name, text)?
    } else {
        super::import::parse_term_csv(file_name, text)?
    };
    store.replace_calendar_entries(school, &entries).await?;
    // Sessions on days the school no longer teaches (a closure the new file
    // brings, or a day now outside every term) are cancelled, saying why:
    // nobody should be told to join on a day the school is shut.
    store.cancel_on_days_off(school).await?;
    Ok(entries.len())
}

/// Reads a bell-schedule CSV and stores it from `effective_from` (the start
/// of time when not given): all or nothing.
pub async fn import_bells(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
    effective_from: Option<NaiveDate>,
) -> Result<BellSchedule> {
    let bells = super::import::parse_bells_csv(file_name, text)?;
    let schedule = BellSchedule {
        effective_from: effective_from.unwrap_or_else(since_always),
        cycle_weeks: bells.cycle_weeks,
        periods: bells.periods,
    };
    store.put_bell_schedule(school, &schedule).await?;
    Ok(schedule)
}

/// The `effective_from` of a bell schedule given no date: before any school
/// year mentorbridge will see, and a date every database can store.
pub fn since_always() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// How a school counts its cycle, as people write it: weeks by letter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleInput {
    /// A date in Week A; empty for the first day of the first term.
    #[serde(default)]
    pub anchor: Option<NaiveDate>,
    /// Whether holiday weeks advance the cycle.
    #[serde(default)]
    pub holidays_advance: bool,
    /// Weeks declared by hand: any date in the week, and its letter (or number).
    #[serde(default)]
    pub weeks: BTreeMap<NaiveDate, String>,
}

/// Parses a cycle rule, naming a bad week.
pub fn parse_cycle(input: &CycleInput) -> Result<CycleRule> {
    let mut overrides = BTreeMap::new();
    for (date, label) in &input.weeks {
        let raw = label.trim().to_ascii_uppercase();
        let week = match (raw.parse::<u8>(), raw.as_bytes()) {
            (Ok(n), _) if (1..=26).contains(&n) => n,
            (_, [c @ b'A'..=b'Z']) => c - b'A' + 1,
            _ => {
                return Err(Error::invalid(
                    "weeks",
                    format!("`{label}` for the week of {date} is not a week; use A, B … or 1, 2 …"),
                ));
            }
        };
        overrides.insert(super::model::monday_of(*date), week);
    }
    Ok(CycleRule {
        anchor: input.anchor,
        holidays_advance: input.holidays_advance,
        overrides,
    })
}

/// A stored term or closure, with the id that removing it needs.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct StoredEntry {
    /// Its id.
    pub id: Uuid,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// `term` or `closure`.
    pub kind: String,
    /// Its label.
    pub label: String,
}

/// A closure as a coordinator adds one by hand (a snow day, a strike day).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureInput {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive); the first day when left out.
    #[serde(default)]
    pub end: Option<NaiveDate>,
    /// What it is.
    pub label: String,
}

impl Store {
    /// A school's terms and closures with their ids, in date order.
    pub async fn calendar_entries(&self, school: Uuid) -> Result<Vec<StoredEntry>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, start_date, end_date, kind, label FROM calendar_entries \
             WHERE school_id = $1 ORDER BY start_date, end_date"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?)
    }

    /// Removes one of a school's terms or closures. Another school's entry
    /// is refused, not deleted.
    pub async fn delete_calendar_entry(&self, school: Uuid, entry: Uuid) -> Result<()> {
        let owner: Option<(Uuid,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT school_id FROM calendar_entries WHERE id = $1"
        )
        .bind(entry)
        .fetch_optional(pool)
        .await)?;
        match owner {
            None => return Err(Error::NotFound("calendar entry")),
            Some((owner,)) if owner != school => return Err(Error::Forbidden),
            Some(_) => {}
        }
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM calendar_entries WHERE id = $1 AND school_id = $2"
        )
        .bind(entry)
        .bind(school)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if removed == 0 {
            return Err(Error::NotFound("calendar entry"));
        }
        Ok(())
    }
}

/// Adds a closure to a school's calendar. It must fall within a term, like
/// the closures in an imported file.
pub async fn add_closure(store: &Store, school: Uuid, input: &ClosureInput) -> Result<usize> {
    let end = input.end.unwrap_or(input.start);
    if end < input.start {
        return Err(Error::invalid(
            "end",
            format!("ends ({end}) before it starts ({})", input.start),
        ));
    }
    let label = input.label.trim();
    if label.is_empty() || label.chars().count() > 80 {
        return Err(Error::invalid(
            "label",
            "say what the closure is, in at most 80 characters",
        ));
    }
    let calendar = store.school_calendar(school).await?;
    let in_term = calendar
        .entries
        .iter()
        .any(|e| e.kind == EntryKind::Term && e.start <= end && input.start <= e.end);
    if !in_term {
        return Err(Error::invalid(
            "start",
            "the closure falls outside every term; add the term dates first",
        ));
    }
    // The closure and the cancelling of the sessions on its days are one
    // step: both happen, or neither.
    let affected = store.sessions_on_days(school, input.start, end).await?;
    let reason = store.closure_reason(school, label).await?;
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO calendar_entries (id, school_id, start_date, end_date, kind, label, manual) VALUES ($1, $2, $3, $4, $5, $6, TRUE)"
    )
    .bind(Uuid::new_v4())
    .bind(school)
    .bind(input.start)
    .bind(end)
    .bind(EntryKind::Closure.as_str())
    .bind(label)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    let mut cancelled = 0;
    for id in affected {
        cancelled += crate::booking::store::cancel_in_tx(
            &mut tx,
            crate::booking::Cancel::Session(id),
            &reason,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(usize::try_from(cancelled).unwrap_or(usize::MAX))
}

/// Saves how a school counts its cycle, once the weeks set by hand have been
/// checked against its timetable.
pub async fn save_cycle(store: &Store, school: Uuid, input: &CycleInput) -> Result<()> {
    let rule = parse_cycle(input)?;
    let mut calendar = store.school_calendar(school).await?;
    calendar.cycle = rule.clone();
    calendar
        .check_overrides()
        .map_err(|message| Error::invalid("weeks", message))?;
    store.set_cycle_rule(school, &rule).await
}
