use std::collections::BTreeMap;
use std::io::BufReader;

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::booking::{Session, SessionStatus};

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn session(status: SessionStatus, sequence: i32, reason: Option<&str>) -> Session {
    Session {
        id: Uuid::from_u128(7),
        match_id: Uuid::from_u128(8),
        partnership_id: Uuid::from_u128(9),
        mentee_id: Uuid::from_u128(10),
        mentor_id: Uuid::from_u128(11),
        uid: "00000000-0000-0000-0000-000000000007@mentorbridge".into(),
        sequence,
        // The Monday after the autumn clock change: 08:40 in London is 08:40 UTC.
        starts_at: at(2026, 10, 26, 8, 40),
        ends_at: at(2026, 10, 26, 9, 0),
        slot_key: "a:A-Mon-TUT|b:A-Mon-FORM".into(),
        local: BTreeMap::new(),
        status,
        reason: reason.map(str::to_owned),
        supervisors: Vec::new(),
        updated_at: at(2026, 10, 1, 12, 0),
    }
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

#[test]
fn a_request_carries_uid_sequence_stamp_times_organizer_and_attendees() {
    let s = session(SessionStatus::Scheduled, 0, None);
    let n = names();
    let entry = Entry {
        session: &s,
        names: &n,
        reader: Reader::Staff,
    };
    let text = itip(
        Method::Request,
        &entry,
        &organizer(),
        &attendees(),
        "https://mb.example",
        stamp(),
    );
    let cal = parse(&text);
    assert_eq!(value(&cal.properties, "METHOD"), Some("REQUEST"));
    assert_eq!(value(&cal.properties, "VERSION"), Some("2.0"));
    assert_eq!(value(&cal.properties, "PRODID"), Some(PRODID));
    let ev = &cal.events[0].properties;
    assert_eq!(value(ev, "UID"), Some(s.uid.as_str()));
    assert_eq!(value(ev, "SEQUENCE"), Some("0"));
    assert_eq!(value(ev, "DTSTAMP"), Some("20261125T120000Z"));
    assert_eq!(value(ev, "DTSTART"), Some("20261026T084000Z"));
    assert_eq!(value(ev, "DTEND"), Some("20261026T090000Z"));
    assert_eq!(value(ev, "STATUS"), Some("CONFIRMED"));
    assert_eq!(
        value(ev, "ORGANIZER"),
        Some("mailto:sessions@mentorbridge.example")
    );
    assert_eq!(
        value(ev, "ATTENDEE"),
        Some("mailto:t.okafor@hillside.example")
    );
    assert_eq!(
        value(ev, "SUMMARY"),
        Some("Mentoring: Siobhán (St Columba's College) with Asha (Hillside Academy)")
    );
    assert!(cal.timezones.is_empty(), "UTC times need no VTIMEZONE");
}

#[test]
fn a_cancellation_keeps_the_uid_and_raises_the_sequence() {
    let s = session(SessionStatus::Cancelled, 1, Some("School trip"));
    let n = names();
    let entry = Entry {
        session: &s,
        names: &n,
        reader: Reader::Mentee,
    };
    let cal = parse(&itip(
        Method::Cancel,
        &entry,
        &organizer(),
        &attendees(),
        "https://mb.example",
        stamp(),
    ));
    assert_eq!(value(&cal.properties, "METHOD"), Some("CANCEL"));
    let ev = &cal.events[0].properties;
    assert_eq!(value(ev, "UID"), Some(s.uid.as_str()));
    assert_eq!(value(ev, "SEQUENCE"), Some("1"));
    assert_eq!(value(ev, "STATUS"), Some("CANCELLED"));
    assert_eq!(
        value(ev, "SUMMARY"),
        Some("Cancelled: Mentoring with Asha (Hillside Academy)")
    );
    // The reason is for staff; the mentee's calendar says only who changed it.
    let description = value(ev, "DESCRIPTION").unwrap();
    assert!(
        description.contains("Cancelled by the school."),
        "{description}"
    );
    assert!(!description.contains("School trip"), "{description}");
    let staff = Entry {
        reader: Reader::Staff,
        ..entry
    };
    let cal = parse(&itip(
        Method::Cancel,
        &staff,
        &organizer(),
        &attendees(),
        "https://mb.example",
        stamp(),
    ));
    let description = value(&cal.events[0].properties, "DESCRIPTION").unwrap();
    assert!(
        description.contains("Cancelled: School trip"),
        "{description}"
    );
}

#[test]
fn a_double_quote_in_a_name_cannot_break_a_parameter() {
    let s = session(SessionStatus::Scheduled, 0, None);
    let n = names();
    let entry = Entry {
        session: &s,
        names: &n,
        reader: Reader::Staff,
    };
    let people = [CalendarUser {
        name: "Pat \"Paddy\" O'Brien".into(),
        email: "p.obrien@columba.example".into(),
    }];
    let text = itip(
        Method::Request,
        &entry,
        &organizer(),
        &people,
        "https://mb.example",
        stamp(),
    );
    let cal = parse(&text);
    let attendee = cal.events[0]
        .properties
        .iter()
        .find(|p| p.name == "ATTENDEE")
        .unwrap();
    let cn = &attendee
        .params
        .as_ref()
        .unwrap()
        .iter()
        .find(|(k, _)| k == "CN")
        .unwrap()
        .1;
    assert_eq!(cn, &vec!["Pat Paddy O'Brien".to_owned()]);
}

#[test]
fn output_is_byte_identical_for_the_same_sessions_and_clock() {
    let s = session(SessionStatus::Moved, 2, Some("Moved for the assembly"));
    let n = names();
    let entries = [Entry {
        session: &s,
        names: &n,
        reader: Reader::Mentor,
    }];
    let one = feed("Mentoring — Asha", &entries, "https://mb.example", stamp());
    let two = feed("Mentoring — Asha", &entries, "https://mb.example", stamp());
    assert_eq!(one, two);
    let later = feed(
        "Mentoring — Asha",
        &entries,
        "https://mb.example",
        at(2026, 11, 25, 12, 1),
    );
    assert_ne!(one, later, "DTSTAMP is the clock passed in");
}

#[test]
fn long_lines_fold_at_75_octets_and_text_is_escaped() {
    // A reason long enough to fold, with every character TEXT must escape
    // and multi-byte letters that must not be split.
    let reason = "Trip to the museum; back at 11, then lunch \\ assembly\nSiobhán's class — ÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉ";
    let s = session(SessionStatus::Cancelled, 1, Some(reason));
    let n = names();
    let entries = [Entry {
        session: &s,
        names: &n,
        reader: Reader::Staff,
    }];
    let text = feed(
        "Mentoring — Hillside Academy",
        &entries,
        "https://mb.example",
        stamp(),
    );
    assert!(text.ends_with("\r\n"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
        assert!(!line.contains('\n'), "bare newline in {line:?}");
    }
    let cal = parse(&text);
    let description = value(&cal.events[0].properties, "DESCRIPTION").unwrap();
    // The parser unfolds; the value is still escaped as RFC 5545 says.
    assert!(
        description
            .contains(r"Trip to the museum\; back at 11\, then lunch \\ assembly\nSiobhán's class"),
        "{description}"
    );
    assert!(description.contains(&"É".repeat(40)));
    assert_eq!(value(&cal.properties, "METHOD"), Some("PUBLISH"));
    assert_eq!(
        value(&cal.properties, "X-WR-CALNAME"),
        Some("Mentoring — Hillside Academy")
    );
}
