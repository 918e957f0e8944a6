//! Email invites end to end: bookings, moves and cancellations reach staff
//! through a real SMTP server on loopback, as iTIP a calendar accepts,
//! read back with independent MIME (mailparse) and iCalendar (ical) parsers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use mentorbridge::booking::Session;
use mentorbridge_tests::{Backend, Delivered, SmtpServer, TestApp, quick_mail, spawn_app_with};
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
    status: String,
    dtstart: String,
    organizer: String,
    attendees: Vec<String>,
    text: String,
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
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    let plain = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .expect("a text part for people");
    let cal = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/calendar")
        .expect("a text/calendar part");
    let body = cal.get_body().unwrap();
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(body.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("it parses");
    assert_eq!(calendar.events.len(), 1, "{body}");
    let event = &calendar.events[0];
    Invite {
        to: d.to.join(","),
        subject: header("Subject"),
        mime_method: cal.ctype.params.get("method").cloned().unwrap_or_default(),
        method: prop(&calendar.properties, "METHOD"),
        uid: prop(&event.properties, "UID"),
        sequence: prop(&event.properties, "SEQUENCE"),
        status: prop(&event.properties, "STATUS"),
        dtstart: prop(&event.properties, "DTSTART"),
        organizer: prop(&event.properties, "ORGANIZER"),
        attendees: event
            .properties
            .iter()
            .filter(|p| p.name == "ATTENDEE")
            .filter_map(|p| p.value.clone())
            .collect(),
        text: plain.get_body().unwrap(),
        raw: String::from_utf8_lossy(&d.data).into_owned(),
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

async fn bookings_moves_and_cancellations_reach_staff_by_email(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn_app_with(backend, |s| s.mail = Some(quick_mail(&smtp))).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    // teacher.a (supervising at school A) has a mailbox that does not
    // exist; coord.b's server greylists the first message.
    set_email(&app, "teacher.a", "teacher.a@refused.example").await;
    set_email(&app, "coord.b", "busy.coord.b@school-b.example").await;
    app.approve_as_both(&world).await;
    let sessions = sessions_of(&app, &world).await;
    assert!(
        sessions.len() >= 6,
        "a series is booked: {}",
        sessions.len()
    );
    let uids: BTreeSet<String> = sessions.iter().map(|s| s.uid.clone()).collect();

    // Every session reaches coord.a and coord.b (the greylisted one after a
    // retry); none reaches teacher.a, whose mailbox is refused.
    let n = sessions.len();
    let inbox = smtp
        .wait_for("a REQUEST per session to both coordinators", |m| {
            m.len() >= 2 * n
        })
        .await;
    let invites: Vec<Invite> = inbox.iter().map(open).collect();
    let mut by_recipient: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for invite in &invites {
        assert_eq!(invite.method, "REQUEST", "{}", invite.raw);
        assert_eq!(
            invite.mime_method, "REQUEST",
            "the MIME method matches METHOD"
        );
        assert_eq!(invite.sequence, "0");
        assert_eq!(invite.status, "CONFIRMED");
        assert_eq!(invite.organizer, "mailto:mentoring@scheme.example");
        assert!(
            invite.dtstart.ends_with('Z'),
            "times in UTC: {}",
            invite.dtstart
        );
        assert!(
            invite.subject.starts_with("Mentoring "),
            "{}",
            invite.subject
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
        by_recipient
            .entry(invite.to.clone())
            .or_default()
            .insert(invite.uid.clone());
    }
    assert_eq!(
        by_recipient.keys().cloned().collect::<Vec<_>>(),
        ["busy.coord.b@school-b.example", "coord.a@school-a.example"]
    );
    for (who, got) in &by_recipient {
        assert_eq!(got, &uids, "{who} got one invite per session, with its UID");
    }
    // Attendees are the recipient's own school's staff only.
    let to_a = invites
        .iter()
        .find(|i| i.to == "coord.a@school-a.example")
        .unwrap();
    let mut attendees = to_a.attendees.clone();
    attendees.sort();
    assert_eq!(
        attendees,
        [
            "mailto:coord.a@school-a.example",
            "mailto:teacher.a@refused.example"
        ]
    );
    let to_b = invites
        .iter()
        .find(|i| i.to == "busy.coord.b@school-b.example")
        .unwrap();
    assert_eq!(to_b.attendees, ["mailto:busy.coord.b@school-b.example"]);

    // Move one session and cancel another: the same UIDs, SEQUENCE 1.
    let coord_a = app.signed_in("coord.a").await;
    let (moving, cancelling) = (&sessions[0], &sessions[1]);
    let today = Utc::now().date_naive();
    let aligned = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + Duration::days(30),
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
            &format!("/api/sessions/{}/move", moving.id),
            &json!({"starts_at": free.start_utc, "reason": "Sports day"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let cancelled = coord_a
        .post_json(
            &format!("/api/sessions/{}/cancel", cancelling.id),
            &json!({"reason": "Mock exams in the hall"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    let inbox = smtp
        .wait_for("the move and the cancellation to both", |m| {
            m.len() >= 2 * n + 4
        })
        .await;
    let later: Vec<Invite> = inbox[2 * n..].iter().map(open).collect();
    let moves: Vec<&Invite> = later.iter().filter(|i| i.uid == moving.uid).collect();
    let cancels: Vec<&Invite> = later.iter().filter(|i| i.uid == cancelling.uid).collect();
    assert_eq!((moves.len(), cancels.len()), (2, 2), "{later:#?}");
    for m in moves {
        assert_eq!(
            (m.method.as_str(), m.mime_method.as_str()),
            ("REQUEST", "REQUEST")
        );
        assert_eq!(m.sequence, "1");
        assert_eq!(
            m.dtstart,
            free.start_utc.format("%Y%m%dT%H%M%SZ").to_string()
        );
        assert!(m.subject.starts_with("Changed: "), "{}", m.subject);
        assert!(m.text.contains("Sports day"), "staff see why: {}", m.text);
    }
    for c in cancels {
        assert_eq!(
            (c.method.as_str(), c.mime_method.as_str()),
            ("CANCEL", "CANCEL")
        );
        assert_eq!(c.sequence, "1");
        assert_eq!(c.status, "CANCELLED");
        assert!(c.subject.starts_with("Cancelled: "), "{}", c.subject);
    }

    // The refused mailbox is recorded and shown to school A's coordinator;
    // the greylisted one shows the retry. The coordinators' mail can arrive
    // a moment before the sender has tried teacher.a's last invite, so wait
    // for that try to be recorded.
    let mut record = serde_json::Value::Null;
    for _ in 0..100 {
        record = coord_a
            .get(&format!("/api/schools/{}/invites", world.a.id))
            .await
            .json();
        let waiting = record.as_array().unwrap().iter().any(|m| {
            m["recipient_email"] == "teacher.a@refused.example" && m["status"] == "pending"
        });
        if !waiting {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let refused: Vec<&serde_json::Value> = record
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["recipient_email"] == "teacher.a@refused.example")
        .collect();
    assert_eq!(
        refused.len(),
        n + 2,
        "every invite to teacher.a is recorded"
    );
    for m in &refused {
        assert_eq!(m["status"], "failed", "{m}");
        assert!(m["last_error"].as_str().unwrap().contains("550"), "{m}");
        assert_eq!(
            m["tries"].as_array().unwrap().len(),
            1,
            "a refusal is final: {m}"
        );
        assert_eq!(m["tries"][0]["outcome"], "refused");
    }
    let record_b = app
        .signed_in("coord.b")
        .await
        .get(&format!("/api/schools/{}/invites", world.b.id))
        .await
        .json();
    let retried: Vec<&serde_json::Value> = record_b
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["tries"].as_array().unwrap().len() > 1)
        .collect();
    assert_eq!(retried.len(), 1, "one message was greylisted: {record_b}");
    assert_eq!(retried[0]["status"], "sent");
    assert_eq!(retried[0]["tries"][0]["outcome"], "deferred");
    assert!(
        retried[0]["tries"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("451"),
        "{}",
        retried[0]
    );
    assert_eq!(retried[0]["tries"][1]["outcome"], "sent");
    assert!(
        record_b
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["recipient_email"] == "busy.coord.b@school-b.example"),
        "school B sees only its own staff's invites"
    );
}

/// Invites made while no mail server is set up wait in the database, and a
/// sender started later (as after a restart) delivers every one.
async fn invites_wait_in_the_outbox_until_a_mail_server_takes_them(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let n = sessions_of(&app, &world).await.len();
    let waiting = app
        .signed_in("coord.a")
        .await
        .get(&format!("/api/schools/{}/invites", world.a.id))
        .await
        .json();
    let waiting = waiting.as_array().unwrap();
    // coord.a and teacher.a (the supervisor) each have one per session.
    assert_eq!(waiting.len(), 2 * n);
    assert!(waiting.iter().all(|m| m["status"] == "pending"));

    let smtp = SmtpServer::start();
    let mailer =
        mentorbridge::invites::mail::Mailer::new(&quick_mail(&smtp), "http://mentoring.test")
            .unwrap();
    let round = mailer.send_due(&app.store).await.unwrap();
    // Both schools' staff: coord.a, teacher.a, and coord.b (coordinator and
    // supervisor at school B, one message each).
    assert_eq!(round.sent, 3 * n, "{round:?}");
    assert_eq!(smtp.inbox().len(), 3 * n);
    let again = mailer.send_due(&app.store).await.unwrap();
    assert_eq!(again.sent, 0, "nothing is sent twice");
}

/// School B in Berlin (an hour ahead of London all year: both change their
/// clocks on the same night), registration at 08:40 in London and 09:40 in
/// Berlin. The same instant reaches each school's staff in its own local
/// time, before and after the spring change, in invites and in the feed.
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
    // Two more, either side of the spring change (28 March 2027).
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    let mut extra = Vec::new();
    for (day, utc) in [
        ("2027-03-26", "20270326T084000Z"),
        ("2027-03-29", "20270329T074000Z"),
    ] {
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
        let session = app.store.book_session(&record, &slot).await.unwrap();
        extra.push((session, utc));
    }
    // coord.a and teacher.a at A; coord.b (coordinator and supervisor) at B.
    let total = 3 * (series.len() + extra.len());
    let inbox = smtp.wait_for("every invite", |m| m.len() >= total).await;
    let invites: Vec<Invite> = inbox.iter().map(open).collect();
    for (session, utc) in &extra {
        let about: Vec<&Invite> = invites.iter().filter(|i| i.uid == session.uid).collect();
        assert_eq!(about.len(), 3);
        for invite in about {
            assert_eq!(&invite.dtstart, utc, "one instant for everyone");
            let local = if invite.to.ends_with("@school-b.example") {
                "09:40"
            } else {
                "08:40"
            };
            assert!(
                invite.subject.contains(local),
                "{} reads its own local time: {}",
                invite.to,
                invite.subject
            );
        }
    }

    // School B's feed (the next four months) has the same instant.
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
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(feed.as_bytes()));
    let calendar = parser.next().unwrap().unwrap();
    let first = &series[0];
    let event = calendar
        .events
        .iter()
        .find(|e| prop(&e.properties, "UID") == first.uid)
        .expect("the next session is in the feed");
    assert_eq!(
        prop(&event.properties, "DTSTART"),
        first.starts_at.format("%Y%m%dT%H%M%SZ").to_string()
    );
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
    // coord.a and coord.b get theirs; teacher.a's are sent with the name
    // folded onto one line, and nobody is added by the name.
    assert_eq!(round.sent, 3 * n, "{round:?}");
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
    a_partnership_across_time_zones_gives_each_school_its_own_local_time,
    bookings_moves_and_cancellations_reach_staff_by_email,
    invites_wait_in_the_outbox_until_a_mail_server_takes_them,
);
