//! Email invites end to end: bookings, moves and cancellations reach the
//! supervising staff through a real SMTP server on loopback, as iTIP a
//! calendar accepts, one recurring event per series, read back with
//! independent MIME (mailparse) and iCalendar (ical; Python icalendar with
//! recurring-ical-events; ical.js) parsers.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use mentorbridge::booking::{Session, SessionStatus};
use mentorbridge_tests::{
    Backend, Delivered, Occurrence, SmtpServer, TestApp, expanded, quick_mail, spawn_app_with,
};
use reqwest::StatusCode;
use serde_json::json;

/// One invite as it arrived, taken apart.
#[derive(Debug)]
struct Invite {
    to: String,
    subject: String,
    /// The `method=` parameter of the `text/calendar` part.
    mime_method: String,
    /// `METHOD` inside the calendar.
    method: String,
    uid: String,
    sequence: String,
    text: String,
    /// The calendar part.
    ics: String,
    /// The calendar part unfolded, to search.
    flat: String,
    raw: String,
}

fn prop(props: &[ical::property::Property], name: &str) -> String {
    props
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.clone())
        .unwrap_or_default()
}

fn open(d: &Delivered) -> Invite {
    let mail = mailparse::parse_mail(&d.data).expect("a MIME message");
    let raw = String::from_utf8_lossy(&d.data).into_owned();
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    assert_eq!(header("Auto-Submitted"), "auto-generated", "{raw}");
    // As Google and Apple send them: the alternative parts, and the same
    // calendar attached.
    assert_eq!(mail.ctype.mimetype, "multipart/mixed", "{raw}");
    let alternative = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "multipart/alternative")
        .expect("text and calendar as alternatives");
    let attached = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "application/ics")
        .expect("an invite.ics attachment");
    assert!(
        attached.get_content_disposition().params.get("filename") == Some(&"invite.ics".to_owned()),
        "{raw}"
    );
    let plain = alternative
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .expect("a text part for people");
    let cal = alternative
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/calendar")
        .expect("a text/calendar part");
    let ics = cal.get_body().unwrap();
    assert_eq!(
        attached.get_body().unwrap(),
        ics,
        "the attachment is the same calendar"
    );
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("it parses");
    let first = calendar.events.first().expect("an event");
    Invite {
        to: d.to.join(","),
        subject: header("Subject"),
        mime_method: cal.ctype.params.get("method").cloned().unwrap_or_default(),
        method: prop(&calendar.properties, "METHOD"),
        uid: prop(&first.properties, "UID"),
        sequence: prop(&first.properties, "SEQUENCE"),
        text: plain.get_body().unwrap(),
        flat: ics.replace("\r\n ", ""),
        ics,
        raw,
    }
}

async fn sessions_of(app: &TestApp, world: &mentorbridge_tests::World) -> Vec<Session> {
    app.store
        .sessions_of_student(
            world.mentee_b.id,
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap()
}

async fn set_email(app: &TestApp, username: &str, email: &str) {
    let client = app.signed_in(username).await;
    let reply = client
        .put_json("/api/me/email", &json!({ "email": email }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// What the sessions say a calendar should show: each live session's
/// series, start and end.
fn live(sessions: &[Session]) -> Vec<(String, chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
    let mut out: Vec<_> = sessions
        .iter()
        .filter(|s| s.status != SessionStatus::Cancelled)
        .map(|s| (s.series_uid.clone(), s.starts_at, s.ends_at))
        .collect();
    out.sort();
    out
}

/// Expands `calendars` (each a whole iCalendar object) with both
/// independent parsers and checks every live occurrence is exactly a
/// booked session (`want`), no more and no fewer.
fn expands_to(calendars: &[&str], want: &[(String, chrono::DateTime<Utc>, chrono::DateTime<Utc>)]) {
    let mut by_parser: BTreeMap<&str, Vec<Occurrence>> = BTreeMap::new();
    for ics in calendars {
        let Some(parsed) = expanded(ics) else { return };
        for (parser, found) in parsed {
            by_parser.entry(parser).or_default().extend(found);
        }
    }
    for (parser, found) in by_parser {
        let mut got: Vec<_> = found
            .into_iter()
            .filter(|o| o.status != "CANCELLED")
            .map(|o| (o.uid, o.start, o.end))
            .collect();
        got.sort();
        assert_eq!(
            got, want,
            "{parser} expands the series to the booked sessions:\n{calendars:#?}"
        );
    }
}

/// Waits until `smtp` holds `count` messages, then a little longer, to see
/// that no more come.
async fn exactly(smtp: &SmtpServer, what: &str, count: usize) -> Vec<Delivered> {
    smtp.wait_for(what, |m| m.len() >= count).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let inbox = smtp.inbox();
    assert_eq!(
        inbox.len(),
        count,
        "{what}: {:#?}",
        inbox
            .iter()
            .map(open)
            .map(|i| (i.to, i.subject))
            .collect::<Vec<_>>()
    );
    inbox
}

async fn a_series_is_one_invite_to_each_supervisor_and_each_change_one_more(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn_app_with(backend, |s| s.mail = Some(quick_mail(&smtp))).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let sessions = sessions_of(&app, &world).await;
    let n = sessions.len();
    assert!(n >= 6, "a series is booked: {n}");
    let uid = sessions[0].series_uid.clone();
    assert!(sessions.iter().all(|s| s.series_uid == uid), "one series");

    // One REQUEST each to the two supervisors (teacher.a, and coord.b who
    // supervises at B); none to coord.a, who only coordinates.
    let inbox = exactly(&smtp, "the series to each supervisor", 2).await;
    let invites: Vec<Invite> = inbox.iter().map(open).collect();
    let mut to: Vec<&str> = invites.iter().map(|i| i.to.as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        ["coord.b@school-b.example", "teacher.a@school-a.example"]
    );
    for invite in &invites {
        assert_eq!(
            (invite.method.as_str(), invite.mime_method.as_str()),
            ("REQUEST", "REQUEST")
        );
        assert_eq!(invite.uid, uid);
        assert_eq!(invite.sequence, "0");
        assert!(invite.flat.contains("RRULE:FREQ=WEEKLY"), "{}", invite.ics);
        assert!(
            invite.flat.contains("DTSTART;TZID=Europe/London:"),
            "{}",
            invite.ics
        );
        assert!(
            invite.flat.contains("ORGANIZER;CN=School"),
            "the school's scheme organizes: {}",
            invite.ics
        );
        assert!(invite.flat.contains("RSVP=FALSE"), "{}", invite.ics);
        assert!(invite.flat.contains("TRANSP:OPAQUE"), "{}", invite.ics);
        assert!(
            invite.subject.starts_with("Mentoring: "),
            "{}",
            invite.subject
        );
        assert!(
            invite.text.contains(&format!("({n} sessions)"))
                || invite.subject.contains(&format!("({n} sessions)"))
        );
        assert!(invite.text.contains("/sessions"), "{}", invite.text);
        // First names only: no student's family name in any invite.
        for family in ["mentee.b-family", "mentor.a-family"] {
            assert!(
                !invite.raw.contains(family),
                "{family} leaked: {}",
                invite.raw
            );
        }
    }
    // Attendees are the recipient's own school's staff only.
    let to_a = invites
        .iter()
        .find(|i| i.to.starts_with("teacher.a"))
        .unwrap();
    assert!(to_a.flat.contains("mailto:teacher.a@school-a.example"));
    assert!(!to_a.flat.contains("school-b.example"), "{}", to_a.ics);
    expands_to(&[to_a.ics.as_str()], &live(&sessions));

    // Move one session: one REQUEST each, with an override.
    let coord_a = app.signed_in("coord.a").await;
    let today = Utc::now().date_naive();
    let aligned = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + Duration::days(90),
    )
    .await
    .unwrap();
    let taken: Vec<_> = sessions.iter().map(|s| s.starts_at).collect();
    let free = aligned
        .alignment
        .slots
        .iter()
        .find(|s| s.start_utc > Utc::now() && !taken.contains(&s.start_utc))
        .expect("a free slot to move to");
    let moved = coord_a
        .post_json(
            &format!("/api/sessions/{}/move", sessions[0].id),
            &json!({"starts_at": free.start_utc, "reason": "Sports day"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let inbox = exactly(&smtp, "the move", 4).await;
    let now = sessions_of(&app, &world).await;
    for invite in inbox[2..].iter().map(open) {
        assert_eq!(invite.method, "REQUEST");
        assert_eq!(invite.uid, uid);
        assert_eq!(invite.sequence, "1");
        assert!(
            invite.flat.contains("RECURRENCE-ID;TZID=Europe/London:"),
            "{}",
            invite.ics
        );
        assert!(
            invite.subject.starts_with("Changed: "),
            "{}",
            invite.subject
        );
        assert!(
            invite.text.contains("Sports day"),
            "staff see why: {}",
            invite.text
        );
        if invite.to.starts_with("teacher.a") {
            expands_to(&[invite.ics.as_str()], &live(&now));
        }
    }

    // Cancel one: a CANCEL naming it by its RECURRENCE-ID.
    let cancelling = &sessions[2];
    let cancelled = coord_a
        .post_json(
            &format!("/api/sessions/{}/cancel", cancelling.id),
            &json!({"reason": "Mock exams in the hall"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    let inbox = exactly(&smtp, "the cancellation", 6).await;
    let recurrence = cancelling
        .recurrence_at
        .with_timezone(&chrono_tz::Europe::London)
        .format("%Y%m%dT%H%M%S")
        .to_string();
    for invite in inbox[4..].iter().map(open) {
        assert_eq!(
            (invite.method.as_str(), invite.mime_method.as_str()),
            ("CANCEL", "CANCEL")
        );
        assert_eq!(invite.uid, uid);
        assert_eq!(invite.sequence, "2");
        assert!(
            invite
                .flat
                .contains(&format!("RECURRENCE-ID;TZID=Europe/London:{recurrence}")),
            "{}",
            invite.ics
        );
        assert!(invite.flat.contains("STATUS:CANCELLED"));
        assert!(
            !invite.flat.contains("Join on"),
            "a cancellation does not say join: {}",
            invite.ics
        );
        assert!(
            invite.subject.starts_with("Cancelled: "),
            "{}",
            invite.subject
        );
        assert!(invite.text.contains("Mock exams"), "{}", invite.text);
    }

    // Move the rest from the fourth: the old rule ends, a new series starts;
    // two messages each, the old series first.
    let from = &sessions[3];
    let later = aligned
        .alignment
        .slots
        .iter()
        .filter(|s| s.start_utc > from.starts_at + Duration::days(1))
        .find(|s| !taken.contains(&s.start_utc) && s.start_utc != free.start_utc);
    let target = later.expect("a later slot to move the rest of the series to");
    let reply = coord_a
            .post_json(
                &format!("/api/sessions/{}/move", from.id),
                &json!({"starts_at": target.start_utc, "reason": "New timetable", "rest_of_series": true}),
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let inbox = exactly(&smtp, "the rest moved", 10).await;
    let after = sessions_of(&app, &world).await;
    let new_uid = after
        .iter()
        .find(|s| s.id == from.id)
        .unwrap()
        .series_uid
        .clone();
    assert_ne!(new_uid, uid, "the rest is a series of its own");
    let to_teacher: Vec<Invite> = inbox[6..]
        .iter()
        .map(open)
        .filter(|i| i.to.starts_with("teacher.a"))
        .collect();
    assert_eq!(to_teacher.len(), 2, "{to_teacher:#?}");
    assert_eq!(
        to_teacher[0].uid, uid,
        "the old series' shorter rule comes first"
    );
    assert_eq!(to_teacher[1].uid, new_uid);
    expands_to(
        &[to_teacher[0].ics.as_str(), to_teacher[1].ics.as_str()],
        &live(&after),
    );
}

/// A supervisor who changes their address gets the series at the new one,
/// and a cancellation at the old.
async fn a_new_address_gets_the_series_and_the_old_one_a_cancellation(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn_app_with(backend, |s| s.mail = Some(quick_mail(&smtp))).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    exactly(&smtp, "the series to each supervisor", 2).await;
    set_email(&app, "teacher.a", "t.a.new@school-a.example").await;
    let inbox = exactly(&smtp, "the address change", 4).await;
    let later: Vec<Invite> = inbox[2..].iter().map(open).collect();
    let old = later
        .iter()
        .find(|i| i.to == "teacher.a@school-a.example")
        .expect("a cancellation at the old address");
    assert_eq!(old.method, "CANCEL");
    assert!(
        !old.flat.contains("RECURRENCE-ID"),
        "the whole series: {}",
        old.ics
    );
    let new = later
        .iter()
        .find(|i| i.to == "t.a.new@school-a.example")
        .expect("the series at the new");
    assert_eq!(new.method, "REQUEST");
    assert_eq!(new.uid, old.uid);
}

/// Invites made while no mail server is set up wait in the database, and a
/// sender started later (as after a restart) delivers every one, once.
async fn invites_wait_in_the_outbox_until_a_mail_server_takes_them(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    assert!(sessions_of(&app, &world).await.len() > 1);
    // The coordinator sees that the pair's invites are still to be sent.
    let coord_a = app.signed_in("coord.a").await;
    let page = coord_a.get("/sessions").await.text;
    assert!(
        page.contains("1 pair's sessions changed, invites still to be written"),
        "{page}"
    );
    let smtp = SmtpServer::start();
    let mailer =
        mentorbridge::invites::mail::Mailer::new(&quick_mail(&smtp), "http://mentoring.test")
            .unwrap();
    let round = mailer.send_due(&app.store).await.unwrap();
    // The two supervisors, one series each.
    assert_eq!(round.sent, 2, "{round:?}");
    assert_eq!(smtp.inbox().len(), 2);
    let again = mailer.send_due(&app.store).await.unwrap();
    assert_eq!(again.sent, 0, "nothing is sent twice");
    let page = coord_a.get("/sessions").await.text;
    assert!(!page.contains("invites still to be written"), "{page}");
}

/// School B in Berlin (an hour ahead of London all year: both change their
/// clocks on the same night), registration at 08:40 in London and 09:40 in
/// Berlin. Each school's invite and feed give the series in its own zone,
/// and both parsers expand them to the same instants, either side of the
/// spring change.
async fn a_partnership_across_time_zones_gives_each_school_its_own_local_time(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn_app_with(backend, |s| s.mail = Some(quick_mail(&smtp))).await else {
        return;
    };
    let world = app.world_in("Europe/Berlin", "DE").await;
    app.calendars_with_registration(&world, "08:40", "09:40")
        .await;
    app.ready_pair(&world).await;
    app.approve_as_both(&world).await;
    let series = sessions_of(&app, &world).await;
    assert!(!series.is_empty());
    for s in &series {
        assert_eq!(s.local["school-a"].start.to_string(), "08:40:00");
        assert_eq!(s.local["school-b"].start.to_string(), "09:40:00");
    }
    let inbox = exactly(&smtp, "the series to each supervisor", 2).await;
    let invites: Vec<Invite> = inbox.iter().map(open).collect();
    for invite in &invites {
        let (zone, local) = if invite.to.ends_with("@school-b.example") {
            ("Europe/Berlin", "09:40")
        } else {
            ("Europe/London", "08:40")
        };
        assert!(
            invite.flat.contains(&format!("DTSTART;TZID={zone}:")),
            "{}",
            invite.ics
        );
        assert!(
            invite.flat.contains(&format!("TZID:{zone}")),
            "its VTIMEZONE: {}",
            invite.ics
        );
        assert!(
            invite.subject.contains(local),
            "{} reads its own local time: {}",
            invite.to,
            invite.subject
        );
        expands_to(&[invite.ics.as_str()], &live(&series));
    }

    // Two one-off sessions either side of the spring change (28 March 2027)
    // are in School B's feed at the same instants.
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    for day in ["2027-03-26", "2027-03-29"] {
        let date: chrono::NaiveDate = day.parse().unwrap();
        let slot = mentorbridge::calendar::store::partnership_slots(
            &app.store,
            &world.partnership,
            date,
            date,
        )
        .await
        .unwrap()
        .alignment
        .slots
        .remove(0);
        app.store.book_session(&record, &slot).await.unwrap();
    }
    let all = sessions_of(&app, &world).await;
    let coord_b = app.signed_in("coord.b").await;
    let links = coord_b
        .post_json(
            &format!("/api/schools/{}/calendar-feed", world.b.id),
            &json!({}),
        )
        .await
        .json();
    let url = links["url"].as_str().unwrap();
    let path = &url[url.find("/calendar/").unwrap()..];
    let feed = app.client().get(path).await.text;
    assert!(
        feed.contains("DTSTART;TZID=Europe/Berlin:20270329T094000"),
        "{feed}"
    );
    assert!(
        feed.contains("TRANSP:TRANSPARENT"),
        "a coordinator's school feed leaves them free: {feed}"
    );
    expands_to(&[feed.as_str()], &live(&all));
}

/// A weekly series that crosses both UK clock changes (31 October 2027 and
/// 26 March 2028), booked as one run: its invite and its feed expand, in
/// both independent parsers, to exactly the booked sessions at 08:40 local
/// time, an hour apart in UTC either side of each change.
async fn a_weekly_series_across_both_clock_changes_expands_to_its_sessions(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn_app_with(backend, |s| s.mail = Some(quick_mail(&smtp))).await else {
        return;
    };
    let world = app.world().await;
    app.calendars_with_registration(&world, "08:40", "08:40")
        .await;
    app.ready_pair(&world).await;
    app.approve_as_both(&world).await;
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    exactly(&smtp, "the approved series to each supervisor", 2).await;
    // Its weekly slot from mid October to mid April, every week it falls.
    let aligned = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        "2027-10-11".parse().unwrap(),
        "2028-04-14".parse().unwrap(),
    )
    .await
    .unwrap()
    .alignment
    .slots;
    let weekly: Vec<&mentorbridge::calendar::align::Slot> = aligned
        .iter()
        .filter(|s| mentorbridge::matching::key_of(s) == record.slot.key)
        .collect();
    assert!(weekly.len() > 20, "{} weeks", weekly.len());
    let report = app.store.book_series(&record, &weekly).await.unwrap();
    assert_eq!(report.booked.len(), weekly.len(), "{:?}", report.skipped);
    let uid = report.booked[0].series_uid.clone();
    assert!(report.booked.iter().all(|s| s.series_uid == uid));
    let london = chrono_tz::Europe::London;
    let utc_hours: std::collections::BTreeSet<u32> = report
        .booked
        .iter()
        .map(|s| chrono::Timelike::hour(&s.starts_at))
        .collect();
    assert_eq!(
        utc_hours.len(),
        2,
        "BST and GMT both in the run: {utc_hours:?}"
    );
    assert!(report.booked.iter().all(|s| {
        s.starts_at
            .with_timezone(&london)
            .format("%H:%M")
            .to_string()
            == "08:40"
    }));
    let inbox = exactly(&smtp, "the new series to each supervisor", 4).await;
    let invite = inbox[2..]
        .iter()
        .map(open)
        .find(|i| i.to.starts_with("teacher.a"))
        .expect("teacher.a's invite");
    assert_eq!(invite.uid, uid);
    let want: Vec<_> = report
        .booked
        .iter()
        .map(|s| (s.series_uid.clone(), s.starts_at, s.ends_at))
        .collect();
    let mut want = want;
    want.sort();
    expands_to(&[invite.ics.as_str()], &want);
    // The supervisor's own feed has the same series with the same UID.
    let teacher = app.signed_in("teacher.a").await;
    let links = teacher
        .post_json("/api/me/calendar-feed", &json!({"name": "Laptop"}))
        .await
        .json();
    let url = links["url"].as_str().unwrap();
    let feed = app
        .client()
        .get(&url[url.find("/calendar/").unwrap()..])
        .await
        .text;
    let from_feed: Vec<_> = sessions_of(&app, &world)
        .await
        .into_iter()
        .filter(|s| s.starts_at < Utc::now() + Duration::days(400))
        .collect();
    expands_to(&[feed.as_str()], &live(&from_feed));
    assert!(feed.contains(&uid), "the feed carries the invite's UID");
}

/// The demo's approved matches, through a real mail server: one message
/// per supervisor per series, none to a coordinator as an attendee, and one
/// digest a day (no calendar in it) to each coordinator who asked for one.
/// The sender starts once the demo is seeded (as `mentorbridge demo` does),
/// so the demo's own later changes (a session replaced by the demo call,
/// two it cancels to show restoring and booking again) are in the same
/// round, and each supervisor's first message is the series as it stands.
async fn approving_the_demo_s_matches_sends_one_message_per_supervisor_per_series(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let smtp = SmtpServer::start();
    let mut mail = quick_mail(&smtp);
    mail.digest_at = chrono::NaiveTime::MIN;
    let mailer = mentorbridge::invites::mail::Mailer::new(&mail, "http://mentoring.test").unwrap();
    mentorbridge::demo::seed(&app.store, |_| {}).await.unwrap();
    let mut sessions = Vec::new();
    for school in app.store.list_schools().await.unwrap() {
        sessions.extend(
            app.store
                .sessions_at_school(
                    school.id,
                    Utc::now() - Duration::days(30),
                    Utc::now() + Duration::days(400),
                )
                .await
                .unwrap(),
        );
    }
    sessions.sort_by_key(|s| s.id);
    sessions.dedup_by_key(|s| s.id);
    let pairs: std::collections::BTreeSet<uuid::Uuid> =
        sessions.iter().map(|s| s.match_id).collect();
    assert!(
        pairs.len() >= 5,
        "the demo approves its pairs: {}",
        pairs.len()
    );
    // Every series with a session still to come, to each member of staff
    // who supervises any of its live sessions (a rota may share a series
    // between two).
    let mut supervised: BTreeMap<String, std::collections::BTreeSet<uuid::Uuid>> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.status.is_live()) {
        supervised
            .entry(s.series_uid.clone())
            .or_default()
            .extend(s.supervisors.iter().copied());
    }
    let future: std::collections::BTreeSet<&String> = sessions
        .iter()
        .filter(|s| s.ends_at > Utc::now() + Duration::seconds(30))
        .map(|s| &s.series_uid)
        .collect();
    let expected: usize = supervised
        .iter()
        .filter(|(uid, _)| future.contains(uid))
        .map(|(_, who)| who.len())
        .sum();
    let round = mailer.send_due(&app.store).await.unwrap();
    let inbox = smtp.inbox();
    let mut requests: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut digests = Vec::new();
    for m in &inbox {
        if mailparse::parse_mail(&m.data).unwrap().ctype.mimetype == "text/plain" {
            digests.push(m.clone());
            continue;
        }
        let invite = open(m);
        assert!(
            !invite.to.starts_with("rpatel@") && !invite.to.starts_with("cbyrne@"),
            "a coordinator is not an attendee: {}",
            invite.to
        );
        assert_eq!(invite.method, "REQUEST", "{}", invite.raw);
        *requests
            .entry((invite.to.clone(), invite.uid.clone()))
            .or_default() += 1;
    }
    eprintln!(
        "demo approval: {} messages for {} pairs and {} series ({} invites, {} digests; {round:?})",
        inbox.len(),
        pairs.len(),
        future.len(),
        requests.values().sum::<usize>(),
        digests.len()
    );
    for ((to, uid), count) in &requests {
        assert_eq!(*count, 1, "{to} got {count} invites for {uid}");
    }
    assert_eq!(
        requests.len(),
        expected,
        "each supervisor has each series once: {requests:#?}"
    );
    // The demo's rpatel asked for the digest: one, with no calendar in it.
    assert_eq!(digests.len(), 1, "one digest");
    assert!(
        digests[0].to[0].starts_with("rpatel@"),
        "{:?}",
        digests[0].to
    );
    let body = String::from_utf8_lossy(&digests[0].data);
    assert!(
        !body.contains("BEGIN:VCALENDAR"),
        "no calendar in a digest: {body}"
    );
    assert!(body.contains("Booked:"), "{body}");

    // Ciara (St Columba's coordinator) asks for it too; a session is then
    // cancelled. She gets one digest; Rajesh has had today's.
    let (cbyrne, _) = app.store.user_for_sign_in("cbyrne").await.unwrap().unwrap();
    let mut coordinator = app.client();
    let signed = coordinator
        .sign_in("cbyrne", mentorbridge::demo::DEMO_PASSWORD)
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let reply = coordinator
        .put_json("/api/me/invite-digest", &json!({"daily": true}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cancelling = sessions
        .iter()
        .find(|s| s.status.is_live() && s.starts_at > Utc::now() + Duration::days(2))
        .expect("a session to cancel");
    app.store
        .cancel_session(cancelling, "Inset day")
        .await
        .unwrap();
    mailer.send_due(&app.store).await.unwrap();
    let later: Vec<Delivered> = smtp.inbox().into_iter().skip(inbox.len()).collect();
    let digests: Vec<&Delivered> = later
        .iter()
        .filter(|d| {
            d.to.iter()
                .any(|t| t.starts_with("cbyrne@") || t.starts_with("rpatel@"))
        })
        .collect();
    assert_eq!(digests.len(), 1, "one digest: {digests:?}");
    assert_eq!(digests[0].to, [cbyrne.email.clone().unwrap()]);
    let body = String::from_utf8_lossy(&digests[0].data);
    assert!(
        !body.contains("BEGIN:VCALENDAR"),
        "no calendar in a digest: {body}"
    );
    assert!(
        body.contains("Cancelled:") && body.contains("Inset day"),
        "{body}"
    );
    // The supervisors of that series hear of it: a CANCEL each, naming it.
    let cancels = later
        .iter()
        .filter(|d| !digests.iter().any(|g| std::ptr::eq(*g, *d)))
        .count();
    assert_eq!(cancels, cancelling.supervisors.len(), "{later:?}");
}

/// A name with a line break cannot go into a mail header. As typed it is
/// refused; one already stored (from before the rule) fails its own invites,
/// recorded against them, while everyone else's are sent.
async fn a_name_that_cannot_head_an_email_stops_only_its_own_invites(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let staff = json!({"username": "ms.bcc", "password": "cobalt-fern-ladder",
        "given_name": "Ada\r\nBcc: everyone@example.org", "family_name": "B", "role": "teacher"});
    let reply = coord
        .post_json(&format!("/api/schools/{}/staff", world.a.id), &staff)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.error_field().as_deref(), Some("given_name"));
    assert!(reply.text.contains("line break"), "{}", reply.text);

    app.execute_sql(
        "UPDATE users SET given_name = 'Ada\r\nBcc: everyone@example.org' WHERE username = 'teacher.a'",
    )
    .await;
    set_email(&app, "teacher.a", "teacher.a@school-a.example").await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let n = sessions_of(&app, &world).await.len();
    let smtp = SmtpServer::start();
    let mailer =
        mentorbridge::invites::mail::Mailer::new(&quick_mail(&smtp), "http://mentoring.test")
            .unwrap();
    let round = mailer
        .send_due(&app.store)
        .await
        .expect("a round of sending");
    // teacher.a and coord.b (the supervisors) get the series; teacher.a's
    // is sent with the name folded onto one line, and nobody is added by
    // the name.
    assert!(n > 1);
    assert_eq!(round.sent, 2, "{round:?}");
    let inbox = smtp.inbox();
    assert!(
        inbox
            .iter()
            .all(|m| m.to.iter().all(|to| !to.contains("everyone@"))),
        "the name added no recipient"
    );
    let to_teacher = inbox
        .iter()
        .find(|m| m.to.iter().any(|to| to.contains("teacher.a@")))
        .expect("teacher.a's invite");
    let raw = String::from_utf8_lossy(&to_teacher.data);
    assert!(!raw.contains("\r\nBcc:"), "{raw}");
}

mentorbridge_tests::on_both_databases!(
    a_name_that_cannot_head_an_email_stops_only_its_own_invites,
    a_new_address_gets_the_series_and_the_old_one_a_cancellation,
    a_partnership_across_time_zones_gives_each_school_its_own_local_time,
    a_series_is_one_invite_to_each_supervisor_and_each_change_one_more,
    a_weekly_series_across_both_clock_changes_expands_to_its_sessions,
    approving_the_demo_s_matches_sends_one_message_per_supervisor_per_series,
    invites_wait_in_the_outbox_until_a_mail_server_takes_them,
);
