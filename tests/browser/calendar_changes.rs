//! A coordinator uploads term dates that drop a term: the page lists the
//! sessions it would cancel and asks first; once confirmed they are
//! cancelled, and after the corrected dates the pair is booked again.

use chrono::{Duration as Days, NaiveDate, Utc};
use mentorbridge::booking::Session;

use super::support::*;

/// mentee.b's sessions from now on, earliest first.
async fn series_ahead(app: &TestApp, world: &mentorbridge_tests::World) -> Vec<Session> {
    app.store
        .sessions_of_student(world.mentee_b.id, Utc::now(), Utc::now() + Days::days(400))
        .await
        .unwrap()
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn term_dates_that_drop_a_term_are_confirmed_first_and_the_pair_booked_again_when_corrected()
{
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let before = series_ahead(&app, &world).await;
    assert_eq!(before.len(), 12);

    // School B's file for the year, with its spring term missing: the
    // weeks from the sixth session to the end of the series. The corrected
    // file has it.
    let spring_start = before[5].local["school-b"].date;
    let spring_end = before[11].local["school-b"].date + Days::days(7);
    let autumn_end = spring_start - Days::days(1);
    let summer_start = spring_end + Days::days(14);
    let year = |spring: bool| {
        let mut text = format!(
            "start_date,end_date,kind,label\n2026-01-05,{autumn_end},term,Autumn term\n{summer_start},2030-07-19,term,Summer term\n"
        );
        if spring {
            text.push_str(&format!("{spring_start},{spring_end},term,Spring term\n"));
        }
        text
    };
    let files = tempfile::tempdir().unwrap();
    let missing = write_file(&files, "terms-2026-27.csv", &year(false));
    let corrected = write_file(&files, "terms-2026-27-corrected.csv", &year(true));
    let dropped: Vec<&Session> = before
        .iter()
        .filter(|s| s.local["school-b"].date >= spring_start)
        .collect();
    assert_eq!(dropped.len(), 7);

    let browser = open_browser(&driver, &chromium).await;
    sign_in(&browser, &app, "coord.b", mentorbridge_tests::PASSWORD).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
        .goto(&format!("{}/school/calendar", app.base))
        .await
        .unwrap();
    browser
        .find(Locator::Id("terms-file"))
        .await
        .unwrap()
        .send_keys(&missing)
        .await
        .unwrap();
    click(&browser, Locator::Id("upload-terms")).await;
    let heading = wait_for_text(&browser, "h1", "cancels sessions").await;
    assert!(heading.contains("terms-2026-27.csv"), "{heading}");
    let summary = text_of(&browser, "#summary").await;
    assert_eq!(summary, "This cancels 7 sessions of 1 pair");
    let rows = browser
        .find_all(Locator::Css("#cancels tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), dropped.len());
    let first = rows[0].text().await.unwrap();
    let day = dropped[0].local["school-b"].date;
    assert!(
        first.contains(&day.format("%a %-d %b %Y").to_string())
            && first.contains("08:40–09:00")
            && first.contains("mentee.b-given with mentor.a-given")
            && first.contains("School B is not in term on"),
        "{first}"
    );
    save_screenshot(&browser, "calendar-confirm-cancels").await;
    // Nothing has changed until it is confirmed.
    assert!(
        series_ahead(&app, &world)
            .await
            .iter()
            .all(|s| s.status.is_live())
    );

    click(&browser, Locator::Id("confirm-change")).await;
    wait_for_text(&browser, ".notice", "Calendar changed").await;
    let after = series_ahead(&app, &world).await;
    let cancelled: Vec<_> = after.iter().filter(|s| !s.status.is_live()).collect();
    assert_eq!(
        cancelled.iter().map(|s| s.id).collect::<Vec<_>>(),
        dropped.iter().map(|s| s.id).collect::<Vec<_>>(),
        "exactly the sessions listed"
    );
    let terms = text_of(&browser, "#terms").await;
    assert!(!terms.contains("Spring term"), "{terms}");

    // The corrected dates cancel nothing, so go in at once.
    upload(
        &browser,
        "terms-file",
        "upload-terms",
        &corrected,
        "Term dates imported",
    )
    .await;

    // The pair is short of its plan: book them again.
    browser
        .goto(&format!("{}/sessions", app.base))
        .await
        .unwrap();
    let waiting = text_of(&browser, "[data-testid=unbooked]").await;
    assert!(
        waiting.contains("mentee.b-given with mentor.a-given"),
        "{waiting}"
    );
    save_screenshot(&browser, "sessions-book-again").await;
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    click(&browser, Locator::Id(&format!("book-again-{}", record.id))).await;
    wait_for_text(&browser, ".notice", "Booked again").await;
    assert!(
        browser
            .find(Locator::Css("[data-testid=unbooked]"))
            .await
            .is_err(),
        "nobody is left to book again"
    );
    let live: Vec<_> = series_ahead(&app, &world)
        .await
        .into_iter()
        .filter(|s| s.status.is_live())
        .collect();
    assert_eq!(live.len(), 12, "the whole plan is booked again");
    // The first dropped session is back at its time, and the page says so.
    let back: NaiveDate = dropped[0].local["school-b"].date;
    browser
        .goto(&format!("{}/sessions?day={back}", app.base))
        .await
        .unwrap();
    let list = text_of(&browser, "section[aria-labelledby=list]").await;
    assert!(
        list.contains("booked") && list.contains("mentee.b-given"),
        "{list}"
    );
    save_screenshot(&browser, "sessions-booked-again").await;
}
