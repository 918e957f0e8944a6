//! The calendar's tables on both databases — `calendar_entries`,
//! `bell_schedules`, `bell_periods`, `cycle_overrides`, `slot_policies` and
//! `school_capacity` (in `capacity`) —
//! and the steps that combine them with the rules: `policy` checks and
//! stores slot policies and aligns a partnership; `changes` imports files,
//! adds closures and sets the cycle. A school's zone and cycle anchor live
//! on its own row and are read and written through the schools domain.

mod capacity;
mod changes;
mod policy;
mod timetable;

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, Utc, Weekday};
use uuid::Uuid;

use super::align::SchoolSlotPolicy;
use super::model::{
    BellSchedule, CalendarEntry, CycleRule, EntryKind, Period, PeriodKind, SchoolCalendar,
    TeachingDays,
};
use super::{SlotPolicy, StoredEntry};
use crate::error::{Error, Result};
use crate::people::schools::SchoolTz;
use crate::people::schools::store::set_cycle_in_tx;
use crate::store::{Store, Tx};
use crate::{on_pool, on_tx};

pub use capacity::declare_capacity;
pub use changes::{
    CalendarChange, add_closure, change_bells, change_closure, change_teaching_days,
    change_term_dates, import_bells, import_term_dates, save_cycle,
};
pub use policy::{parse_policy, partnership_slots, policy_input};
pub use timetable::{TimetableTime, WithoutSchedule, check_timetable_times};

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    start_date: NaiveDate,
    end_date: NaiveDate,
    kind: String,
    label: String,
}

impl TryFrom<EntryRow> for StoredEntry {
    type Error = Error;

    fn try_from(e: EntryRow) -> Result<Self> {
        Ok(StoredEntry {
            id: e.id,
            start_date: e.start_date,
            end_date: e.end_date,
            kind: e
                .kind
                .parse()
                .map_err(|_| stored("calendar entry kind", &e.kind))?,
            label: e.label,
        })
    }
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
        replace_entries_in_tx(&mut tx, school, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a bell schedule from its `effective_from` date, replacing one
    /// that starts on the same date; earlier schedules keep their history.
    pub async fn put_bell_schedule(&self, school: Uuid, schedule: &BellSchedule) -> Result<()> {
        let mut tx = self.begin().await?;
        put_bell_schedule_in_tx(&mut tx, school, schedule).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A school's closures added by hand, which a new term-dates file keeps.
    async fn manual_closures(&self, school: Uuid) -> Result<Vec<CalendarEntry>> {
        let rows: Vec<EntryRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, start_date, end_date, kind, label FROM calendar_entries \
             WHERE school_id = $1 AND manual = TRUE ORDER BY start_date, end_date"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|r| {
                let e = StoredEntry::try_from(r)?;
                Ok(CalendarEntry {
                    start: e.start_date,
                    end: e.end_date,
                    kind: e.kind,
                    label: e.label,
                })
            })
            .collect()
    }

    /// Sets how a school counts its timetable cycle, and the weeks it has
    /// declared by hand (replacing earlier ones), in one transaction.
    pub async fn set_cycle_rule(&self, school: Uuid, rule: &CycleRule) -> Result<()> {
        let mut tx = self.begin().await?;
        set_cycle_in_tx(&mut tx, school, rule.anchor, rule.holidays_advance).await?;
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

    /// The days a school teaches (one query, where the rest of its
    /// calendar is not needed).
    pub async fn teaching_days(&self, school: Uuid) -> Result<TeachingDays> {
        let cycle = self.school_cycle(school).await?;
        TeachingDays::parse(&cycle.teaching_days)
            .map_err(|_| stored("teaching days", &cycle.teaching_days))
    }

    /// A school's whole calendar.
    pub async fn school_calendar(&self, school: Uuid) -> Result<SchoolCalendar> {
        let cycle = self.school_cycle(school).await?;
        let tz = SchoolTz::parse(&cycle.time_zone)
            .map_err(|_| stored("time zone", &cycle.time_zone))?
            .tz();
        let entries = self
            .calendar_entries(school)
            .await?
            .into_iter()
            .map(|e| CalendarEntry {
                start: e.start_date,
                end: e.end_date,
                kind: e.kind,
                label: e.label,
            })
            .collect();
        let overrides: Vec<OverrideRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT week_monday, week FROM cycle_overrides WHERE school_id = $1"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        let days = TeachingDays::parse(&cycle.teaching_days)
            .map_err(|_| stored("teaching days", &cycle.teaching_days))?;
        Ok(SchoolCalendar {
            tz,
            entries,
            schedules: self.bell_schedules(school).await?,
            cycle: CycleRule {
                anchor: cycle.cycle_anchor,
                holidays_advance: cycle.cycle_holidays_advance,
                // Keyed by the first day of the week the school teaches now
                // (a week set before its days changed was keyed by another).
                overrides: overrides
                    .into_iter()
                    .filter_map(|o| Some((days.week_of(o.week_monday), u8::try_from(o.week).ok()?)))
                    .collect(),
            },
            days,
        })
    }

    /// A school's bell schedules with their periods, oldest first.
    async fn bell_schedules(&self, school: Uuid) -> Result<Vec<BellSchedule>> {
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
        Ok(schedules
            .into_iter()
            .map(|s| BellSchedule {
                effective_from: s.effective_from,
                cycle_weeks: u8::try_from(s.cycle_weeks).unwrap_or(1),
                periods: by_schedule.remove(&s.id).unwrap_or_default(),
            })
            .collect())
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
                schools: serde_json::from_str::<BTreeMap<Uuid, SchoolSlotPolicy>>(&r.schools)
                    .map_err(|e| Error::internal_from("stored policy is unreadable", e))?
                    .into_iter()
                    // A policy stored before capacity was the school's.
                    .map(|(id, share)| (id, share.without_moved()))
                    .collect(),
            })
        })
        .transpose()
    }

    /// A school's terms and closures with their ids, in date order.
    pub async fn calendar_entries(&self, school: Uuid) -> Result<Vec<StoredEntry>> {
        let rows: Vec<EntryRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, start_date, end_date, kind, label FROM calendar_entries \
             WHERE school_id = $1 ORDER BY start_date, end_date"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(StoredEntry::try_from).collect()
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

/// Replaces a school's imported terms and closures inside `tx` (closures
/// added by hand stay).
async fn replace_entries_in_tx(tx: &mut Tx, school: Uuid, entries: &[CalendarEntry]) -> Result<()> {
    on_tx!(&mut *tx, |conn| sqlx::query(
        "DELETE FROM calendar_entries WHERE school_id = $1 AND manual = FALSE"
    )
    .bind(school)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    for e in entries {
        on_tx!(&mut *tx, |conn| sqlx::query(
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
    Ok(())
}

/// Adds a bell schedule inside `tx`, replacing one from the same date.
async fn put_bell_schedule_in_tx(tx: &mut Tx, school: Uuid, schedule: &BellSchedule) -> Result<()> {
    on_tx!(&mut *tx, |conn| sqlx::query(
        "DELETE FROM bell_periods WHERE schedule_id IN \
         (SELECT id FROM bell_schedules WHERE school_id = $1 AND effective_from = $2)"
    )
    .bind(school)
    .bind(schedule.effective_from)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, |conn| sqlx::query(
        "DELETE FROM bell_schedules WHERE school_id = $1 AND effective_from = $2"
    )
    .bind(school)
    .bind(schedule.effective_from)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let id = Uuid::new_v4();
    on_tx!(&mut *tx, |conn| {
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
        on_tx!(&mut *tx, |conn| {
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
    Ok(())
}

/// Adds a closure by hand (`manual`, so a re-imported file keeps it) inside
/// the caller's transaction.
async fn insert_closure_in_tx(
    tx: &mut Tx,
    school: Uuid,
    start: NaiveDate,
    end: NaiveDate,
    label: &str,
) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO calendar_entries (id, school_id, start_date, end_date, kind, label, manual) VALUES ($1, $2, $3, $4, $5, $6, TRUE)"
    )
    .bind(Uuid::new_v4())
    .bind(school)
    .bind(start)
    .bind(end)
    .bind(EntryKind::Closure.as_str())
    .bind(label)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}
