//! The mentoring record: check-ins, the action plan, session notes,
//! reviews, the exit and feedback, and who sees which part.

use chrono::{Duration, Utc};
use mentorbridge::booking::SessionStatus;
use mentorbridge_tests::{TestApp, World};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A running programme: mentee.b matched with mentor.a, its series booked
/// from the week ahead, and one session held last week. Returns the
/// referral's id.
async fn programme(app: &TestApp) -> (World, uuid::Uuid) {
    let world = app.world().await;
    let referral = app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    app.past_session(&world, 7, true, true).await;
    (world, referral)
}

fn all_scores(score: i64) -> Value {
    let keys = [
        "attendance",
        "punctuality",
        "happiness",
        "calm",
        "presentation",
        "friendships",
        "learning",
        "homework",
        "cooperation",
        "behaviour",
    ];
    Value::Object(
        keys.iter()
            .map(|k| ((*k).to_owned(), json!(score)))
            .collect(),
    )
}

fn in_days(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

async fn a_mentee_checks_in_once_a_stage_and_the_end_is_compared_with_the_start(app: TestApp) {
    let (_, referral) = programme(&app).await;
    let mentee = app.signed_in("mentee.b").await;
    let path = format!("/api/referrals/{referral}/assessments");

    let mut scores = all_scores(4);
    scores["calm"] = json!(11);
    let reply = mentee
        .post_json(&path, &json!({"stage": "baseline", "scores": scores}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.error_field().as_deref(), Some("scores"));
    assert!(reply.text.contains("Staying calm"), "{}", reply.text);

    let mut scores = all_scores(4);
    scores.as_object_mut().unwrap().remove("homework");
    let reply = mentee
        .post_json(&path, &json!({"stage": "baseline", "scores": scores}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text.contains("Doing homework"), "{}", reply.text);
    // Nothing half-written: neither refusal left an assessment.
    let record = mentee.get("/api/me/record").await.json();
    assert_eq!(record["assessments"], json!([]));

    let mut scores = all_scores(4);
    scores["calm"] = json!(2);
    let reply = mentee
        .post_json(&path, &json!({"stage": "baseline", "scores": scores}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let again = mentee
        .post_json(
            &path,
            &json!({"stage": "baseline", "scores": all_scores(9)}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    let mut scores = all_scores(7);
    scores["calm"] = json!(8);
    let reply = mentee
        .post_json(&path, &json!({"stage": "exit", "scores": scores}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let record = mentee.get("/api/me/record").await.json();
    let calm = record["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identifier"] == "calm")
        .unwrap()
        .clone();
    assert_eq!(calm["baseline"], 2);
    assert_eq!(calm["exit"], 8);
    assert_eq!(calm["label"], "Staying calm");
    assert_eq!(record["comparison"].as_array().unwrap().len(), 10);
}

async fn the_school_adds_its_view_and_nobody_else_scores_for_the_mentee(app: TestApp) {
    let (_, referral) = programme(&app).await;
    let path = format!("/api/referrals/{referral}/assessments");
    let coord_b = app.signed_in("coord.b").await;
    let staff = json!({"stage": "baseline", "view": "staff", "scores": {"attendance": 6}, "note": "91% attendance this half term"});
    let reply = coord_b.post_json(&path, &staff).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // A newer view of the same stage replaces the last.
    let reply = coord_b
        .post_json(
            &path,
            &json!({"stage": "baseline", "view": "staff", "scores": {"attendance": 7}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let record = coord_b
        .get(&format!("/api/referrals/{referral}/record"))
        .await
        .json();
    let views: Vec<&Value> = record["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["view"] == "staff")
        .collect();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0]["scores"][0]["score"], 7);

    // The mentor, the partner school and staff writing as the mentee are refused.
    let mentee_view = json!({"stage": "baseline", "scores": all_scores(5)});
    for (who, body) in [
        ("mentor.a", &mentee_view),
        ("coord.a", &staff),
        ("coord.b", &mentee_view),
    ] {
        let reply = app.signed_in(who).await.post_json(&path, body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who}: {}", reply.text);
    }
}

async fn a_target_is_set_by_one_of_the_pair_agreed_by_the_other_and_closed_with_a_reason(
    app: TestApp,
) {
    let (_, referral) = programme(&app).await;
    let mentor = app.signed_in("mentor.a").await;
    let mentee = app.signed_in("mentee.b").await;
    let path = format!("/api/referrals/{referral}/targets");

    for (body, field) in [
        (
            json!({"what": "Hand in maths homework", "measure": " ", "by_date": in_days(30)}),
            "measure",
        ),
        (
            json!({"what": "Hand in maths homework", "measure": "Planner signed"}),
            "by_date",
        ),
        (
            json!({"what": "Hand in maths homework", "measure": "Planner signed", "by_date": in_days(-1)}),
            "by_date",
        ),
        (
            json!({"what": "", "measure": "Planner signed", "by_date": in_days(30)}),
            "what",
        ),
    ] {
        let reply = mentor.post_json(&path, &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            reply.error_field().as_deref(),
            Some(field),
            "{}",
            reply.text
        );
    }
    let reply = mentor
        .post_json(
            &path,
            &json!({"what": "Hand in every maths homework", "measure": "Planner signed each Friday", "by_date": in_days(30), "review_date": in_days(14)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let target = reply.json();
    let id = target["id"].as_str().unwrap().to_owned();
    assert!(target["mentor_agreed_at"].is_string());
    assert!(target["mentee_agreed_at"].is_null());

    let agreed = mentee
        .post_json(&format!("/api/targets/{id}/agree"), &json!({}))
        .await;
    assert_eq!(agreed.status, StatusCode::OK, "{}", agreed.text);
    assert!(agreed.json()["mentee_agreed_at"].is_string());

    let progress = mentee
        .post_json(
            &format!("/api/targets/{id}/progress"),
            &json!({"note": "Three out of four handed in"}),
        )
        .await;
    assert_eq!(progress.status, StatusCode::CREATED, "{}", progress.text);

    let outcome = format!("/api/targets/{id}/outcome");
    let reply = mentor
        .post_json(&outcome, &json!({"outcome": "dropped"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("note"));
    let reply = mentor.post_json(&outcome, &json!({"outcome": "met"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let again = mentee
        .post_json(&outcome, &json!({"outcome": "partly_met"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    // The referring school sees the plan and its progress; so does the
    // partner school, which never sees the referral's reasons.
    for who in ["coord.b", "coord.a"] {
        let record = app
            .signed_in(who)
            .await
            .get(&format!("/api/referrals/{referral}/record"))
            .await
            .json();
        let t = &record["targets"][0];
        assert_eq!(t["outcome"], "met", "{who}");
        assert_eq!(t["progress"][0]["note"], "Three out of four handed in");
    }
}

async fn the_mentor_writes_up_a_session_and_its_supervisor_observes(app: TestApp) {
    let (world, referral) = programme(&app).await;
    let held = app.past_session(&world, 3, true, true).await;
    assert_eq!(held.status, SessionStatus::Completed);
    let path = format!("/api/sessions/{}/note", held.id);
    let mentor = app.signed_in("mentor.a").await;
    let empty = mentor.put_json(&path, &json!({"body": "  "})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.error_field().as_deref(), Some("body"));
    let reply = mentor
        .put_json(
            &path,
            &json!({"body": "Fractions homework together", "next_step": "Times tables"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let supervisor = held
        .supervisors
        .first()
        .copied()
        .expect("the session has a supervisor");
    let supervisor = app.store.user(supervisor).await.unwrap();
    let reply = app
        .signed_in(&supervisor.username)
        .await
        .put_json(&path, &json!({"body": "Settled quickly, good rapport"}))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    // Someone who did not supervise it writes nothing.
    let reply = app
        .signed_in("dsl.a")
        .await
        .put_json(&path, &json!({"body": "Looks fine"}))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A session still to come has nothing to write up.
    let ahead = app
        .store
        .sessions_of_match(held.match_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.starts_at > Utc::now() && s.status.is_live())
        .unwrap();
    let reply = mentor
        .put_json(
            &format!("/api/sessions/{}/note", ahead.id),
            &json!({"body": "Not yet"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);

    let notes_seen = |record: &Value| -> Vec<String> {
        record["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["notes"].as_array().unwrap().clone())
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let mentee_view = app
        .signed_in("mentee.b")
        .await
        .get("/api/me/record")
        .await
        .json();
    assert_eq!(notes_seen(&mentee_view), ["mentor"]);
    let school_view = app
        .signed_in("coord.b")
        .await
        .get(&format!("/api/referrals/{referral}/record"))
        .await
        .json();
    let mut kinds = notes_seen(&school_view);
    kinds.sort();
    assert_eq!(kinds, ["mentor", "observer"]);
    // The timeline is the whole programme: the held sessions and the series.
    assert!(school_view["sessions"].as_array().unwrap().len() > 2);
    assert_eq!(school_view["delivered_sessions"], 2);
    assert_eq!(school_view["delivered_minutes"], 40);
}

async fn each_viewer_sees_their_part_of_the_record_and_strangers_none(app: TestApp) {
    let (world, referral) = programme(&app).await;
    let coord_b = app.signed_in("coord.b").await;
    coord_b
        .post_json(
            &format!("/api/referrals/{referral}/assessments"),
            &json!({"stage": "baseline", "view": "staff", "scores": {"attendance": 6}}),
        )
        .await;
    app.signed_in("mentee.b")
        .await
        .post_json(
            &format!("/api/referrals/{referral}/assessments"),
            &json!({"stage": "baseline", "scores": all_scores(5)}),
        )
        .await;
    let path = format!("/api/referrals/{referral}/record");
    let full = coord_b.get(&path).await.json();
    assert_eq!(full["access"], "school");
    assert_eq!(
        full["referral"]["reasons"],
        "Struggling since the start of term"
    );
    assert_eq!(full["assessments"].as_array().unwrap().len(), 2);
    assert!(
        full["referral"]["mentee_name"]
            .as_str()
            .unwrap()
            .contains("family")
    );

    for who in ["mentor.a", "coord.a", "dsl.a"] {
        let seen = app.signed_in(who).await.get(&path).await;
        assert_eq!(seen.status, StatusCode::OK, "{who}");
        let seen = seen.json();
        assert!(seen["referral"]["reasons"].is_null(), "{who}");
        assert_eq!(seen["assessments"], json!([]), "{who}");
        assert_eq!(seen["comparison"], json!([]), "{who}");
        // The partner school sees the mentee by first name only.
        assert_eq!(seen["referral"]["mentee_name"], "mentee.b-given", "{who}");
        assert!(!seen.to_string().contains("mentee.b-family"), "{who}");
    }
    let own = app.signed_in("mentee.b").await.get(&path).await.json();
    assert_eq!(own["access"], "mentee");
    assert!(own["referral"]["reasons"].is_null());
    let views: Vec<&str> = own["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["view"].as_str().unwrap())
        .collect();
    assert_eq!(views, ["mentee"], "the mentee sees their own scores only");

    let other = app.add_student(&world.b, "other.b", "mentee", 8).await;
    let _ = other;
    for who in ["coord.c", "other.b", "admin"] {
        let reply = app.signed_in(who).await.get(&path).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who}");
    }
}

async fn a_review_continues_or_closes_and_a_closed_case_is_not_reviewed(app: TestApp) {
    let (world, referral) = programme(&app).await;
    let coord_b = app.signed_in("coord.b").await;
    let path = format!("/api/referrals/{referral}/reviews");
    let reply = coord_b
        .post_json(
            &path,
            &json!({"decision": "continue", "note": "Good progress", "plan_reviewed": true, "next_review": in_days(42)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let teacher_b = app.signed_in("teacher.b").await;
    let reply = teacher_b
        .post_json(&path, &json!({"decision": "continue", "note": "Fine"}))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = coord_b
        .post_json(&path, &json!({"decision": "close", "note": "Targets met"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("exit_reason"));

    let ahead = live_ahead(&app, &world).await;
    assert!(ahead > 0);
    let reply = coord_b
        .post_json(
            &path,
            &json!({"decision": "close", "note": "All three targets met", "exit_reason": "targets_met"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["cancelled"], ahead);
    assert_eq!(live_ahead(&app, &world).await, 0);
    let record = coord_b
        .get(&format!("/api/referrals/{referral}/record"))
        .await
        .json();
    assert_eq!(record["referral"]["status"], "closed");
    assert_eq!(record["exit"]["reason"], "targets_met");
    assert_eq!(record["reviews"].as_array().unwrap().len(), 2);

    let reply = coord_b
        .post_json(&path, &json!({"decision": "continue", "note": "Again"}))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(reply.text.contains("closed"), "{}", reply.text);
}

/// mentee.b's live sessions still to come.
async fn live_ahead(app: &TestApp, world: &World) -> usize {
    app.store
        .sessions_of_student(
            world.mentee_b.id,
            Utc::now(),
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap()
        .iter()
        .filter(|s| s.status.is_live())
        .count()
}

async fn the_exit_says_what_it_cancels_then_ends_the_match_and_closes_the_referral(app: TestApp) {
    let (world, referral) = programme(&app).await;
    let coord_b = app.signed_in("coord.b").await;
    let path = format!("/api/referrals/{referral}/exit");
    let ahead = live_ahead(&app, &world).await;
    let dry = coord_b
        .post_json(
            &format!("{path}?dry_run=true"),
            &json!({"reason": "withdrawn"}),
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.json()["cancels"].as_array().unwrap().len(), ahead);
    assert_eq!(
        live_ahead(&app, &world).await,
        ahead,
        "a dry run writes nothing"
    );

    let reply = coord_b
        .post_json(&path, &json!({"note": "Moving away"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("reason"));
    assert_eq!(live_ahead(&app, &world).await, ahead);

    for who in ["coord.a", "teacher.b", "mentor.a"] {
        let reply = app
            .signed_in(who)
            .await
            .post_json(&path, &json!({"reason": "left_school"}))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who}");
    }
    let reply = coord_b
        .post_json(
            &path,
            &json!({"reason": "left_school", "note": "Moving away"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["cancelled"], ahead);
    assert_eq!(live_ahead(&app, &world).await, 0);
    let referral_now = app.store.referral(referral).await.unwrap();
    assert_eq!(referral_now.status.as_str(), "closed");
    assert_eq!(referral_now.closed_reason.as_deref(), Some("Left school"));
    let pairs = app.store.pairs_of_referral(referral).await.unwrap();
    assert!(pairs.iter().all(|p| !p.open), "the match has ended");
    // The held session stays as it was.
    let record = coord_b
        .get(&format!("/api/referrals/{referral}/record"))
        .await
        .json();
    assert_eq!(record["delivered_sessions"], 1);
    let again = coord_b
        .post_json(&path, &json!({"reason": "withdrawn"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // The plan is kept as it was.
    let target = app
        .signed_in("mentor.a")
        .await
        .post_json(
            &format!("/api/referrals/{referral}/targets"),
            &json!({"what": "x", "measure": "y", "by_date": in_days(3)}),
        )
        .await;
    assert!(
        matches!(target.status, StatusCode::CONFLICT | StatusCode::FORBIDDEN),
        "{}",
        target.status
    );
}

async fn feedback_comes_once_at_the_end_from_the_mentee_the_mentor_and_the_teacher(app: TestApp) {
    let (_, referral) = programme(&app).await;
    let path = format!("/api/referrals/{referral}/feedback");
    let body =
        json!({"rating": 5, "went_well": "Someone to talk to", "even_better": "Longer sessions"});
    for who in ["mentee.b", "mentor.a", "teacher.b"] {
        let client = app.signed_in(who).await;
        let bad = client
            .post_json(&path, &json!({"rating": 6, "went_well": "x"}))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{who}");
        assert_eq!(bad.error_field().as_deref(), Some("rating"));
        let reply = client.post_json(&path, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{who}: {}", reply.text);
        let again = client.post_json(&path, &body).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{who}");
        // A term's feedback may come as often as terms end.
        let term = client
            .post_json(
                &path,
                &json!({"stage": "term", "rating": 4, "went_well": "Good term"}),
            )
            .await;
        assert_eq!(term.status, StatusCode::CREATED, "{who}: {}", term.text);
    }
    let reply = app.signed_in("coord.a").await.post_json(&path, &body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let record = app
        .signed_in("coord.b")
        .await
        .get(&format!("/api/referrals/{referral}/record"))
        .await
        .json();
    let mut from: Vec<&str> = record["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["stage"] == "end")
        .map(|f| f["from_role"].as_str().unwrap())
        .collect();
    from.sort_unstable();
    assert_eq!(from, ["mentee", "mentor", "teacher"]);
    // The mentee reads only their own.
    let own = app
        .signed_in("mentee.b")
        .await
        .get("/api/me/record")
        .await
        .json();
    assert!(
        own["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["from_role"] == "mentee")
    );
}

async fn a_school_sets_what_its_mentees_score_and_the_check_in_asks_it(app: TestApp) {
    let (world, referral) = programme(&app).await;
    let path = format!("/api/schools/{}/record-identifiers", world.b.id);
    let list = json!([
        {"label": "Reading at home", "question": "How often do I read at home?"},
        {"label": "Feeling confident", "question": "How confident do I feel in maths?"},
    ]);
    let teacher = app.signed_in("teacher.b").await;
    assert_eq!(
        teacher.put_json(&path, &list).await.status,
        StatusCode::FORBIDDEN
    );
    let dup = json!([
        {"label": "Reading", "question": "a?"},
        {"label": "reading", "question": "b?"},
    ]);
    let coord_b = app.signed_in("coord.b").await;
    let reply = coord_b.put_json(&path, &dup).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = coord_b.put_json(&path, &list).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()[0]["key"], "reading_at_home");
    assert_eq!(teacher.get(&path).await.json().as_array().unwrap().len(), 2);

    let mentee = app.signed_in("mentee.b").await;
    let old = mentee
        .post_json(
            &format!("/api/referrals/{referral}/assessments"),
            &json!({"stage": "baseline", "scores": all_scores(5)}),
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old list is gone"
    );
    let reply = mentee
        .post_json(
            &format!("/api/referrals/{referral}/assessments"),
            &json!({"stage": "baseline", "scores": {"reading_at_home": 3, "feeling_confident": 4}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

mentorbridge_tests::on_both_backends!(
    a_mentee_checks_in_once_a_stage_and_the_end_is_compared_with_the_start,
    a_review_continues_or_closes_and_a_closed_case_is_not_reviewed,
    a_school_sets_what_its_mentees_score_and_the_check_in_asks_it,
    a_target_is_set_by_one_of_the_pair_agreed_by_the_other_and_closed_with_a_reason,
    each_viewer_sees_their_part_of_the_record_and_strangers_none,
    feedback_comes_once_at_the_end_from_the_mentee_the_mentor_and_the_teacher,
    the_exit_says_what_it_cancels_then_ends_the_match_and_closes_the_referral,
    the_mentor_writes_up_a_session_and_its_supervisor_observes,
    the_school_adds_its_view_and_nobody_else_scores_for_the_mentee,
);
