//! The mentoring record on an iPad: the mentee's check-in, the action plan
//! set by both of the pair, the mentor's note, and the coordinator's exit.

use super::support::*;

/// Taps answer `n` for every question on the check-in except `skip`.
async fn answer_all(browser: &Client, n: u8, skip: Option<&str>) {
    let fieldsets = browser
        .find_all(Locator::Css("fieldset.scale"))
        .await
        .unwrap();
    for set in fieldsets {
        let id = set.attr("id").await.unwrap().unwrap_or_default();
        if skip.is_some_and(|s| id == format!("q-{s}")) {
            continue;
        }
        let dot = set
            .find(Locator::XPath(&format!(".//label[span[. = '{n}']]")))
            .await
            .unwrap();
        dot.click().await.unwrap();
    }
}

#[tokio::test]
async fn a_mentee_checks_in_the_pair_set_targets_the_mentor_writes_up_and_the_coordinator_ends_it()
{
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    let referral = app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let held = app.past_session(&world, 7, true, true).await;
    let browser = open_browser(&driver, &chromium).await;
    let password = mentorbridge_tests::PASSWORD;
    let in_a_month = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();

    // The mentee finds the check-in on their home page and does it alone.
    sign_in(&browser, &app, "mentee.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    save_screenshot(&browser, "record-mentee-home").await;
    click(&browser, Locator::Id("check-in-link")).await;
    wait_for_text(&browser, "#check-in-heading", "How are things going").await;
    save_screenshot(&browser, "record-check-in").await;
    // One question left out: the page says which, and keeps the others.
    answer_all(&browser, 4, Some("homework")).await;
    click(&browser, Locator::Id("check-in-save")).await;
    let error = wait_for_text(&browser, "#check-in-error", "Doing homework").await;
    assert!(error.contains("no score yet"), "{error}");
    let kept = eval(
        &browser,
        "return document.querySelectorAll('fieldset.scale input:checked').length",
    )
    .await;
    assert_eq!(kept, 9, "the answers given are kept");
    let missing = eval(
        &browser,
        "return document.querySelector('#q-homework').classList.contains('missing')",
    )
    .await;
    assert_eq!(missing, true);
    save_screenshot(&browser, "record-check-in-missing").await;
    browser
        .find(Locator::XPath(
            "//fieldset[@id='q-homework']//label[span[. = '6']]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&browser, Locator::Id("check-in-save")).await;
    wait_for_text(&browser, "#notice", "Your answers are saved").await;
    let table = text_of(&browser, "#score-table").await;
    assert!(
        table.contains("Doing homework") && table.contains('6'),
        "{table}"
    );

    // The mentee sets a target; a missing measure is named, the rest kept.
    fill(
        &browser.find(Locator::Id("target-form")).await.unwrap(),
        "#target-what",
        "Ask one question in every maths lesson",
    )
    .await;
    set_date(&browser, "#target-by", &in_a_month).await;
    click(&browser, Locator::Id("target-save")).await;
    let error = wait_for_text(&browser, "#target-error", "How you will know").await;
    assert!(error.contains("is empty"), "{error}");
    let what = eval(
        &browser,
        "return document.querySelector('#target-what').value",
    )
    .await;
    assert_eq!(what, "Ask one question in every maths lesson");
    fill(
        &browser.find(Locator::Id("target-form")).await.unwrap(),
        "#target-measure",
        "A tally in my planner",
    )
    .await;
    click(&browser, Locator::Id("target-save")).await;
    wait_for_text(&browser, "#notice", "Target added").await;
    let plan = text_of(&browser, "#plan").await;
    assert!(
        plan.contains("Ask one question") && plan.contains("Waiting for the mentor to agree"),
        "{plan}"
    );
    save_screenshot(&browser, "record-mentee").await;
    sign_out(&browser).await;

    // The mentor agrees it, adds one of their own, and writes up the session.
    sign_in(&browser, &app, "mentor.a", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    let due = text_of(&browser, "#note-due-link").await;
    assert!(due.starts_with("Write your note on"), "{due}");
    click(&browser, Locator::Id("record-link")).await;
    wait_for_text(&browser, "#record-heading", "mentoring").await;
    let page = text_of(&browser, "main").await;
    assert!(
        !page.contains("Struggling since the start of term"),
        "the referral's reasons stay at the mentee's school"
    );
    assert!(
        browser.find(Locator::Id("score-table")).await.is_err(),
        "the mentor does not see the scores"
    );
    click(&browser, Locator::Css("[id^=agree-]")).await;
    wait_for_text(&browser, "#notice", "Target agreed").await;
    click(&browser, Locator::Id("add-target-open")).await;
    let form = browser.find(Locator::Id("target-form")).await.unwrap();
    fill(&form, "#target-what", "Hand in every homework on time").await;
    fill(&form, "#target-measure", "Planner signed each Friday").await;
    set_date(&browser, "#target-by", &in_a_month).await;
    click(&browser, Locator::Id("target-save")).await;
    wait_for_text(&browser, "#notice", "Target added").await;
    let id = held.id;
    click(&browser, Locator::Id(&format!("note-open-{id}"))).await;
    let card = browser
        .find(Locator::Id(&format!("session-{id}")))
        .await
        .unwrap();
    fill(
        &card,
        &format!("#note-body-{id}"),
        "Went through fractions homework together",
    )
    .await;
    fill(&card, &format!("#note-next-{id}"), "Practise times tables").await;
    click(&browser, Locator::Id(&format!("note-save-{id}"))).await;
    wait_for_text(&browser, "#notice", "Session note saved").await;
    let timeline = text_of(&browser, "#timeline").await;
    assert!(
        timeline.contains("Went through fractions homework together")
            && timeline.contains("Next time: Practise times tables"),
        "{timeline}"
    );
    save_screenshot(&browser, "record-mentor").await;
    sign_out(&browser).await;

    // The coordinator sees it all and records the exit, told first what it cancels.
    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
        .goto(&format!("{}/records", app.base))
        .await
        .unwrap();
    click(
        &browser,
        Locator::LinkText("mentee.b-given mentee.b-family"),
    )
    .await;
    wait_for_text(&browser, "#record-heading", "mentee.b-given").await;
    let page = text_of(&browser, "main").await;
    for seen in [
        "Ask one question in every maths lesson",
        "Hand in every homework on time",
        "Went through fractions homework together",
        "Struggling since the start of term",
        "Doing homework",
    ] {
        assert!(page.contains(seen), "{seen} in {page}");
    }
    let ahead = app
        .store
        .sessions_of_match(held.match_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.status.is_live() && s.starts_at > chrono::Utc::now())
        .count();
    click(&browser, Locator::Id("exit-open")).await;
    let warning = text_of(&browser, "#exit-warning").await;
    assert!(
        warning.contains(&format!("cancels {ahead} sessions still to come")),
        "{warning}"
    );
    save_screenshot(&browser, "record-exit-confirm").await;
    // Without a reason nothing happens but a message.
    click(&browser, Locator::Id("exit-confirm")).await;
    let error = wait_for_text(&browser, "#exit-error", "Why it ends").await;
    assert!(error.contains("choose why"), "{error}");
    browser
        .find(Locator::Css("#exit-reason option[value=targets_met]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&browser, Locator::Id("exit-confirm")).await;
    wait_for_text(&browser, "#notice", "Exit recorded").await;
    let summary = text_of(&browser, "#exit-summary").await;
    assert!(
        summary.contains("Targets met") && summary.contains(&format!("{ahead} later sessions")),
        "{summary}"
    );
    save_screenshot(&browser, "record-coordinator").await;
    let now = app.store.referral(referral).await.unwrap();
    assert_eq!(now.status.as_str(), "closed");
    assert_eq!(
        app.store
            .sessions_of_match(held.match_id)
            .await
            .unwrap()
            .iter()
            .filter(|s| s.status.is_live())
            .count(),
        0
    );
    sign_out(&browser).await;

    // The mentee's last check-in opens after the exit.
    sign_in(&browser, &app, "mentee.b", password).await;
    let link = text_of(&browser, "#check-in-link").await;
    assert_eq!(link, "Do your last check-in");
    click(&browser, Locator::Id("check-in-link")).await;
    wait_for_text(&browser, "#check-in-heading", "Your last check-in").await;
    answer_all(&browser, 8, None).await;
    click(&browser, Locator::Id("check-in-save")).await;
    wait_for_text(&browser, "#notice", "Your answers are saved").await;
    let table = text_of(&browser, "#score-table").await;
    assert!(table.contains("+4"), "{table}");
    // The chart sets the start against the end, one pair of bars each.
    let bars = eval(
        &browser,
        "return document.querySelectorAll('#score-chart svg rect').length",
    )
    .await;
    assert!(bars.as_u64().unwrap() >= 20, "{bars}");
    save_screenshot(&browser, "record-mentee-end").await;
    sign_out(&browser).await;

    // The school's report counts the programme: referred, matched, the one
    // session delivered, the change from 4 to 8, and the two targets.
    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    click(&browser, Locator::Id("nav-reports")).await;
    let headline = wait_for_text(&browser, "#report-headline", "referred").await;
    assert!(
        headline.contains("1 mentee referred, 1 matched"),
        "{headline}"
    );
    assert_eq!(text_of(&browser, "#figure-delivered").await, "1");
    let change = text_of(&browser, "#table-identifiers").await;
    for seen in ["Average change", "Doing homework", "4.00", "8.00", "+4.00"] {
        assert!(change.contains(seen), "{seen} in {change}");
    }
    let page = text_of(&browser, "main").await;
    assert!(
        page.contains("0 met, 0 partly met, 0 dropped, 2 still open"),
        "{page}"
    );
    assert!(
        !page.contains("mentee.b-given"),
        "a report names no pupil: {page}"
    );
    let charts = eval(
        &browser,
        "return document.querySelectorAll('figure.chart svg').length",
    )
    .await;
    assert!(charts.as_u64().unwrap() >= 3, "{charts}");
    save_screenshot(&browser, "record-report").await;
    eval(
        &browser,
        "document.getElementById('table-identifiers').scrollIntoView(); return true",
    )
    .await;
    save_screenshot(&browser, "record-report-change").await;
}
