//! Reading the files schools already have: term dates and bell schedules as
//! CSV (exported from a spreadsheet or MIS) and term dates as iCalendar.
//!
//! Parsing is all-or-nothing: the first problem stops the import with an
//! [`ImportError`] naming the file, the line and the field, and nothing is
//! returned to store. iCalendar term dates are read in `ics`.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

use super::model::{CalendarEntry, EntryKind, Period, PeriodKind, TeachingDays, long_day};

use crate::error::Result as AppResult;
pub use crate::import::ImportError;
use crate::import::{FileCtx as Ctx, Header, read_csv};

mod ics;
#[cfg(test)]
mod tests;

pub use ics::parse_term_ics;

/// The largest calendar file accepted.
const MAX_FILE_BYTES: usize = 512 * 1024;

/// An uploaded calendar file as text: UTF-8 and at most `MAX_FILE_BYTES`.
pub fn uploaded_text(bytes: &[u8], file: &str) -> AppResult<String> {
    crate::import::uploaded_text(bytes, file, "file", MAX_FILE_BYTES)
}

/// How a school's spreadsheets write dates with slashes: `09/10/2026` is
/// 9 October in the UK and 10 September in the US.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOrder {
    /// Day first: most of the world.
    DayFirst,
    /// Month first: the United States and the countries that follow it.
    MonthFirst,
    /// Either is common (Canada): a slashed date that could be both is
    /// refused rather than guessed.
    Unsure,
}

impl DateOrder {
    /// The order a school in `country` (ISO 3166) most likely writes.
    pub fn of_country(country: &str) -> Self {
        match country.to_ascii_uppercase().as_str() {
            "US" | "PH" | "FM" | "MH" | "PW" | "AS" | "GU" | "MP" | "PR" | "VI" | "UM" => {
                DateOrder::MonthFirst
            }
            "CA" => DateOrder::Unsure,
            _ => DateOrder::DayFirst,
        }
    }
}

/// Why a date was not read.
enum DateProblem {
    NotADate,
    /// Slashed, with both readings possible, for a school whose order is
    /// not known.
    Ambiguous(NaiveDate, NaiveDate),
}

/// Dates as ISO (`2026-09-03`), or with slashes in the school's order
/// (`03/09/2026` in the UK, `09/03/2026` in the US).
fn parse_date(raw: &str, order: DateOrder) -> Result<NaiveDate, DateProblem> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Some(d).filter(plausible_year).ok_or(DateProblem::NotADate);
    }
    let day_first = NaiveDate::parse_from_str(raw, "%d/%m/%Y")
        .ok()
        .filter(plausible_year);
    let month_first = NaiveDate::parse_from_str(raw, "%m/%d/%Y")
        .ok()
        .filter(plausible_year);
    match (order, day_first, month_first) {
        (DateOrder::DayFirst, Some(d), _) | (DateOrder::MonthFirst, _, Some(d)) => Ok(d),
        (DateOrder::Unsure, Some(a), Some(b)) if a != b => Err(DateProblem::Ambiguous(a, b)),
        (DateOrder::Unsure, Some(d), _) | (DateOrder::Unsure, None, Some(d)) => Ok(d),
        _ => Err(DateProblem::NotADate),
    }
}

/// The message for a date that was not read.
fn date_message(raw: &str, problem: DateProblem, example: &str) -> String {
    match problem {
        DateProblem::NotADate => format!("`{raw}` is not a date like {example}"),
        DateProblem::Ambiguous(a, b) => format!(
            "`{raw}` could be {} or {}: write it as year-month-day ({} or {})",
            a.format("%-d %B %Y"),
            b.format("%-d %B %Y"),
            a.format("%Y-%m-%d"),
            b.format("%Y-%m-%d")
        ),
    }
}

/// A year a school calendar can mean: two-digit years (`26`) would
/// otherwise read as the year 26.
fn plausible_year(date: &NaiveDate) -> bool {
    (2000..=2100).contains(&date.year())
}

fn parse_time(raw: &str) -> Option<NaiveTime> {
    let raw = raw.trim();
    NaiveTime::parse_from_str(raw, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
        .ok()
        // chrono reads `:60` as a leap second; no bell rings then.
        .filter(|t| t.nanosecond() < 1_000_000_000)
}

/// A weekday as people write it: `Mon`, `monday`, `Tues`.
pub fn parse_day(raw: &str) -> Option<Weekday> {
    let lower = raw.trim().to_ascii_lowercase();
    let days = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    let full = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    days.iter()
        .zip(full)
        .find(|((short, _), long)| {
            lower == *short || lower == *long || (lower.len() >= 3 && long.starts_with(&lower))
        })
        .map(|((_, day), _)| *day)
}

/// The rows of a CSV whose header must be exactly `expected`.
fn csv_rows(
    ctx: &Ctx<'_>,
    text: &str,
    expected: &[&str],
) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
    Ok(read_csv(ctx, text, Header::Exactly(expected))?
        .rows
        .into_iter()
        .map(|r| (r.line, r.cells))
        .collect())
}

/// Checks terms do not overlap each other and every closure touches a term.
fn check_entries(ctx: &Ctx<'_>, entries: &[(usize, CalendarEntry)]) -> Result<(), ImportError> {
    for (i, (line, e)) in entries.iter().enumerate() {
        if e.kind == EntryKind::Term
            && let Some((other, _)) = entries[..i]
                .iter()
                .find(|(_, o)| o.kind == EntryKind::Term && o.start <= e.end && e.start <= o.end)
        {
            return Err(ctx.err(
                Some(*line),
                Some("start_date"),
                format!("term `{}` overlaps the term on line {other}", e.label),
            ));
        }
    }
    for (line, e) in entries.iter().filter(|(_, e)| e.kind == EntryKind::Closure) {
        let touches_term = entries
            .iter()
            .any(|(_, t)| t.kind == EntryKind::Term && t.start <= e.end && e.start <= t.end);
        if !touches_term {
            return Err(ctx.err(
                Some(*line),
                Some("start_date"),
                format!(
                    "closure `{}` ({} to {}) falls outside every term in this file; fix its dates or remove it",
                    e.label, e.start, e.end
                ),
            ));
        }
    }
    Ok(())
}

/// Reads term dates and closures from CSV with the header
/// `start_date,end_date,kind,label` (`kind` is `term` or `closure`).
/// Slashed dates are read in `order`.
pub fn parse_term_csv(
    file: &str,
    text: &str,
    order: DateOrder,
) -> Result<Vec<CalendarEntry>, ImportError> {
    let ctx = Ctx { file };
    let example = |iso: &str, dmy: &str, mdy: &str| match order {
        DateOrder::DayFirst => format!("{iso} or {dmy}"),
        DateOrder::MonthFirst => format!("{iso} or {mdy}"),
        DateOrder::Unsure => iso.to_owned(),
    };
    let mut entries = Vec::new();
    for (line, row) in csv_rows(&ctx, text, &["start_date", "end_date", "kind", "label"])? {
        let start = parse_date(&row[0], order).map_err(|p| {
            ctx.err(
                Some(line),
                Some("start_date"),
                date_message(
                    &row[0],
                    p,
                    &example("2026-09-03", "03/09/2026", "09/03/2026"),
                ),
            )
        })?;
        let end = parse_date(&row[1], order).map_err(|p| {
            ctx.err(
                Some(line),
                Some("end_date"),
                date_message(
                    &row[1],
                    p,
                    &example("2026-10-23", "23/10/2026", "10/23/2026"),
                ),
            )
        })?;
        if end < start {
            return Err(ctx.err(
                Some(line),
                Some("end_date"),
                format!("ends ({end}) before it starts ({start})"),
            ));
        }
        let kind_name = row[2].to_ascii_lowercase();
        let kind: EntryKind = kind_name.parse().map_err(|_| {
            ctx.err(
                Some(line),
                Some("kind"),
                format!("`{kind_name}` is not a kind; use `term` or `closure` (INSET days, bank holidays and other days off are closures)"),
            )
        })?;
        let label = if row[3].is_empty() {
            kind.as_str().to_owned()
        } else {
            row[3].clone()
        };
        entries.push((
            line,
            CalendarEntry {
                start,
                end,
                kind,
                label,
            },
        ));
    }
    check_entries(&ctx, &entries)?;
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

/// A bell schedule read from CSV: its cycle length and its periods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedBells {
    /// Weeks in the cycle: the highest week named, or 1 if every row is `*`.
    pub cycle_weeks: u8,
    pub periods: Vec<Period>,
}

fn parse_week(raw: &str) -> Option<Option<u8>> {
    let raw = raw.trim();
    if raw == "*" {
        return Some(None);
    }
    if let Ok(n) = raw.parse::<u8>() {
        return (1..=26).contains(&n).then_some(Some(n));
    }
    let upper = raw.to_ascii_uppercase();
    let letter = upper.strip_prefix("WEEK ").unwrap_or(&upper).trim();
    if let Ok(n) = letter.parse::<u8>() {
        return (1..=26).contains(&n).then_some(Some(n));
    }
    match letter.as_bytes() {
        [c @ b'A'..=b'Z'] => Some(Some(c - b'A' + 1)),
        _ => None,
    }
}

/// Reads a bell schedule from CSV with the header
/// `week,day,period,start,end,kind`: `week` is `*` (every week), a number or
/// a letter (`A`, `B`); `day` one of the school's teaching `days`; times
/// are `HH:MM`.
pub fn parse_bells_csv(
    file: &str,
    text: &str,
    days: TeachingDays,
) -> Result<ImportedBells, ImportError> {
    let ctx = Ctx { file };
    let mut periods: Vec<(usize, Period)> = Vec::new();
    for (line, row) in csv_rows(
        &ctx,
        text,
        &["week", "day", "period", "start", "end", "kind"],
    )? {
        let period = parse_period(&ctx, line, &row, days)?;
        check_no_overlap(&ctx, line, &period, &periods)?;
        periods.push((line, period));
    }
    let cycle_weeks = periods
        .iter()
        .filter_map(|(_, p)| p.week)
        .max()
        .unwrap_or(1);
    Ok(ImportedBells {
        cycle_weeks,
        periods: periods.into_iter().map(|(_, p)| p).collect(),
    })
}

/// One row of a bell schedule, each cell checked.
fn parse_period(
    ctx: &Ctx<'_>,
    line: usize,
    row: &[String],
    days: TeachingDays,
) -> Result<Period, ImportError> {
    let week = parse_week(&row[0]).ok_or_else(|| {
        ctx.err(
            Some(line),
            Some("week"),
            format!(
                "`{}` is not a week; use `*` for every week, or A, B … (or 1, 2 …)",
                row[0]
            ),
        )
    })?;
    let day = parse_day(&row[1]).ok_or_else(|| {
        ctx.err(
            Some(line),
            Some("day"),
            format!("`{}` is not a day of the week (Mon … Sun)", row[1]),
        )
    })?;
    if !days.contains(day) {
        return Err(ctx.err(
            Some(line),
            Some("day"),
            format!(
                "the school does not teach on {day_name}s (it teaches {days}); leave {day_name} out, or set the teaching days on the Calendar page first",
                day_name = long_day(day),
            ),
        ));
    }
    if row[2].is_empty() || row[2].chars().count() > 20 {
        return Err(ctx.err(
            Some(line),
            Some("period"),
            "give the period a short code, e.g. REG or P1",
        ));
    }
    let start = parse_time(&row[3]).ok_or_else(|| {
        ctx.err(
            Some(line),
            Some("start"),
            format!("`{}` is not a time like 08:40", row[3]),
        )
    })?;
    let end = parse_time(&row[4]).ok_or_else(|| {
        ctx.err(
            Some(line),
            Some("end"),
            format!("`{}` is not a time like 09:05", row[4]),
        )
    })?;
    if end <= start {
        return Err(ctx.err(
            Some(line),
            Some("end"),
            format!("ends ({end}) at or before it starts ({start})"),
        ));
    }
    let kind = PeriodKind::parse(&row[5]).ok_or_else(|| {
        let kinds: Vec<&str> = PeriodKind::ALL.iter().map(|k| k.as_str()).collect();
        ctx.err(
            Some(line),
            Some("kind"),
            format!(
                "`{}` is not a kind of period; use one of {}",
                row[5],
                kinds.join(", ")
            ),
        )
    })?;
    Ok(Period {
        week,
        day,
        code: row[2].clone(),
        start,
        end,
        kind,
    })
}

/// Refuses a period that overlaps one read before it on the same day of a
/// week they share (`*` shares every week).
fn check_no_overlap(
    ctx: &Ctx<'_>,
    line: usize,
    period: &Period,
    earlier: &[(usize, Period)],
) -> Result<(), ImportError> {
    let Some((other, o)) = earlier.iter().find(|(_, o)| {
        o.day == period.day
            && (o.week.is_none() || period.week.is_none() || o.week == period.week)
            && o.start < period.end
            && period.start < o.end
    }) else {
        return Ok(());
    };
    Err(ctx.err(
        Some(line),
        Some("start"),
        format!(
            "{} {}–{} overlaps {} {}–{} on line {other}",
            period.code,
            period.start.format("%H:%M"),
            period.end.format("%H:%M"),
            o.code,
            o.start.format("%H:%M"),
            o.end.format("%H:%M")
        ),
    ))
}
