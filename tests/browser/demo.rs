//! The demo as a newcomer meets it: every role signs in and lands home.

use super::support::*;

#[tokio::test]
async fn every_demo_role_signs_in_through_the_page_and_lands_on_its_home_page() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let logins = seed(&app.store, |_| {}).await.unwrap();
    let browser = open_browser(&driver, &chromium).await;

    // A mistyped password keeps the person on the form with a clear message.
    sign_in(&browser, &app, "rpatel", "not-my-password").await;
    let error = text_of(&browser, "#login-error").await;
    save_screenshot(&browser, "login-error").await;
    assert!(error.contains("do not match"), "{error}");

    let expected_role = |who: &str| -> &'static str {
        for label in [
            "Platform administrator",
            "Coordinator",
            "Teacher",
            "Safeguarding lead",
            "Scheme lead",
        ] {
            if who.starts_with(label) {
                return label;
            }
        }
        "Student"
    };
    for login in &logins {
        sign_in(&browser, &app, &login.username, DEMO_PASSWORD).await;
        let heading = text_of(&browser, "#home-heading").await;
        assert!(
            heading.starts_with("Hello, "),
            "{}: {heading}",
            login.username
        );
        let role = text_of(&browser, "#home-role").await;
        assert!(
            role.starts_with(expected_role(&login.who)),
            "{}: `{role}` for {}",
            login.username,
            login.who
        );
        let url = browser.current_url().await.unwrap();
        assert_eq!(url.path(), "/home", "{}", login.username);
        save_screenshot(&browser, &format!("home-{}", login.username)).await;
        if login.username == "rpatel" {
            // A coordinator turns an account off from the Staff page, told
            // first what that does.
            browser
                .goto(&format!("{}/school/staff", app.base))
                .await
                .unwrap();
            wait_for_text(&browser, "h1", "Staff at").await;
            let first = browser
                .find(Locator::Css("details.confirm summary"))
                .await
                .unwrap();
            first.click().await.unwrap();
            let said = text_of(&browser, "details.confirm[open]").await;
            assert!(said.contains("will not be able to sign in"), "{said}");
            save_screenshot(&browser, "staff-rpatel").await;
        }
        if login.who.starts_with("mentee in the demo call") {
            browser
                .goto(&format!("{}/account", app.base))
                .await
                .unwrap();
            wait_for_text(&browser, "h1", "Your account").await;
            save_screenshot(&browser, "account-mentee").await;
            browser.goto(&format!("{}/home", app.base)).await.unwrap();
            wait_for_text(&browser, "#home-heading", "Hello").await;
        }
        if login.username == "tokafor" {
            // Home counts today's calls and leads to them: the demo call is
            // on today's register, with who is in it.
            let tile = text_of(&browser, "#calls-today").await;
            let tile = tile.split_whitespace().collect::<Vec<_>>().join(" ");
            click(&browser, Locator::Id("calls-today")).await;
            wait_for_text(&browser, "h1", "Today's calls").await;
            let listed = browser
                .find_all(Locator::Css("[data-testid=today-session]"))
                .await
                .unwrap()
                .len();
            assert!(listed >= 1);
            let expected = if listed == 1 {
                "1 call today".to_owned()
            } else {
                format!("{listed} calls today")
            };
            assert_eq!(tile, expected);
            let today = text_of(&browser, "main").await;
            assert!(
                today.contains("Open the call") || today.contains("not yet"),
                "{today}"
            );
            assert!(!today.contains("No calls at your school today"), "{today}");
            save_screenshot(&browser, "today-tokafor").await;
        }
        if login.who.starts_with("mentee in the demo call") {
            // Their home page leads straight to today's call.
            let next = text_of(&browser, "#next-sessions").await;
            assert!(
                next.starts_with("Today") && next.contains("Join the call"),
                "{next}"
            );
            browser
                .goto(&format!("{}/sessions", app.base))
                .await
                .unwrap();
            let list = text_of(&browser, "section[aria-labelledby=list]").await;
            assert!(list.contains("Join the call"), "{list}");
        }
        if login.who.starts_with("Scheme lead") {
            // The trust's report reads like a real project's first year,
            // with a term of sessions behind it.
            click(&browser, Locator::LinkText("Reports")).await;
            let headline = wait_for_text(&browser, "#report-headline", "referred").await;
            assert!(
                headline.starts_with("23 mentors trained, 12 mentees referred, 11 matched, "),
                "{headline}"
            );
            let hours: f64 = headline
                .split(", ")
                .nth(3)
                .and_then(|h| h.split(' ').next())
                .and_then(|h| h.parse().ok())
                .unwrap_or_default();
            assert!(hours >= 10.0, "{headline}");
            let main = text_of(&browser, "main").await;
            assert!(
                main.contains("Hillside Academy") && main.contains("St Columba's College"),
                "{main}"
            );
            assert!(
                !main.contains("Aoife"),
                "a scheme lead sees no pupil: {main}"
            );
            save_screenshot(&browser, "report-scheme-lead").await;
            browser.goto(&format!("{}/groups", app.base)).await.unwrap();
            let groups = text_of(&browser, "main").await;
            assert!(groups.contains("Riverside Learning Trust"), "{groups}");
            save_screenshot(&browser, "groups-scheme-lead").await;
        }
        if login.username == "nhaddad" {
            // Gulf Crescent teaches Sunday to Thursday: its calendar says
            // so, its timetable's week starts on Sunday, and its slots with
            // Hillside fall on the days both teach.
            browser
                .goto(&format!("{}/school/calendar", app.base))
                .await
                .unwrap();
            wait_for_text(&browser, "h1", "Calendar at Gulf Crescent").await;
            let ticked = eval(
                &browser,
                "return [...document.querySelectorAll('#teaching-days input[name=days]')]\
                 .map(i => i.value + (i.checked ? '+' : '-')).join(' ')",
            )
            .await;
            assert_eq!(
                ticked.as_str(),
                Some("Sun+ Mon+ Tue+ Wed+ Thu+ Fri- Sat-"),
                "{ticked:?}"
            );
            let heads = text_of(&browser, "table.week thead").await;
            assert_eq!(
                heads.split_whitespace().collect::<Vec<_>>(),
                ["Time", "Sun", "Mon", "Tue", "Wed", "Thu"]
            );
            save_screenshot(&browser, "calendar-sun-thu").await;
            eval(
                &browser,
                "document.getElementById('teaching-days').scrollIntoView()",
            )
            .await;
            save_screenshot(&browser, "calendar-teaching-days").await;
            let gulf = app.store.school_by_slug("gulf-crescent").await.unwrap();
            let partnership = &app.store.partnerships_of(gulf.id).await.unwrap()[0];
            browser
                .goto(&format!(
                    "{}/partnerships/{}/slots?from=2027-01-10",
                    app.base, partnership.id
                ))
                .await
                .unwrap();
            let week = text_of(&browser, "main section.card .week-days").await;
            let days = eval(
                &browser,
                "return [...document.querySelector('.week-days').querySelectorAll('.day h3')]\
                 .map(h => h.textContent.slice(0, 3)).join(' ')",
            )
            .await;
            assert_eq!(days.as_str(), Some("Sun Mon Tue Wed Thu"), "{week}");
            assert!(
                week.contains("Hillside Academy: does not teach on Sundays"),
                "{week}"
            );
            let slots = browser
                .find_all(Locator::Css("main section.card:first-of-type .slot"))
                .await
                .unwrap()
                .len();
            assert!(slots >= 2, "{week}");
            save_screenshot(&browser, "slots-sun-thu").await;
        }
        if login.username == "cbyrne" {
            // Her home page starts with what waits for her.
            let todo = text_of(&browser, "#todo").await;
            assert!(todo.contains("Countersign 1 referral"), "{todo}");
            browser
                .goto(&format!("{}/school/referrals", app.base))
                .await
                .unwrap();
            let referrals = text_of(&browser, "#referrals").await;
            assert!(
                referrals.contains("matched")
                    && referrals.contains("submitted")
                    && referrals.contains("draft")
                    && referrals.contains("closed"),
                "{referrals}"
            );
            save_screenshot(&browser, "referrals-cbyrne").await;
            // The referral form asks which days the mentee cannot make.
            let days = text_of(&browser, "#unavailable-days").await;
            assert!(
                days.contains("Not free for mentoring on") && days.contains("Tuesdays"),
                "{days}"
            );
            // … and which days they would rather meet on.
            let preferred = text_of(&browser, "#preferred-days").await;
            assert!(
                preferred.contains("Would rather meet on") && preferred.contains("Thursdays"),
                "{preferred}"
            );
            eval(
                &browser,
                "document.getElementById('unavailable-days').scrollIntoView()",
            )
            .await;
            save_screenshot(&browser, "referral-form-days").await;
            browser.goto(&format!("{}/home", app.base)).await.unwrap();
        }
        if login.username == "rpatel" {
            browser
                .goto(&format!("{}/partnerships", app.base))
                .await
                .unwrap();
            save_screenshot(&browser, "partnerships-rpatel").await;
            // The demo arrives with its matches approved and booked (in
            // the partnership with St Columba's; the one with Gulf
            // Crescent has no one referred yet).
            let listed = text_of(&browser, "main").await;
            assert!(
                listed.contains("St Columba's College")
                    && listed.contains("Gulf Crescent British School"),
                "{listed}"
            );
            let columba = app.store.school_by_slug("st-columbas").await.unwrap();
            let with_columba = &app.store.partnerships_of(columba.id).await.unwrap()[0];
            browser
                .goto(&format!(
                    "{}/partnerships/{}/matching",
                    app.base, with_columba.id
                ))
                .await
                .unwrap();
            let coverage = text_of(&browser, "[data-testid=coverage]").await;
            assert!(
                coverage.starts_with("11 of 11 mentees matched"),
                "{coverage}"
            );
            let main = text_of(&browser, "main").await;
            assert!(main.contains("approved by both schools"), "{main}");
            save_screenshot(&browser, "matching-rpatel").await;
            browser
                .goto(&format!("{}/sessions", app.base))
                .await
                .unwrap();
            let sessions = text_of(&browser, "section[aria-labelledby=list]").await;
            assert!(sessions.contains("booked"), "{sessions}");
            save_screenshot(&browser, "sessions-rpatel").await;
            // The demo has cancellations to undo: a session to restore,
            // and a pair to book again.
            assert!(sessions.contains("Restore…"), "{sessions}");
            let again = text_of(&browser, "[data-testid=unbooked]").await;
            assert!(again.contains("Book again"), "{again}");
            // The school pages sit behind the School menu.
            click(&browser, Locator::Css("details.menu summary")).await;
            save_screenshot(&browser, "menu-rpatel").await;
            click(&browser, Locator::LinkText("Students")).await;
            save_screenshot(&browser, "students-rpatel").await;
            browser
                .goto(&format!("{}/school/mentors", app.base))
                .await
                .unwrap();
            assert!(text_of(&browser, "main").await.contains("ready"));
            save_screenshot(&browser, "mentors-rpatel").await;
            browser.goto(&format!("{}/home", app.base)).await.unwrap();
            let page = browser.source().await.unwrap();
            assert!(
                page.contains("St Columba") && page.contains("active"),
                "the coordinator sees the partnership"
            );
        }
        browser
            .find(Locator::Css("form.signout button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let notice = text_of(&browser, ".notice").await;
        assert!(notice.contains("signed out"), "{notice}");
    }
    // Anyone can check a demo mentor's certificate without signing in.
    let hillside = app.store.school_by_slug("hillside").await.unwrap();
    let certificates = app.store.latest_certificates(hillside.id).await.unwrap();
    let certificate = certificates.values().next().expect("a demo certificate");
    let code = certificate.code.to_string();
    browser
        .goto(&format!("{}/certificates/{code}", app.base))
        .await
        .unwrap();
    let genuine = text_of(&browser, "#certificate-genuine").await;
    assert_eq!(genuine, "Genuine certificate");
    let sessions = text_of(&browser, "#certificate-sessions").await;
    assert_eq!(sessions, certificate.printed.sessions.to_string());
    assert!(certificate.printed.sessions > 0);
    let hours = text_of(&browser, "#certificate-hours").await;
    assert_eq!(hours, certificate.printed.hours_text());
    save_screenshot(&browser, "certificate-public").await;
    browser.close().await.unwrap();
}
