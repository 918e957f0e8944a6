use std::io::BufReader;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::booking::{SessionNames, SessionStatus};

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn names() -> SessionNames {
    SessionNames {
        mentee: "Siobhán".into(),
        mentee_school: "St Columba's College".into(),
        mentor: "Asha".into(),
        mentor_school: "Hillside Academy".into(),
    }
}

fn organizer() -> CalendarUser {
    CalendarUser {
        name: "mentorbridge".into(),
        email: "sessions@mentorbridge.example".into(),
    }
}

fn attendees() -> Vec<CalendarUser> {
    vec![CalendarUser {
        name: "Mr Okafor".into(),
        email: "t.okafor@hillside.example".into(),
    }]
}

/// Parses with an independent parser (the `ical` crate, not the writer).
fn parse(text: &str) -> ical::parser::ical::component::IcalCalendar {
    let mut parser = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("it parses");
    assert!(parser.next().is_none());
    calendar
}

fn value<'a>(props: &'a [ical::property::Property], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_deref())
}

const STAMP: (i32, u32, u32, u32, u32) = (2026, 11, 25, 12, 0);

fn stamp() -> DateTime<Utc> {
    at(STAMP.0, STAMP.1, STAMP.2, STAMP.3, STAMP.4)
}

fn london() -> chrono_tz::Tz {
    "Europe/London".parse().unwrap()
}

/// Mondays 08:40–09:00 in London from 12 Oct 2026, across the autumn clock
/// change, skipping half term (26 Oct), with 16 Nov moved to 09:05.
fn instances() -> Vec<series::Instance> {
    let london = london();
    let local = |m: u32, d: u32, h: u32, min: u32| {
        london
            .with_ymd_and_hms(2026, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let mut out: Vec<series::Instance> = [(10, 12), (10, 19), (11, 2), (11, 9), (11, 16), (11, 23)]
        .into_iter()
        .map(|(m, d)| series::Instance {
            recurrence: local(m, d, 8, 40),
            starts: local(m, d, 8, 40),
            ends: local(m, d, 9, 0),
            status: SessionStatus::Scheduled,
            reason: None,
        })
        .collect();
    out[4].starts = local(11, 16, 9, 5);
    out[4].ends = local(11, 16, 9, 25);
    out[4].status = SessionStatus::Moved;
    out[4].reason = Some("Assembly".into());
    out
}

fn view<'a>(names: &'a SessionNames, instances: Vec<series::Instance>) -> series::View<'a> {
    series::View {
        uid: "series-1@mentorbridge",
        sequence: 2,
        names,
        reader: Reader::Staff,
        tz: london(),
        instances,
        transp: series::Transp::Opaque,
    }
}

fn request(instances: Vec<series::Instance>) -> String {
    let names = names();
    let organizer = organizer();
    let attendees = attendees();
    itip(
        Method::Request,
        &view(&names, instances),
        None,
        series::Parties {
            organizer: &organizer,
            attendees: &attendees,
        },
        "https://mentoring.example",
        stamp(),
    )
}

fn params<'a>(p: &'a ical::property::Property, name: &str) -> Option<&'a [String]> {
    p.params
        .as_ref()?
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_slice())
}

#[test]
fn a_series_is_one_event_with_a_weekly_rule_in_the_school_s_zone() {
    let text = request(instances());
    let cal = parse(&text);
    assert_eq!(value(&cal.properties, "METHOD"), Some("REQUEST"));
    assert_eq!(value(&cal.properties, "PRODID"), Some(PRODID));
    assert_eq!(cal.timezones.len(), 1, "one VTIMEZONE for the one zone");
    let tz = &cal.timezones[0];
    assert_eq!(value(&tz.properties, "TZID"), Some("Europe/London"));
    assert!(value(&tz.properties, "UID").is_none());
    assert_eq!(cal.events.len(), 2, "the master and one override:\n{text}");
    let master = &cal.events[0].properties;
    assert_eq!(value(master, "UID"), Some("series-1@mentorbridge"));
    assert_eq!(value(master, "SEQUENCE"), Some("2"));
    assert_eq!(value(master, "DTSTAMP"), Some("20261125T120000Z"));
    assert_eq!(value(master, "DTSTART"), Some("20261012T084000"));
    let dtstart = master.iter().find(|p| p.name == "DTSTART").unwrap();
    assert_eq!(
        params(dtstart, "TZID"),
        Some(&["Europe/London".to_owned()][..])
    );
    assert_eq!(value(master, "DTEND"), Some("20261012T090000"));
    // The last session is 08:40 GMT, so 08:40 UTC.
    assert_eq!(
        value(master, "RRULE"),
        Some("FREQ=WEEKLY;UNTIL=20261123T084000Z")
    );
    assert_eq!(value(master, "EXDATE"), Some("20261026T084000"));
    assert_eq!(value(master, "TRANSP"), Some("OPAQUE"));
    assert_eq!(value(master, "STATUS"), Some("CONFIRMED"));
    let organizer = master.iter().find(|p| p.name == "ORGANIZER").unwrap();
    assert_eq!(
        organizer.value.as_deref(),
        Some("mailto:sessions@mentorbridge.example")
    );
    let attendee = master.iter().find(|p| p.name == "ATTENDEE").unwrap();
    assert_eq!(
        attendee.value.as_deref(),
        Some("mailto:t.okafor@hillside.example")
    );
    for (name, want) in [
        ("CN", "Mr Okafor"),
        ("ROLE", "REQ-PARTICIPANT"),
        ("PARTSTAT", "NEEDS-ACTION"),
        ("RSVP", "FALSE"),
    ] {
        assert_eq!(
            params(attendee, name),
            Some(&[want.to_owned()][..]),
            "{name}"
        );
    }
    let description = value(master, "DESCRIPTION").unwrap();
    assert!(description.contains("No reply is needed"), "{description}");
    let moved = &cal.events[1].properties;
    assert_eq!(value(moved, "UID"), Some("series-1@mentorbridge"));
    assert_eq!(value(moved, "RECURRENCE-ID"), Some("20261116T084000"));
    assert_eq!(value(moved, "DTSTART"), Some("20261116T090500"));
    assert!(
        value(moved, "DESCRIPTION")
            .unwrap()
            .contains("Moved: Assembly")
    );
}

#[test]
fn cancelling_one_session_names_it_and_no_longer_says_join() {
    let names = names();
    let organizer = organizer();
    let attendees = attendees();
    let all = instances();
    let mut off = all[1].clone();
    off.status = SessionStatus::Cancelled;
    off.reason = Some("School trip".into());
    let text = itip(
        Method::Cancel,
        &view(&names, all),
        Some(std::slice::from_ref(&off)),
        series::Parties {
            organizer: &organizer,
            attendees: &attendees,
        },
        "https://mentoring.example",
        stamp(),
    );
    let cal = parse(&text);
    assert_eq!(value(&cal.properties, "METHOD"), Some("CANCEL"));
    assert_eq!(cal.events.len(), 1);
    let ev = &cal.events[0].properties;
    assert_eq!(value(ev, "RECURRENCE-ID"), Some("20261019T084000"));
    assert_eq!(value(ev, "STATUS"), Some("CANCELLED"));
    assert_eq!(value(ev, "TRANSP"), Some("TRANSPARENT"));
    let description = value(ev, "DESCRIPTION").unwrap();
    assert!(
        description.contains("Cancelled: School trip"),
        "{description}"
    );
    assert!(!description.contains("Join"), "{description}");
    assert!(value(ev, "URL").is_none());
}

#[test]
fn a_feed_shows_a_cancelled_session_as_a_transparent_override_for_students() {
    let names = names();
    let mut all = instances();
    all[2].status = SessionStatus::Cancelled;
    all[2].reason = Some("Asha has a detention".into());
    let mut v = view(&names, all);
    v.reader = Reader::Mentee;
    let text = feed(
        "Mentoring — Siobhán",
        london(),
        &[v],
        "https://m.example",
        stamp(),
    );
    let cal = parse(&text);
    assert_eq!(value(&cal.properties, "METHOD"), Some("PUBLISH"));
    assert_eq!(value(&cal.properties, "X-PUBLISHED-TTL"), Some("PT1H"));
    let off = cal
        .events
        .iter()
        .find(|e| value(&e.properties, "STATUS") == Some("CANCELLED"))
        .expect("the cancelled session");
    assert_eq!(
        value(&off.properties, "RECURRENCE-ID"),
        Some("20261102T084000")
    );
    assert_eq!(value(&off.properties, "TRANSP"), Some("TRANSPARENT"));
    let description = value(&off.properties, "DESCRIPTION").unwrap();
    assert_eq!(
        description, "Cancelled by the school.",
        "a student never sees staff's reason"
    );
    assert!(
        value(&cal.events[0].properties, "SUMMARY")
            .unwrap()
            .starts_with("Mentoring with Asha")
    );
}

#[test]
fn a_double_quote_in_a_name_cannot_break_a_parameter() {
    let names = names();
    let organizer = CalendarUser {
        name: "Hillside \"mentoring\": scheme".into(),
        email: "m@hillside.example".into(),
    };
    let attendees = vec![CalendarUser {
        name: "Pat \"Paddy\" O'Brien".into(),
        email: "p@hillside.example".into(),
    }];
    let text = itip(
        Method::Request,
        &view(&names, instances()),
        None,
        series::Parties {
            organizer: &organizer,
            attendees: &attendees,
        },
        "https://m.example",
        stamp(),
    );
    let cal = parse(&text);
    let ev = &cal.events[0].properties;
    let a = ev.iter().find(|p| p.name == "ATTENDEE").unwrap();
    assert_eq!(params(a, "CN"), Some(&["Pat Paddy O'Brien".to_owned()][..]));
    let o = ev.iter().find(|p| p.name == "ORGANIZER").unwrap();
    assert_eq!(o.value.as_deref(), Some("mailto:m@hillside.example"));
}

#[test]
fn output_is_byte_identical_for_the_same_series_and_clock_and_folds_at_75_octets() {
    let one = request(instances());
    assert_eq!(one, request(instances()));
    assert!(one.ends_with("END:VCALENDAR\r\n"));
    for line in one.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
        assert!(!line.contains('\n'), "bare newline in {line:?}");
    }
}
