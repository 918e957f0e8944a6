use mentorbridge_tests::{PASSWORD, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

const HEADER: &str = "student_ref,given_name,family_name,year_group,role,subjects,username\n";

async fn reimporting_a_roster_updates_students_and_never_duplicates_them(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/roster?file=roster.csv", world.a.id);
    let first = format!(
        "{HEADER}R-1,Aoife,Murphy,8,mentee,Maths,\nR-2,Siobhán,Ó Briain,Y8,mentee,English;History,\nR-3,Dev,Sharma,12,mentor,Physics,dev.s\n"
    );
    let reply = coord.put_raw(&path, "text/csv", &first).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({"created": 3, "updated": 0}));

    let second = format!(
        "{HEADER}R-1,Aoife,Murphy,9,mentee,\"Maths, Science\",\nR-3,Dev,Sharma,12,mentor,Physics,dev.s\n"
    );
    let reply = coord.put_raw(&path, "text/csv", &second).await;
    assert_eq!(reply.json(), json!({"created": 0, "updated": 2}));

    let students = coord
        .get(&format!("/api/schools/{}/students", world.a.id))
        .await
        .json();
    let rostered: Vec<&serde_json::Value> = students
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["student_ref"].is_string())
        .collect();
    assert_eq!(rostered.len(), 3, "{students}");
    let aoife = rostered.iter().find(|s| s["student_ref"] == "R-1").unwrap();
    assert_eq!(
        (aoife["year_group"].as_i64(), &aoife["subjects"]),
        (Some(9), &json!(["Maths", "Science"]))
    );
    assert_eq!(aoife["username"], "aoife.murphy");
    assert_eq!(aoife["has_password"], false);
    let siobhan = rostered.iter().find(|s| s["student_ref"] == "R-2").unwrap();
    assert_eq!(siobhan["username"], "siobhan.obriain");
}

async fn a_rostered_student_signs_in_once_a_teacher_sets_a_password(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let csv = format!("{HEADER}R-1,Aoife,Murphy,8,mentee,Maths,\n");
    coord
        .put_raw(
            &format!("/api/schools/{}/roster", world.a.id),
            "text/csv",
            &csv,
        )
        .await;
    let mut aoife = app.client();
    assert_eq!(
        aoife.sign_in("aoife.murphy", "!").await.status,
        StatusCode::UNAUTHORIZED
    );
    let id = app
        .store
        .user_for_sign_in("aoife.murphy")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
    let teacher = app.signed_in("teacher.a").await;
    let reset = teacher
        .post_json(
            &format!("/api/students/{id}/password"),
            &json!({"password": "maple-river-lantern"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    assert_eq!(
        aoife
            .sign_in("aoife.murphy", "maple-river-lantern")
            .await
            .status,
        StatusCode::OK
    );
}

async fn a_bad_roster_names_its_line_and_imports_nothing(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/roster?file=roster.csv", world.a.id);
    let bad = format!(
        "{HEADER}R-1,Aoife,Murphy,8,mentee,Maths,\nR-2,Cian,ONeill,Year 14,mentee,English,\n"
    );
    let reply = coord.put_raw(&path, "text/csv", &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &reply.json()["error"];
    assert_eq!(
        (error["line"].as_u64(), error["field"].as_str()),
        (Some(3), Some("year_group"))
    );
    // A username clash is found only when storing: still all or nothing.
    let clash = format!(
        "{HEADER}R-1,Aoife,Murphy,8,mentee,Maths,\nR-2,Cian,ONeill,8,mentee,English,coord.b\n"
    );
    let reply = coord.put_raw(&path, "text/csv", &clash).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.json()["error"]["line"], 3);
    let students = coord
        .get(&format!("/api/schools/{}/students", world.a.id))
        .await
        .json();
    assert!(
        students
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["student_ref"].is_null()),
        "{students}"
    );
}

async fn a_oneroster_export_is_imported_through_the_page(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.b").await;
    let files = [
        (
            "manifest.csv",
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n",
        ),
        (
            "orgs.csv",
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\norg-1,,,School B,school,SB,\n",
        ),
        (
            "users.csv",
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\nu-1,,,true,org-1,student,,,Niamh,Doherty,,,niamh@example.org,,,,08,\n",
        ),
        (
            "classes.csv",
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\nc-1,,,8E English,08,,,scheduled,,org-1,,English,,\n",
        ),
        (
            "enrollments.csv",
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\ne-1,,,c-1,org-1,u-1,student,,,\n",
        ),
    ];
    let reply = coord
        .post_files(
            "/school/students/roster",
            "files",
            &files,
            &[("kind", "mentee")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let page = coord.get(reply.location().unwrap()).await;
    assert!(
        page.text.contains("Roster imported: 1 new, 0 updated"),
        "{}",
        page.text
    );
    assert!(page.text.contains("niamh.doherty") && page.text.contains("no password yet"));
    assert!(!page.text.contains("example.org"));
    let _ = world;
}

/// The (username, password) pairs printed on a page of sign-in cards.
fn printed_cards(page: &str) -> Vec<(String, String)> {
    fn codes<'a>(page: &'a str, class: &str) -> Vec<&'a str> {
        let open = format!("<code class=\"{class}\">");
        page.split(&open)
            .skip(1)
            .map(|rest| rest.split("</code>").next().unwrap_or_default())
            .collect()
    }
    let usernames = codes(page, "username");
    let passwords = codes(page, "password");
    assert_eq!(usernames.len(), passwords.len(), "{page}");
    usernames
        .into_iter()
        .zip(passwords)
        .map(|(u, p)| (u.to_owned(), p.to_owned()))
        .collect()
}

async fn a_class_of_rostered_students_gets_sign_in_cards_that_sign_them_in(app: TestApp) {
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let csv = format!(
        "{HEADER}R-1,Aoife,Murphy,8,mentee,Maths,\nR-2,Siobhán,Ó Briain,8,mentee,English,\nR-3,Dev,Sharma,12,mentor,Physics,dev.s\n"
    );
    let reply = coord
        .put_raw(
            &format!("/api/schools/{}/roster", world.a.id),
            "text/csv",
            &csv,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // A tutor prints cards for Year 8: only Year 8 gets them.
    let teacher = app.signed_in("teacher.a").await;
    let year_8 = [("year_group", "8"), ("kind", "")];
    let page = teacher.post_form("/school/students/cards", &year_8).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "a page of passwords must not stay in a shared iPad's history"
    );
    let cards = printed_cards(&page.text);
    let mut usernames: Vec<&str> = cards.iter().map(|(u, _)| u.as_str()).collect();
    usernames.sort_unstable();
    assert_eq!(usernames, ["aoife.murphy", "siobhan.obriain"]);
    assert_ne!(cards[0].1, cards[1].1, "each card has its own password");
    for (username, password) in &cards {
        let mut student = app.client();
        assert_eq!(
            student.sign_in(username, password).await.status,
            StatusCode::OK,
            "{username} signs in with the card's password"
        );
    }

    // Asked again, nobody's card is silently replaced: every Year 8
    // already has a password, and the page says how to replace them.
    let again = teacher.post_form("/school/students/cards", &year_8).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.text.contains("already has a password"),
        "{}",
        again.text
    );
    let mut aoife = app.client();
    let aoife_password = &cards.iter().find(|(u, _)| u == "aoife.murphy").unwrap().1;
    assert_eq!(
        aoife.sign_in("aoife.murphy", aoife_password).await.status,
        StatusCode::OK
    );

    // Replacing on purpose: the Year 12 mentors' old passwords stop working.
    let page = teacher
        .post_form(
            "/school/students/cards",
            &[
                ("year_group", "12"),
                ("kind", "mentor"),
                ("replace_existing", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let cards = printed_cards(&page.text);
    let mut usernames: Vec<&str> = cards.iter().map(|(u, _)| u.as_str()).collect();
    usernames.sort_unstable();
    assert_eq!(usernames, ["dev.s", "mentor.a"]);
    let mut mentor = app.client();
    assert_eq!(
        mentor.sign_in("mentor.a", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let new = &cards.iter().find(|(u, _)| u == "mentor.a").unwrap().1;
    assert_eq!(mentor.sign_in("mentor.a", new).await.status, StatusCode::OK);

    // A coordinator at the partner school prints only their own pupils.
    let other = app.signed_in("coord.b").await;
    let page = other
        .post_form(
            "/school/students/cards",
            &[("year_group", ""), ("kind", ""), ("replace_existing", "on")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        printed_cards(&page.text).iter().all(|(u, _)| ![
            "aoife.murphy",
            "siobhan.obriain",
            "dev.s",
            "mentor.a"
        ]
        .contains(&u.as_str())),
        "{}",
        page.text
    );
}

on_both_backends!(
    a_class_of_rostered_students_gets_sign_in_cards_that_sign_them_in,
    reimporting_a_roster_updates_students_and_never_duplicates_them,
    a_rostered_student_signs_in_once_a_teacher_sets_a_password,
    a_bad_roster_names_its_line_and_imports_nothing,
    a_oneroster_export_is_imported_through_the_page,
);
