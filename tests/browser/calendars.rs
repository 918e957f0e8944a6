//! Coordinators upload calendars and see the aligned slots.

use super::support::*;

#[tokio::test]
async fn both_coordinators_upload_their_calendars_and_see_the_aligned_grid() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    let browser = open_browser(&driver, &chromium).await;

    let slots = format!(
        "{}/partnerships/{}/slots?from=2027-03-15",
        app.base, world.partnership.id
    );
    // Each coordinator uploads their files, says what iPads and
    // supervisors their school has, and sets their own school's share of
    // the slot policy.
    for (coordinator, terms, bells, ipads, supervisor, period) in [
        (
            "coord.a",
            "hillside-terms.csv",
            "hillside-bells.csv",
            "6",
            "teacher.a",
            "TUT",
        ),
        (
            "coord.b",
            "st-columbas-terms.ics",
            "st-columbas-bells.csv",
            "4",
            "coord.b",
            "FORM",
        ),
    ] {
        sign_in(&browser, &app, coordinator, mentorbridge_tests::PASSWORD).await;
        wait_for_text(&browser, "#home-heading", "Hello").await;
        browser
            .goto(&format!("{}/school/calendar", app.base))
            .await
            .unwrap();
        upload(
            &browser,
            "terms-file",
            "upload-terms",
            &demo_file(terms),
            "Term dates imported",
        )
        .await;
        upload(
            &browser,
            "bells-file",
            "upload-bells",
            &demo_file(bells),
            "Bell schedule imported",
        )
        .await;
        let terms_table = text_of(&browser, "#terms").await;
        assert!(terms_table.contains("Autumn"), "{terms_table}");
        assert!(
            text_of(&browser, "#no-capacity")
                .await
                .contains("Not set yet")
        );
        let devices = browser.find(Locator::Id("capacity-devices")).await.unwrap();
        devices.clear().await.unwrap();
        devices.send_keys(ipads).await.unwrap();
        browser
            .find(Locator::Id(&format!("supervisor-{supervisor}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser
            .find(Locator::Id("save-capacity"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, ".notice", "iPads and supervisors saved").await;
        let declared = text_of(&browser, "#declared").await;
        assert!(declared.contains("From the start"), "{declared}");
        assert!(declared.contains(ipads), "{declared}");
        save_screenshot(&browser, &format!("calendar-{coordinator}")).await;

        browser.goto(&slots).await.unwrap();
        if coordinator == "coord.a" {
            assert!(
                text_of(&browser, "#no-policy")
                    .await
                    .contains("Set the slot policy")
            );
        }
        // The periods come from the school's own bell schedule, to tick.
        let minutes = browser.find(Locator::Id("session-minutes")).await.unwrap();
        if coordinator == "coord.a" {
            // A refused form keeps what was typed and says what is wrong.
            minutes.clear().await.unwrap();
            minutes.send_keys("25").await.unwrap();
            click(&browser, Locator::Id("save-share")).await;
            let error = text_of(&browser, ".error").await;
            assert!(error.contains("tick at least one"), "{error}");
            let minutes = browser.find(Locator::Id("session-minutes")).await.unwrap();
            assert_eq!(minutes.prop("value").await.unwrap().as_deref(), Some("25"));
            minutes.clear().await.unwrap();
            minutes.send_keys("20").await.unwrap();
        }
        click(&browser, Locator::Id(&format!("period-{period}"))).await;
        save_screenshot(&browser, &format!("slots-share-{coordinator}")).await;
        click(&browser, Locator::Id("save-share")).await;
        wait_for_text(&browser, ".notice", "Slot policy saved").await;

        browser
            .find(Locator::Css("form.signout button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, ".notice", "signed out").await;
    }

    sign_in(&browser, &app, "coord.b", mentorbridge_tests::PASSWORD).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser.goto(&slots).await.unwrap();
    let first_week = text_of(&browser, "section.card").await;
    assert!(first_week.contains("Week of 15 Mar"), "{first_week}");
    assert!(
        first_week.contains("08:50–09:10"),
        "the slot in each school's local time: {first_week}"
    );
    assert!(
        first_week.contains("TUT · Week A") && first_week.contains("FORM"),
        "{first_week}"
    );
    assert!(
        first_week.contains("School B: closed (St Patrick's Day)"),
        "{first_week}"
    );
    assert!(first_week.contains("iPads 6 / 4"), "{first_week}");
    save_screenshot(&browser, "slots-coord.b").await;
    browser.close().await.unwrap();
}
