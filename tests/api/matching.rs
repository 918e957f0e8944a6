use mentorbridge_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

async fn both_coordinators_approve_and_the_referral_becomes_matched(app: TestApp) {
    let world = app.world().await;
    let referral = app.ready_to_match(&world).await;
    let p = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let coord_b = app.signed_in("coord.b").await;

    let run = coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    let proposal = run.json();
    assert_eq!(proposal["optimal"], true);
    assert_eq!(proposal["summary"]["matched"], 1);
    let pair = &proposal["matches"][0];
    assert_eq!(pair["mentee"]["id"], json!(world.mentee_b.id));
    assert_eq!(pair["mentor"]["id"], json!(world.mentor_a.id));
    let because = pair["because"].to_string();
    assert!(because.contains("offers Maths at GCSE"), "{because}");
    assert!(because.contains("REG 08:40–09:00"), "{because}");
    // Either school's staff see it, with first names only.
    let seen = app.signed_in("teacher.a").await;
    let text = seen
        .get(&format!("/api/partnerships/{p}/proposal"))
        .await
        .text;
    assert!(text.contains("mentee.b-given") && !text.contains("mentee.b-family"));
    assert!(!text.contains("mentor.a-family"));

    let id = proposal["id"].as_str().unwrap().to_owned();
    let approve = format!("/api/partnerships/{p}/proposal/{id}/approve");
    let first = coord_a.post_json(&approve, &json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(
        first.json()["status"],
        "open",
        "waiting for the other school"
    );
    assert_eq!(
        coord_a.post_json(&approve, &json!({})).await.status,
        StatusCode::CONFLICT,
        "one approval per school"
    );
    let referral_path = format!("/api/referrals/{referral}");
    assert_eq!(
        coord_b.get(&referral_path).await.json()["status"],
        "approved"
    );
    let second = coord_b.post_json(&approve, &json!({})).await;
    assert_eq!(second.json()["status"], "approved", "{}", second.text);
    assert_eq!(
        coord_b.get(&referral_path).await.json()["status"],
        "matched"
    );
    let matches = coord_b
        .get(&format!("/api/partnerships/{p}/matches"))
        .await
        .json();
    assert_eq!(matches.as_array().unwrap().len(), 1);
    assert_eq!(matches[0]["mentor_id"], json!(world.mentor_a.id));
    assert_eq!(matches[0]["slot"]["ends"]["school-a"]["period"], "REG");

    // A re-run leaves matched mentees alone and books around their slot.
    let again = coord_b
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await
        .json();
    assert_eq!(again["summary"]["mentees"], 0);
    let used: u64 = again["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["in_use"].as_u64().unwrap())
        .sum();
    assert_eq!(used, 1);
    // The approved proposal cannot be approved again.
    assert_eq!(
        coord_a.post_json(&approve, &json!({})).await.status,
        StatusCode::CONFLICT
    );
}

async fn pins_and_forbids_steer_the_next_run(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let second = app.add_student(&world.a, "mentor2.a", "mentor", 13).await;
    app.ready_mentor(&world, &second, "Maths").await;
    let p = world.partnership.id;
    let coord_b = app.signed_in("coord.b").await;
    let rules = format!("/api/partnerships/{p}/match-rules");
    let run = || async {
        coord_b
            .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
            .await
            .json()
    };
    let rule = |mentor: uuid::Uuid, kind: &str| json!({"mentee_id": world.mentee_b.id, "mentor_id": mentor, "kind": kind});

    let first = run().await["matches"][0]["mentor"]["id"].clone();
    let other = if first == json!(world.mentor_a.id) {
        second.id
    } else {
        world.mentor_a.id
    };
    // Forbid the first choice: the other mentor takes over.
    let set = coord_b
        .put_json(
            &rules,
            &rule(serde_json::from_value(first.clone()).unwrap(), "forbid"),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json()[0]["kind"], "forbid");
    assert_eq!(run().await["matches"][0]["mentor"]["id"], json!(other));
    // Forbid both: unmatched, and the reason says a coordinator did it.
    coord_b.put_json(&rules, &rule(other, "forbid")).await;
    let none = run().await;
    assert_eq!(none["matches"], json!([]));
    assert_eq!(none["unmatched"][0]["blocker"], "forbidden");
    // A pin replaces the forbid on that pair and wins.
    coord_b.put_json(&rules, &rule(other, "pin")).await;
    let pinned = run().await;
    assert_eq!(pinned["matches"][0]["mentor"]["id"], json!(other));
    assert_eq!(pinned["matches"][0]["pinned"], true);
    // Clearing removes the rule.
    coord_b.put_json(&rules, &rule(other, "none")).await;
    assert_eq!(
        coord_b.get(&rules).await.json().as_array().unwrap().len(),
        1
    );

    // A rule must name a mentee and a mentor across the partnership.
    let wrong = coord_b
        .put_json(
            &rules,
            &json!({"mentee_id": world.mentee_b.id, "mentor_id": world.coord_a.id, "kind": "pin"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.error_field().as_deref(), Some("mentor_id"));
    let bad_kind = coord_b
        .put_json(
            &rules,
            &json!({"mentee_id": world.mentee_b.id, "mentor_id": other, "kind": "maybe"}),
        )
        .await;
    assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
}

async fn a_partnership_without_slots_gets_an_empty_proposal_that_says_why(app: TestApp) {
    let world = app.world().await;
    let p = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    // No slot policy yet: the coordinator is told what to do first.
    let refused = coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_field().as_deref(), Some("policy"));

    app.matching_policy(&world).await;
    let teacher_b = app.add_staff(&world.b, "teacher.b", "teacher").await;
    app.approved_referral(&world, &teacher_b, world.mentee_b.id, "Maths")
        .await;
    let empty = coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await;
    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.text);
    let body = empty.json();
    assert_eq!(body["matches"], json!([]));
    assert_eq!(body["unmatched"][0]["blocker"], "no_slots");
    let id = body["id"].as_str().unwrap();
    let approve = coord_a
        .post_json(
            &format!("/api/partnerships/{p}/proposal/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn two_coordinators_approving_at_once_make_one_set_of_matches(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let p = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let coord_b = app.signed_in("coord.b").await;
    let proposal = coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await
        .json();
    let approve = format!(
        "/api/partnerships/{p}/proposal/{}/approve",
        proposal["id"].as_str().unwrap()
    );
    let nothing = json!({});
    let (a, b) = tokio::join!(
        coord_a.post_json(&approve, &nothing),
        coord_b.post_json(&approve, &nothing)
    );
    assert_eq!(
        (a.status, b.status),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.text,
        b.text
    );
    let latest = coord_a
        .get(&format!("/api/partnerships/{p}/proposal"))
        .await
        .json();
    assert_eq!(latest["status"], "approved");
    assert_eq!(latest["approvals"].as_array().unwrap().len(), 2);
    let matches = coord_a
        .get(&format!("/api/partnerships/{p}/matches"))
        .await
        .json();
    assert_eq!(matches.as_array().unwrap().len(), 1);
}

async fn a_rule_change_or_a_closed_referral_is_seen_by_the_next_approval(app: TestApp) {
    let world = app.world().await;
    let referral = app.ready_to_match(&world).await;
    let p = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let coord_b = app.signed_in("coord.b").await;
    let run = |client: &mentorbridge_tests::Client| {
        let path = format!("/api/partnerships/{p}/proposal");
        let client = client.clone();
        async move { client.post_json(&path, &json!({})).await.json() }
    };

    // The partner school sees the pair but not the referral's priority.
    let seen_by_a = run(&coord_a).await;
    assert!(
        !seen_by_a.to_string().contains("\"priority\""),
        "{seen_by_a}"
    );
    let seen_by_b = coord_b
        .get(&format!("/api/partnerships/{p}/proposal"))
        .await
        .json();
    assert_eq!(seen_by_b["matches"][0]["priority"], 2);

    // A forbid through the API replaces the open proposal: approving the
    // old one is refused.
    let old = seen_by_b["id"].as_str().unwrap().to_owned();
    let forbid =
        json!({"mentee_id": world.mentee_b.id, "mentor_id": world.mentor_a.id, "kind": "forbid"});
    coord_a
        .put_json(&format!("/api/partnerships/{p}/match-rules"), &forbid)
        .await;
    let refused = coord_b
        .post_json(
            &format!("/api/partnerships/{p}/proposal/{old}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let clear =
        json!({"mentee_id": world.mentee_b.id, "mentor_id": world.mentor_a.id, "kind": "none"});
    coord_a
        .put_json(&format!("/api/partnerships/{p}/match-rules"), &clear)
        .await;

    // Approved by both, then the referral is closed: the match ends and the
    // mentor's period and the iPads are free again.
    let fresh = run(&coord_a).await;
    let approve = format!(
        "/api/partnerships/{p}/proposal/{}/approve",
        fresh["id"].as_str().unwrap()
    );
    coord_a.post_json(&approve, &json!({})).await;
    assert_eq!(
        coord_b.post_json(&approve, &json!({})).await.json()["status"],
        "approved"
    );
    let matches = format!("/api/partnerships/{p}/matches");
    assert_eq!(
        coord_b.get(&matches).await.json().as_array().unwrap().len(),
        1
    );
    let closed = coord_b
        .post_json(
            &format!("/api/referrals/{referral}/status"),
            &json!({"to": "closed", "reason": "Family moved away"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(coord_b.get(&matches).await.json(), json!([]));
    // Its sessions still to come are cancelled with it.
    let sessions = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            chrono::Utc::now(),
            chrono::Utc::now() + chrono::Duration::days(400),
        )
        .await
        .unwrap();
    assert!(!sessions.is_empty());
    assert!(sessions.iter().all(|s| {
        s.status == mentorbridge::booking::SessionStatus::Cancelled
            && s.reason.as_deref() == Some("The mentoring has ended")
            && s.sequence == 1
    }));
    let after = run(&coord_a).await;
    let used: u64 = after["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["in_use"].as_u64().unwrap())
        .sum();
    assert_eq!(used, 0);
}

/// A referral says when the mentee cannot be mentored, in words the bell
/// schedule has; the optimiser books around it and the partner school
/// never sees it.
async fn a_mentee_not_free_on_four_days_is_matched_on_the_fifth(app: TestApp) {
    let world = app.world().await;
    app.calendars_for_matching(&world).await;
    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    let teacher = app.signed_in("teacher.b").await;
    let coord_b = app.signed_in("coord.b").await;
    let day = |d: &str| json!({"day": d});
    let mut body = json!({
        "mentee_id": world.mentee_b.id,
        "reasons": "Lost confidence in maths",
        "focus": ["Maths"],
        "planned_weeks": 6,
        "consent": {"given_by": "Mr Byrne (father)", "date": "2026-11-20"},
        "entry_criteria_met": true,
        "unavailable": [day("Mon"), day("tuesday"), {"week": "A", "day": "Wed", "period": "P9"}],
    });
    let path = format!("/api/schools/{}/referrals", world.b.id);
    // A period the timetable does not have is refused, naming it and
    // what the timetable has that day; nothing is stored.
    let wrong = teacher.post_json(&path, &body).await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.error_field().as_deref(), Some("unavailable"));
    assert!(
        wrong.text.contains("no period P9") && wrong.text.contains("REG"),
        "{}",
        wrong.text
    );
    // School B's timetable has one week, so there is no Week B.
    body["unavailable"][2] = json!({"week": "B", "day": "Wed"});
    let week_b = teacher.post_json(&path, &body).await;
    assert_eq!(week_b.error_field().as_deref(), Some("unavailable"));
    assert!(week_b.text.contains("one week"), "{}", week_b.text);
    assert!(
        coord_b
            .get(&path)
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing half-written"
    );
    body["unavailable"] = json!([day("Mon"), day("tuesday"), day("Wed"), day("Thu")]);
    let created = teacher.post_json(&path, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let referral = created.json();
    assert_eq!(
        referral["unavailable"],
        json!([day("Mon"), day("Tue"), day("Wed"), day("Thu")])
    );
    let id = referral["id"].as_str().unwrap();
    let status = format!("/api/referrals/{id}/status");
    teacher
        .post_json(&status, &json!({"to": "submitted"}))
        .await;
    let approved = coord_b.post_json(&status, &json!({"to": "approved"})).await;
    assert_eq!(approved.json()["status"], "approved", "{}", approved.text);

    let p = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let proposal = coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await
        .json();
    assert_eq!(proposal["optimal"], true);
    assert_eq!(proposal["summary"]["matched"], 1, "{proposal}");
    let key = proposal["matches"][0]["slot_key"].as_str().unwrap();
    assert!(key.contains("-Fri-"), "{key}");
    // The partner school's view of the referral has no timetable in it.
    let partner = coord_a
        .get(&format!("/api/partnerships/{p}/referrals"))
        .await;
    assert!(partner.text.contains(id), "{}", partner.text);
    assert!(
        !partner.text.contains("unavailable") && !partner.text.contains("Tue"),
        "{}",
        partner.text
    );
}

/// A referral says which days the mentee would rather meet, from the days
/// the school teaches; the optimiser books one of them and says so.
async fn a_mentee_who_would_rather_meet_on_thursdays_is_booked_on_a_thursday(app: TestApp) {
    let world = app.world().await;
    app.calendars_for_matching(&world).await;
    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    let teacher = app.signed_in("teacher.b").await;
    let coord_b = app.signed_in("coord.b").await;
    let mut body = json!({
        "mentee_id": world.mentee_b.id,
        "reasons": "Lost confidence in maths",
        "focus": ["Maths"],
        "planned_weeks": 6,
        "consent": {"given_by": "Mr Byrne (father)", "date": "2026-11-20"},
        "entry_criteria_met": true,
        "preferred_days": ["Sat"],
    });
    let path = format!("/api/schools/{}/referrals", world.b.id);
    let saturday = teacher.post_json(&path, &body).await;
    assert_eq!(
        saturday.error_field().as_deref(),
        Some("preferred_days"),
        "{}",
        saturday.text
    );
    assert!(
        saturday
            .text
            .contains("does not teach on Saturdays (it teaches Mon–Fri)"),
        "{}",
        saturday.text
    );
    body["preferred_days"] = json!(["Tue"]);
    body["unavailable"] = json!([{"day": "Tue"}]);
    let both = teacher.post_json(&path, &body).await;
    assert_eq!(
        both.error_field().as_deref(),
        Some("preferred_days"),
        "{}",
        both.text
    );
    assert!(
        both.text.contains("Tuesdays are ticked both"),
        "{}",
        both.text
    );
    body["preferred_days"] = json!(["thursday"]);
    body["unavailable"] = json!([]);
    let created = teacher.post_json(&path, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let referral = created.json();
    assert_eq!(referral["preferred_days"], json!(["Thu"]));
    let id = referral["id"].as_str().unwrap();
    let status = format!("/api/referrals/{id}/status");
    teacher
        .post_json(&status, &json!({"to": "submitted"}))
        .await;
    let approved = coord_b.post_json(&status, &json!({"to": "approved"})).await;
    assert_eq!(approved.json()["status"], "approved", "{}", approved.text);

    let p = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let proposal = coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await
        .json();
    assert_eq!(proposal["optimal"], true);
    let pair = &proposal["matches"][0];
    let key = pair["slot_key"].as_str().unwrap();
    assert!(key.contains("-Thu-"), "{key}");
    let because = pair["because"].to_string();
    assert!(
        because.contains("On Thursday, a day mentee.b-given would rather meet"),
        "{because}"
    );
}

async fn two_partnerships_share_one_schools_ipad_at_different_times_in_one_period(app: TestApp) {
    use mentorbridge::calendar::store::{import_bells, import_term_dates, parse_policy};
    let world = app.world().await;
    // School A has one iPad and a long registration, 08:40–09:30. B's
    // registration meets its start (08:40–09:00), C's its end
    // (09:05–09:25), on Mondays only, so both pairs want the same day.
    const TERMS: &str = "start_date,end_date,kind,label\n2026-01-05,2030-07-19,term,Long term\n";
    let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri"];
    for (school, start, end, days) in [
        (&world.a, "08:40", "09:30", &weekdays[..]),
        (&world.b, "08:40", "09:00", &["Mon"][..]),
        (&world.c, "09:05", "09:25", &["Mon"][..]),
    ] {
        let bells: String = std::iter::once("week,day,period,start,end,kind\n".to_owned())
            .chain(
                days.iter()
                    .map(|d| format!("*,{d},REG,{start},{end},registration\n")),
            )
            .collect();
        import_term_dates(&app.store, school.id, "terms.csv", TERMS)
            .await
            .unwrap();
        import_bells(&app.store, school.id, "bells.csv", &bells, None)
            .await
            .unwrap();
    }
    app.declare_capacity(&world.a, 1, &["teacher.a"], None)
        .await;
    app.declare_capacity(&world.b, 1, &["coord.b"], None).await;
    app.declare_capacity(&world.c, 1, &["coord.c"], None).await;
    let with_c = app
        .store
        .create_accepted_partnership(world.a.id, world.c.id)
        .await
        .unwrap();
    for (partnership, other) in [(&world.partnership, "school-b"), (&with_c, "school-c")] {
        let input: mentorbridge::calendar::PolicyInput = serde_json::from_value(json!({
            "session_minutes": 20,
            "schools": {"school-a": {"kinds": ["registration"]}, other: {"kinds": ["registration"]}}
        }))
        .unwrap();
        let policy = parse_policy(&app.store, partnership, &input, None)
            .await
            .unwrap();
        app.store
            .put_slot_policy(partnership.id, &policy)
            .await
            .unwrap();
    }
    let second_mentor = app.add_student(&world.a, "mentor.a2", "mentor", 12).await;
    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
    app.ready_mentor(&world, &second_mentor, "Maths").await;
    let teacher_b = app.add_staff(&world.b, "teacher.b", "teacher").await;
    app.approved_referral(&world, &teacher_b, world.mentee_b.id, "Maths")
        .await;
    let teacher_c = app.add_staff(&world.c, "teacher.c", "teacher").await;
    let mentee_c = app.add_student(&world.c, "mentee.c", "mentee", 8).await;
    app.approved_referral_at(&world.c, &world.coord_c, &teacher_c, mentee_c.id, "Maths")
        .await;

    // A and B match and book first: A's iPad is theirs 08:40–09:00.
    app.approve_as_both(&world).await;
    let actor = |user: &mentorbridge::people::accounts::User| mentorbridge::auth::Actor {
        user: user.clone(),
        csrf_token: String::new(),
    };
    // A and C's sessions, 09:05–09:25, do not compete for it.
    let proposal = app.store.run_matching(&with_c, None).await.unwrap();
    assert_eq!(
        proposal.body.matches.len(),
        1,
        "the iPad is free at 09:05: {:?}",
        proposal.body.unmatched
    );
    for coordinator in [&world.coord_a, &world.coord_c] {
        app.store
            .approve_proposal(&with_c, proposal.id, &actor(coordinator))
            .await
            .unwrap();
    }
    let mut times = Vec::new();
    for partnership in [&world.partnership, &with_c] {
        let matches = app.store.partnership_matches(partnership.id).await.unwrap();
        assert_eq!(matches.len(), 1);
        let sessions = app.store.sessions_of_match(matches[0].id).await.unwrap();
        assert!(sessions.len() > 4, "a series is booked: {}", sessions.len());
        times.push(
            sessions[0].local["school-a"]
                .start
                .format("%H:%M")
                .to_string(),
        );
    }
    assert_eq!(times, ["08:40", "09:05"]);
}

async fn a_coordinators_home_lists_what_waits_for_them_until_it_is_done(app: TestApp) {
    let world = app.world().await;
    let coord_b = app.signed_in("coord.b").await;
    let todo = |page: &str| -> Vec<String> {
        page.split("<li id=\"todo-")
            .skip(1)
            .map(|li| li.split('"').next().unwrap().to_owned())
            .collect()
    };
    // A new school: its iPads, and its periods for the partnership.
    let home = coord_b.get("/home").await.text;
    let p = world.partnership.id;
    assert_eq!(todo(&home), ["capacity".to_owned(), format!("periods-{p}")]);
    assert!(
        home.contains("Choose your periods for the partnership with School A"),
        "{home}"
    );
    // Set up, with a referral waiting for the coordinator's countersignature.
    app.calendars_for_matching(&world).await;
    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
    let teacher = app.add_staff(&world.b, "teacher.b", "teacher").await;
    let body = json!({
        "mentee_id": world.mentee_b.id,
        "reasons": "Lost confidence in maths",
        "focus": ["Maths"],
        "planned_weeks": 6,
        "consent": {"given_by": "Mr Byrne (father)", "date": "2026-11-20"},
        "entry_criteria_met": true,
    });
    let as_teacher = app.signed_in(&teacher.username).await;
    let created = as_teacher
        .post_json(&format!("/api/schools/{}/referrals", world.b.id), &body)
        .await
        .json();
    let status = format!("/api/referrals/{}/status", created["id"].as_str().unwrap());
    as_teacher
        .post_json(&status, &json!({"to": "submitted"}))
        .await;
    let home = coord_b.get("/home").await.text;
    assert_eq!(todo(&home), ["countersign"]);
    assert!(home.contains("Countersign 1 referral"), "{home}");
    // Countersigned and proposed: the proposal waits for B's approval.
    coord_b.post_json(&status, &json!({"to": "approved"})).await;
    let coord_a = app.signed_in("coord.a").await;
    coord_a
        .post_json(&format!("/api/partnerships/{p}/proposal"), &json!({}))
        .await;
    let home = coord_b.get("/home").await.text;
    assert_eq!(todo(&home), [format!("approve-{p}")]);
    assert!(
        home.contains("Approve 1 pair proposed with School A"),
        "{home}"
    );
    assert!(
        coord_a
            .get("/home")
            .await
            .text
            .contains("Approve 1 pair proposed with School B"),
        "and for the other school"
    );
    // Approved by both schools: nothing waits any more.
    app.approve_as_both(&world).await;
    let home = coord_b.get("/home").await.text;
    assert!(
        todo(&home).is_empty() && home.contains("Nothing waits for you"),
        "{home}"
    );
}

on_both_backends!(
    a_rule_change_or_a_closed_referral_is_seen_by_the_next_approval,
    both_coordinators_approve_and_the_referral_becomes_matched,
    pins_and_forbids_steer_the_next_run,
    a_partnership_without_slots_gets_an_empty_proposal_that_says_why,
    two_coordinators_approving_at_once_make_one_set_of_matches,
    a_mentee_not_free_on_four_days_is_matched_on_the_fifth,
    a_mentee_who_would_rather_meet_on_thursdays_is_booked_on_a_thursday,
    two_partnerships_share_one_schools_ipad_at_different_times_in_one_period,
    a_coordinators_home_lists_what_waits_for_them_until_it_is_done,
);
