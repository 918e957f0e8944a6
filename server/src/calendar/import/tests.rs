//! Reading term dates and bell schedules, and refusing what is wrong by name.

use super::*;

#[test]
fn term_dates_read_in_iso_or_uk_order() {
    let csv = "start_date,end_date,kind,label\n2026-09-03,2026-10-23,term,Autumn 1\n05/10/2026,05/10/2026,closure,INSET day\n";
    let entries = parse_term_csv("terms.csv", csv, DateOrder::DayFirst).unwrap();
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
    let err = parse_term_csv("terms.csv", csv, DateOrder::DayFirst).unwrap_err();
    assert_eq!((err.line, err.field.as_deref()), (Some(3), Some("kind")));
    assert!(
        err.to_string()
            .starts_with("terms.csv, line 3, field `kind`:"),
        "{err}"
    );

    let backwards = "start_date,end_date,kind,label\n2026-10-23,2026-09-03,term,Autumn 1\n";
    assert_eq!(
        parse_term_csv("t.csv", backwards, DateOrder::DayFirst)
            .unwrap_err()
            .field
            .as_deref(),
        Some("end_date")
    );

    let outside = "start_date,end_date,kind,label\n2026-09-03,2026-10-23,term,Autumn 1\n2026-12-25,2026-12-25,closure,Christmas\n";
    let err = parse_term_csv("t.csv", outside, DateOrder::DayFirst).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(err.message.contains("outside every term"), "{err}");
}

#[test]
fn bells_read_week_letters_and_reject_overlaps() {
    let csv = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\nA,Monday,P1,09:00,10:00,lesson\nB,mon,P1,09:05,10:00,lesson\n";
    let bells = parse_bells_csv("bells.csv", csv, TeachingDays::default()).unwrap();
    assert_eq!(bells.cycle_weeks, 2);
    assert_eq!(bells.periods[1].week, Some(1));

    let overlap = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\nA,Mon,P1,08:55,10:00,lesson\n";
    let err = parse_bells_csv("bells.csv", overlap, TeachingDays::default()).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(err.message.contains("overlaps REG"), "{err}");

    let bad_day = "week,day,period,start,end,kind\n*,Funday,REG,08:40,09:00,registration\n";
    assert_eq!(
        parse_bells_csv("b.csv", bad_day, TeachingDays::default())
            .unwrap_err()
            .field
            .as_deref(),
        Some("day")
    );
    let bad_header = "week,day,period,start,finish,kind\n";
    assert_eq!(
        parse_bells_csv("b.csv", bad_header, TeachingDays::default())
            .unwrap_err()
            .line,
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
    let err = parse_term_csv("t.csv", csv, DateOrder::DayFirst).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    let bells = "week,day,period,start,end,kind\n*,Mon,TUT,08:40,09:05,tutor\n\n\n*,Mon,P1,09:00,10:00,lesson\n";
    assert_eq!(
        parse_bells_csv("b.csv", bells, TeachingDays::default())
            .unwrap_err()
            .line,
        Some(5)
    );
}

#[test]
fn two_digit_years_weekend_periods_and_leap_seconds_are_refused() {
    let short_year = "start_date,end_date,kind,label\n03/09/26,23/10/26,term,Autumn\n";
    assert_eq!(
        parse_term_csv("t.csv", short_year, DateOrder::DayFirst)
            .unwrap_err()
            .field
            .as_deref(),
        Some("start_date")
    );
    let saturday = "week,day,period,start,end,kind\n*,Sat,CLUB,09:00,10:00,other\n";
    assert_eq!(
        parse_bells_csv("b.csv", saturday, TeachingDays::default())
            .unwrap_err()
            .field
            .as_deref(),
        Some("day")
    );
    let leap = "week,day,period,start,end,kind\n*,Mon,P1,09:00,09:59:60,lesson\n";
    assert_eq!(
        parse_bells_csv("b.csv", leap, TeachingDays::default())
            .unwrap_err()
            .field
            .as_deref(),
        Some("end")
    );
    let week_one = "week,day,period,start,end,kind\nWeek 1,Mon,P1,09:00,10:00,lesson\nWeek 2,Mon,P1,09:00,10:00,lesson\n";
    assert_eq!(
        parse_bells_csv("b.csv", week_one, TeachingDays::default())
            .unwrap()
            .cycle_weeks,
        2
    );
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
    // "End of term" on the term's last day is a teaching day, not a closure.
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[2].label, "Staff day\\nonsense");
}

#[test]
fn ics_first_and_last_days_of_term_make_the_term_between_them() {
    let text = ics(&[
        event("DTSTART;VALUE=DATE:20260902|SUMMARY:First day of autumn term"),
        event("DTSTART;VALUE=DATE:20261023|SUMMARY:Last day before half term"),
        event("DTSTART;VALUE=DATE:20261026|DURATION:P5D|SUMMARY:Half term"),
        event("DTSTART;VALUE=DATE:20261218|SUMMARY:Last day of term"),
        event("DTSTART;VALUE=DATE:20270105|SUMMARY:Spring term starts"),
        event("DTSTART;VALUE=DATE:20270326|SUMMARY:End of spring term"),
    ]
    .concat());
    let entries = parse_term_ics("terms.ics", &text).unwrap();
    let terms: Vec<(NaiveDate, NaiveDate, &str)> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Term)
        .map(|e| (e.start, e.end, e.label.as_str()))
        .collect();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(
        terms,
        vec![
            (d(2026, 9, 2), d(2026, 12, 18), "First day of autumn term"),
            (d(2027, 1, 5), d(2027, 3, 26), "Spring term starts"),
        ]
    );
    // Half term is the one closure; the marker days are teaching days.
    let closures: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Closure)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(closures, vec!["Half term"]);
    // A start with no end is refused, naming its line.
    let open = ics(&event(
        "DTSTART;VALUE=DATE:20260902|SUMMARY:First day of autumn term",
    ));
    let err = parse_term_ics("terms.ics", &open).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("no \"last day of term\""), "{err}");
}

#[test]
fn ics_timed_repeating_and_garbled_events_are_refused_by_name() {
    let term = event("DTSTART;VALUE=DATE:20260901|DTEND;VALUE=DATE:20261219|SUMMARY:Autumn term");
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

#[test]
fn slashed_dates_follow_the_school_s_country_and_ambiguous_ones_are_refused() {
    let csv = "start_date,end_date,kind,label\n09/10/2026,12/18/2026,term,Fall\n";
    // A New York school writes month first: 9 October is 10 September.
    let us = parse_term_csv("t.csv", csv, DateOrder::of_country("US")).unwrap();
    assert_eq!(us[0].start, NaiveDate::from_ymd_opt(2026, 9, 10).unwrap());
    assert_eq!(us[0].end, NaiveDate::from_ymd_opt(2026, 12, 18).unwrap());
    // Read day first, 12/18 has no 18th month.
    let uk = parse_term_csv("t.csv", csv, DateOrder::of_country("GB")).unwrap_err();
    assert!(uk.to_string().contains("end_date"), "{uk}");
    // Where both orders are common, a date that could be either is
    // refused with both readings; ISO is always fine.
    let ca = parse_term_csv("t.csv", csv, DateOrder::of_country("CA")).unwrap_err();
    let said = ca.to_string();
    assert!(
        said.contains("line 2")
            && said.contains("start_date")
            && said.contains("9 October 2026 or 10 September 2026")
            && said.contains("year-month-day"),
        "{said}"
    );
    let iso = "start_date,end_date,kind,label\n2026-09-10,2026-12-18,term,Fall\n";
    assert_eq!(
        parse_term_csv("t.csv", iso, DateOrder::Unsure).unwrap()[0].start,
        NaiveDate::from_ymd_opt(2026, 9, 10).unwrap()
    );
}

#[test]
fn a_semicolon_or_excel_csv_is_told_how_to_save_it() {
    let semicolons = "start_date;end_date;kind;label\n2026-09-03;2026-10-23;term;Autumn\n";
    let err = parse_term_csv("terms.csv", semicolons, DateOrder::DayFirst).unwrap_err();
    let said = err.to_string();
    assert!(
        said.contains("terms.csv") && said.contains("semicolons") && said.contains("CSV UTF-8"),
        "{said}"
    );
    // "Café" as Windows-1252 writes it: é is one byte, 0xE9.
    let excel = b"week,day,period,start,end,kind\n*,Mon,TUT,08:40,09:05,tutor\n# Caf\xe9\n";
    let err = uploaded_text(excel, "bells.csv").unwrap_err().to_string();
    assert!(
        err.contains("bells.csv") && err.contains("Windows-1252") && err.contains("CSV UTF-8"),
        "{err}"
    );
}

#[test]
fn a_bell_row_on_a_day_the_school_does_not_teach_names_the_day_and_its_days() {
    let sunday = "week,day,period,start,end,kind\nA,Sun,REG,07:30,07:45,registration\n";
    let err = parse_bells_csv("doha.csv", sunday, TeachingDays::default()).unwrap_err();
    assert_eq!((err.line, err.field.as_deref()), (Some(2), Some("day")));
    assert!(
        err.message
            .contains("does not teach on Sundays (it teaches Mon–Fri)"),
        "{err}"
    );
    let sun_thu = TeachingDays::parse("Sun-Thu").unwrap();
    let read = parse_bells_csv("doha.csv", sunday, sun_thu).unwrap();
    assert_eq!(read.periods[0].day, Weekday::Sun);
    let friday = "week,day,period,start,end,kind\nA,Fri,REG,07:30,07:45,registration\n";
    assert!(parse_bells_csv("doha.csv", friday, sun_thu).is_err());
}
