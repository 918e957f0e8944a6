//! Changes that cancel sessions: a dry run of new term dates, a closure or
//! a bell schedule lists exactly what the change then cancels, and cancels
//! nothing itself; a cancelled session can be restored while its slot is
//! free; a pair left with nothing booked can be booked again.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, Utc};
use mentorbridge::booking::{Session, SessionStatus};
use mentorbridge_tests::{Client, TestApp, World, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// mentee.b's sessions from now on, earliest first.
async fn series_ahead(app: &TestApp, world: &World) -> Vec<Session> {
    app.store
        .sessions_of_student(
            world.mentee_b.id,
            Utc::now(),
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap()
}

/// The world's pair approved, with their twelve weeks booked.
async fn a_booked_pair(app: &TestApp, world: &World) -> Vec<Session> {
    app.ready_to_match(world).await;
    app.approve_as_both(world).await;
    let series = series_ahead(app, world).await;
    assert_eq!(series.len(), 12, "the referral plans 12 weeks");
    series
}

/// The session ids a change's answer lists in `cancels`.
fn listed(answer: &Value) -> BTreeSet<String> {
    answer["cancels"]
        .as_array()
        .unwrap_or_else(|| panic!("no cancels in {answer}"))
        .iter()
        .map(|c| c["session_id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(sessions: &[&Session]) -> BTreeSet<String> {
    sessions.iter().map(|s| s.id.to_string()).collect()
}

async fn cancelled_now(app: &TestApp, world: &World) -> BTreeSet<String> {
    let series = series_ahead(app, world).await;
    ids(&series
        .iter()
        .filter(|s| s.status == SessionStatus::Cancelled)
        .collect::<Vec<_>>())
}

/// Registration every weekday at `start` for twenty minutes.
fn bells_at(start: &str) -> String {
    let time: chrono::NaiveTime = format!("{start}:00").parse().unwrap();
    let end = (time + Duration::minutes(20)).format("%H:%M");
    std::iter::once("week,day,period,start,end,kind\n".to_owned())
        .chain(
            ["Mon", "Tue", "Wed", "Thu", "Fri"]
                .iter()
                .map(|d| format!("*,{d},REG,{start},{end},registration\n")),
        )
        .collect()
}

async fn put_terms(client: &Client, world: &World, terms: &str, dry_run: bool) -> Value {
    let reply = client
        .put_raw(
            &format!(
                "/api/schools/{}/calendar/terms?file=terms.csv&dry_run={dry_run}",
                world.b.id
            ),
            "text/csv",
            terms,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

async fn term_dates_that_drop_a_term_are_listed_first_and_cancel_exactly_that_list(app: TestApp) {
    let world = app.world().await;
    let before = a_booked_pair(&app, &world).await;
    // School B's new file ends the term after the sixth session and closes
    // on the second's day: sessions 2 and 7 to 12 go.
    let inset = before[1].local["school-b"].date;
    let last_day = before[5].local["school-b"].date;
    let terms = format!(
        "start_date,end_date,kind,label\n2026-01-05,{last_day},term,Autumn term\n{inset},{inset},closure,INSET day\n"
    );
    let expected: Vec<&Session> = std::iter::once(&before[1])
        .chain(before[6..].iter())
        .collect();
    let coord_b = app.signed_in("coord.b").await;

    let preview = put_terms(&coord_b, &world, &terms, true).await;
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        (preview["sessions"].as_u64(), preview["pairs"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(listed(&preview), ids(&expected));
    let first = &preview["cancels"][0];
    assert_eq!(first["mentee"], "mentee.b-given");
    assert_eq!(first["date"], inset.to_string());
    assert_eq!(first["time"], "08:40–09:00");
    assert_eq!(first["reason"], "School B is closed: INSET day");
    assert!(
        cancelled_now(&app, &world).await.is_empty(),
        "a dry run cancels nothing"
    );
    let calendar = coord_b
        .get(&format!("/api/schools/{}/calendar", world.b.id))
        .await
        .json();
    assert_eq!(
        calendar["entries"][0]["label"], "Long term",
        "a dry run writes no term dates"
    );

    let done = put_terms(&coord_b, &world, &terms, false).await;
    assert_eq!(done["dry_run"], false);
    assert_eq!(listed(&done), ids(&expected));
    assert_eq!(cancelled_now(&app, &world).await, ids(&expected));
}

async fn a_dry_run_of_a_closure_lists_the_one_session_it_then_cancels(app: TestApp) {
    let world = app.world().await;
    let before = a_booked_pair(&app, &world).await;
    let day = before[2].local["school-b"].date;
    let coord_b = app.signed_in("coord.b").await;
    let path = |dry_run: bool| {
        format!(
            "/api/schools/{}/calendar/closures?dry_run={dry_run}",
            world.b.id
        )
    };
    let closure = json!({"start": day, "label": "Snow day"});
    let preview = coord_b.post_json(&path(true), &closure).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let preview = preview.json();
    assert_eq!(listed(&preview), ids(&[&before[2]]));
    assert_eq!(preview["sessions_cancelled"], 0);
    assert!(cancelled_now(&app, &world).await.is_empty());
    let entries = app.store.calendar_entries(world.b.id).await.unwrap();
    assert!(
        entries.iter().all(|e| e.label != "Snow day"),
        "a dry run adds no closure"
    );

    let done = coord_b.post_json(&path(false), &closure).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text);
    let done = done.json();
    assert_eq!(done["sessions_cancelled"], 1);
    assert_eq!(listed(&done), ids(&[&before[2]]));
    assert_eq!(cancelled_now(&app, &world).await, ids(&[&before[2]]));
}

async fn put_bells(client: &Client, world: &World, bells: &str, dry_run: bool) -> Value {
    let reply = client
        .put_raw(
            &format!(
                "/api/schools/{}/calendar/bells?file=bells.csv&dry_run={dry_run}",
                world.a.id
            ),
            "text/csv",
            bells,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

/// Registration moving ten minutes later at school A leaves no period
/// holding the pair's 08:40 sessions: the dry run lists all twelve, the
/// upload cancels them; once the bells are put right, booking the pair
/// again brings their sessions back.
async fn new_bells_cancel_what_their_dry_run_listed_and_the_pair_is_booked_again_once_corrected(
    app: TestApp,
) {
    let world = app.world().await;
    let before = a_booked_pair(&app, &world).await;
    let coord_a = app.signed_in("coord.a").await;
    let same = put_bells(&coord_a, &world, &bells_at("08:40"), true).await;
    assert_eq!(same["sessions"], 0, "the same bells take nothing: {same}");

    let preview = put_bells(&coord_a, &world, &bells_at("08:50"), true).await;
    assert_eq!(listed(&preview), ids(&before.iter().collect::<Vec<_>>()));
    assert!(
        preview["cancels"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("School A's bell schedule has no period at 08:40–09:00 on "),
        "{preview}"
    );
    assert!(cancelled_now(&app, &world).await.is_empty());

    let done = put_bells(&coord_a, &world, &bells_at("08:50"), false).await;
    assert_eq!(listed(&done), listed(&preview));
    assert_eq!(cancelled_now(&app, &world).await.len(), 12);

    // The bells put right take nothing (the sessions are cancelled
    // already); the pair has nothing booked, and can be booked again.
    let corrected = put_bells(&coord_a, &world, &bells_at("08:40"), false).await;
    assert_eq!(corrected["sessions"], 0, "{corrected}");
    let partnership = world.partnership.id;
    let unbooked = coord_a
        .get(&format!("/api/partnerships/{partnership}/unbooked"))
        .await;
    assert_eq!(unbooked.status, StatusCode::OK, "{}", unbooked.text);
    let unbooked = unbooked.json();
    assert_eq!(unbooked.as_array().unwrap().len(), 1, "{unbooked}");
    assert_eq!(unbooked[0]["weeks_left"], 12);
    assert_eq!(unbooked[0]["mentee"], "mentee.b-given");
    let again = coord_a
        .post_json(
            &format!("/api/partnerships/{partnership}/book-again"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()[0]["booked"].as_array().unwrap().len(), 12);
    let live: Vec<Session> = series_ahead(&app, &world)
        .await
        .into_iter()
        .filter(|s| s.status.is_live())
        .collect();
    assert_eq!(live.len(), 12);
    assert_eq!(
        ids(&live.iter().collect::<Vec<_>>()),
        ids(&before.iter().collect::<Vec<_>>()),
        "the same sessions, restored"
    );
    let nothing = coord_a
        .get(&format!("/api/partnerships/{partnership}/unbooked"))
        .await
        .json();
    assert_eq!(nothing, json!([]));
}

async fn a_cancelled_session_is_restored_while_its_slot_is_free_and_refused_once_it_is_not(
    app: TestApp,
) {
    let world = app.world().await;
    let series = a_booked_pair(&app, &world).await;
    let coord_b = app.signed_in("coord.b").await;
    let cancel = |id: uuid::Uuid| {
        let coord_b = &coord_b;
        async move {
            let reply = coord_b
                .post_json(
                    &format!("/api/sessions/{id}/cancel"),
                    &json!({"reason": "Cancelled by mistake"}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        }
    };
    let restore = |id: uuid::Uuid| {
        let coord_b = &coord_b;
        async move {
            coord_b
                .post_json(&format!("/api/sessions/{id}/restore"), &json!({}))
                .await
        }
    };

    // Restored: booked again at its own time, its SEQUENCE up, the reason gone.
    cancel(series[0].id).await;
    let restored = restore(series[0].id).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    let restored = restored.json();
    assert_eq!(restored["status"], "scheduled");
    assert_eq!(restored["sequence"], 2, "cancelled, then restored");
    assert_eq!(restored["reason"], Value::Null);
    assert_eq!(restored["starts_at"], json!(series[0].starts_at));
    // It holds its claims again: the same students cannot be booked then.
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    let today = Utc::now().date_naive();
    let slot = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + Duration::days(30),
    )
    .await
    .unwrap()
    .alignment
    .slots
    .into_iter()
    .find(|s| s.start_utc == series[0].starts_at)
    .unwrap();
    assert!(app.store.book_session(&record, &slot).await.is_err());
    let again = restore(series[0].id).await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a live session is not restored"
    );

    // Refused once its slot is taken: the students are booked then.
    cancel(series[1].id).await;
    let second = series[1].starts_at;
    let slot = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + Duration::days(30),
    )
    .await
    .unwrap()
    .alignment
    .slots
    .into_iter()
    .find(|s| s.start_utc == second)
    .unwrap();
    let taken = app.store.book_session(&record, &slot).await.unwrap();
    let refused = restore(series[1].id).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("a student in it is already booked then"),
        "{}",
        refused.text
    );
    assert_eq!(
        app.store.session(series[1].id).await.unwrap().status,
        SessionStatus::Cancelled
    );
    assert!(app.store.session(taken.id).await.unwrap().status.is_live());

    // Refused once the day is no longer a school day at one of the schools.
    cancel(series[2].id).await;
    let day = series[2].local["school-b"].date;
    mentorbridge::calendar::store::add_closure(
        &app.store,
        world.b.id,
        &mentorbridge::calendar::ClosureInput {
            start: day,
            end: None,
            label: "Snow day".into(),
        },
    )
    .await
    .unwrap();
    let closed = restore(series[2].id).await;
    assert_eq!(closed.status, StatusCode::CONFLICT, "{}", closed.text);
    assert!(
        closed
            .text
            .contains("School B is closed that day: Snow day"),
        "{}",
        closed.text
    );
}

async fn a_pair_whose_sessions_were_all_cancelled_is_booked_again_keeping_their_uids(app: TestApp) {
    let world = app.world().await;
    let series = a_booked_pair(&app, &world).await;
    let coord_a = app.signed_in("coord.a").await;
    let reply = coord_a
        .post_json(
            &format!("/api/sessions/{}/cancel", series[0].id),
            &json!({"reason": "Cancelled by mistake", "rest_of_series": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    let path = format!(
        "/api/partnerships/{}/matches/{}/book-again",
        world.partnership.id, record.id
    );
    let again = coord_a.post_json(&path, &json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let again = again.json();
    assert_eq!(again["match_id"], record.id.to_string());
    let booked: BTreeSet<String> = again["booked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        booked,
        ids(&series.iter().collect::<Vec<_>>()),
        "the cancelled sessions come back, with their UIDs"
    );
    assert!(
        again["booked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["sequence"] == 2 && s["status"] == "scheduled")
    );
    let twice = coord_a.post_json(&path, &json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert!(
        twice
            .text
            .contains("every week of this pair's plan is held or booked"),
        "{}",
        twice.text
    );
}

/// Only the partnership's coordinators undo cancellations, and only a
/// school's own coordinator tries a change to its calendar.
async fn only_the_partnerships_coordinators_restore_and_book_again(app: TestApp) {
    let world = app.world().await;
    let series = a_booked_pair(&app, &world).await;
    app.store
        .cancel_session(&series[0], "Cancelled by mistake")
        .await
        .unwrap();
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    let p = world.partnership.id;
    let restore = format!("/api/sessions/{}/restore", series[0].id);
    let one = format!("/api/partnerships/{p}/matches/{}/book-again", record.id);
    let all = format!("/api/partnerships/{p}/book-again");
    let list = format!("/api/partnerships/{p}/unbooked");
    let terms = format!("/api/schools/{}/calendar/terms?dry_run=true", world.a.id);
    for who in ["coord.c", "teacher.a", "mentee.b", "dsl.a"] {
        let client = app.signed_in(who).await;
        for path in [&restore, &one, &all] {
            let reply = client.post_json(path, &json!({})).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who} {path}");
        }
        assert_eq!(
            client.get(&list).await.status,
            StatusCode::FORBIDDEN,
            "{who}"
        );
        let reply = client
            .put_raw(&terms, "text/csv", "start_date,end_date,kind,label\n")
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who} dry run");
    }
    assert_eq!(
        app.store.session(series[0].id).await.unwrap().status,
        SessionStatus::Cancelled,
        "nobody refused changed anything"
    );
    let coord_b = app.signed_in("coord.b").await;
    assert_eq!(
        coord_b.post_json(&restore, &json!({})).await.status,
        StatusCode::OK
    );
}

/// The confirm step's fingerprint, from its page.
fn fingerprint(page: &str) -> String {
    let at = page
        .find("name=\"confirm\" value=\"")
        .unwrap_or_else(|| panic!("no confirm step in {page}"));
    let rest = &page[at + "name=\"confirm\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The closure form asks first, carrying what was typed; only the
/// confirmation of the list shown cancels, and a list that changed in
/// between is shown again instead.
async fn the_closure_form_cancels_nothing_until_the_list_it_showed_is_confirmed(app: TestApp) {
    let world = app.world().await;
    let before = a_booked_pair(&app, &world).await;
    let day = before[2].local["school-b"].date.to_string();
    let coord_b = app.signed_in("coord.b").await;
    let form = [("start", day.as_str()), ("end", ""), ("label", "Snow day")];
    let asked = coord_b.post_form("/school/calendar/closures", &form).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.text.contains("This cancels 1 session of 1 pair")
            && asked.text.contains("value=\"Snow day\""),
        "{}",
        asked.text
    );
    assert!(cancelled_now(&app, &world).await.is_empty());
    assert!(
        app.store
            .calendar_entries(world.b.id)
            .await
            .unwrap()
            .iter()
            .all(|e| e.label != "Snow day")
    );
    let shown = fingerprint(&asked.text);

    // A confirmation of another list (someone booked or cancelled in
    // between) is not this one's: the page asks again.
    let stale = [&form[..], &[("confirm", "0123456789ab")]].concat();
    let again = coord_b.post_form("/school/calendar/closures", &stale).await;
    assert!(
        again.text.contains("has changed since you last looked"),
        "{}",
        again.text
    );
    assert!(cancelled_now(&app, &world).await.is_empty());

    let confirmed = [&form[..], &[("confirm", shown.as_str())]].concat();
    let done = coord_b
        .post_form("/school/calendar/closures", &confirmed)
        .await;
    assert!(
        done.status.is_redirection() || done.status.is_success(),
        "{}",
        done.status
    );
    assert_eq!(cancelled_now(&app, &world).await, ids(&[&before[2]]));
}

/// School B stops teaching the pair's weekday (it moves to Sunday to
/// Thursday, or from it): the dry run lists all of their sessions with
/// why; the form asks first; only the confirmed change cancels them, and
/// School B's week then starts on its first teaching day.
async fn changing_the_teaching_days_cancels_the_sessions_on_the_days_dropped_after_asking(
    app: TestApp,
) {
    let world = app.world().await;
    let before = a_booked_pair(&app, &world).await;
    let weekday = before[0].local["school-b"].date.weekday();
    let day_name = before[0].local["school-b"].date.format("%A").to_string();
    // Sunday to Thursday if the pair meet on a Friday; otherwise the
    // school drops their day and teaches the other weekdays and Sunday.
    let days: Vec<String> = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri"]
        .iter()
        .filter(|d| !day_name.starts_with(*d))
        .map(|d| (*d).to_owned())
        .collect();
    let coord_b = app.signed_in("coord.b").await;
    let path = |dry_run: bool| {
        format!(
            "/api/schools/{}/calendar/days?dry_run={dry_run}",
            world.b.id
        )
    };
    let bad = coord_b
        .put_json(&path(true), &json!({"days": "Sun-Funday"}))
        .await;
    assert!(bad.status.is_client_error(), "{}", bad.text);
    assert!(
        bad.text.contains("`Funday` is not a day of the week"),
        "{}",
        bad.text
    );

    let preview = coord_b
        .put_json(&path(true), &json!({"days": days.join(",")}))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let preview = preview.json();
    assert_eq!(preview["sessions_cancelled"], 0);
    assert_eq!(listed(&preview), ids(&before.iter().collect::<Vec<_>>()));
    assert_eq!(
        preview["cancels"][0]["reason"],
        format!("School B does not teach on {day_name}s")
    );
    assert!(
        cancelled_now(&app, &world).await.is_empty(),
        "a dry run cancels nothing"
    );
    assert_eq!(
        app.store.teaching_days(world.b.id).await.unwrap(),
        mentorbridge::calendar::model::TeachingDays::default()
    );

    // The page's form asks first, carrying the ticked days.
    let form: Vec<(&str, &str)> = days.iter().map(|d| ("days", d.as_str())).collect();
    let asked = coord_b.post_form("/school/calendar/days", &form).await;
    assert!(
        asked.text.contains("This cancels 12 sessions of 1 pair")
            && asked.text.contains("name=\"days\" value=\"Sun\""),
        "{}",
        asked.text
    );
    assert!(cancelled_now(&app, &world).await.is_empty());
    let shown = fingerprint(&asked.text);
    let confirmed = [&form[..], &[("confirm", shown.as_str())]].concat();
    let done = coord_b.post_form("/school/calendar/days", &confirmed).await;
    assert!(
        done.status.is_redirection() || done.status.is_success(),
        "{}",
        done.status
    );
    assert_eq!(
        cancelled_now(&app, &world).await,
        ids(&before.iter().collect::<Vec<_>>())
    );
    let calendar = coord_b
        .get(&format!("/api/schools/{}/calendar", world.b.id))
        .await
        .json();
    assert_eq!(calendar["days"], days.join(","));
    let taught = app.store.teaching_days(world.b.id).await.unwrap();
    assert!(!taught.contains(weekday));
    assert_eq!(taught.first(), chrono::Weekday::Sun);
}

on_both_backends!(
    changing_the_teaching_days_cancels_the_sessions_on_the_days_dropped_after_asking,
    the_closure_form_cancels_nothing_until_the_list_it_showed_is_confirmed,
    term_dates_that_drop_a_term_are_listed_first_and_cancel_exactly_that_list,
    a_dry_run_of_a_closure_lists_the_one_session_it_then_cancels,
    new_bells_cancel_what_their_dry_run_listed_and_the_pair_is_booked_again_once_corrected,
    a_cancelled_session_is_restored_while_its_slot_is_free_and_refused_once_it_is_not,
    a_pair_whose_sessions_were_all_cancelled_is_booked_again_keeping_their_uids,
    only_the_partnerships_coordinators_restore_and_book_again,
);
