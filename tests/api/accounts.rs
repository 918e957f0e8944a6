use mentorbridge_tests::{PASSWORD, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn student(username: &str, password: &str) -> Value {
    json!({
        "username": username, "password": password, "given_name": "Priya", "family_name": "Shah",
        "year_group": 9, "kind": "mentee", "subjects": ["English poetry", "Maths", "maths"]
    })
}

async fn a_coordinator_adds_a_student_who_signs_in_as_themselves(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/students", world.a.id);
    let reply = coord
        .post_json(&path, &student("priya.s", "lemon-harbour-kite"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["subjects"], json!(["English poetry", "Maths"]));
    let listed = coord.get(&path).await.json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["username"] == "priya.s")
    );
    let mut priya = app.client();
    assert_eq!(
        priya.sign_in("priya.s", "lemon-harbour-kite").await.status,
        StatusCode::OK
    );
}

async fn weak_empty_and_duplicate_credentials_are_refused_by_field(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/students", world.a.id);
    for (password, why) in [("", "empty"), ("short", "short"), ("password123", "common")] {
        let reply = coord.post_json(&path, &student("new.kid", password)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert_eq!(reply.error_field().as_deref(), Some("password"), "{why}");
    }
    let dup = coord
        .post_json(&path, &student("mentor.a", "lemon-harbour-kite"))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.error_field().as_deref(), Some("username"));
    let mut bad_year = student("new.kid", "lemon-harbour-kite");
    bad_year["year_group"] = json!(15);
    let reply = coord.post_json(&path, &bad_year).await;
    assert_eq!(reply.error_field().as_deref(), Some("year_group"));
    assert!(!coord.get(&path).await.text.contains("new.kid"));
}

async fn a_coordinator_adds_staff_of_each_role(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/staff", world.a.id);
    for (i, role) in ["teacher", "safeguarding_lead", "coordinator"]
        .iter()
        .enumerate()
    {
        let body = json!({"username": format!("staff{i}"), "password": "cobalt-fern-ladder", "given_name": "S", "family_name": "T", "role": role});
        assert_eq!(
            coord.post_json(&path, &body).await.status,
            StatusCode::CREATED,
            "{role}"
        );
    }
    let student_role = json!({"username": "sneaky", "password": "cobalt-fern-ladder", "given_name": "S", "family_name": "T", "role": "student"});
    let reply = coord.post_json(&path, &student_role).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("role"));
}

async fn a_teacher_resets_a_students_password_and_signs_them_out(app: TestApp) {
    let world = app.world().await;
    let mentor = app.signed_in("mentor.a").await;
    let teacher = app.signed_in("teacher.a").await;
    let path = format!("/api/students/{}/password", world.mentor_a.id);
    let weak = teacher.post_json(&path, &json!({"password": "abc"})).await;
    assert_eq!(weak.error_field().as_deref(), Some("password"));
    let reply = teacher
        .post_json(&path, &json!({"password": "violet-anchor-piano"}))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(mentor.get("/api/me").await.status, StatusCode::UNAUTHORIZED);
    let mut again = app.client();
    assert_eq!(
        again.sign_in("mentor.a", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        again
            .sign_in("mentor.a", "violet-anchor-piano")
            .await
            .status,
        StatusCode::OK
    );
}

async fn staff_passwords_cannot_be_reset_as_if_they_were_students(app: TestApp) {
    let world = app.world().await;
    let teacher = app.signed_in("teacher.a").await;
    let path = format!("/api/students/{}/password", world.coord_a.id);
    let reply = teacher
        .post_json(&path, &json!({"password": "violet-anchor-piano"}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let mut coord = app.client();
    assert_eq!(
        coord.sign_in("coord.a", PASSWORD).await.status,
        StatusCode::OK
    );
}

async fn the_administrator_adds_only_a_schools_first_coordinator(app: TestApp) {
    let world = app.world().await;
    let admin = app.signed_in("admin").await;
    let empty = app.add_school("new-school", "New School").await;
    let coordinator = |username: &str, role: &str| json!({"username": username, "password": "cobalt-fern-ladder", "given_name": "N", "family_name": "S", "role": role});
    let teacher = admin
        .post_json(
            &format!("/api/schools/{}/staff", empty.id),
            &coordinator("new.teacher", "teacher"),
        )
        .await;
    assert_eq!(teacher.status, StatusCode::FORBIDDEN);
    let first = admin
        .post_json(
            &format!("/api/schools/{}/staff", empty.id),
            &coordinator("new.coord", "coordinator"),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = admin
        .post_json(
            &format!("/api/schools/{}/staff", empty.id),
            &coordinator("shadow.coord", "coordinator"),
        )
        .await;
    assert_eq!(
        second.status,
        StatusCode::FORBIDDEN,
        "no way into a school that has a coordinator"
    );
    let existing = admin
        .post_json(
            &format!("/api/schools/{}/staff", world.a.id),
            &coordinator("shadow.a", "coordinator"),
        )
        .await;
    assert_eq!(existing.status, StatusCode::FORBIDDEN);
}

on_both_backends!(
    the_administrator_adds_only_a_schools_first_coordinator,
    a_coordinator_adds_a_student_who_signs_in_as_themselves,
    weak_empty_and_duplicate_credentials_are_refused_by_field,
    a_coordinator_adds_staff_of_each_role,
    a_teacher_resets_a_students_password_and_signs_them_out,
    staff_passwords_cannot_be_reset_as_if_they_were_students,
);
