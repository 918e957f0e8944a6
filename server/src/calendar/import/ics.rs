//! Term dates as iCalendar (RFC 5545), as many schools publish them: each
//! all-day event a term or a closure.

use chrono::NaiveDate;

use super::{Ctx, ImportError, check_entries, plausible_year};
use crate::calendar::model::{CalendarEntry, EntryKind};

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

/// What a one-day event's summary says of the day, when it marks one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// "First day of autumn term", "Term starts".
    TermStarts,
    /// "Last day of term", "End of term", "Term ends".
    TermEnds,
    /// Another teaching day with a note ("Last day before half term",
    /// "First day back"): neither a term nor a closure.
    TeachingDay,
}

/// Whether a one-day event marks a day of teaching rather than a closure.
fn marker(summary: &str) -> Option<Marker> {
    let w = words(summary);
    let has = |x: &str| w.iter().any(|y| y == x);
    let any = |xs: &[&str]| xs.iter().any(|x| has(x));
    let first = any(&[
        "first",
        "start",
        "starts",
        "begins",
        "beginning",
        "back",
        "return",
        "returns",
    ]);
    let last = any(&["last", "end", "ends", "finishes"]);
    let day_note = (has("first") || has("last")) && has("day");
    if has("term") && !any(&["half", "mid", "midterm"]) {
        if first && !last {
            return Some(Marker::TermStarts);
        }
        if last && !first {
            return Some(Marker::TermEnds);
        }
    }
    day_note.then_some(Marker::TeachingDay)
}

/// Pairs each "term starts" marker with the next "term ends" marker into a
/// term, named from the start's summary; a marker left without its other
/// half is refused, naming its line.
fn terms_from_markers(
    ctx: &Ctx<'_>,
    entries: &[(usize, CalendarEntry)],
    mut markers: Vec<(usize, NaiveDate, Marker, String)>,
) -> Result<Vec<(usize, CalendarEntry)>, ImportError> {
    // A marker inside a term the file gives whole ("End of term (1.30pm
    // finish)" on its last day) is a note on a teaching day.
    markers.retain(|(_, date, _, _)| {
        !entries
            .iter()
            .any(|(_, e)| e.kind == EntryKind::Term && e.start <= *date && *date <= e.end)
    });
    markers.sort_by_key(|(line, date, _, _)| (*date, *line));
    let mut terms = Vec::new();
    let mut open: Option<(usize, NaiveDate, String)> = None;
    for (line, date, kind, summary) in markers {
        match (kind, open.take()) {
            (Marker::TermStarts, None) => open = Some((line, date, summary)),
            (Marker::TermEnds, Some((start_line, start, label))) => terms.push((
                start_line,
                CalendarEntry {
                    start,
                    end: date,
                    kind: EntryKind::Term,
                    label: crate::text::fold_to_line(&label),
                },
            )),
            (Marker::TermStarts, Some((other, _, s))) => {
                return Err(ctx.err(
                    Some(other),
                    Some("SUMMARY"),
                    format!("`{s}` starts a term, but the next marker (line {line}) starts another before any \"last day of term\""),
                ));
            }
            (Marker::TermEnds, None) => {
                return Err(ctx.err(
                    Some(line),
                    Some("SUMMARY"),
                    format!("`{summary}` ends a term that no \"first day of term\" event starts"),
                ));
            }
            (Marker::TeachingDay, still) => open = still,
        }
    }
    if let Some((line, _, s)) = open {
        return Err(ctx.err(
            Some(line),
            Some("SUMMARY"),
            format!("`{s}` starts a term that no \"last day of term\" event ends"),
        ));
    }
    Ok(terms)
}

/// Reads term dates from an iCalendar file, as many schools publish them.
///
/// Each all-day `VEVENT` becomes an entry; `DTEND` is exclusive, as RFC 5545
/// says, and `DURATION` is honoured. An event is a term when its
/// `CATEGORIES` say `term`, or, failing that, when its summary names a term
/// and no break and it lasts over two weeks ("Autumn Term 1"). One-day
/// events that mark the first and last days of a term ("First day of
/// autumn term" … "Last day of term") make a term between them, and other
/// teaching-day notes ("Last day before half term") are neither; everything
/// else (half term, mid-term break, INSET, bank holidays) is a closure.
/// Timed and repeating events are refused by name, not guessed at.
pub fn parse_term_ics(file: &str, text: &str) -> Result<Vec<CalendarEntry>, ImportError> {
    let ctx = Ctx { file };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = unfold(text);
    if !lines
        .iter()
        .any(|(_, l)| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err(ctx.err(Some(1), None, "not an iCalendar file (no BEGIN:VCALENDAR)"));
    }
    let mut entries = Vec::new();
    let mut markers = Vec::new();
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
                let line = ev.line;
                let entry = entry_of(&ctx, ev)?;
                let one_day = entry.start == entry.end;
                match marker(&entry.label) {
                    Some(m) if one_day && entry.kind == EntryKind::Closure => {
                        markers.push((line, entry.start, m, entry.label));
                    }
                    _ => entries.push((line, entry)),
                }
            }
            _ => {}
        }
    }
    let marked = terms_from_markers(&ctx, &entries, markers)?;
    entries.extend(marked);
    if entries.is_empty() {
        return Err(ctx.err(None, None, "the file has no events"));
    }
    check_entries(&ctx, &entries)?;
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

/// Unfolds continuation lines (RFC 5545 3.1), remembering each logical
/// line's first physical line for error messages.
fn unfold(text: &str) -> Vec<(usize, String)> {
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
    lines
}

/// A finished `VEVENT` as a term or closure.
fn entry_of(ctx: &Ctx<'_>, ev: IcsEvent) -> Result<CalendarEntry, ImportError> {
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
    // A published calendar's title may break across lines; fold it.
    let summary = crate::text::fold_to_line(&ev.summary);
    let label = if summary.is_empty() {
        kind.as_str().to_owned()
    } else {
        summary
    };
    Ok(CalendarEntry {
        start,
        end: last,
        kind,
        label,
    })
}
