use chrono::{Duration, Utc};
use mentorbridge::booking::SessionStatus;
use mentorbridge::calendar::store::{add_closure, partnership_slots};
use mentorbridge::calendar::{ClosureInput, PartnershipSlots};
use mentorbridge::error::Error;
use mentorbridge::matching::MatchRecord;
use mentorbridge::matching::key_of;
use mentorbridge_tests::{TestApp, World, on_both_backends};
use serde_json::json;

/// The partnership's one approved match.
async fn the_match(app: &TestApp, world: &World) -> MatchRecord {
    app.store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0)
}

/// mentee.b's sessions from now on, earliest first.
async fn series_ahead(app: &TestApp, world: &World) -> Vec<mentorbridge::booking::Session> {
    app.store
        .sessions_of_student(
            world.mentee_b.id,
            Utc::now(),
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap()
}

/// The partnership's aligned slots from today for `days` days.
async fn slots_ahead(app: &TestApp, world: &World, days: i64) -> PartnershipSlots {
    let today = Utc::now().date_naive();
    partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + Duration::days(days),
    )
    .await
    .unwrap()
}

/// Runs the optimiser; returns the proposal's id and its one pair's slot key.
async fn propose_the_pair(app: &TestApp, world: &World) -> (String, String) {
    let coord_a = app.signed_in("coord.a").await;
    let proposal = coord_a
        .post_json(
            &format!("/api/partnerships/{}/proposal", world.partnership.id),
            &json!({}),
        )
        .await
        .json();
    (
        proposal["id"].as_str().unwrap().to_owned(),
        proposal["matches"][0]["slot_key"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// Has both coordinators approve a proposal.
async fn approve(app: &TestApp, world: &World, proposal: &str) {
    let approve = format!(
        "/api/partnerships/{}/proposal/{proposal}/approve",
        world.partnership.id
    );
    app.signed_in("coord.a")
        .await
        .post_json(&approve, &json!({}))
        .await;
    let done = app
        .signed_in("coord.b")
        .await
        .post_json(&approve, &json!({}))
        .await;
    assert_eq!(done.json()["status"], "approved", "{}", done.text);
}

/// Runs the optimiser and has both coordinators approve; returns the
/// proposal's one pair's slot key.
async fn approve_the_pair(app: &TestApp, world: &World) -> String {
    let (proposal, key) = propose_the_pair(app, world).await;
    approve(app, world, &proposal).await;
    key
}

async fn approval_books_a_weekly_series_that_skips_closures(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let (proposal, key) = propose_the_pair(&app, &world).await;
    // Close school B on the second occurrence of the proposed weekly slot,
    // before the approval books the series.
    let aligned = slots_ahead(&app, &world, 60).await;
    let occurrences: Vec<_> = aligned
        .alignment
        .slots
        .iter()
        .filter(|s| s.start_utc > Utc::now() && key_of(s) == key)
        .collect();
    let closed = occurrences[1].schools["school-b"].date;
    add_closure(
        &app.store,
        world.b.id,
        &ClosureInput {
            start: closed,
            end: None,
            label: "INSET day".into(),
        },
    )
    .await
    .unwrap();

    approve(&app, &world, &proposal).await;
    let sessions = series_ahead(&app, &world).await;
    assert_eq!(sessions.len(), 12, "the referral plans 12 weeks");
    assert!(
        sessions
            .iter()
            .all(|s| s.slot_key == key && s.status == SessionStatus::Scheduled)
    );
    assert!(
        sessions
            .iter()
            .all(|s| s.mentor_id == world.mentor_a.id && s.sequence == 0)
    );
    assert!(
        sessions.iter().all(|s| s.local["school-b"].date != closed),
        "no session on the INSET day"
    );
    assert_eq!(
        sessions[1].local["school-b"].date,
        occurrences[2].schools["school-b"].date
    );
    // One UID each, for life.
    let uids: std::collections::BTreeSet<_> = sessions.iter().map(|s| s.uid.clone()).collect();
    assert_eq!(uids.len(), 12);
    // A week apart, at the same local time.
    for pair in sessions.windows(2) {
        assert!(pair[1].starts_at - pair[0].starts_at >= Duration::days(7));
        assert_eq!(
            pair[0].local["school-a"].start,
            pair[1].local["school-a"].start
        );
    }
}

/// A new term-dates file that ends the term sooner, with an INSET day in
/// it, cancels the sessions on the days the school no longer teaches, each
/// saying why, and leaves the rest.
async fn new_term_dates_cancel_the_sessions_on_days_the_school_no_longer_teaches(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let before = series_ahead(&app, &world).await;
    assert_eq!(before.len(), 12);
    let inset = before[1].local["school-b"].date;
    let last_day = before[5].local["school-b"].date;
    let terms = format!(
        "start_date,end_date,kind,label\n2026-01-05,{last_day},term,Autumn term\n{inset},{inset},closure,INSET day\n"
    );
    mentorbridge::calendar::store::import_term_dates(&app.store, world.b.id, "terms.csv", &terms)
        .await
        .unwrap();
    let after = series_ahead(&app, &world).await;
    let live = after.iter().filter(|s| s.status.is_live()).count();
    assert_eq!(live, 5, "sessions 1, 3, 4, 5 and 6 are left");
    assert_eq!(after[1].status, SessionStatus::Cancelled);
    assert_eq!(
        after[1].reason.as_deref(),
        Some("School B is closed: INSET day")
    );
    for s in &after[6..] {
        assert_eq!(s.status, SessionStatus::Cancelled);
        assert!(
            s.reason
                .as_deref()
                .unwrap()
                .starts_with("School B is not in term on "),
            "{:?}",
            s.reason
        );
        assert_eq!(s.sequence, 1, "calendars are told");
    }
}

/// Cancelling "this and every later session" ends the pair's meetings
/// from that date, in one go, and leaves the earlier ones.
async fn the_rest_of_a_series_is_cancelled_together(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let series = series_ahead(&app, &world).await;
    let coord_b = app.signed_in("coord.b").await;
    let reply = coord_b
        .post_json(
            &format!("/api/sessions/{}/cancel", series[3].id),
            &json!({"reason": "Mentee has left the scheme", "rest_of_series": true}),
        )
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    let cancelled = reply.json();
    assert_eq!(cancelled.as_array().unwrap().len(), series.len() - 3);
    assert_eq!(cancelled[0]["id"], series[3].id.to_string());
    let after = series_ahead(&app, &world).await;
    assert!(after[..3].iter().all(|s| s.status.is_live()));
    assert!(
        after[3..]
            .iter()
            .all(|s| s.status == SessionStatus::Cancelled
                && s.reason.as_deref() == Some("Mentee has left the scheme")
                && s.sequence == 1)
    );
    let again = coord_b
        .post_json(
            &format!("/api/sessions/{}/cancel", series[5].id),
            &json!({"reason": "Again", "rest_of_series": true}),
        )
        .await;
    assert_eq!(again.status, reqwest::StatusCode::CONFLICT);
}

async fn two_hundred_simultaneous_bookings_of_one_student_leave_exactly_one(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let key = approve_the_pair(&app, &world).await;
    let record = the_match(&app, &world).await;
    // A slot the series did not take: another weekday.
    let aligned = slots_ahead(&app, &world, 30).await;
    let slot = aligned
        .alignment
        .slots
        .into_iter()
        .find(|s| s.start_utc > Utc::now() && key_of(s) != key)
        .unwrap();
    let attempts: Vec<_> = (0..200)
        .map(|_| {
            let (store, record, slot) = (app.store.clone(), record.clone(), slot.clone());
            tokio::spawn(async move { store.book_session(&record, &slot).await })
        })
        .collect();
    let (mut booked, mut refused) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => booked += 1,
            Err(Error::Conflict { .. }) => refused += 1,
            Err(other) => panic!("a booking failed another way: {other:?}"),
        }
    }
    assert_eq!((booked, refused), (1, 199));
}

async fn a_cancelled_session_frees_its_students_and_ipads(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let record = the_match(&app, &world).await;
    let first = app
        .store
        .sessions_of_student(
            world.mentor_a.id,
            Utc::now(),
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap()
        .remove(0);
    let aligned = slots_ahead(&app, &world, 30).await;
    let same_time = aligned
        .alignment
        .slots
        .into_iter()
        .find(|s| s.start_utc == first.starts_at)
        .unwrap();
    assert!(matches!(
        app.store.book_session(&record, &same_time).await,
        Err(Error::Conflict { .. })
    ));
    let cancelled = app
        .store
        .cancel_session(&first, "Trip to the museum")
        .await
        .unwrap();
    assert_eq!(cancelled.status, SessionStatus::Cancelled);
    assert_eq!(cancelled.sequence, 1, "SEQUENCE rises on cancellation");
    assert!(matches!(
        app.store.cancel_session(&cancelled, "again").await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        app.store.cancel_session(&first, " ").await,
        Err(Error::Invalid { .. })
    ));
    let again = app.store.book_session(&record, &same_time).await.unwrap();
    assert_ne!(again.uid, first.uid, "a new booking is a new event");
}

/// The path of a feed from the links the API returns.
fn feed_path(links: &serde_json::Value) -> String {
    let url = links["url"].as_str().unwrap();
    let (_, token) = url.split_once("/calendar/").unwrap();
    format!("/calendar/{token}")
}

/// Parses a feed with an independent parser and returns, per event,
/// (UID, SEQUENCE, STATUS, SUMMARY).
fn events(text: &str) -> Vec<(String, String, String, String)> {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = parser.next().unwrap().unwrap();
    let value = |props: &[ical::property::Property], name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    calendar
        .events
        .iter()
        .map(|e| {
            (
                value(&e.properties, "UID"),
                value(&e.properties, "SEQUENCE"),
                value(&e.properties, "STATUS"),
                value(&e.properties, "SUMMARY"),
            )
        })
        .collect()
}

async fn a_private_feed_follows_a_cancellation_and_can_be_revoked(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let mentee = app.signed_in("mentee.b").await;
    let links = mentee.post_json("/api/me/calendar-feed", &json!({})).await;
    assert_eq!(links.status, reqwest::StatusCode::CREATED, "{}", links.text);
    let links = links.json();
    assert!(links["webcal"].as_str().unwrap().starts_with("webcal://"));
    let path = feed_path(&links);

    // Anyone holding the link can read it, without signing in.
    let anonymous = app.client();
    let first = anonymous.get(&path).await;
    assert_eq!(first.status, reqwest::StatusCode::OK);
    assert!(
        first.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    // One event for the series, its sessions the occurrences of its rule.
    let before = events(&first.text);
    assert_eq!(before.len(), 1, "one event per series: {}", first.text);
    let (uid, sequence, status, summary) = before[0].clone();
    assert_eq!((sequence.as_str(), status.as_str()), ("0", "CONFIRMED"));
    assert_eq!(summary, "Mentoring with mentor.a-given (School A)");
    assert!(first.text.contains("RRULE:FREQ=WEEKLY"), "{}", first.text);
    assert!(!first.text.contains("-family"), "no surnames in a feed");
    let booked = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap();
    assert!(booked.iter().all(|s| s.series_uid == uid));
    if let Some(parsed) = mentorbridge_tests::expanded(&first.text) {
        for (parser, found) in parsed {
            let got: Vec<_> = found.iter().map(|o| (o.start, o.end)).collect();
            let want: Vec<_> = booked.iter().map(|s| (s.starts_at, s.ends_at)).collect();
            assert_eq!(
                got, want,
                "{parser} expands the feed to every booked session"
            );
        }
    }

    // A coordinator cancels the first session: the same series, SEQUENCE 1,
    // and an override marking that one CANCELLED.
    let to = (Utc::now() + Duration::days(200)).date_naive();
    let sessions = mentee
        .get(&format!("/api/me/sessions?to={to}"))
        .await
        .json();
    let id = sessions[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions[0]["series_uid"], uid.as_str());
    let coord_a = app.signed_in("coord.a").await;
    let cancelled = coord_a
        .post_json(
            &format!("/api/sessions/{id}/cancel"),
            &json!({"reason": "Mock exams"}),
        )
        .await;
    assert_eq!(
        cancelled.status,
        reqwest::StatusCode::OK,
        "{}",
        cancelled.text
    );
    let twice = coord_a
        .post_json(
            &format!("/api/sessions/{id}/cancel"),
            &json!({"reason": "Mock exams"}),
        )
        .await;
    assert_eq!(twice.status, reqwest::StatusCode::CONFLICT);
    let text = anonymous.get(&path).await.text;
    let after = events(&text);
    assert!(after.iter().all(|e| e.0 == uid && e.1 == "1"), "{after:?}");
    let off: Vec<_> = after.iter().filter(|e| e.2 == "CANCELLED").collect();
    assert_eq!(off.len(), 1, "the cancelled session stays, marked: {text}");
    assert!(off[0].3.starts_with("Cancelled: "), "{}", off[0].3);
    if let Some(parsed) = mentorbridge_tests::expanded(&text) {
        for (parser, found) in parsed {
            let cancelled: Vec<_> = found
                .iter()
                .filter(|o| o.status == "CANCELLED")
                .map(|o| o.start)
                .collect();
            assert_eq!(cancelled, [booked[0].starts_at], "{parser}");
        }
    }

    // A second link, for another device, keeps the first working; each is
    // revoked on its own, and revoking all leaves none.
    let laptop = mentee
        .post_json("/api/me/calendar-feed", &json!({"name": "Laptop"}))
        .await;
    assert_eq!(
        laptop.status,
        reqwest::StatusCode::CREATED,
        "{}",
        laptop.text
    );
    let laptop = laptop.json();
    assert_eq!(anonymous.get(&path).await.status, reqwest::StatusCode::OK);
    let laptop_path = feed_path(&laptop);
    assert_eq!(
        anonymous.get(&laptop_path).await.status,
        reqwest::StatusCode::OK
    );
    let same_name = mentee
        .post_json("/api/me/calendar-feed", &json!({"name": "Laptop"}))
        .await;
    assert_eq!(same_name.status, reqwest::StatusCode::CONFLICT);
    assert!(
        same_name.text.contains("already a calendar link called"),
        "{}",
        same_name.text
    );
    let listed = mentee.get("/api/me/calendar-feeds").await.json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Calendar link", "Laptop"]);
    assert!(
        !listed.to_string().contains("/calendar/"),
        "a list never shows a token again"
    );
    let revoked = mentee
        .delete(&format!(
            "/api/me/calendar-feeds/{}",
            laptop["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(revoked.status, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        anonymous.get(&laptop_path).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
    assert_eq!(
        anonymous.get(&path).await.status,
        reqwest::StatusCode::OK,
        "the other link still works"
    );
    let someone_else = app.signed_in("coord.a").await;
    assert_eq!(
        someone_else
            .delete(&format!(
                "/api/me/calendar-feeds/{}",
                listed[0]["id"].as_str().unwrap()
            ))
            .await
            .status,
        reqwest::StatusCode::NOT_FOUND,
        "nobody else can revoke it"
    );

    let newer_path = path.clone();
    assert_eq!(
        anonymous.get(&newer_path).await.status,
        reqwest::StatusCode::OK
    );
    assert_eq!(
        mentee.delete("/api/me/calendar-feed").await.status,
        reqwest::StatusCode::NO_CONTENT
    );
    let gone = anonymous.get(&newer_path).await;
    assert_eq!(gone.status, reqwest::StatusCode::NOT_FOUND);
    assert!(
        !gone.text.contains("revoked"),
        "nothing revealed: {}",
        gone.text
    );
    assert_eq!(
        anonymous.get("/calendar/not-a-token.ics").await.status,
        reqwest::StatusCode::NOT_FOUND
    );

    // The school's feed shows staff both names and both schools.
    let school = coord_a
        .post_json(
            &format!("/api/schools/{}/calendar-feed", world.a.id),
            &json!({}),
        )
        .await
        .json();
    let school_path = feed_path(&school);
    let staff_view = events(&anonymous.get(&school_path).await.text);
    let revoke = coord_a
        .delete(&format!("/api/schools/{}/calendar-feed", world.a.id))
        .await;
    assert_eq!(revoke.status, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        anonymous.get(&school_path).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
    assert!(
        staff_view
            .iter()
            .any(|e| e.3 == "Mentoring: mentee.b-given (School B) with mentor.a-given (School A)")
    );
}

async fn a_session_moves_to_another_slot_and_a_later_closure_cancels_one(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let coord_b = app.signed_in("coord.b").await;
    let to = (Utc::now() + Duration::days(200)).date_naive();
    let mine = app.signed_in("mentee.b").await;
    let sessions = mine.get(&format!("/api/me/sessions?to={to}")).await.json();
    let first = sessions[0].clone();
    let second = sessions[1].clone();
    let id = first["id"].as_str().unwrap();

    // Another slot of the partnership that the series does not use.
    let aligned = slots_ahead(&app, &world, 30).await;
    let taken: Vec<chrono::DateTime<Utc>> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().parse().unwrap())
        .collect();
    let free = aligned
        .alignment
        .slots
        .iter()
        .find(|s| s.start_utc > Utc::now() && !taken.contains(&s.start_utc))
        .unwrap();
    let moved = coord_b
        .post_json(
            &format!("/api/sessions/{id}/move"),
            &json!({"starts_at": free.start_utc, "reason": "Sports day"}),
        )
        .await;
    assert_eq!(moved.status, reqwest::StatusCode::OK, "{}", moved.text);
    let moved = moved.json()[0].clone();
    assert_eq!(moved["status"], "moved");
    assert_eq!(moved["sequence"], 1);
    assert_eq!(moved["uid"], first["uid"], "the same event, moved");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(moved["starts_at"].as_str().unwrap()).unwrap(),
        free.start_utc
    );

    // Not a slot: refused by name. Onto another of the student's sessions: taken.
    let odd = coord_b
        .post_json(
            &format!("/api/sessions/{id}/move"),
            &json!({"starts_at": free.start_utc + Duration::minutes(7)}),
        )
        .await;
    assert_eq!(odd.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(odd.error_field().as_deref(), Some("starts_at"));
    let clash = coord_b
        .post_json(
            &format!("/api/sessions/{id}/move"),
            &json!({"starts_at": second["starts_at"]}),
        )
        .await;
    assert_eq!(
        clash.status,
        reqwest::StatusCode::CONFLICT,
        "{}",
        clash.text
    );
    let past = coord_b
        .post_json(
            &format!("/api/sessions/{id}/move"),
            &json!({"starts_at": "2020-01-06T08:40:00Z"}),
        )
        .await;
    assert_eq!(past.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);

    // School B closes on the second session's day: it is cancelled, saying why.
    let day = second["local"]["school-b"]["date"].as_str().unwrap();
    let closure = coord_b
        .post_json(
            &format!("/api/schools/{}/calendar/closures", world.b.id),
            &json!({"start": day, "label": "Boiler failure"}),
        )
        .await;
    assert_eq!(
        closure.status,
        reqwest::StatusCode::CREATED,
        "{}",
        closure.text
    );
    assert_eq!(closure.json()["sessions_cancelled"], 1);
    // Staff see why; the student sees only that it is cancelled.
    let staff_view = coord_b
        .get(&format!("/api/schools/{}/sessions?to={to}", world.b.id))
        .await
        .json();
    let gone = staff_view
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == second["id"])
        .unwrap();
    assert_eq!(gone["status"], "cancelled");
    assert_eq!(gone["reason"], "School B is closed: Boiler failure");
    assert_eq!(gone["sequence"], 1);
    // The mentor is now free on Mondays only: a move to any other day is
    // refused, naming them.
    let coord_a = app.signed_in("coord.a").await;
    let narrowed = coord_a
        .put_json(
            &format!("/api/mentors/{}/profile", world.mentor_a.id),
            &json!({"offers": [{"subject": "Maths", "level": "gcse"}], "capacity": 2,
                    "free_periods": [{"day": "Mon", "period": "REG"}]}),
        )
        .await;
    assert_eq!(
        narrowed.status,
        reqwest::StatusCode::OK,
        "{}",
        narrowed.text
    );
    let not_monday = aligned
        .alignment
        .slots
        .iter()
        .find(|s| {
            s.start_utc > Utc::now()
                && !taken.contains(&s.start_utc)
                && s.start_utc != free.start_utc
                && s.schools["school-a"].date.format("%a").to_string() != "Mon"
        })
        .unwrap();
    let busy_mentor = coord_b
        .post_json(
            &format!("/api/sessions/{id}/move"),
            &json!({"starts_at": not_monday.start_utc}),
        )
        .await;
    assert_eq!(
        busy_mentor.status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        busy_mentor.text
    );
    assert!(
        busy_mentor.text.contains("is not free then"),
        "{}",
        busy_mentor.text
    );
    let student_view = mine.get(&format!("/api/me/sessions?to={to}")).await.json();
    let theirs = student_view
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == second["id"])
        .unwrap();
    assert_eq!(theirs["status"], "cancelled");
    assert_eq!(theirs["reason"], serde_json::Value::Null);
}

/// The "Move to" menu's times on a sessions page, as (weekday, label).
fn move_menu(page: &str) -> Vec<String> {
    page.split("<select name=\"starts_at\">")
        .skip(1)
        .flat_map(|menu| {
            let menu = menu.split("</select>").next().unwrap_or_default();
            menu.split("\">")
                .skip(1)
                .map(|o| o.split("</option>").next().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn a_move_is_never_offered_or_made_at_a_time_the_mentee_cannot_make(app: TestApp) {
    let world = app.world().await;
    let referral = app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    // Since the match, mentee.b has a music lesson in Tuesday registration.
    mentorbridge::on_pool!(&app.store, |pool| sqlx::query(
        "UPDATE referrals SET unavailable = '* Tue REG' WHERE id = $1"
    )
    .bind(referral)
    .execute(pool)
    .await
    .map(drop))
    .unwrap();

    let coord_a = app.signed_in("coord.a").await;
    let page = coord_a.get("/sessions").await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    let menu = move_menu(&page.text);
    assert!(
        !menu.is_empty(),
        "the menu offers other times: {}",
        page.text
    );
    assert!(
        menu.iter().all(|label| !label.starts_with("Tue")),
        "Tuesday registration is offered: {menu:?}"
    );
    assert!(
        menu.iter().any(|label| label.starts_with("Wed")),
        "{menu:?}"
    );

    let sessions = series_ahead(&app, &world).await;
    let tuesday = slots_ahead(&app, &world, 30)
        .await
        .alignment
        .slots
        .into_iter()
        .find(|s| {
            s.start_utc > Utc::now()
                && s.schools["school-b"].date.format("%a").to_string() == "Tue"
                && sessions.iter().all(|b| b.starts_at != s.start_utc)
        })
        .unwrap();
    let refused = coord_a
        .post_json(
            &format!("/api/sessions/{}/move", sessions[0].id),
            &json!({"starts_at": tuesday.start_utc}),
        )
        .await;
    assert_eq!(
        refused.status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("their referral says not on"),
        "{}",
        refused.text
    );
}

async fn two_pairs_booking_one_slot_at_once_get_ipads_and_supervisor_places_while_they_last(
    app: TestApp,
) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let mentor2 = app.add_student(&world.a, "mentor2.a", "mentor", 13).await;
    app.ready_mentor(&world, &mentor2, "Maths").await;
    let mentee2 = app.add_student(&world.b, "mentee2.b", "mentee", 8).await;
    let teacher_b = app
        .store
        .user_for_sign_in("teacher.b")
        .await
        .unwrap()
        .unwrap()
        .0;
    app.approved_referral(&world, &teacher_b, mentee2.id, "Maths")
        .await;
    let coord = mentorbridge::auth::Actor {
        user: world.coord_b.clone(),
        csrf_token: String::new(),
    };
    let pin = serde_json::from_value(
        json!({"mentee_id": mentee2.id, "mentor_id": mentor2.id, "kind": "pin"}),
    )
    .unwrap();
    app.store
        .set_match_rule(&world.partnership, &pin, &coord)
        .await
        .unwrap();
    approve_the_pair(&app, &world).await;
    let records = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap();
    assert_eq!(records.len(), 2);
    // Slots none of the four students is booked in: both pairs race for
    // them, with two iPads at each school.
    let mut booked = Vec::new();
    for student in [world.mentee_b.id, mentee2.id] {
        for s in app
            .store
            .sessions_of_student(student, Utc::now(), Utc::now() + Duration::days(400))
            .await
            .unwrap()
        {
            booked.push(s.starts_at);
        }
    }
    let free: Vec<_> = slots_ahead(&app, &world, 40)
        .await
        .alignment
        .slots
        .into_iter()
        .filter(|s| s.start_utc > Utc::now() && !booked.contains(&s.start_utc))
        .take(8)
        .collect();
    assert!(free.len() >= 4);
    let (now_free, later) = free.split_at(4);
    for slot in now_free {
        let (a, b) = tokio::join!(
            app.store.book_session(&records[0], slot),
            app.store.book_session(&records[1], slot)
        );
        assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
        // One named supervisor at each end, watching both pairs.
        let mut expected = vec![world.teacher_a.id, world.coord_b.id];
        expected.sort();
        for s in [a.unwrap(), b.unwrap()] {
            let mut got = s.supervisors.clone();
            got.sort();
            assert_eq!(got, expected);
        }
    }

    // Now teacher.a can watch only one pair at a time: of two bookings at
    // once, exactly one gets the place, and the other is told why.
    app.declare_capacity(&world.a, 2, &["teacher.a"], Some(1))
        .await;
    for slot in later {
        let (a, b) = tokio::join!(
            app.store.book_session(&records[0], slot),
            app.store.book_session(&records[1], slot)
        );
        let refused = match (&a, &b) {
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => e.to_string(),
            _ => panic!("exactly one of two should be booked: {a:?} {b:?}"),
        };
        assert!(refused.contains("supervisor"), "{refused}");
    }
}

async fn invites_carry_the_right_instant_on_the_mondays_after_both_uk_clock_changes(app: TestApp) {
    use mentorbridge::invites::series::{Instance, Parties, Transp, View};
    use mentorbridge::invites::{CalendarUser, Method, Reader, itip};
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let record = the_match(&app, &world).await;
    // 08:40 in London: GMT after the autumn change, BST after the spring one.
    for (day, local, start, end) in [
        (
            "2026-10-26",
            "20261026T084000",
            "2026-10-26T08:40:00Z",
            "2026-10-26T09:00:00Z",
        ),
        (
            "2027-03-29",
            "20270329T084000",
            "2027-03-29T07:40:00Z",
            "2027-03-29T08:00:00Z",
        ),
    ] {
        let date: chrono::NaiveDate = day.parse().unwrap();
        let slot = partnership_slots(&app.store, &world.partnership, date, date)
            .await
            .unwrap()
            .alignment
            .slots
            .remove(0);
        let session = app.store.book_session(&record, &slot).await.unwrap();
        let names = mentorbridge::booking::SessionNames::default();
        let someone = CalendarUser {
            name: "Coordinator".into(),
            email: "coord@school-b.example".into(),
        };
        let view = View {
            uid: &session.series_uid,
            sequence: 0,
            names: &names,
            reader: Reader::Staff,
            tz: chrono_tz::Europe::London,
            instances: vec![Instance::from(&session)],
            transp: Transp::Opaque,
        };
        let text = itip(
            Method::Request,
            &view,
            None,
            Parties {
                organizer: &someone,
                attendees: std::slice::from_ref(&someone),
            },
            "https://mb.example",
            Utc::now(),
        );
        assert!(
            text.contains(&format!("DTSTART;TZID=Europe/London:{local}")),
            "{text}"
        );
        if let Some(parsed) = mentorbridge_tests::expanded(&text) {
            for (parser, found) in parsed {
                assert_eq!(found.len(), 1, "{parser}");
                assert_eq!(
                    (
                        found[0]
                            .start
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        found[0]
                            .end
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                    (start.to_owned(), end.to_owned()),
                    "{parser} on {day}"
                );
            }
        }
        assert_eq!(session.local["school-a"].start.to_string(), "08:40:00");
    }
}

async fn the_rest_of_a_series_moves_to_another_weekly_slot_together(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let key = approve_the_pair(&app, &world).await;
    let coord_a = app.signed_in("coord.a").await;
    let sessions = series_ahead(&app, &world).await;
    let third = &sessions[2];
    // The same week's slot on another weekday, after the third session.
    let aligned = slots_ahead(&app, &world, 60).await;
    let target = aligned
        .alignment
        .slots
        .iter()
        .find(|s| s.start_utc > third.starts_at && key_of(s) != key)
        .unwrap();
    let reply = coord_a
        .post_json(
            &format!("/api/sessions/{}/move", third.id),
            &json!({"starts_at": target.start_utc, "rest_of_series": true, "reason": "New timetable"}),
        )
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json().as_array().unwrap().len(),
        10,
        "the third to the twelfth"
    );
    let after = series_ahead(&app, &world).await;
    let new_key = key_of(target);
    let (kept, moved): (Vec<_>, Vec<_>) = after.iter().partition(|s| s.sequence == 0);
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|s| s.slot_key == key));
    assert_eq!(moved.len(), 10);
    assert!(
        moved
            .iter()
            .all(|s| s.slot_key == new_key && s.sequence == 1)
    );
    assert_eq!(moved[0].starts_at, target.start_utc);
    for pair in moved.windows(2) {
        assert!(pair[1].starts_at - pair[0].starts_at >= Duration::days(7));
    }
    // Each kept its UID.
    let before_ids: std::collections::BTreeSet<_> =
        sessions[2..].iter().map(|s| s.uid.clone()).collect();
    let after_ids: std::collections::BTreeSet<_> = moved.iter().map(|s| s.uid.clone()).collect();
    assert_eq!(before_ids, after_ids);
}

/// A feed holds the last term behind and the booked year ahead (four
/// months ahead cut a term's series in half), says how often to look
/// again, and answers a calendar's conditional request with 304 until
/// something changes.
async fn a_feed_holds_the_term_behind_and_the_year_ahead_and_answers_304_when_unchanged(
    app: TestApp,
) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    let record = the_match(&app, &world).await;
    let slot = slots_ahead(&app, &world, 14)
        .await
        .alignment
        .slots
        .remove(0);
    let mut booked = Vec::new();
    for weeks in [-10, 29] {
        let mut s = slot.clone();
        s.start_utc += Duration::weeks(weeks);
        s.end_utc += Duration::weeks(weeks);
        booked.push(app.store.book_session(&record, &s).await.unwrap());
    }
    let mentee = app.signed_in("mentee.b").await;
    let links = mentee
        .post_json("/api/me/calendar-feed", &json!({}))
        .await
        .json();
    let path = feed_path(&links);
    let reader = app.client();
    let first = reader.get(&path).await;
    assert_eq!(first.status, reqwest::StatusCode::OK);
    let uids: Vec<String> = events(&first.text).into_iter().map(|e| e.0).collect();
    for session in &booked {
        assert!(
            uids.contains(&session.series_uid),
            "{} is in the feed: {}",
            session.starts_at,
            first.text
        );
    }
    assert!(
        first.text.contains("REFRESH-INTERVAL;VALUE=DURATION:PT1H"),
        "{}",
        first.text
    );
    assert!(first.text.contains("X-PUBLISHED-TTL:PT1H"));
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(first.headers.contains_key("last-modified"));
    let again = reader
        .http
        .get(format!("{}{path}", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::NOT_MODIFIED);
    assert!(again.text().await.unwrap().is_empty());
    // A change makes a new feed.
    let coord_a = app.signed_in("coord.a").await;
    let cancelled = coord_a
        .post_json(
            &format!("/api/sessions/{}/cancel", booked[1].id),
            &json!({"reason": "Exams"}),
        )
        .await;
    assert_eq!(
        cancelled.status,
        reqwest::StatusCode::OK,
        "{}",
        cancelled.text
    );
    let changed = reader
        .http
        .get(format!("{}{path}", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), reqwest::StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
}

/// A teacher's own calendar holds the sessions they supervise, not every
/// session at the school (that is the school feed, for coordinators).
async fn a_teachers_own_calendar_holds_the_sessions_they_supervise(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    approve_the_pair(&app, &world).await;
    app.add_staff(&world.a, "teacher.other", "teacher").await;
    let feed_of = |username: &'static str| {
        let app = &app;
        async move {
            let client = app.signed_in(username).await;
            let links = client
                .post_json("/api/me/calendar-feed", &json!({}))
                .await
                .json();
            events(&app.client().get(&feed_path(&links)).await.text)
        }
    };
    let supervising = feed_of("teacher.a").await;
    assert!(
        !supervising.is_empty(),
        "teacher.a supervises the pair's sessions"
    );
    let other = feed_of("teacher.other").await;
    assert!(other.is_empty(), "a teacher who supervises none: {other:?}");
    let coordinator = app.signed_in("coord.a").await;
    let school = coordinator
        .post_json(
            &format!("/api/schools/{}/calendar-feed", world.a.id),
            &json!({}),
        )
        .await
        .json();
    let all = events(&app.client().get(&feed_path(&school)).await.text);
    assert_eq!(
        all.len(),
        supervising.len(),
        "the school feed holds them all"
    );
}

on_both_backends!(
    a_move_is_never_offered_or_made_at_a_time_the_mentee_cannot_make,
    a_teachers_own_calendar_holds_the_sessions_they_supervise,
    a_feed_holds_the_term_behind_and_the_year_ahead_and_answers_304_when_unchanged,
    the_rest_of_a_series_is_cancelled_together,
    new_term_dates_cancel_the_sessions_on_days_the_school_no_longer_teaches,
    the_rest_of_a_series_moves_to_another_weekly_slot_together,
    invites_carry_the_right_instant_on_the_mondays_after_both_uk_clock_changes,
    two_pairs_booking_one_slot_at_once_get_ipads_and_supervisor_places_while_they_last,
    a_session_moves_to_another_slot_and_a_later_closure_cancels_one,
    approval_books_a_weekly_series_that_skips_closures,
    two_hundred_simultaneous_bookings_of_one_student_leave_exactly_one,
    a_cancelled_session_frees_its_students_and_ipads,
    a_private_feed_follows_a_cancellation_and_can_be_revoked
);
