use mentorbridge_tests::{TestApp, World, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

const HILLSIDE_TERMS: &str = include_str!("../../server/demo/hillside-terms.csv");
const HILLSIDE_BELLS: &str = include_str!("../../server/demo/hillside-bells.csv");
const COLUMBA_TERMS: &str = include_str!("../../server/demo/st-columbas-terms.ics");
const COLUMBA_BELLS: &str = include_str!("../../server/demo/st-columbas-bells.csv");

/// Schools A and B get the demo schools' files, and a 20-minute policy on
/// tutor time with a supervisor at each end.
async fn calendars(app: &TestApp, world: &World) {
    let a = app.signed_in("coord.a").await;
    let b = app.signed_in("coord.b").await;
    for (client, school, terms, bells) in [
        (&a, &world.a, HILLSIDE_TERMS, HILLSIDE_BELLS),
        (&b, &world.b, COLUMBA_TERMS, COLUMBA_BELLS),
    ] {
        let reply = client
            .put_raw(
                &format!("/api/schools/{}/calendar/terms?file=terms", school.id),
                "text/csv",
                terms,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let reply = client
            .put_raw(
                &format!("/api/schools/{}/calendar/bells?file=bells.csv", school.id),
                "text/csv",
                bells,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    // Each coordinator declares their own school's iPads and supervisors
    // (for all its partnerships) and sets their school's share of the
    // partnership's policy.
    for (client, school, capacity) in [
        (
            &a,
            &world.a,
            json!({"devices": 6, "supervisors": ["teacher.a"]}),
        ),
        (
            &b,
            &world.b,
            json!({"devices": 4, "supervisors": ["coord.b"]}),
        ),
    ] {
        let reply = client
            .put_json(&format!("/api/schools/{}/capacity", school.id), &capacity)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    for (client, slug, share) in [
        (&a, "school-a", json!({"kinds": ["tutor"]})),
        (&b, "school-b", json!({"kinds": ["tutor"]})),
    ] {
        let policy = json!({"session_minutes": 20, "schools": {slug: share}});
        let reply = client
            .put_json(
                &format!("/api/partnerships/{}/policy", world.partnership.id),
                &policy,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
}

async fn slots(app: &TestApp, world: &World, from: &str, to: &str) -> Value {
    let client = app.signed_in("coord.b").await;
    let reply = client
        .get(&format!(
            "/api/partnerships/{}/slots?from={from}&to={to}",
            world.partnership.id
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

async fn uploaded_calendars_round_trip_through_the_database(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let teacher = app.signed_in("teacher.a").await;
    let calendar = teacher
        .get(&format!("/api/schools/{}/calendar", world.a.id))
        .await
        .json();
    assert_eq!(calendar["tz"], "Europe/London");
    let autumn = calendar["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "Autumn 1")
        .unwrap();
    assert_eq!(
        autumn,
        &json!({"start": "2026-09-02", "end": "2026-10-23", "kind": "term", "label": "Autumn 1"})
    );
    let schedule = &calendar["schedules"][0];
    assert_eq!(schedule["cycle_weeks"], 2);
    let tut = schedule["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "TUT" && p["day"] == "Mon")
        .unwrap();
    assert_eq!(
        (
            tut["start"].as_str(),
            tut["end"].as_str(),
            tut["week"].as_u64()
        ),
        (Some("08:40:00"), Some("09:10:00"), Some(1))
    );
    // The iCalendar file's exclusive DTEND became an inclusive last day.
    let coord_b = app.signed_in("coord.b").await;
    let other = coord_b
        .get(&format!("/api/schools/{}/calendar", world.b.id))
        .await
        .json();
    let patrick = other["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "St Patrick's Day")
        .unwrap();
    assert_eq!(
        (&patrick["start"], &patrick["end"], &patrick["kind"]),
        (
            &json!("2027-03-17"),
            &json!("2027-03-17"),
            &json!("closure")
        )
    );
}

async fn a_partnership_gets_slots_in_utc_with_each_schools_local_view(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let found = slots(&app, &world, "2027-03-15", "2027-03-19").await;
    let list = found["slots"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{found}");
    let slot = &list[0];
    assert_eq!(slot["start_utc"], "2027-03-15T08:50:00Z");
    assert_eq!(slot["end_utc"], "2027-03-15T09:10:00Z");
    assert_eq!(
        slot["schools"]["school-a"],
        json!({"date": "2027-03-15", "start": "08:50:00", "end": "09:10:00", "period": "TUT", "kind": "tutor", "week": "A", "devices": 6, "supervisors": 1, "supervision": 6})
    );
    assert_eq!(slot["schools"]["school-b"]["period"], "FORM");
    let patrick = found["empty_days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2027-03-17")
        .unwrap();
    assert_eq!(
        patrick["reasons"],
        json!(["School B: closed (St Patrick's Day)"])
    );
    // After the clocks go forward the same local times are an hour earlier in UTC.
    let summer = slots(&app, &world, "2027-04-12", "2027-04-16").await;
    assert!(
        summer["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["start_utc"].as_str().unwrap().ends_with("T07:50:00Z")),
        "{summer}"
    );
}

async fn a_bad_row_is_named_and_leaves_the_calendar_as_it_was(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let coord = app.signed_in("coord.a").await;
    let bad = "start_date,end_date,kind,label\n2026-09-02,2026-10-23,term,Autumn 1\n2026-10-05,2026-10-05,inset,INSET day\n";
    let reply = coord
        .put_raw(
            &format!(
                "/api/schools/{}/calendar/terms?file=new-terms.csv",
                world.a.id
            ),
            "text/csv",
            bad,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &reply.json()["error"];
    assert_eq!(
        (
            error["file"].as_str(),
            error["line"].as_u64(),
            error["field"].as_str()
        ),
        (Some("new-terms.csv"), Some(3), Some("kind"))
    );
    let overlapping = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\n*,Mon,P1,08:50,10:00,lesson\n";
    let reply = coord
        .put_raw(
            &format!("/api/schools/{}/calendar/bells?file=bells.csv", world.a.id),
            "text/csv",
            overlapping,
        )
        .await;
    assert_eq!(reply.json()["error"]["line"], 3);
    let calendar = coord
        .get(&format!("/api/schools/{}/calendar", world.a.id))
        .await
        .json();
    assert_eq!(
        calendar["entries"].as_array().unwrap().len(),
        11,
        "the old term dates are untouched"
    );
    assert_eq!(
        calendar["schedules"][0]["periods"]
            .as_array()
            .unwrap()
            .len(),
        45,
        "the old bells are untouched"
    );
}

async fn a_bell_change_from_a_date_moves_later_slots_only(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let coord = app.signed_in("coord.a").await;
    // From 17 March Hillside's tutor time starts earlier, leaving only 15
    // minutes of overlap with St Columba's form time: too short to book.
    let later = HILLSIDE_BELLS.replace("08:40,09:10,tutor", "08:35,09:05,tutor");
    let reply = coord
        .put_raw(
            &format!(
                "/api/schools/{}/calendar/bells?file=spring.csv&effective_from=2027-03-17",
                world.a.id
            ),
            "text/csv",
            &later,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let found = slots(&app, &world, "2027-03-15", "2027-03-26").await;
    let starts: Vec<(&str, &str)> = found["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["schools"]["school-a"]["date"].as_str().unwrap(),
                s["schools"]["school-a"]["start"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(starts, vec![("2027-03-15", "08:50:00")]);
    let tuesday = found["empty_days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2027-03-23")
        .unwrap();
    assert_eq!(
        tuesday["reasons"],
        json!(["the schools' eligible periods do not overlap for 20 minutes"])
    );
}

async fn each_coordinator_sets_only_their_own_schools_share_of_the_policy(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let coord_b = app.signed_in("coord.b").await;
    let path = format!("/api/partnerships/{}/policy", world.partnership.id);
    let meddling = coord_b
        .put_json(
            &path,
            &json!({"session_minutes": 20, "schools": {"school-a": {"kinds": ["lesson"]}}}),
        )
        .await;
    assert_eq!(meddling.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        meddling.text.contains("only School A's coordinator"),
        "{}",
        meddling.text
    );
    // Leaving the other share out keeps it; the session length is shared.
    let own = coord_b
        .put_json(&path, &json!({"session_minutes": 15, "schools": {"school-b": {"kinds": ["tutor", "registration"]}}}))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let policy = coord_b.get(&path).await.json();
    assert_eq!(policy["session_minutes"], 15);
    assert_eq!(policy["schools"]["school-a"]["kinds"], json!(["tutor"]));
    assert_eq!(
        policy["schools"]["school-b"]["kinds"],
        json!(["registration", "tutor"])
    );
}

async fn a_policy_must_name_both_schools_and_their_own_staff(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.b").await;
    let path = format!("/api/partnerships/{}/policy", world.partnership.id);
    let cases = [
        (
            json!({"session_minutes": 20, "schools": {"school-a": {"kinds": ["tutor"]}}}),
            "schools",
        ),
        (
            json!({"session_minutes": 20, "schools": {"school-c": {}}}),
            "schools",
        ),
        (
            json!({"session_minutes": 20, "schools": {"school-a": {}, "school-c": {}}}),
            "schools",
        ),
        (
            json!({"session_minutes": 0, "schools": {"school-a": {}, "school-b": {}}}),
            "session_minutes",
        ),
        (
            json!({"session_minutes": 20, "schools": {"school-b": {"supervisors": ["teacher.a"]}}}),
            "supervisors",
        ),
    ];
    for (body, field) in cases {
        let reply = coord.put_json(&path, &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            reply.error_field().as_deref(),
            Some(field),
            "{body}: {}",
            reply.text
        );
    }
    let unknown_kind = coord.put_json(&path, &json!({"session_minutes": 20, "schools": {"school-a": {"kinds": ["assembly"]}, "school-b": {}}})).await;
    assert_eq!(unknown_kind.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown_kind.text.contains("assembly"),
        "{}",
        unknown_kind.text
    );
}

async fn a_schools_ipads_are_declared_once_from_a_date_for_every_partnership(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let coord = app.signed_in("coord.b").await;
    let path = format!("/api/schools/{}/capacity", world.b.id);
    // Only the school's own staff supervise, and only in its own periods.
    let not_staff = coord
        .put_json(&path, &json!({"devices": 4, "supervisors": ["teacher.a"]}))
        .await;
    assert_eq!(not_staff.error_field().as_deref(), Some("supervisors"));
    let no_period = coord
        .put_json(
            &path,
            &json!({"devices": 4, "supervisors": ["coord.b"], "periods": {"LUNCH": {"devices": 1}}}),
        )
        .await;
    assert_eq!(no_period.error_field().as_deref(), Some("periods"));
    assert!(no_period.text.contains("LUNCH"), "{}", no_period.text);
    // A partnership's policy no longer carries iPads, and says where they went.
    let in_policy = coord
        .put_json(
            &format!("/api/partnerships/{}/policy", world.partnership.id),
            &json!({"session_minutes": 20, "schools": {"school-b": {"kinds": ["tutor"], "devices": 9}}}),
        )
        .await;
    assert_eq!(in_policy.error_field().as_deref(), Some("devices"));
    assert!(
        in_policy.text.contains("shared by all its partnerships"),
        "{}",
        in_policy.text
    );
    // From Wednesday 17 March the iPads go elsewhere: no slots from then.
    let dates = |week: &Value| -> Vec<String> {
        week["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["schools"]["school-b"]["date"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let before = dates(&slots(&app, &world, "2027-03-15", "2027-03-26").await);
    assert!(
        before.iter().any(|d| d.as_str() >= "2027-03-17"),
        "{before:?}"
    );
    let later = coord
        .put_json(
            &path,
            &json!({"from": "2027-03-17", "devices": 0, "supervisors": ["coord.b"]}),
        )
        .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.text);
    assert_eq!(later.json()["declared"].as_array().unwrap().len(), 2);
    let fortnight = slots(&app, &world, "2027-03-15", "2027-03-26").await;
    let kept: Vec<String> = before
        .iter()
        .filter(|d| d.as_str() < "2027-03-17")
        .cloned()
        .collect();
    assert_eq!(dates(&fortnight), kept);
    let reasons = fortnight["empty_days"].to_string();
    assert!(
        reasons.contains("School B: no iPads for mentoring in"),
        "{reasons}"
    );
    // Taking the change back restores the fortnight.
    let undone = coord.delete(&format!("{path}/2027-03-17")).await;
    assert_eq!(undone.status, StatusCode::NO_CONTENT, "{}", undone.text);
    assert_eq!(
        dates(&slots(&app, &world, "2027-03-15", "2027-03-26").await),
        before
    );
}

async fn a_week_set_by_hand_changes_which_periods_run_from_then_on(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let before = slots(&app, &world, "2027-03-15", "2027-03-19").await;
    assert_eq!(before["slots"][0]["schools"]["school-a"]["week"], "A");
    // School A declares the week of 15 March to be Week B.
    let coord = app.signed_in("coord.a").await;
    let reply = coord
        .put_json(
            &format!("/api/schools/{}/calendar/cycle", world.a.id),
            &json!({"weeks": {"2027-03-17": "B"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let after = slots(&app, &world, "2027-03-15", "2027-03-26").await;
    let days: Vec<(&str, &str)> = after["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["schools"]["school-a"]["date"].as_str().unwrap(),
                s["schools"]["school-a"]["week"].as_str().unwrap(),
            )
        })
        .collect();
    // Week B has tutor time on Tuesday and Thursday; the week after is Week A again.
    assert_eq!(
        days,
        vec![
            ("2027-03-16", "B"),
            ("2027-03-18", "B"),
            ("2027-03-22", "A"),
            ("2027-03-24", "A")
        ]
    );
    let bad = coord
        .put_json(
            &format!("/api/schools/{}/calendar/cycle", world.a.id),
            &json!({"weeks": {"2027-03-17": "week b"}}),
        )
        .await;
    assert_eq!(bad.error_field().as_deref(), Some("weeks"));
}

async fn a_closure_added_later_removes_that_days_slot_until_it_is_removed(app: TestApp) {
    let world = app.world().await;
    calendars(&app, &world).await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/calendar/closures", world.a.id);
    let outside = coord
        .post_json(&path, &json!({"start": "2027-08-10", "label": "Snow day"}))
        .await;
    assert_eq!(
        outside.error_field().as_deref(),
        Some("start"),
        "{}",
        outside.text
    );
    let added = coord
        .post_json(&path, &json!({"start": "2027-03-15", "label": "Snow day"}))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let found = slots(&app, &world, "2027-03-15", "2027-03-15").await;
    assert!(found["slots"].as_array().unwrap().is_empty());
    assert_eq!(
        found["empty_days"][0]["reasons"],
        json!(["School A: closed (Snow day)"])
    );

    // Uploading the term dates again keeps a closure added by hand.
    let again = coord
        .put_raw(
            &format!("/api/schools/{}/calendar/terms?file=terms.csv", world.a.id),
            "text/csv",
            HILLSIDE_TERMS,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let entries = app.store.calendar_entries(world.a.id).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.label == "Snow day").count(), 1);
    let snow = entries.iter().find(|e| e.label == "Snow day").unwrap().id;
    // Another school's coordinator cannot remove it, even through their own school's path.
    let other = app.signed_in("coord.b").await;
    let refused = other
        .delete(&format!(
            "/api/schools/{}/calendar/entries/{snow}",
            world.b.id
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let removed = coord
        .delete(&format!(
            "/api/schools/{}/calendar/entries/{snow}",
            world.a.id
        ))
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        slots(&app, &world, "2027-03-15", "2027-03-15").await["slots"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

on_both_backends!(
    each_coordinator_sets_only_their_own_schools_share_of_the_policy,
    a_closure_added_later_removes_that_days_slot_until_it_is_removed,
    a_week_set_by_hand_changes_which_periods_run_from_then_on,
    uploaded_calendars_round_trip_through_the_database,
    a_partnership_gets_slots_in_utc_with_each_schools_local_view,
    a_bad_row_is_named_and_leaves_the_calendar_as_it_was,
    a_bell_change_from_a_date_moves_later_slots_only,
    a_policy_must_name_both_schools_and_their_own_staff,
    a_schools_ipads_are_declared_once_from_a_date_for_every_partnership,
);
