//! Reports (#17): a scheme with known numbers, every figure and the CSV
//! checked; who may read which report; a group's scheme lead reading only
//! aggregates of the schools that agreed; and the inputs refused.
//!
//! The record's rows (assessments, targets, feedback) are written with SQL
//! here, as `TestApp::execute_sql` does for rows no route makes yet: the
//! record's own API is being built beside this.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use mentorbridge::auth::Actor;
use mentorbridge::people::accounts::User;
use mentorbridge::people::mentors::TrainingInput;
use mentorbridge::people::referrals::{ConsentInput, ReferralInput, ReferralStatus};
use mentorbridge_tests::{PASSWORD, TestApp, World, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn actor(user: &User) -> Actor {
    Actor {
        user: user.clone(),
        csrf_token: String::new(),
    }
}

/// What the scheme was built with, for the assertions.
struct Scheme {
    world: World,
    /// Sessions the pair was booked.
    booked: i64,
    from: NaiveDate,
    to: NaiveDate,
}

impl Scheme {
    fn query(&self) -> String {
        format!("from={}&to={}", self.from, self.to)
    }
}

async fn referral(app: &TestApp, world: &World, by: &User, mentee: Uuid) -> Uuid {
    let input = ReferralInput {
        mentee_id: mentee,
        priority: 2,
        strengths: String::new(),
        concerns: vec![],
        reasons: "Quiet in class since September".into(),
        focus: vec!["Maths".into()],
        support_received: String::new(),
        strategies_tried: String::new(),
        agencies: String::new(),
        consent: Some(ConsentInput {
            given_by: "Parent".into(),
            date: "2026-11-01".parse().unwrap(),
        }),
        entry_criteria_met: true,
        planned_weeks: 12,
        review_date: None,
        unavailable: Vec::new(),
        preferred_days: Vec::new(),
    };
    app.store
        .create_referral(world.b.id, &actor(by), &input)
        .await
        .unwrap()
        .id
}

/// Runs one statement with its values bound, on whichever database this is.
macro_rules! seed {
    ($app:expr, $sql:expr $(, $value:expr)* $(,)?) => {
        mentorbridge::on_pool!(&$app.store, |pool| sqlx::query($sql)
            $(.bind($value))*
            .execute(pool)
            .await
            .map(drop))
        .unwrap_or_else(|e| panic!("{}: {e}", $sql))
    };
}

async fn assessment(
    app: &TestApp,
    referral: Uuid,
    stage: &str,
    view: &str,
    by: Uuid,
    at: DateTime<Utc>,
    scores: &[(&str, &str, i32, i32)],
) {
    let id = Uuid::new_v4();
    seed!(
        app,
        "INSERT INTO record_assessments (id, referral_id, stage, view, by_user, note, at) \
         VALUES ($1, $2, $3, $4, $5, '', $6)",
        id,
        referral,
        stage,
        view,
        by,
        at
    );
    for (key, label, position, score) in scores {
        seed!(
            app,
            "INSERT INTO record_scores (assessment_id, identifier, label, position, score) \
             VALUES ($1, $2, $3, $4, $5)",
            id,
            *key,
            *label,
            *position,
            *score
        );
    }
}

/// Five mentors at school A (three trained, two cleared); at school B,
/// mentee.b referred, approved and matched, mentee2.b referred only, and
/// mentee3.b's referral still a draft; the pair's sessions: three
/// delivered, one missed, two cancelled for a school trip and one because
/// the mentor was unwell; mentee.b's record: baseline and exit scores,
/// three targets, feedback from all three.
async fn scheme(app: &TestApp) -> Scheme {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let mentor2 = app.add_student(&world.a, "mentor2.a", "mentor", 12).await;
    app.ready_mentor(&world, &mentor2, "Maths").await;
    let mentor3 = app.add_student(&world.a, "mentor3.a", "mentor", 12).await;
    app.store
        .record_training(
            mentor3.id,
            &TrainingInput {
                course: "Peer mentoring".into(),
                date: "2026-10-02".parse().unwrap(),
            },
        )
        .await
        .unwrap();
    app.add_student(&world.a, "mentor4.a", "mentor", 12).await;
    app.add_student(&world.a, "mentor5.a", "mentor", 12).await;

    let teacher_b = app
        .store
        .user_for_sign_in("teacher.b")
        .await
        .unwrap()
        .unwrap()
        .0;
    let mentee2 = app.add_student(&world.b, "mentee2.b", "mentee", 8).await;
    let second = referral(app, &world, &teacher_b, mentee2.id).await;
    let second = app.store.referral(second).await.unwrap();
    app.store
        .set_referral_status(&second, &actor(&teacher_b), ReferralStatus::Submitted, None)
        .await
        .unwrap();
    let mentee3 = app.add_student(&world.b, "mentee3.b", "mentee", 8).await;
    referral(app, &world, &teacher_b, mentee3.id).await;

    app.approve_as_both(&world).await;
    let matches = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap();
    assert_eq!(matches.len(), 1, "one pair");
    let sessions = app.store.sessions_of_match(matches[0].id).await.unwrap();
    assert!(
        sessions.len() >= 8,
        "a series to settle: {}",
        sessions.len()
    );
    for s in &sessions {
        assert_eq!(s.ends_at - s.starts_at, Duration::minutes(20));
    }
    for s in &sessions[..3] {
        assert_eq!(app.store.settle_session(s.id, true).await.unwrap(), 1);
    }
    app.store
        .settle_session(sessions[3].id, false)
        .await
        .unwrap();
    for (s, why) in sessions[4..7]
        .iter()
        .zip(["School trip", "School trip", "Mentor unwell"])
    {
        app.store.cancel_session(s, why).await.unwrap();
    }

    let main = matches[0].referral_id;
    let now = Utc::now();
    let (mentee, mentor) = (world.mentee_b.id, matches[0].mentor_id);
    let scores = |c, a, h| {
        [
            ("confidence", "Confidence", 1, c),
            ("attendance", "Attendance", 2, a),
            ("happiness", "Happiness", 3, h),
        ]
    };
    assessment(
        app,
        main,
        "baseline",
        "mentee",
        mentee,
        now - Duration::days(20),
        &scores(4, 6, 5),
    )
    .await;
    assessment(app, main, "exit", "mentee", mentee, now, &scores(7, 8, 5)).await;
    // The school's view, and a programme with no exit yet: neither counts.
    assessment(
        app,
        main,
        "exit",
        "staff",
        world.coord_b.id,
        now,
        &scores(1, 1, 1),
    )
    .await;
    assessment(
        app,
        second.id,
        "baseline",
        "mentee",
        mentee2.id,
        now,
        &scores(1, 1, 1),
    )
    .await;

    let by_date: NaiveDate = "2027-03-01".parse().unwrap();
    for (what, outcome, note) in [
        (
            "Answer one question in each maths lesson",
            Some("met"),
            None,
        ),
        (
            "Hand homework in on time",
            Some("dropped"),
            Some("Changed to a reading target"),
        ),
        ("Read for ten minutes a day", None, None),
    ] {
        seed!(
            app,
            "INSERT INTO record_targets (id, referral_id, what, measure, by_date, set_by, set_at, \
             mentee_agreed_at, mentor_agreed_at, outcome, outcome_note, outcome_by, outcome_at) \
             VALUES ($1, $2, $3, 'Teacher says so', $4, $5, $6, $6, $6, $7, $8, $9, $10)",
            Uuid::new_v4(),
            main,
            what,
            by_date,
            mentor,
            now - Duration::days(10),
            outcome,
            note,
            outcome.map(|_| world.coord_b.id),
            outcome.map(|_| now)
        );
    }
    for (from_role, by, rating) in [
        ("mentee", mentee, 5),
        ("mentor", mentor, 4),
        ("teacher", teacher_b.id, 3),
    ] {
        seed!(
            app,
            "INSERT INTO record_feedback (id, referral_id, from_role, stage, by_user, rating, went_well, at) \
             VALUES ($1, $2, $3, 'end', $4, $5, 'Talking about maths', $6)",
            Uuid::new_v4(),
            main,
            from_role,
            by,
            rating,
            now
        );
    }
    let today = now.date_naive();
    Scheme {
        world,
        booked: sessions.len() as i64,
        from: today - Duration::days(30),
        to: today + Duration::days(400),
    }
}

fn summary_csv(booked: i64, mentors: (i64, i64, i64), mentees: (i64, i64, i64)) -> String {
    let lines = [
        "figure,value".to_owned(),
        format!("Mentors recruited,{}", mentors.0),
        format!("Mentors trained,{}", mentors.1),
        format!("Mentors cleared,{}", mentors.2),
        format!("Mentees referred,{}", mentees.0),
        format!("Mentees approved,{}", mentees.1),
        format!("Mentees matched,{}", mentees.2),
        format!("Sessions booked,{booked}"),
        "Sessions delivered,3".into(),
        "Sessions missed,1".into(),
        "Sessions cancelled,3".into(),
        format!("Sessions still to come,{}", booked - 7),
        "Hours delivered,1.0".into(),
        "Attendance rate,75%".into(),
        "Targets met,1".into(),
        "Targets partly met,0".into(),
        "Targets dropped,1".into(),
        "Targets open,1".into(),
    ];
    lines.map(|l| format!("{l}\r\n")).concat()
}

/// No pupil's name (the test accounts' names start with their usernames),
/// nor a word of their record's free text, is anywhere in a report.
fn names_no_pupil(text: &str) {
    for part in [
        "mentee.b",
        "mentee2.b",
        "mentee3.b",
        "mentor.a",
        "mentor2.a",
        "mentor3.a",
        "Talking about maths",
        "Hand homework",
    ] {
        assert!(!text.contains(part), "a report shows `{part}`: {text}");
    }
}

async fn a_partnership_report_gives_every_figure_of_a_known_scheme_and_its_csv(app: TestApp) {
    let scheme = scheme(&app).await;
    let w = &scheme.world;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/reports/partnerships/{}", w.partnership.id);
    let reply = coord.get(&format!("{path}?{}", scheme.query())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    names_no_pupil(&reply.text);
    let r = reply.json();
    assert_eq!(r["kind"], "partnership");
    assert_eq!(r["name"], "School A and School B");
    assert_eq!(
        r["mentors"],
        json!({"recruited": 5, "trained": 3, "cleared": 2})
    );
    assert_eq!(
        r["mentees"],
        json!({"referred": 2, "approved": 1, "matched": 1})
    );
    let s = &r["sessions"];
    assert_eq!(s["booked"], scheme.booked);
    assert_eq!(s["delivered"], 3);
    assert_eq!(s["missed"], 1);
    assert_eq!(s["cancelled"], 3);
    assert_eq!(s["to_come"], scheme.booked - 7);
    assert_eq!(s["minutes_delivered"], 60);
    assert_eq!(
        s["cancelled_because"],
        json!([{"reason": "School trip", "sessions": 2}, {"reason": "Mentor unwell", "sessions": 1}])
    );
    assert_eq!(
        r["identifiers"],
        json!([
            {"identifier": "confidence", "label": "Confidence", "programmes": 1, "baseline_average": 4.0, "exit_average": 7.0, "average_change": 3.0},
            {"identifier": "attendance", "label": "Attendance", "programmes": 1, "baseline_average": 6.0, "exit_average": 8.0, "average_change": 2.0},
            {"identifier": "happiness", "label": "Happiness", "programmes": 1, "baseline_average": 5.0, "exit_average": 5.0, "average_change": 0.0},
        ])
    );
    assert_eq!(
        r["targets"],
        json!({"met": 1, "partly_met": 0, "dropped": 1, "open": 1})
    );
    assert_eq!(
        r["feedback"],
        json!([
            {"from": "mentee", "responses": 1, "average_rating": 5.0},
            {"from": "mentor", "responses": 1, "average_rating": 4.0},
            {"from": "teacher", "responses": 1, "average_rating": 3.0},
        ])
    );
    // By term: school A's one long term, cut to the range.
    let terms = r["terms"].as_array().unwrap();
    assert_eq!(terms.len(), 1, "{terms:?}");
    assert_eq!(terms[0]["label"], "Long term");
    assert_eq!(terms[0]["referred"], 2);
    assert_eq!(terms[0]["sessions"]["delivered"], 3);
    assert_eq!(terms[0]["range"]["from"], scheme.from.to_string());
    // Each school's own: A's mentors, B's mentees, the pair's sessions for both.
    let schools = r["by_school"].as_array().unwrap();
    assert_eq!(schools[0]["school"], "School A");
    assert_eq!(schools[0]["mentors"]["trained"], 3);
    assert_eq!(schools[0]["mentees"]["referred"], 0);
    assert_eq!(schools[1]["school"], "School B");
    assert_eq!(schools[1]["mentors"]["recruited"], 0);
    assert_eq!(schools[1]["mentees"]["matched"], 1);
    assert_eq!(schools[1]["sessions"]["delivered"], 3);

    // The CSV of every table.
    let csv = |table: &str| {
        let coord = &coord;
        let url = format!("{path}?{}&format=csv&table={table}", scheme.query());
        async move { coord.get(&url).await }
    };
    let summary = csv("summary").await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(
        summary.headers["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        summary.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"partnership-summary-"),
    );
    assert_eq!(
        summary.text,
        summary_csv(scheme.booked, (5, 3, 2), (2, 1, 1))
    );
    assert_eq!(
        csv("cancellations").await.text,
        "reason,sessions\r\nSchool trip,2\r\nMentor unwell,1\r\n"
    );
    assert_eq!(
        csv("identifiers").await.text,
        "identifier,programmes,baseline_average,exit_average,average_change\r\n\
         Confidence,1,4.00,7.00,+3.00\r\nAttendance,1,6.00,8.00,+2.00\r\nHappiness,1,5.00,5.00,+0.00\r\n"
    );
    assert_eq!(
        csv("feedback").await.text,
        "from,responses,average_rating\r\nmentee,1,5.00\r\nmentor,1,4.00\r\nteacher,1,3.00\r\n"
    );
    assert_eq!(
        csv("terms").await.text,
        format!(
            "term,from,to,referred,booked,delivered,missed,cancelled,hours_delivered,attendance_rate\r\n\
             Long term,{},{},2,{},3,1,3,1.0,75%\r\n",
            scheme.from, scheme.to, scheme.booked
        )
    );
    assert_eq!(
        csv("schools").await.text,
        "school,mentors_recruited,mentors_trained,mentors_cleared,mentees_referred,mentees_approved,mentees_matched,sessions_delivered,hours_delivered,attendance_rate\r\n\
         School A,5,3,2,0,0,0,3,1.0,75%\r\nSchool B,0,0,0,2,1,1,3,1.0,75%\r\n"
    );

    // The page: its headline reads like the real project's line, with a
    // chart and a CSV link for each table.
    let page = coord
        .get(&format!(
            "/reports/partnerships/{}?{}",
            w.partnership.id,
            scheme.query()
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains(
            "3 mentors trained, 2 mentees referred, 1 matched, 1 hour of mentoring delivered."
        ),
        "{}",
        page.text
    );
    assert!(page.text.matches("<svg").count() >= 4, "charts");
    for table in [
        "summary",
        "cancellations",
        "identifiers",
        "feedback",
        "terms",
        "schools",
    ] {
        assert!(
            page.text.contains(&format!("id=\"csv-{table}\"")),
            "{table}"
        );
    }
    names_no_pupil(&page.text);

    // Each school's own report: A's mentors, B's mentees and record.
    let a = coord
        .get(&format!(
            "/api/reports/schools/{}?{}",
            w.a.id,
            scheme.query()
        ))
        .await
        .json();
    assert_eq!(a["mentors"]["recruited"], 5);
    assert_eq!(a["mentees"]["referred"], 0);
    assert_eq!(a["sessions"]["delivered"], 3);
    assert_eq!(a["identifiers"], json!([]));
    let b = app
        .signed_in("coord.b")
        .await
        .get(&format!(
            "/api/reports/schools/{}?{}",
            w.b.id,
            scheme.query()
        ))
        .await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    let b = b.json();
    assert_eq!(b["mentors"]["recruited"], 0);
    assert_eq!(
        b["mentees"],
        json!({"referred": 2, "approved": 1, "matched": 1})
    );
    assert_eq!(b["targets"]["met"], 1);
    assert_eq!(b["by_school"], json!([]));
}

async fn a_scheme_lead_reads_the_aggregate_of_the_schools_that_agreed_and_nothing_else(
    app: TestApp,
) {
    let scheme = scheme(&app).await;
    let w = &scheme.world;
    let admin = app.signed_in("admin").await;
    let group = admin
        .post_json("/api/groups", &json!({"name": "Northshire Peer Mentoring"}))
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.text);
    let group: Uuid = group.json()["id"].as_str().unwrap().parse().unwrap();
    for school in ["school-a", "school-b"] {
        let r = admin
            .post_json(
                &format!("/api/groups/{group}/schools"),
                &json!({"school": school}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let unknown = admin
        .post_json(
            &format!("/api/groups/{group}/schools"),
            &json!({"school": "nowhere"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error_field().as_deref(), Some("school"));
    let lead = admin
        .post_json(
            &format!("/api/groups/{group}/leads"),
            &json!({"username": "lead.north", "password": PASSWORD, "given_name": "Sam", "family_name": "Okafor"}),
        )
        .await;
    assert_eq!(lead.status, StatusCode::CREATED, "{}", lead.text);
    // The same name twice is refused, naming the field.
    let again = admin
        .post_json("/api/groups", &json!({"name": "Northshire Peer Mentoring"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_field().as_deref(), Some("name"));

    let lead = app.signed_in("lead.north").await;
    let report = format!("/api/reports/groups/{group}?{}", scheme.query());
    // Nobody has agreed yet: nothing of either school is in it.
    let empty = lead.get(&report).await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.text
    );
    assert_eq!(empty.error_field().as_deref(), Some("from"));

    // Only a school's own coordinator says yes for it.
    let not_theirs = app
        .signed_in("coord.c")
        .await
        .post_json(&format!("/api/groups/{group}/agree"), &json!({}))
        .await;
    assert_eq!(
        not_theirs.status,
        StatusCode::NOT_FOUND,
        "{}",
        not_theirs.text
    );
    let a = app
        .signed_in("coord.a")
        .await
        .post_json(&format!("/api/groups/{group}/agree"), &json!({}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let only_a = lead.get(&report).await;
    assert_eq!(only_a.status, StatusCode::OK, "{}", only_a.text);
    let only_a = only_a.json();
    assert_eq!(only_a["schools"], json!(["School A"]));
    assert_eq!(only_a["mentors"]["trained"], 3);
    assert_eq!(only_a["mentees"]["referred"], 0);
    assert_eq!(only_a["sessions"]["delivered"], 3);

    let b = app
        .signed_in("coord.b")
        .await
        .post_json(&format!("/api/groups/{group}/agree"), &json!({}))
        .await;
    assert_eq!(b.status, StatusCode::OK);
    let both = lead.get(&report).await;
    names_no_pupil(&both.text);
    let both = both.json();
    assert_eq!(both["kind"], "group");
    assert_eq!(
        both["mentors"],
        json!({"recruited": 5, "trained": 3, "cleared": 2})
    );
    assert_eq!(
        both["mentees"],
        json!({"referred": 2, "approved": 1, "matched": 1})
    );
    // The pair's sessions count once for the group, once for each school.
    assert_eq!(both["sessions"]["delivered"], 3);
    assert_eq!(both["by_school"].as_array().unwrap().len(), 2);
    let csv = lead
        .get(&format!("{report}&format=csv&table=summary"))
        .await;
    assert_eq!(csv.text, summary_csv(scheme.booked, (5, 3, 2), (2, 1, 1)));
    let page = lead.get(&format!("/reports?{}", scheme.query())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("Group report: Northshire Peer Mentoring")
    );
    names_no_pupil(&page.text);

    // A school that leaves is out of the report at once.
    let left = app
        .signed_in("coord.b")
        .await
        .post_json(&format!("/api/groups/{group}/leave"), &json!({}))
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    assert_eq!(lead.get(&report).await.json()["mentees"]["referred"], 0);

    // Nothing of a school, a partnership or a pupil is the lead's to see.
    for path in [
        format!("/api/reports/schools/{}", w.a.id),
        format!("/api/reports/partnerships/{}", w.partnership.id),
        format!("/api/schools/{}/students", w.a.id),
        format!("/api/schools/{}/referrals", w.b.id),
        "/school/students".to_owned(),
        "/sessions".to_owned(),
        "/messages".to_owned(),
    ] {
        let reply = lead.get(&path).await;
        assert!(
            matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{path}: {} {}",
            reply.status,
            reply.text
        );
    }
    // Nor is another group's report, nor this one anyone else's.
    let other = admin
        .post_json("/api/groups", &json!({"name": "Elsewhere Trust"}))
        .await;
    let other = other.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        lead.get(&format!("/api/reports/groups/{other}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for who in ["coord.a", "admin", "dsl.a"] {
        let reply = app.signed_in(who).await.get(&report).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who}");
    }
}

async fn a_report_refuses_a_backwards_range_an_empty_one_and_unknown_tables_naming_the_field(
    app: TestApp,
) {
    let scheme = scheme(&app).await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/reports/schools/{}", scheme.world.a.id);
    let cases: [(String, &str); 5] = [
        ("from=2027-03-01&to=2027-02-01".into(), "from"),
        ("from=2020-01-01&to=2020-02-01".into(), "from"),
        ("from=1/3/2027".into(), "from"),
        (
            format!("{}&format=csv&table=pupils", scheme.query()),
            "table",
        ),
        (format!("{}&format=xlsx", scheme.query()), "format"),
    ];
    for (query, field) in cases {
        let reply = coord.get(&format!("{path}?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.error_field().as_deref(), Some(field), "{query}");
    }
    let empty: Value = coord
        .get(&format!("{path}?from=2020-01-01&to=2020-02-01"))
        .await
        .json();
    assert!(
        empty["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was recorded for School A between 2020-01-01 and 2020-02-01"),
        "{empty}"
    );
    // The page says the same, and keeps the form to choose another range.
    let page = coord.get("/reports?from=2020-01-01&to=2020-02-01").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"report-error\""));
    assert!(page.text.contains("id=\"range-form\""));
    // An unknown school is a 404; a teacher reads no report.
    assert_eq!(
        coord
            .get(&format!("/api/reports/schools/{}", Uuid::new_v4()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.signed_in("teacher.a").await.get(&path).await.status,
        StatusCode::FORBIDDEN
    );
}

on_both_backends!(
    a_partnership_report_gives_every_figure_of_a_known_scheme_and_its_csv,
    a_scheme_lead_reads_the_aggregate_of_the_schools_that_agreed_and_nothing_else,
    a_report_refuses_a_backwards_range_an_empty_one_and_unknown_tables_naming_the_field,
);

/// Dropping `users` with foreign keys on would delete every row that refers
/// to an account; the rebuild for scheme leads must keep them all, and the
/// references must still work (point at the rebuilt table) afterwards.
#[tokio::test]
async fn sqlite_the_users_rebuild_for_scheme_leads_keeps_every_row_that_refers_to_an_account() {
    use mentorbridge::store::Store;
    let db = mentorbridge_tests::FreshDatabase::new(mentorbridge_tests::Backend::Sqlite)
        .await
        .unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    let Store::Sqlite(pool) = &store else {
        unreachable!("a sqlite: URL")
    };
    mentorbridge::store::sqlite_migrate_up_to(pool, 17)
        .await
        .unwrap();
    let (school, coord, pupil, referral) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let now = Utc::now();
    let run = |sql: &'static str| sqlx::query(sql);
    run("INSERT INTO schools (id, slug, name, time_zone, country, created_at) VALUES ($1, 's', 'S', 'Europe/London', 'GB', $2)")
        .bind(school).bind(now).execute(pool).await.unwrap();
    run("INSERT INTO users (id, school_id, username, password_hash, role, given_name, family_name, created_at, email) \
         VALUES ($1, $2, 'coord', '!', 'coordinator', 'C', 'D', $3, 'c@s.example')")
        .bind(coord).bind(school).bind(now).execute(pool).await.unwrap();
    run("INSERT INTO users (id, school_id, username, password_hash, role, given_name, family_name, year_group, student_kind, created_at, student_ref) \
         VALUES ($1, $2, 'pupil', '!', 'student', 'P', 'Q', 8, 'mentee', $3, 'R-1')")
        .bind(pupil).bind(school).bind(now).execute(pool).await.unwrap();
    for user in [coord, pupil] {
        run("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, 'c', $3, $3)")
            .bind(user.to_string()).bind(user).bind(now).execute(pool).await.unwrap();
    }
    run("INSERT INTO mentor_profiles (user_id, offers, capacity, free_periods, updated_at) VALUES ($1, '[]', 1, '[]', $2)")
        .bind(pupil).bind(now).execute(pool).await.unwrap();
    run("INSERT INTO referrals (id, school_id, mentee_id, referred_by, status, priority, strengths, concerns, reasons, focus, \
         support_received, strategies_tried, agencies, entry_criteria_met, planned_weeks, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'submitted', 2, '', '', 'r', 'Maths', '', '', '', TRUE, 6, $5, $5)")
        .bind(referral).bind(school).bind(pupil).bind(coord).bind(now).execute(pool).await.unwrap();

    store.migrate().await.unwrap();

    let count = |table: &'static str| {
        let sql = format!("SELECT count(*) FROM {table}");
        async move {
            let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(pool).await.unwrap();
            n
        }
    };
    for (table, n) in [
        ("users", 2),
        ("sessions", 2),
        ("mentor_profiles", 1),
        ("referrals", 1),
    ] {
        assert_eq!(count(table).await, n, "{table}");
    }
    let pupil_row = store.user(pupil).await.unwrap();
    assert_eq!(pupil_row.student_ref.as_deref(), Some("R-1"));
    assert_eq!(pupil_row.group_id, None);
    let (fk,): (i64,) = sqlx::query_as("SELECT count(*) FROM pragma_foreign_key_check")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 0);
    // The children's references point at the rebuilt table: a deleted
    // account still takes its sign-in sessions with it, and a row naming
    // an account that does not exist is still refused.
    run("DELETE FROM users WHERE id = $1")
        .bind(coord)
        .execute(pool)
        .await
        .unwrap_err();
    run("DELETE FROM referrals WHERE id = $1")
        .bind(referral)
        .execute(pool)
        .await
        .unwrap();
    run("DELETE FROM users WHERE id = $1")
        .bind(coord)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(count("sessions").await, 1);
    run("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ('x', $1, 'c', $2, $2)")
        .bind(Uuid::new_v4()).bind(now).execute(pool).await.unwrap_err();
    // A scheme lead needs a group, and a group's lead no school.
    let group = Uuid::new_v4();
    run("INSERT INTO school_groups (id, name, created_at) VALUES ($1, 'G', $2)")
        .bind(group)
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
    run("INSERT INTO users (id, group_id, username, password_hash, role, given_name, family_name, created_at) \
         VALUES ($1, NULL, 'lead1', '!', 'scheme_lead', 'L', 'M', $2)")
        .bind(Uuid::new_v4()).bind(now).execute(pool).await.unwrap_err();
    run("INSERT INTO users (id, school_id, group_id, username, password_hash, role, given_name, family_name, created_at) \
         VALUES ($1, $2, $3, 'lead2', '!', 'scheme_lead', 'L', 'M', $4)")
        .bind(Uuid::new_v4()).bind(school).bind(group).bind(now).execute(pool).await.unwrap_err();
    run("INSERT INTO users (id, group_id, username, password_hash, role, given_name, family_name, created_at) \
         VALUES ($1, $2, 'lead3', '!', 'scheme_lead', 'L', 'M', $3)")
        .bind(Uuid::new_v4()).bind(group).bind(now).execute(pool).await.unwrap();
    // Migrating again changes nothing.
    store.migrate().await.unwrap();
    assert_eq!(count("users").await, 2);
}
