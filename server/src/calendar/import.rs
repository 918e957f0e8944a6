//! Reading the files schools already have: term dates and bell schedules as
//! CSV (exported from a spreadsheet or MIS) and term dates as iCalendar.
//!
//! Parsing is all-or-nothing: the first problem stops the import with an
//! [`ImportError`] naming the file, the line and the field, and nothing is
//! returned to store.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

use super::model::{CalendarEntry, EntryKind, Period, PeriodKind};

pub use crate::import::ImportError;
use crate::import::{FileCtx as Ctx, Header, read_csv};

/// Dates as ISO (`2026-09-03`) or as UK spreadsheets write them (`03/09/2026`).
fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
        .filter(plausible_year)
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
        if matches!(day, Weekday::Sat | Weekday::Sun) {
            return Err(ctx.err(
                Some(line),
                Some("day"),
                "mentorbridge counts Monday to Friday as the school week; leave weekend periods out",
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

/// A `VEVENT` being read.
#[derive(Default)]
struct IcsEvent {
    line: usize,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    days: Option<u64>,
    summary: String,
    categories: String,
}

/// An all-day iCalendar date (`20261005`); a date-time (`20261005T180000`)
/// is refused, since a timed event is not a day of term or a closure.
fn ics_date(ctx: &Ctx<'_>, line: usize, name: &str, value: &str) -> Result<NaiveDate, ImportError> {
    if value.contains('T') {
        return Err(ctx.err(
            Some(line),
            Some(name),
            format!(
                "`{value}` is a time of day; term dates and closures are whole days (VALUE=DATE)"
            ),
        ));
    }
    value
        .get(..8)
        .filter(|d| value.len() == 8 && d.chars().all(|c| c.is_ascii_digit()))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .filter(plausible_year)
        .ok_or_else(|| {
            ctx.err(
                Some(line),
                Some(name),
                format!("`{value}` is not a date like 20260903"),
            )
        })
}

/// An iCalendar duration in whole days or weeks (`P5D`, `P1W`).
fn ics_days(ctx: &Ctx<'_>, line: usize, value: &str) -> Result<u64, ImportError> {
    let body = value.strip_prefix('P').unwrap_or("");
    let (n, unit) = body.split_at(body.len().saturating_sub(1));
    match (n.parse::<u64>(), unit) {
        (Ok(n), "D") => Ok(n),
        (Ok(n), "W") => Ok(n * 7),
        _ => Err(ctx.err(
            Some(line),
            Some("DURATION"),
            format!("`{value}` is not a whole number of days (e.g. P5D)"),
        )),
    }
}

fn ics_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Whole words of a summary, lowercased, for classifying it.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether an event without a category is a term: its summary says "term"
/// and nothing that means a break, and it lasts more than two weeks (a
/// one-day "End of term" is not a term).
fn summary_is_term(summary: &str, days: i64) -> bool {
    let w = words(summary);
    let has = |x: &str| w.iter().any(|y| y == x);
    let breakish = [
        "half", "mid", "midterm", "break", "holiday", "holidays", "closed", "closure", "inset",
        "end",
    ];
    has("term") && !breakish.iter().any(|b| has(b)) && days > 14
}

/// Reads term dates from an iCalendar file, as many schools publish them.
///
/// Each all-day `VEVENT` becomes an entry; `DTEND` is exclusive, as RFC 5545
/// says, and `DURATION` is honoured. An event is a term when its
/// `CATEGORIES` say `term`, or, failing that, when its summary names a term
/// and no break and it lasts over two weeks ("Autumn Term 1"); everything
/// else (half term, mid-term break, INSET, bank holidays) is a closure.
/// Timed and repeating events are refused by name, not guessed at.
pub fn parse_term_ics(file: &str, text: &str) -> Result<Vec<CalendarEntry>, ImportError> {
    let ctx = Ctx { file };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
        let Some((name_params, value)) = l.split_once(':') else {
            continue;
        };
        let name = name_params
            .split(';')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let value = value.trim();
        if name == "BEGIN" && value.eq_ignore_ascii_case("VEVENT") {
            event = Some(IcsEvent {
                line: *line,
                ..IcsEvent::default()
            });
            continue;
        }
        let Some(ev) = event.as_mut() else { continue };
        match name.as_str() {
            "DTSTART" => ev.start = Some(ics_date(&ctx, *line, "DTSTART", value)?),
            "DTEND" => ev.end = Some(ics_date(&ctx, *line, "DTEND", value)?),
            "DURATION" => ev.days = Some(ics_days(&ctx, *line, value)?),
            "SUMMARY" => ev.summary = ics_text(value).trim().to_owned(),
            "CATEGORIES" => ev.categories = value.to_ascii_lowercase(),
            "RRULE" | "RDATE" => {
                return Err(ctx.err(
                    Some(*line),
                    Some(&name),
                    "repeating events are not supported; list each term or closure as its own event",
                ));
            }
            "END" if value.eq_ignore_ascii_case("VEVENT") => {
                let Some(ev) = event.take() else { continue };
                let start = ev.start.ok_or_else(|| {
                    ctx.err(
                        Some(ev.line),
                        Some("DTSTART"),
                        "the event has no start date",
                    )
                })?;
                // DTEND is exclusive; DURATION counts days; neither means one day.
                let last = match (ev.end, ev.days) {
                    (Some(end), _) if end < start => {
                        return Err(ctx.err(
                            Some(ev.line),
                            Some("DTEND"),
                            format!("ends ({end}) before it starts ({start})"),
                        ));
                    }
                    (Some(end), _) if end > start => end.pred_opt().unwrap_or(start),
                    (None, Some(days)) if days > 1 => start + chrono::Days::new(days - 1),
                    _ => start,
                };
                let category = |c: &[&str]| ev.categories.split(',').any(|x| c.contains(&x.trim()));
                let is_term = if category(&["term"]) {
                    true
                } else if category(&["closure", "holiday", "inset"]) {
                    false
                } else {
                    summary_is_term(&ev.summary, (last - start).num_days() + 1)
                };
                let kind = if is_term {
                    EntryKind::Term
                } else {
                    EntryKind::Closure
                };
                let label = if ev.summary.is_empty() {
                    kind.as_str().to_owned()
                } else {
                    ev.summary
                };
                entries.push((
                    ev.line,
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

    fn ics(events: &str) -> String {
        format!("\u{feff}BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n")
    }

    fn event(lines: &str) -> String {
        format!(
            "BEGIN:VEVENT\r\n{}END:VEVENT\r\n",
            lines
                .split('|')
                .map(|l| format!("{l}\r\n"))
                .collect::<String>()
        )
    }

    #[test]
    fn line_numbers_count_blank_lines_and_crlf_endings() {
        let csv = "start_date,end_date,kind,label\r\n\r\n2026-09-03,2026-10-23,holiday,Autumn\r\n";
        let err = parse_term_csv("t.csv", csv).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        let bells = "week,day,period,start,end,kind\n*,Mon,TUT,08:40,09:05,tutor\n\n\n*,Mon,P1,09:00,10:00,lesson\n";
        assert_eq!(parse_bells_csv("b.csv", bells).unwrap_err().line, Some(5));
    }

    #[test]
    fn two_digit_years_weekend_periods_and_leap_seconds_are_refused() {
        let short_year = "start_date,end_date,kind,label\n03/09/26,23/10/26,term,Autumn\n";
        assert_eq!(
            parse_term_csv("t.csv", short_year)
                .unwrap_err()
                .field
                .as_deref(),
            Some("start_date")
        );
        let saturday = "week,day,period,start,end,kind\n*,Sat,CLUB,09:00,10:00,other\n";
        assert_eq!(
            parse_bells_csv("b.csv", saturday)
                .unwrap_err()
                .field
                .as_deref(),
            Some("day")
        );
        let leap = "week,day,period,start,end,kind\n*,Mon,P1,09:00,09:59:60,lesson\n";
        assert_eq!(
            parse_bells_csv("b.csv", leap).unwrap_err().field.as_deref(),
            Some("end")
        );
        let week_one = "week,day,period,start,end,kind\nWeek 1,Mon,P1,09:00,10:00,lesson\nWeek 2,Mon,P1,09:00,10:00,lesson\n";
        assert_eq!(parse_bells_csv("b.csv", week_one).unwrap().cycle_weeks, 2);
    }

    #[test]
    fn ics_breaks_durations_and_byte_order_marks_are_read_as_people_mean_them() {
        let text = ics(&[
            event("DTSTART;VALUE=DATE:20260901|DTEND;VALUE=DATE:20261219|SUMMARY:Autumn term"),
            event("DTSTART;VALUE=DATE:20261026|DURATION:P5D|SUMMARY:Mid-term break"),
            event("DTSTART;VALUE=DATE:20261218|SUMMARY:End of term (1.30pm finish)"),
            event("DTSTART;VALUE=DATE:20261005|SUMMARY:Staff day\\\\nonsense"),
        ]
        .concat());
        let entries = parse_term_ics("terms.ics", &text).unwrap();
        let kinds: Vec<(EntryKind, NaiveDate)> = entries.iter().map(|e| (e.kind, e.end)).collect();
        assert_eq!(kinds[0].0, EntryKind::Term);
        assert_eq!(
            kinds[1],
            (
                EntryKind::Closure,
                NaiveDate::from_ymd_opt(2026, 10, 30).unwrap()
            )
        );
        assert_eq!(kinds[2].0, EntryKind::Closure);
        assert_eq!(entries[3].label, "Staff day\\nonsense");
    }

    #[test]
    fn ics_timed_repeating_and_garbled_events_are_refused_by_name() {
        let term =
            event("DTSTART;VALUE=DATE:20260901|DTEND;VALUE=DATE:20261219|SUMMARY:Autumn term");
        let cases = [
            (
                event("DTSTART:20261005T180000|SUMMARY:Parents' evening"),
                "DTSTART",
            ),
            (
                event("DTSTART;VALUE=DATE:20261005|RRULE:FREQ=WEEKLY;COUNT=3|SUMMARY:Club"),
                "RRULE",
            ),
            (
                event("DTSTART;VALUE=DATE:2026090\u{e9}|SUMMARY:Oops"),
                "DTSTART",
            ),
        ];
        for (bad, field) in cases {
            let err = parse_term_ics("terms.ics", &ics(&format!("{term}{bad}"))).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{err}");
        }
    }
}
