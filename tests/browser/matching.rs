//! Rosters, referrals, ready mentors, the optimiser and approval, by page.

use super::support::*;

#[tokio::test]
async fn coordinators_import_rosters_refer_ready_mentors_run_the_optimiser_and_approve() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.calendars_without_policy(&world).await;
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    let files = tempfile::tempdir().unwrap();
    let browser = open_browser(&driver, &chromium).await;
    let password = mentorbridge_tests::PASSWORD;

    // School A: choose the periods the scheme uses, by form; import the
    // mentors, then make two of them ready.
    sign_in(&browser, &app, "coord.a", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    share_registration(&browser, &app, &world).await;
    import_roster(
        &browser,
        &app,
        files.path(),
        "mentors.csv",
        "student_ref,given_name,family_name,year_group,role,subjects,username\n\
         H-1,Asha,Khan,12,mentor,Maths,asha.k\n\
         H-2,Ben,Lowe,13,mentor,English,ben.l\n",
    )
    .await;
    browser
        .goto(&format!("{}/school/mentors", app.base))
        .await
        .unwrap();
    for (name, offers) in [("Asha", "Maths (GCSE)"), ("Ben", "English (A level)")] {
        let card = format!("//section[contains(@class, 'mentor')][.//h2[contains(., '{name}')]]");
        click(&browser, Locator::XPath(&format!("{card}//summary"))).await;
        let section = browser.find(Locator::XPath(&card)).await.unwrap();
        fill(&section, "input[name=offers]", offers).await;
        fill(&section, "input[name=capacity]", "1").await;
        // Free periods are ticked on the school's own timetable.
        for cell in ["* Tue REG", "* Wed REG"] {
            click(
                &browser,
                Locator::XPath(&format!("{card}//input[@name='free'][@value='{cell}']")),
            )
            .await;
        }
        if name == "Asha" {
            eval(
                &browser,
                "document.querySelector('.free-grid').scrollIntoView()",
            )
            .await;
            save_screenshot(&browser, "mentor-free-grid").await;
        }
        click(
            &browser,
            Locator::XPath(&format!("{card}//button[. = 'Save']")),
        )
        .await;
        wait_for_text(&browser, ".notice", "Mentor updated").await;

        click(&browser, Locator::XPath(&format!("{card}//summary"))).await;
        let section = browser.find(Locator::XPath(&card)).await.unwrap();
        fill(&section, "input[name=course]", "Peer mentoring (Level 1)").await;
        set_date(&browser, "input[name=date]", "2026-10-01").await;
        click(
            &browser,
            Locator::XPath(&format!("{card}//button[. = 'Record training']")),
        )
        .await;
        wait_for_text(&browser, ".notice", "Mentor updated").await;

        // Clearing asks once, saying what it records.
        click(
            &browser,
            Locator::XPath(&format!("{card}//summary[. = 'Clear for mentoring…']")),
        )
        .await;
        click(
            &browser,
            Locator::XPath(&format!(
                "{card}//button[. = 'Clear this mentor for mentoring']"
            )),
        )
        .await;
        wait_for_text(&browser, ".notice", "Mentor cleared").await;
    }
    let mentors = text_of(&browser, "main").await;
    assert_eq!(mentors.matches("ready").count() - 1, 2, "{mentors}");
    save_screenshot(&browser, "matching-mentors-ready").await;
    sign_out(&browser).await;

    // School B: its share of the slot policy; import the mentees; a
    // teacher refers three of them.
    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    share_registration(&browser, &app, &world).await;
    import_roster(
        &browser,
        &app,
        files.path(),
        "mentees.csv",
        "student_ref,given_name,family_name,year_group,role,subjects,username\n\
         S-1,Kai,Doyle,8,mentee,Maths,kai.d\n\
         S-2,Lia,Byrne,10,mentee,English,lia.b\n\
         S-3,Max,Roe,9,mentee,Spanish,max.r\n",
    )
    .await;
    sign_out(&browser).await;
    sign_in(&browser, &app, "teacher.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    let referrals = format!("{}/school/referrals", app.base);
    for (label, focus) in [
        ("Kai Doyle (Year 8)", "Maths"),
        ("Lia Byrne (Year 10)", "English"),
        ("Max Roe (Year 9)", "Spanish"),
    ] {
        browser.goto(&referrals).await.unwrap();
        let form = browser.find(Locator::Id("referral-form")).await.unwrap();
        form.find(Locator::Id("mentee"))
            .await
            .unwrap()
            .select_by_label(label)
            .await
            .unwrap();
        fill(&form, "#focus", focus).await;
        fill(&form, "#reasons", "Has lost confidence this term").await;
        fill(&form, "input[name=consent_given_by]", "Parent").await;
        click(&browser, Locator::Css("input[name=entry_criteria_met]")).await;
        if name_of(label) == "Kai" {
            // Kai has music in Tuesday registration.
            click(&browser, Locator::Id("unavailable-Tue")).await;
            // A consent date still to come is refused by the server: the
            // form comes back with everything typed, the error beside it.
            set_date(&browser, "input[name=consent_date]", "2030-01-01").await;
            click(&browser, Locator::Id("save-referral")).await;
            let beside = text_of(&browser, "#error-consent").await;
            assert!(
                !beside.is_empty() && !beside.contains("consent.date"),
                "{beside}"
            );
            let top = text_of(&browser, ".error").await;
            assert!(
                top.contains("Nothing was saved yet. Parental consent"),
                "{top}"
            );
            assert_eq!(
                eval(&browser, "return document.getElementById('reasons').value").await,
                "Has lost confidence this term"
            );
            assert_eq!(
                eval(
                    &browser,
                    "return document.getElementById('unavailable-Tue').checked"
                )
                .await,
                true
            );
            save_screenshot(&browser, "referral-refused-keeps-text").await;
        }
        set_date(&browser, "input[name=consent_date]", "2026-11-02").await;
        click(&browser, Locator::Id("save-referral")).await;
        wait_for_text(&browser, ".notice", "Referral saved as a draft").await;
        let name = name_of(label);
        click(
            &browser,
            Locator::XPath(&format!(
                "//table[@id='referrals']//tr[td[contains(., '{name}')]]//button[contains(., 'Submit')]"
            )),
        )
        .await;
        wait_for_text(&browser, ".notice", "Referral updated").await;
    }
    sign_out(&browser).await;

    // The coordinator countersigns, runs the optimiser and approves.
    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    for name in ["Kai", "Lia", "Max"] {
        browser.goto(&referrals).await.unwrap();
        // The countersigner reads the whole referral before signing it.
        let row = format!("//table[@id='referrals']//tr[td[contains(., '{name}')]]");
        click(
            &browser,
            Locator::XPath(&format!("{row}//summary[. = 'Read and countersign…']")),
        )
        .await;
        let read = browser
            .find(Locator::XPath(&format!(
                "{row}//dl[@class='referral-full']"
            )))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(read.contains("Has lost confidence this term"), "{read}");
        assert!(read.contains("Parent on 2026-11-02"), "{read}");
        if name == "Kai" {
            assert!(read.contains("Tuesdays"), "{read}");
            save_screenshot(&browser, "referral-read-before-countersigning").await;
        }
        click(
            &browser,
            Locator::XPath(&format!("{row}//button[contains(., 'Countersign')]")),
        )
        .await;
        wait_for_text(&browser, ".notice", "Referral updated").await;
    }
    let matching = format!(
        "{}/partnerships/{}/matching",
        app.base, world.partnership.id
    );
    browser.goto(&matching).await.unwrap();
    click(
        &browser,
        Locator::XPath("//button[. = 'Run the optimiser']"),
    )
    .await;
    wait_for_text(&browser, ".notice", "proposed new pairs").await;
    let coverage = text_of(&browser, "[data-testid=coverage]").await;
    assert!(coverage.starts_with("2 of 3 mentees matched"), "{coverage}");
    // Each "iPads in use" bar is drawn as full as its slot is, as the
    // browser lays it out under the page's Content-Security-Policy.
    let bars = eval(
        &browser,
        "return [...document.querySelectorAll('svg.usage-bar')].map(b => [\
           Number(b.dataset.used), Number(b.dataset.devices),\
           b.querySelector('.usage-fill').getBoundingClientRect().width,\
           b.getBoundingClientRect().width])",
    )
    .await;
    let bars = bars.as_array().unwrap();
    assert!(!bars.is_empty());
    let mut not_full = false;
    for bar in bars {
        let n = |k: usize| bar[k].as_f64().unwrap();
        let (used, devices, fill, whole) = (n(0), n(1), n(2), n(3));
        assert!(whole > 50.0, "{bar}");
        let drawn = fill / whole;
        let share = (used / devices).min(1.0);
        assert!(
            (drawn - share).abs() < 0.02,
            "{bar}: drawn {drawn}, used {share}"
        );
        not_full |= share < 1.0;
    }
    // Blocked by the policy, every bar drew full.
    assert!(not_full, "some slot has iPads free: {bars:?}");
    // The slots read as a week does, Monday first.
    let days = eval(
        &browser,
        "return [...document.querySelectorAll('.usage .usage-label')]\
           .map(l => l.textContent.match(/Week A (\\w{3})/)[1])",
    )
    .await;
    assert_eq!(days, serde_json::json!(["Mon", "Tue", "Wed", "Thu", "Fri"]));
    eval(
        &browser,
        "document.getElementById('slot-use').scrollIntoView()",
    )
    .await;
    save_screenshot(&browser, "matching-slot-use").await;
    let pairs = text_of(&browser, "section[aria-labelledby=pairs]").await;
    // Kai cannot make Tuesdays: Asha mentors them on Wednesday.
    let kai = eval(
        &browser,
        "return [...document.querySelectorAll('article[data-testid=pair]')]\
           .map(a => a.innerText).find(t => t.startsWith('Kai'))",
    )
    .await;
    let kai = kai.as_str().unwrap();
    assert!(kai.contains("Wed") && !kai.contains("Tue"), "{kai}");
    assert!(
        pairs.contains("Kai") && pairs.contains("with Asha"),
        "{pairs}"
    );
    assert!(
        pairs.contains("Lia") && pairs.contains("with Ben"),
        "{pairs}"
    );
    assert!(pairs.contains("Asha offers Maths at GCSE"), "{pairs}");
    assert!(
        !pairs.contains("Khan") && !pairs.contains("Doyle"),
        "first names only"
    );
    let unmatched = text_of(&browser, "[data-testid=unmatched]").await;
    assert!(
        unmatched.contains("Max")
            && unmatched.contains("No ready mentor at School A offers Spanish"),
        "{unmatched}"
    );
    save_screenshot(&browser, "matching-proposal").await;
    click(
        &browser,
        Locator::XPath("//button[starts-with(., 'Approve these 2 pairs')]"),
    )
    .await;
    wait_for_text(&browser, ".notice", "Approved for your school").await;
    sign_out(&browser).await;

    sign_in(&browser, &app, "coord.a", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser.goto(&matching).await.unwrap();
    click(
        &browser,
        Locator::XPath("//button[starts-with(., 'Approve these 2 pairs')]"),
    )
    .await;
    wait_for_text(&browser, ".notice", "Approved by both schools").await;
    save_screenshot(&browser, "matching-approved").await;
    sign_out(&browser).await;

    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser.goto(&referrals).await.unwrap();
    let table = text_of(&browser, "#referrals").await;
    assert_eq!(table.matches("matched").count(), 2, "{table}");
    assert_eq!(table.matches("approved").count(), 1, "Max waits: {table}");

    // Nobody offers Spanish: the coordinator withdraws Max's referral, told
    // first what that does, and gives the reason.
    let max = "//table[@id='referrals']//tr[td[contains(., 'Max')]]";
    click(
        &browser,
        Locator::XPath(&format!("{max}//summary[. = 'Withdraw…']")),
    )
    .await;
    let said = browser
        .find(Locator::XPath(&format!(
            "{max}//details[starts-with(@id, 'end-')]"
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(said.contains("the optimiser leaves Max out"), "{said}");
    let reason = browser
        .find(Locator::XPath(&format!("{max}//textarea[@name='reason']")))
        .await
        .unwrap();
    reason
        .send_keys("Spanish support found in school instead")
        .await
        .unwrap();
    save_screenshot(&browser, "referral-withdraw").await;
    click(
        &browser,
        Locator::XPath(&format!("{max}//button[. = 'Withdraw this referral']")),
    )
    .await;
    wait_for_text(&browser, ".notice", "Referral updated").await;
    let row = text_of_xpath(&browser, max).await;
    assert!(row.contains("closed"), "{row}");
    // Kai's is matched: closing it would cancel sessions, and says so.
    let kai_row = "//table[@id='referrals']//tr[td[contains(., 'Kai')]]";
    click(
        &browser,
        Locator::XPath(&format!("{kai_row}//summary[. = 'Close…']")),
    )
    .await;
    let said = text_of_xpath(
        &browser,
        &format!("{kai_row}//details[starts-with(@id, 'end-')]"),
    )
    .await;
    assert!(
        said.contains("every session still to come is cancelled"),
        "{said}"
    );
    browser.close().await.unwrap();
}

/// The signed-in coordinator ticks their school's registration on the
/// partnership's slot-policy form, twenty-minute sessions.
async fn share_registration(browser: &Client, app: &TestApp, world: &mentorbridge_tests::World) {
    browser
        .goto(&format!(
            "{}/partnerships/{}/slots",
            app.base, world.partnership.id
        ))
        .await
        .unwrap();
    let minutes = browser.find(Locator::Id("session-minutes")).await.unwrap();
    minutes.clear().await.unwrap();
    minutes.send_keys("20").await.unwrap();
    click(browser, Locator::Id("period-REG")).await;
    click(browser, Locator::Id("save-share")).await;
    wait_for_text(browser, ".notice", "Slot policy saved").await;
}

async fn text_of_xpath(browser: &Client, xpath: &str) -> String {
    browser
        .find(Locator::XPath(xpath))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The first name of a mentee as the referral form lists them ("Kai Doyle
/// (Year 8)").
fn name_of(label: &str) -> &str {
    label.split(' ').next().unwrap()
}
