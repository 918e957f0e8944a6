//! A pair's messages on the iPad: a mentee writes and the mentor reads; a
//! phone number is held, the safeguarding lead releases it redacted, and
//! the mentor sees the redacted text; a student's concern reaches the lead.

use super::support::*;

/// Signs in and waits for the home page, so that the next `goto` does not
/// overtake the sign-in.
async fn signed_in(browser: &Client, app: &TestApp, username: &str, password: &str) {
    sign_in(browser, app, username, password).await;
    wait_for_text(browser, "#home-heading", "Hello").await;
}

async fn write(browser: &Client, text: &str) {
    let form = browser.find(Locator::Id("send-form")).await.unwrap();
    fill(&form, "#message-text", text).await;
    click(browser, Locator::Id("send")).await;
}

#[tokio::test]
async fn a_pair_writes_a_held_number_is_released_redacted_and_a_worry_reaches_the_lead() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let browser = open_browser(&driver, &chromium).await;
    let password = mentorbridge_tests::PASSWORD;

    // A coordinator adds local slang to the school's own list.
    signed_in(&browser, &app, "coord.a", password).await;
    browser
        .goto(&format!("{}/school/message-rules", app.base))
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "Message rules").await;
    let form = browser.find(Locator::Css("#words form")).await.unwrap();
    fill(&form, "#new-word", "Skeng").await;
    click(&browser, Locator::Id("add-word")).await;
    wait_for_text(&browser, "#words", "skeng").await;
    save_screenshot(&browser, "message-rules").await;
    sign_out(&browser).await;

    // The mentee finds Messages on their home page and writes; a word on
    // the mentor's school's list is not sent, and what was typed stays.
    signed_in(&browser, &app, "mentee.b", password).await;
    click(&browser, Locator::Id("messages-link")).await;
    click(&browser, Locator::Css(".thread-link")).await;
    wait_for_text(
        &browser,
        "#who-can-read",
        "safeguarding leads at both schools",
    )
    .await;
    write(&browser, "he's got a sk3ng").await;
    wait_for_text(
        &browser,
        "#thread-error",
        "your school has asked us not to send",
    )
    .await;
    let kept = eval(
        &browser,
        "return document.getElementById('message-text').value;",
    )
    .await;
    assert_eq!(kept, "he's got a sk3ng", "what was typed is kept to change");
    write(&browser, "Hi! Can we do fractions on Monday?").await;
    wait_for_text(&browser, "#messages", "Can we do fractions on Monday?").await;
    save_screenshot(&browser, "thread-mentee").await;
    sign_out(&browser).await;

    // The mentor sees it waiting on their home page, and reads it; their
    // reply with a phone number waits for a teacher.
    signed_in(&browser, &app, "mentor.a", password).await;
    wait_for_text(&browser, "#unread-count", "1 new").await;
    click(&browser, Locator::Id("messages-link")).await;
    click(&browser, Locator::Css(".thread-link")).await;
    wait_for_text(&browser, "#messages", "Can we do fractions on Monday?").await;
    write(&browser, "Sure! text me on 07700 900123 if you get stuck").await;
    wait_for_text(&browser, "#thread-notice", "waiting for a teacher to check").await;
    wait_for_text(&browser, "#messages", "Waiting for a teacher to check").await;
    save_screenshot(&browser, "thread-held").await;
    sign_out(&browser).await;

    // The mentee does not see it.
    signed_in(&browser, &app, "mentee.b", password).await;
    browser
        .goto(&format!("{}/messages", app.base))
        .await
        .unwrap();
    click(&browser, Locator::Css(".thread-link")).await;
    let seen = text_of(&browser, "#messages").await;
    assert!(!seen.contains("07700"), "held: {seen}");
    sign_out(&browser).await;

    // The lead sees it waiting, the number highlighted, and releases it
    // with the number hidden.
    signed_in(&browser, &app, "dsl.a", password).await;
    wait_for_text(&browser, "#held-count", "1").await;
    click(&browser, Locator::Id("held-count")).await;
    let found = eval(
        &browser,
        "return [...document.querySelectorAll('#held mark.found')].map(m => m.textContent);",
    )
    .await;
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "07700 900123"),
        "{found}"
    );
    save_screenshot(&browser, "safeguarding-queue").await;
    click(&browser, Locator::Css("#held button[value=redact]")).await;
    wait_for_text(&browser, "#held h2", "(0)").await;
    sign_out(&browser).await;

    // The mentee sees the message with the number blanked; then tells a
    // safeguarding lead they are worried.
    signed_in(&browser, &app, "mentee.b", password).await;
    browser
        .goto(&format!("{}/messages", app.base))
        .await
        .unwrap();
    click(&browser, Locator::Css(".thread-link")).await;
    let seen = wait_for_text(&browser, "#messages", "if you get stuck").await;
    assert!(!seen.contains("07700") && seen.contains('█'), "{seen}");
    click(&browser, Locator::Css("#worried summary")).await;
    let worry = browser.find(Locator::Css("#worried form")).await.unwrap();
    fill(
        &worry,
        "#worried-text",
        "Someone keeps asking for my number",
    )
    .await;
    click(&browser, Locator::Id("send-worry")).await;
    wait_for_text(&browser, "#thread-notice", "Thank you for telling us").await;
    save_screenshot(&browser, "thread-worried").await;
    sign_out(&browser).await;

    signed_in(&browser, &app, "dsl.a", password).await;
    wait_for_text(&browser, "#concern-count", "1").await;
    browser
        .goto(&format!("{}/safeguarding", app.base))
        .await
        .unwrap();
    wait_for_text(&browser, "#concerns", "Someone keeps asking for my number").await;
    save_screenshot(&browser, "safeguarding-concern").await;
    // The lead names a deputy, below the queue and the concerns.
    click(&browser, Locator::Id("name-deputy")).await;
    wait_for_text(&browser, "#deputies", "being a deputy").await;
    let order = eval(
        &browser,
        "const ids = [...document.querySelectorAll('main section')].map(s => s.id); return ids;",
    )
    .await;
    assert_eq!(order, serde_json::json!(["held", "concerns", "deputies"]));

    // The lead searches by category ("Anyone", any date), and reads the
    // whole record with the decision in it.
    click(&browser, Locator::Id("search-link")).await;
    let search = browser.find(Locator::Id("search")).await.unwrap();
    search
        .find(Locator::Css("select[name=category] option[value=contact]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&browser, Locator::Css("#search button")).await;
    wait_for_text(&browser, "#found h2", "1 message").await;
    save_screenshot(&browser, "safeguarding-search").await;
    click(&browser, Locator::LinkText("conversation")).await;
    let record = wait_for_text(&browser, "#record", "redacted by").await;
    assert!(
        record.contains("he's got a sk3ng"),
        "blocked messages are in the record: {record}"
    );
    save_screenshot(&browser, "safeguarding-record").await;
    // Every opening is on the record, the lead's own too.
    browser
        .goto(&format!("{}/safeguarding/reads", app.base))
        .await
        .unwrap();
    let reads = wait_for_text(&browser, "#reads", "a conversation").await;
    assert!(
        reads.contains("a held message") && reads.contains("a concern"),
        "{reads}"
    );
    save_screenshot(&browser, "safeguarding-reads").await;
}
