//! Reading the files schools already have: term dates and bell schedules as
//! CSV (exported from a spreadsheet or MIS) and term dates as iCalendar.
//!
//! Parsing is all-or-nothing: the first problem stops the import with an
//! [`ImportError`] naming the file, the line and the field, and nothing is
//! returned to store.

use chrono::{NaiveDate, NaiveTime, Weekday};

use super::model::{CalendarEntry, EntryKind, Period, PeriodKind};

pub use crate::import::ImportError;
use crate::import::{FileCtx as Ctx, Header, read_csv};

/// Dates as ISO (`2026-09-03`) or as UK spreadsheets write them (`03/09/2026`).
fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

fn parse_time(raw: &str) -> Option<NaiveTime> {
    let raw = raw.trim();
    NaiveTime::parse_from_str(raw, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
        .ok()
}

fn parse_day(raw: &str) -> Option<Weekday> {
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
pub fn parse_term_csv(file: &str, text: &str) -> Result<Vec<CalendarEntry>, ImportError> {
    let ctx = Ctx { file };
    let mut entries = Vec::new();
    for (line, row) in csv_rows(&ctx, text, &["start_date", "end_date", "kind", "label"])? {
        let start = parse_date(&row[0]).ok_or_else(|| {
            ctx.err(
                Some(line),
                Some("start_date"),
                format!("`{}` is not a date like 2026-09-03 or 03/09/2026", row[0]),
            )
        })?;
        let end = parse_date(&row[1]).ok_or_else(|| {
            ctx.err(
                Some(line),
                Some("end_date"),
                format!("`{}` is not a date like 2026-10-23 or 23/10/2026", row[1]),
            )
        })?;
        if end < start {
            return Err(ctx.err(
                Some(line),
                Some("end_date"),
                format!("ends ({end}) before it starts ({start})"),
            ));
        }
        let kind = match row[2].to_ascii_lowercase().as_str() {
            "term" => EntryKind::Term,
            "closure" => EntryKind::Closure,
            other => {
                return Err(ctx.err(
                    Some(line),
                    Some("kind"),
                    format!("`{other}` is not a kind; use `term` or `closure` (INSET days, bank holidays and other days off are closures)"),
                ));
            }
        };
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
    /// The periods.
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
    let letter = upper.strip_prefix("WEEK ").unwrap_or(&upper);
    match letter.as_bytes() {
        [c @ b'A'..=b'Z'] => Some(Some(c - b'A' + 1)),
        _ => None,
    }
}

/// Reads a bell schedule from CSV with the header
/// `week,day,period,start,end,kind`: `week` is `*` (every week), a number or
/// a letter (`A`, `B`); `day` a weekday name; times are `HH:MM`.
pub fn parse_bells_csv(file: &str, text: &str) -> Result<ImportedBells, ImportError> {
    let ctx = Ctx { file };
    let mut periods: Vec<(usize, Period)> = Vec::new();
    for (line, row) in csv_rows(
        &ctx,
        text,
        &["week", "day", "period", "start", "end", "kind"],
    )? {
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
        let period = Period {
            week,
            day,
            code: row[2].clone(),
            start,
            end,
            kind,
        };
        if let Some((other, o)) = periods.iter().find(|(_, o)| {
            o.day == period.day
                && (o.week.is_none() || period.week.is_none() || o.week == period.week)
                && o.start < period.end
                && period.start < o.end
        }) {
            return Err(ctx.err(
                Some(line),
                Some("start"),
                format!(
                    "{} {}–{} overlaps {} {}–{} on line {other}",
                    period.code,
                    start.format("%H:%M"),
                    end.format("%H:%M"),
                    o.code,
                    o.start.format("%H:%M"),
                    o.end.format("%H:%M")
                ),
            ));
        }
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

/// A `VEVENT` being read: its first line, start, end, summary, categories.
type IcsEvent = (usize, Option<NaiveDate>, Option<NaiveDate>, String, String);

/// Reads term dates from an iCalendar file, as many schools publish them.
///
/// Each all-day `VEVENT` becomes an entry; `DTEND` is exclusive, as RFC 5545
/// says. An event is a term when its `CATEGORIES` say `term`, or, failing
/// that, when its summary names a term and not a holiday ("Autumn Term 1");
/// everything else (half term, INSET, bank holidays) is a closure.
pub fn parse_term_ics(file: &str, text: &str) -> Result<Vec<CalendarEntry>, ImportError> {
    let ctx = Ctx { file };
    // Unfold continuation lines (RFC 5545 3.1), remembering each logical
    // line's first physical line for error messages.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix([' ', '\t']) {
            Some(rest) if !lines.is_empty() => {
                if let Some(last) = lines.last_mut() {
                    last.1.push_str(rest);
                }
            }
            _ => lines.push((i + 1, raw.to_owned())),
        }
    }
    if !lines
        .iter()
        .any(|(_, l)| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err(ctx.err(Some(1), None, "not an iCalendar file (no BEGIN:VCALENDAR)"));
    }
    let mut entries = Vec::new();
    let mut event: Option<IcsEvent> = None;
    for (line, l) in &lines {
        let (name_params, value) = match l.split_once(':') {
            Some(p) => p,
            None => continue,
        };
        let name = name_params
            .split(';')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match (name.as_str(), value) {
            ("BEGIN", v) if v.eq_ignore_ascii_case("VEVENT") => {
                event = Some((*line, None, None, String::new(), String::new()));
            }
            ("DTSTART" | "DTEND", v) => {
                if let Some(ev) = event.as_mut() {
                    let date = NaiveDate::parse_from_str(&v[..v.len().min(8)], "%Y%m%d").map_err(
                        |_| ctx.err(Some(*line), Some(&name), format!("`{v}` is not a date")),
                    )?;
                    if name == "DTSTART" {
                        ev.1 = Some(date)
                    } else {
                        ev.2 = Some(date)
                    }
                }
            }
            ("SUMMARY", v) => {
                if let Some(ev) = event.as_mut() {
                    ev.3 = v
                        .replace("\\,", ",")
                        .replace("\\;", ";")
                        .replace("\\n", " ");
                }
            }
            ("CATEGORIES", v) => {
                if let Some(ev) = event.as_mut() {
                    ev.4 = v.to_ascii_lowercase();
                }
            }
            ("END", v) if v.eq_ignore_ascii_case("VEVENT") => {
                let Some((start_line, start, end, summary, categories)) = event.take() else {
                    continue;
                };
                let start = start.ok_or_else(|| {
                    ctx.err(
                        Some(start_line),
                        Some("DTSTART"),
                        "the event has no start date",
                    )
                })?;
                // DTEND is exclusive; a missing one means a single day.
                let last = match end {
                    Some(end) if end > start => end.pred_opt().unwrap_or(start),
                    Some(end) if end < start => {
                        return Err(ctx.err(
                            Some(start_line),
                            Some("DTEND"),
                            format!("ends ({end}) before it starts ({start})"),
                        ));
                    }
                    _ => start,
                };
                let lower = summary.to_ascii_lowercase();
                let is_term = if categories.split(',').any(|c| c.trim() == "term") {
                    true
                } else if categories
                    .split(',')
                    .any(|c| matches!(c.trim(), "closure" | "holiday" | "inset"))
                {
                    false
                } else {
                    lower.contains("term")
                        && !lower.contains("half term")
                        && !lower.contains("half-term")
                        && !lower.contains("holiday")
                };
                let kind = if is_term {
                    EntryKind::Term
                } else {
                    EntryKind::Closure
                };
                let label = if summary.is_empty() {
                    kind.as_str().to_owned()
                } else {
                    summary
                };
                entries.push((
                    start_line,
                    CalendarEntry {
                        start,
                        end: last,
                        kind,
                        label,
                    },
                ));
            }
            _ => {}
        }
    }
    if entries.is_empty() {
        return Err(ctx.err(None, None, "the file has no events"));
    }
    check_entries(&ctx, &entries)?;
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_dates_read_in_iso_or_uk_order() {
        let csv = "start_date,end_date,kind,label\n2026-09-03,2026-10-23,term,Autumn 1\n05/10/2026,05/10/2026,closure,INSET day\n";
        let entries = parse_term_csv("terms.csv", csv).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[1].start,
            NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()
        );
        assert_eq!(entries[1].kind, EntryKind::Closure);
    }

    #[test]
    fn a_bad_row_names_the_file_line_and_field() {
        let csv = "start_date,end_date,kind,label\n2026-09-03,2026-10-23,term,Autumn 1\n2026-10-05,2026-10-05,inset,INSET day\n";
        let err = parse_term_csv("terms.csv", csv).unwrap_err();
        assert_eq!((err.line, err.field.as_deref()), (Some(3), Some("kind")));
        assert!(
            err.to_string()
                .starts_with("terms.csv, line 3, field `kind`:"),
            "{err}"
        );

        let backwards = "start_date,end_date,kind,label\n2026-10-23,2026-09-03,term,Autumn 1\n";
        assert_eq!(
            parse_term_csv("t.csv", backwards)
                .unwrap_err()
                .field
                .as_deref(),
            Some("end_date")
        );

        let outside = "start_date,end_date,kind,label\n2026-09-03,2026-10-23,term,Autumn 1\n2026-12-25,2026-12-25,closure,Christmas\n";
        let err = parse_term_csv("t.csv", outside).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("outside every term"), "{err}");
    }

    #[test]
    fn bells_read_week_letters_and_reject_overlaps() {
        let csv = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\nA,Monday,P1,09:00,10:00,lesson\nB,mon,P1,09:05,10:00,lesson\n";
        let bells = parse_bells_csv("bells.csv", csv).unwrap();
        assert_eq!(bells.cycle_weeks, 2);
        assert_eq!(bells.periods[1].week, Some(1));

        let overlap = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\nA,Mon,P1,08:55,10:00,lesson\n";
        let err = parse_bells_csv("bells.csv", overlap).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("overlaps REG"), "{err}");

        let bad_day = "week,day,period,start,end,kind\n*,Funday,REG,08:40,09:00,registration\n";
        assert_eq!(
            parse_bells_csv("b.csv", bad_day)
                .unwrap_err()
                .field
                .as_deref(),
            Some("day")
        );
        let bad_header = "week,day,period,start,finish,kind\n";
        assert_eq!(
            parse_bells_csv("b.csv", bad_header).unwrap_err().line,
            Some(1)
        );
    }

    #[test]
    fn ics_term_dates_use_exclusive_ends_and_classify_by_category_or_summary() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260903\r\nDTEND;VALUE=DATE:20261024\r\nSUMMARY:Autumn Term\r\n  1\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261005\r\nDTEND;VALUE=DATE:20261006\r\nSUMMARY:INSET Day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let entries = parse_term_ics("terms.ics", ics).unwrap();
        assert_eq!(entries[0].kind, EntryKind::Term);
        assert_eq!(entries[0].label, "Autumn Term 1");
        assert_eq!(
            entries[0].end,
            NaiveDate::from_ymd_opt(2026, 10, 23).unwrap()
        );
        assert_eq!(entries[1].kind, EntryKind::Closure);
        assert_eq!(entries[1].start, entries[1].end);
    }
}
