use std::collections::BTreeSet;

use mentorbridge_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn referral(mentee: &str) -> Value {
    json!({
        "mentee_id": mentee,
        "priority": 3,
        "strengths": "Kind, curious, good at drawing",
        "concerns": ["confidence", "Reading"],
        "reasons": "Finds poetry hard and has stopped putting her hand up",
        "focus": ["English poetry", "Reading aloud"],
        "support_received": "Reading group in Year 7",
        "strategies_tried": "Seating near the front",
        "agencies": "",
        "planned_weeks": 12,
        "review_date": "2027-02-01"
    })
}

async fn a_referral_goes_from_draft_to_approved_with_consent_and_a_second_signature(app: TestApp) {
    let world = app.world().await;
    let mentee = world.mentee_b.id.to_string();
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    let referrer = app.signed_in("teacher.b").await;
    let created = referrer
        .post_json(
            &format!("/api/schools/{}/referrals", world.b.id),
            &referral(&mentee),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let r = created.json();
    assert_eq!(
        (r["status"].as_str(), r["concerns"].clone()),
        (Some("draft"), json!(["confidence", "reading"]))
    );
    let id = r["id"].as_str().unwrap().to_owned();
    let status = |to: &str| json!({"to": to});

    let submitted = referrer
        .post_json(&format!("/api/referrals/{id}/status"), &status("submitted"))
        .await;
    assert_eq!(submitted.json()["status"], "submitted");
    // A teacher cannot countersign; the coordinator can, once consent is recorded.
    let own = referrer
        .post_json(&format!("/api/referrals/{id}/status"), &status("approved"))
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let coordinator = app.signed_in("coord.b").await;
    let no_consent = coordinator
        .post_json(&format!("/api/referrals/{id}/status"), &status("approved"))
        .await;
    assert_eq!(no_consent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_consent.error_field().as_deref(), Some("consent"));
    let mut with_consent = referral(&mentee);
    with_consent["consent"] = json!({"given_by": "Mrs Murphy (mother)", "date": "2026-11-20"});
    with_consent["entry_criteria_met"] = json!(true);
    let updated = referrer
        .put_json(&format!("/api/referrals/{id}"), &with_consent)
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        updated.json()["consent_recorded_by"],
        json!(
            app.store
                .user_for_sign_in("teacher.b")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        )
    );
    let approved = coordinator
        .post_json(&format!("/api/referrals/{id}/status"), &status("approved"))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json()["countersigned_by"], json!(world.coord_b.id));
    // Matched comes from approving a match, never by hand; an approved referral is not edited.
    let by_hand = coordinator
        .post_json(&format!("/api/referrals/{id}/status"), &status("matched"))
        .await;
    assert_eq!(by_hand.status, StatusCode::CONFLICT);
    assert_eq!(
        referrer
            .put_json(&format!("/api/referrals/{id}"), &with_consent)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let unexplained = coordinator
        .post_json(&format!("/api/referrals/{id}/status"), &status("closed"))
        .await;
    assert_eq!(unexplained.error_field().as_deref(), Some("reason"));
    let closed = coordinator
        .post_json(
            &format!("/api/referrals/{id}/status"),
            &json!({"to": "closed", "reason": "Moved school"}),
        )
        .await;
    assert_eq!(closed.json()["closed_reason"], "Moved school");
}

/// A coordinator who rewrites a submitted referral cannot then countersign
/// it: the second person's check would check their own words. Consent is
/// credited to whoever recorded it as it stands, and the changes are kept.
async fn whoever_changed_a_referral_cannot_countersign_it(app: TestApp) {
    let world = app.world().await;
    let mentee = world.mentee_b.id.to_string();
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    app.add_staff(&world.b, "coord.b2", "coordinator").await;
    let referrer = app.signed_in("teacher.b").await;
    let mut body = referral(&mentee);
    body["consent"] = json!({"given_by": "Mrs Murphy (mother)", "date": "2026-11-20"});
    body["entry_criteria_met"] = json!(true);
    let id = referrer
        .post_json(&format!("/api/schools/{}/referrals", world.b.id), &body)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let to = |status: &str| json!({"to": status});
    referrer
        .post_json(&format!("/api/referrals/{id}/status"), &to("submitted"))
        .await;
    let coordinator = app.signed_in("coord.b").await;
    let mut rewritten = body.clone();
    rewritten["reasons"] = json!("Needs a mentor for Maths, urgently");
    rewritten["consent"] = json!({"given_by": "Mr Murphy (father)", "date": "2026-11-21"});
    let edited = coordinator
        .put_json(&format!("/api/referrals/{id}"), &rewritten)
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(
        edited.json()["consent_recorded_by"],
        json!(world.coord_b.id),
        "the consent as it now stands was recorded by the coordinator"
    );
    let own = coordinator
        .post_json(&format!("/api/referrals/{id}/status"), &to("approved"))
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT, "{}", own.text);
    assert!(own.text.contains("you changed it"), "{}", own.text);
    let changes = coordinator
        .get(&format!("/api/referrals/{id}/changes"))
        .await
        .json();
    assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
    assert_eq!(changes[0]["changed_by"], json!(world.coord_b.id));
    assert_eq!(changes[0]["fields"], json!(["reasons", "consent"]));
    let second = app.signed_in("coord.b2").await;
    let approved = second
        .post_json(&format!("/api/referrals/{id}/status"), &to("approved"))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
}

async fn the_referrer_cannot_countersign_their_own_referral(app: TestApp) {
    let world = app.world().await;
    let coordinator = app.signed_in("coord.b").await;
    let mut body = referral(&world.mentee_b.id.to_string());
    body["consent"] = json!({"given_by": "Mr Murphy", "date": "2026-11-01"});
    body["entry_criteria_met"] = json!(true);
    let id = coordinator
        .post_json(&format!("/api/schools/{}/referrals", world.b.id), &body)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    coordinator
        .post_json(
            &format!("/api/referrals/{id}/status"),
            &json!({"to": "submitted"}),
        )
        .await;
    let own = coordinator
        .post_json(
            &format!("/api/referrals/{id}/status"),
            &json!({"to": "approved"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    assert!(own.text.contains("second person"), "{}", own.text);
    // A second open referral for the same mentee is a conflict.
    let again = coordinator
        .post_json(&format!("/api/schools/{}/referrals", world.b.id), &body)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

async fn bad_referrals_name_their_field(app: TestApp) {
    let world = app.world().await;
    let coordinator = app.signed_in("coord.b").await;
    let path = format!("/api/schools/{}/referrals", world.b.id);
    let mentee = world.mentee_b.id.to_string();
    let cases = [
        ("concerns", json!(["naughty"])),
        ("focus", json!([])),
        ("planned_weeks", json!(60)),
        ("priority", json!(7)),
    ];
    for (field, value) in cases {
        let mut body = referral(&mentee);
        body[field] = value;
        let reply = coordinator.post_json(&path, &body).await;
        assert_eq!(
            reply.error_field().as_deref(),
            Some(field),
            "{}",
            reply.text
        );
    }
    // Only a mentee at one's own school can be referred.
    let mentor = coordinator
        .post_json(&path, &referral(&world.mentor_a.id.to_string()))
        .await;
    assert_eq!(mentor.error_field().as_deref(), Some("mentee_id"));
}

async fn the_partner_school_sees_only_first_name_year_and_focus_of_approved_referrals(
    app: TestApp,
) {
    let world = app.world().await;
    app.add_staff(&world.b, "dsl.b", "safeguarding_lead").await;
    let coordinator = app.signed_in("coord.b").await;
    let mut body = referral(&world.mentee_b.id.to_string());
    body["consent"] = json!({"given_by": "Mrs Murphy", "date": "2026-11-01"});
    body["entry_criteria_met"] = json!(true);
    let id = coordinator
        .post_json(&format!("/api/schools/{}/referrals", world.b.id), &body)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let partner = app.signed_in("coord.a").await;
    let path = format!("/api/partnerships/{}/referrals", world.partnership.id);
    assert_eq!(
        partner.get(&path).await.json(),
        json!([]),
        "drafts are not shared"
    );
    coordinator
        .post_json(
            &format!("/api/referrals/{id}/status"),
            &json!({"to": "submitted"}),
        )
        .await;
    let dsl = app.signed_in("dsl.b").await;
    let approved = dsl
        .post_json(
            &format!("/api/referrals/{id}/status"),
            &json!({"to": "approved"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);

    let shared = partner.get(&path).await;
    let first = &shared.json()[0];
    let keys: BTreeSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["id", "given_name", "year_group", "focus"])
    );
    assert_eq!(first["focus"], json!(["English poetry", "Reading aloud"]));
    assert!(
        !shared.text.contains("poetry hard")
            && !shared.text.contains("Murphy")
            && !shared.text.contains("confidence")
    );
    // The referral itself stays with its school.
    assert_eq!(
        partner.get(&format!("/api/referrals/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.signed_in("coord.c").await.get(&path).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn staff_refer_and_countersign_through_the_referrals_page(app: TestApp) {
    let world = app.world().await;
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    let teacher = app.signed_in("teacher.b").await;
    let mentee = world.mentee_b.id.to_string();
    let saved = teacher
        .post_form(
            "/school/referrals",
            &[
                ("mentee_id", mentee.as_str()),
                ("focus", "English poetry, Maths"),
                ("reasons", "Finds poetry hard"),
                ("planned_weeks", "12"),
                ("concerns", "confidence"),
                ("concerns", "reading"),
                ("consent_given_by", "Mrs Murphy (mother)"),
                ("consent_date", "2026-11-02"),
                ("entry_criteria_met", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let stored = &app.store.referrals_at(world.b.id).await.unwrap()[0];
    assert_eq!(stored.concerns, vec!["confidence", "reading"]);
    assert_eq!(stored.focus, vec!["English poetry", "Maths"]);
    let page = teacher.get("/school/referrals").await;
    assert!(
        page.text.contains("Submit for countersignature")
            && !page.text.contains("Countersign and approve")
    );
    teacher
        .post_form(
            &format!("/school/referrals/{}/status", stored.id),
            &[("to", "submitted")],
        )
        .await;
    let coordinator = app.signed_in("coord.b").await;
    let page = coordinator.get("/school/referrals").await;
    assert!(
        page.text.contains("Countersign and approve"),
        "{}",
        page.text
    );
    let approved = coordinator
        .post_form(
            &format!("/school/referrals/{}/status", stored.id),
            &[("to", "approved")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text);
    assert_eq!(
        app.store.referral(stored.id).await.unwrap().status.as_str(),
        "approved"
    );
}

on_both_backends!(
    staff_refer_and_countersign_through_the_referrals_page,
    a_referral_goes_from_draft_to_approved_with_consent_and_a_second_signature,
    the_referrer_cannot_countersign_their_own_referral,
    whoever_changed_a_referral_cannot_countersign_it,
    bad_referrals_name_their_field,
    the_partner_school_sees_only_first_name_year_and_focus_of_approved_referrals,
);
