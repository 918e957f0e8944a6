//! The Sessions page: moving and cancelling.

use super::support::*;

#[tokio::test]
async fn a_coordinator_sees_the_sessions_moves_one_and_cancels_one() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let browser = open_browser(&driver, &chromium).await;
    let password = mentorbridge_tests::PASSWORD;

    // The mentee sees their own sessions, with their mentor's first name.
    sign_in(&browser, &app, "mentee.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    click(&browser, Locator::LinkText("Sessions")).await;
    let mine = wait_for_text(&browser, "h1", "My sessions").await;
    assert_eq!(mine, "My sessions");
    let list = text_of(&browser, "section[aria-labelledby=list]").await;
    assert!(list.contains("with mentor.a-given (School A)"), "{list}");
    assert!(
        !list.contains("Move or cancel"),
        "students cannot change sessions"
    );
    // A link for each device, named; revoking one leaves the other.
    let name_field = browser.find(Locator::Id("feed-name")).await.unwrap();
    name_field.send_keys("iPad").await.unwrap();
    click(&browser, Locator::Id("make-feed")).await;
    let url = text_of(&browser, "#feed-url").await;
    assert!(url.contains("/calendar/") && url.ends_with(".ics"), "{url}");
    let ipad_feed = url[url.find("/calendar/").unwrap()..].to_owned();
    let name_field = browser.find(Locator::Id("feed-name")).await.unwrap();
    name_field.send_keys("Phone").await.unwrap();
    click(&browser, Locator::Id("make-feed")).await;
    // The list is on the page before the form's answer replaces it: wait
    // for the new link rather than read the old list as it goes stale.
    let links = wait_for_text(&browser, "#my-links", "Phone").await;
    assert!(links.contains("iPad") && links.contains("Phone"), "{links}");
    save_screenshot(&browser, "sessions-mentee").await;
    click(
        &browser,
        Locator::XPath("//ul[@id='my-links']/li[strong[. = 'iPad']]//summary"),
    )
    .await;
    let asks = text_of(&browser, "#my-links").await;
    assert!(asks.contains("stops showing your sessions"), "{asks}");
    click(
        &browser,
        Locator::XPath("//ul[@id='my-links']/li[strong[. = 'iPad']]//button"),
    )
    .await;
    wait_for_text(&browser, ".notice", "Link revoked").await;
    let links = text_of(&browser, "#my-links").await;
    assert!(
        !links.contains("iPad") && links.contains("Phone"),
        "{links}"
    );
    assert_eq!(
        app.client().get(&ipad_feed).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
    sign_out(&browser).await;

    // A coordinator moves the first session and cancels the next.
    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
        .goto(&format!("{}/sessions", app.base))
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "Sessions at your school").await;
    assert_eq!(browser.title().await.unwrap(), "Sessions · mentorbridge");
    // The coordinator sees the school's invites once, below the list.
    let counts = browser
        .find_all(Locator::Id("invite-counts"))
        .await
        .unwrap();
    assert_eq!(counts.len(), 1);
    let counts = counts[0].text().await.unwrap();
    assert!(counts.contains("waiting"), "{counts}");
    // A coordinator may ask for one digest a day instead of invites.
    click(&browser, Locator::Css("#digest input[name=daily]")).await;
    click(&browser, Locator::Css("#digest button")).await;
    wait_for_text(&browser, ".notice", "A digest comes once a day").await;
    assert!(app.store.wants_digest(world.coord_b.id).await.unwrap());
    save_screenshot(&browser, "sessions-coordinator").await;
    let first = "(//article[@data-testid='session'])[1]";
    let sports_day = "input[name=reason][placeholder='Sports day']";
    act_on_session(&browser, first, sports_day, "Sports day", "Move").await;
    wait_for_text(&browser, ".notice", "Session moved").await;

    let booked = "(//article[@data-testid='session'][.//span[. = 'booked']])[1]";
    let reason = "input[name=reason][required]";
    // Cancelling asks once, naming the day and what goes with it.
    click(&browser, Locator::XPath(&format!("{booked}//summary"))).await;
    click(
        &browser,
        Locator::XPath(&format!("{booked}//summary[. = 'Cancel…']")),
    )
    .await;
    let card = browser.find(Locator::XPath(booked)).await.unwrap();
    fill(&card, reason, "Mock exams in the hall").await;
    click(
        &browser,
        Locator::XPath(&format!(
            "{booked}//button[starts-with(., 'Cancel ') and contains(., ' only')]"
        )),
    )
    .await;
    wait_for_text(&browser, ".notice", "Session cancelled").await;
    let list = text_of(&browser, "section[aria-labelledby=list]").await;
    assert!(
        list.contains("moved") && list.contains("Sports day"),
        "{list}"
    );
    assert!(
        list.contains("cancelled") && list.contains("Mock exams in the hall"),
        "{list}"
    );
    save_screenshot(&browser, "sessions-changed").await;

    // The database agrees: one moved, one cancelled, both with SEQUENCE 1.
    let sessions = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            chrono::Utc::now(),
            chrono::Utc::now() + chrono::Duration::days(400),
        )
        .await
        .unwrap();
    let changed: Vec<_> = sessions
        .iter()
        .filter(|s| s.sequence == 1)
        .map(|s| s.status.as_str())
        .collect();
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(changed.contains(&"moved") && changed.contains(&"cancelled"));
    browser.close().await.unwrap();
}
