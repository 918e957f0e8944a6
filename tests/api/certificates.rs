//! Mentors' volunteering certificates: the figures come from attendance
//! (only completed sessions count), the PDF is read back by poppler, an
//! independent reader, and the public check answers for a real code and
//! for nothing else.

use std::process::Command;

use mentorbridge_tests::{Client, TestApp, World, on_both_backends, skip};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The world's pair with three past sessions a week apart: the first two
/// delivered (both came), the last missed (the mentee did not).
async fn two_delivered_and_one_missed(
    app: &TestApp,
    world: &World,
) -> Vec<mentorbridge::booking::Session> {
    app.ready_to_match(world).await;
    app.approve_as_both(world).await;
    let sessions = app
        .past_sessions(world, &[(28, true), (21, true), (14, false)])
        .await;
    use mentorbridge::booking::SessionStatus::{Completed, Missed};
    assert_eq!(
        sessions.iter().map(|s| s.status).collect::<Vec<_>>(),
        vec![Completed, Completed, Missed]
    );
    sessions
}

/// A session's date at school A, as a certificate prints it.
fn printed_date(session: &mentorbridge::booking::Session) -> String {
    session.local["school-a"]
        .date
        .format("%-d %B %Y")
        .to_string()
}

/// The PDF's bytes, downloaded as `client`.
async fn download(
    app: &TestApp,
    client: &Client,
    code: &str,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let resp = client
        .http
        .get(format!("{}/certificates/{code}/pdf", app.base))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let kind = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, kind, resp.bytes().await.unwrap().to_vec())
}

/// Runs a poppler tool with `args` and returns what it printed, or `None`
/// (having said SKIPPED) when poppler-utils is not installed.
fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
    let out = match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip(
                &format!("{tool} (poppler-utils) is not installed"),
                "PATH to include poppler-utils",
            );
            return None;
        }
        Err(e) => panic!("{tool}: {e}"),
    };
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn a_certificate_counts_only_delivered_sessions_and_poppler_reads_its_hours_and_dates(
    app: TestApp,
) {
    let world = app.world().await;
    let sessions = two_delivered_and_one_missed(&app, &world).await;
    let coordinator = app.signed_in("coord.a").await;
    let mentor = world.mentor_a.id;
    let reply = coordinator
        .post_json(&format!("/api/mentors/{mentor}/certificates"), &json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let issued = reply.json();
    let printed = &issued["printed"];
    assert_eq!(printed["sessions"], 2, "the missed session is not counted");
    assert_eq!(printed["minutes"], 40, "two sessions of twenty minutes");
    assert_eq!(printed["mentees"], 1);
    assert_eq!(printed["mentor"], "mentor.a-given mentor.a-family");
    assert_eq!(printed["school"], "School A");
    assert_eq!(printed["partner_schools"], json!(["School B"]));
    assert_eq!(printed["supported"], json!(["Maths"]));
    assert_eq!(printed["frequency"], "weekly, 20 minutes, in registration");
    assert_eq!(
        printed["first_date"],
        sessions[0].local["school-a"].date.to_string()
    );
    assert_eq!(
        printed["last_date"],
        sessions[1].local["school-a"].date.to_string()
    );
    assert_eq!(printed["signer"]["email"], "coord.a@school-a.example");
    assert_eq!(printed["signer"]["role"], "Coordinator");
    assert!(
        !reply.text.contains("mentee.b"),
        "no mentee's name: {}",
        reply.text
    );
    let code = issued["code"].as_str().unwrap().to_owned();

    // The mentor downloads it; poppler reads it back.
    let mentor_client = app.signed_in("mentor.a").await;
    let (status, kind, pdf) = download(&app, &mentor_client, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let path = file.as_os_str();
    if let Some(text) = poppler("pdftotext", &["-layout".as_ref(), path, "-".as_ref()]) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [
            "Certificate of volunteering".to_owned(),
            "mentor.a-given mentor.a-family".to_owned(),
            "of School A".to_owned(),
            "Partner school School B".to_owned(),
            format!(
                "Dates {} to {}",
                printed_date(&sessions[0]),
                printed_date(&sessions[1])
            ),
            "Sessions delivered 2".to_owned(),
            "Hours delivered 40 minutes".to_owned(),
            "Frequency weekly, 20 minutes, in registration".to_owned(),
            "Supported Maths (1 younger student)".to_owned(),
            "coord.a-given coord.a-family".to_owned(),
            "coord.a@school-a.example".to_owned(),
            format!("Verification code {code}"),
            format!("{}/certificates/{code}", app.base),
        ] {
            assert!(flat.contains(&expected), "`{expected}` not in:\n{text}");
        }
        assert!(!flat.contains("mentee.b"), "no mentee's name:\n{text}");
    }
    if let Some(info) = poppler("pdfinfo", &[path]) {
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .map(str::to_owned)
        };
        assert_eq!(field("Pages:").as_deref(), Some("1"), "{info}");
        assert_eq!(field("Page size:").as_deref(), Some("595 x 842 pts (A4)"));
        assert!(
            info.contains("Certificate of volunteering: mentor.a-given mentor.a-family"),
            "{info}"
        );
    }
    if let Some(fonts) = poppler("pdffonts", &[path]) {
        // name type encoding emb sub uni object ID: every font embedded.
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(rows.len() >= 2, "{fonts}");
        for row in &rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert!(row.contains("DejaVuSans"), "{fonts}");
            assert_eq!(cols[cols.len() - 5], "yes", "not embedded: {row}");
        }
        assert!(
            rows.iter().any(|r| r.contains("DejaVuSans-Bold")),
            "{fonts}"
        );
    }

    // The public check, signed out: what the certificate says, no more.
    let anyone = app.client();
    let page = anyone.get(&format!("/certificates/{code}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for expected in [
        "Genuine certificate",
        "mentor.a-given mentor.a-family",
        "40 minutes",
        "School B",
        &code,
    ] {
        assert!(page.text.contains(expected), "`{expected}` not on the page");
    }
    assert!(!page.text.contains("mentee.b"));
    // As typed from paper: any case, spaces for dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let typed = anyone
        .get(&format!("/certificates/{}", typed.replace(' ', "%20")))
        .await;
    assert_eq!(typed.status, StatusCode::OK);
    let json = anyone
        .get(&format!("/api/certificates/{code}"))
        .await
        .json();
    assert_eq!(json["genuine"], true);
    assert_eq!(json["printed"]["minutes"], 40);
    // A wrong code, and one that cannot be a code, are not found.
    let mut wrong = code.clone().into_bytes();
    wrong[0] = if wrong[0] == b'Z' { b'Y' } else { b'Z' };
    let wrong = String::from_utf8(wrong).unwrap();
    for bad in [wrong.as_str(), "nothing-here"] {
        let page = anyone.get(&format!("/certificates/{bad}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(page.text.contains("No certificate has this code"));
        assert!(!page.text.contains("mentor.a"));
        let api = anyone.get(&format!("/api/certificates/{bad}")).await;
        assert_eq!(api.status, StatusCode::NOT_FOUND, "{bad}");
    }

    // Another session is delivered later: the old certificate still says
    // what it printed; a new one counts it, with a new code.
    app.past_sessions(&world, &[(7, true)]).await;
    let old = anyone
        .get(&format!("/api/certificates/{code}"))
        .await
        .json();
    assert_eq!(old["printed"]["minutes"], 40);
    let again = coordinator
        .post_json(&format!("/api/mentors/{mentor}/certificates"), &json!({}))
        .await
        .json();
    assert_eq!(again["printed"]["sessions"], 3);
    assert_eq!(again["printed"]["minutes"], 60);
    assert_ne!(again["code"], issued["code"]);
    let listed = mentor_client
        .get(&format!("/api/mentors/{mentor}/certificates"))
        .await
        .json();
    let codes: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["code"])
        .collect();
    assert_eq!(codes, vec![&again["code"], &issued["code"]], "newest first");

    // Nobody else downloads it: not the mentee, not the partner school.
    for who in ["mentee.b", "coord.b", "teacher.a"] {
        let (status, _, _) = download(&app, &app.signed_in(who).await, &code).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
    let (status, _, _) = download(&app, &anyone, &code).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out: sent to sign in");
}

async fn a_mentor_with_no_delivered_sessions_is_told_why_and_nothing_is_issued(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    // Booked and even attended by one of the two: still nothing delivered.
    app.past_sessions(&world, &[(14, false)]).await;
    let mentor = world.mentor_a.id;
    let coordinator = app.signed_in("coord.a").await;
    let reply = coordinator
        .post_json(&format!("/api/mentors/{mentor}/certificates"), &json!({}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.error_field().as_deref(), Some("mentor"));
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("mentor.a-given mentor.a-family (mentor.a) has no delivered sessions"),
        "{message}"
    );
    assert!(message.contains("both students present"), "{message}");
    // The Mentors page's button says the same, on the page.
    let page = coordinator
        .post_form(&format!("/school/mentors/{mentor}/certificate"), &[])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text.contains("has no delivered sessions"),
        "{}",
        page.text
    );
    assert!(app.store.certificates_of(mentor).await.unwrap().is_empty());

    // A mentee is no mentor; a coordinator with no address cannot sign.
    let mentee = app.add_student(&world.a, "mentee.a", "mentee", 8).await;
    let reply = coordinator
        .post_json(
            &format!("/api/mentors/{}/certificates", mentee.id),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("mentor"));
    assert!(reply.text.contains("is not a mentor"), "{}", reply.text);
    app.past_sessions(&world, &[(7, true)]).await;
    app.store.set_email(world.coord_a.id, None).await.unwrap();
    let reply = coordinator
        .post_json(&format!("/api/mentors/{mentor}/certificates"), &json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("signed_by"));
    assert!(
        reply.text.contains("has no email address"),
        "{}",
        reply.text
    );
    assert!(app.store.certificates_of(mentor).await.unwrap().is_empty());
}

async fn the_mentors_page_issues_a_certificate_and_the_mentor_downloads_it_from_home(app: TestApp) {
    let world = app.world().await;
    two_delivered_and_one_missed(&app, &world).await;
    let mentor = world.mentor_a.id;
    let coordinator = app.signed_in("coord.a").await;
    let page = coordinator.get("/school/mentors").await;
    assert!(page.text.contains(&format!("id=\"certify-{mentor}\"")));
    assert!(!page.text.contains("Download PDF"));
    let done = coordinator
        .post_form(&format!("/school/mentors/{mentor}/certificate"), &[])
        .await;
    assert!(
        done.status.is_redirection(),
        "{} {}",
        done.status,
        done.text
    );
    assert_eq!(
        done.location(),
        Some(format!("/school/mentors?notice=certificate#mentor-{mentor}").as_str())
    );
    let code = app.store.certificates_of(mentor).await.unwrap()[0]
        .code
        .to_string();
    let page = coordinator.get("/school/mentors?notice=certificate").await;
    assert!(page.text.contains("Certificate issued in your name"));
    assert!(
        page.text
            .contains(&format!("href=\"/certificates/{code}/pdf\""))
    );
    assert!(page.text.contains("2 sessions, 40 minutes"));
    // Teachers see the Mentors page but issue nothing.
    let teacher = app
        .signed_in("teacher.a")
        .await
        .get("/school/mentors")
        .await;
    assert!(!teacher.text.contains("certify-"));
    let home = app.signed_in("mentor.a").await.get("/home").await;
    assert!(home.text.contains("Download your volunteering certificate"));
    assert!(
        home.text
            .contains(&format!("href=\"/certificates/{code}/pdf\""))
    );
    let other = app.signed_in("mentee.b").await.get("/home").await;
    assert!(!other.text.contains("volunteering certificate"));
}

on_both_backends!(
    a_certificate_counts_only_delivered_sessions_and_poppler_reads_its_hours_and_dates,
    a_mentor_with_no_delivered_sessions_is_told_why_and_nothing_is_issued,
    the_mentors_page_issues_a_certificate_and_the_mentor_downloads_it_from_home,
);
