//! Real headless Chromium, driven over WebDriver, against the real server.
//!
//! The viewport is an iPad's (820 × 1180, portrait), the size students and
//! teachers use. Needs Debian's `chromium` and `chromium-driver`; paths can be
//! overridden with `CHROMIUM` and `CHROMEDRIVER`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use mentorbridge::demo::{DEMO_PASSWORD, seed};
use mentorbridge_tests::{Backend, TestApp, skip, spawn_app};
use tokio::process::{Child, Command};

/// A running chromedriver, stopped when dropped.
struct Driver {
    _child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

fn find_binary(var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(var) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

async fn start_driver() -> Option<(Driver, PathBuf)> {
    let Some(driver) = find_binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]) else {
        skip(
            "browser tests need chromedriver (Debian: chromium-driver)",
            "CHROMEDRIVER",
        );
        return None;
    };
    let Some(chromium) = find_binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    ) else {
        skip("browser tests need Chromium (Debian: chromium)", "CHROMIUM");
        return None;
    };
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let url = format!("http://127.0.0.1:{port}");
    // Ready when its status endpoint answers; bounded, never an open-ended sleep.
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if http.get(format!("{url}/status")).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "chromedriver did not start within 10 s");
    Some((
        Driver {
            _child: child,
            url,
            _profile: tempfile::tempdir().unwrap(),
        },
        chromium,
    ))
}

async fn open_browser(driver: &Driver, chromium: &Path) -> Client {
    // Two TLS back-ends are linked into this test (reqwest's and
    // fantoccini's); name one so rustls need not guess. Only the first call
    // in a process takes effect, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=820,1180",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("chromedriver opens a session")
}

async fn text_of(browser: &Client, css: &str) -> String {
    let found = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await;
    match found {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => {
            let url = browser.current_url().await;
            let page = browser.source().await.unwrap_or_default();
            panic!("no `{css}` on {url:?}: {e}\n{page}")
        }
    }
}

/// Saves what the page looks like when `MENTORBRIDGE_SCREENSHOTS` names a
/// folder, so a person can look at the pages at iPad size.
async fn save_screenshot(browser: &Client, name: &str) {
    if let Ok(dir) = std::env::var("MENTORBRIDGE_SCREENSHOTS") {
        let png = browser.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// Waits until an element matching `css` holds `needle`: after a click the
/// old page can still be showing, so finding the element is not enough.
async fn wait_for_text(browser: &Client, css: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if text.contains(needle) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = browser.source().await.unwrap_or_default();
    panic!("`{css}` never said `{needle}` (last: `{last}`)\n{page}")
}

async fn sign_in(browser: &Client, app: &TestApp, username: &str, password: &str) {
    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    browser
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

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
        if login.username == "cbyrne" {
            browser
                .goto(&format!("{}/school/referrals", app.base))
                .await
                .unwrap();
            let referrals = text_of(&browser, "#referrals").await;
            assert!(
                referrals.contains("approved") && referrals.contains("draft"),
                "{referrals}"
            );
            save_screenshot(&browser, "referrals-cbyrne").await;
            browser.goto(&format!("{}/home", app.base)).await.unwrap();
        }
        if login.username == "rpatel" {
            browser
                .goto(&format!("{}/partnerships", app.base))
                .await
                .unwrap();
            save_screenshot(&browser, "partnerships-rpatel").await;
            browser
                .goto(&format!("{}/school/students", app.base))
                .await
                .unwrap();
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
    browser.close().await.unwrap();
}

/// A file shipped with the demo, by absolute path (for the file input).
fn demo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/demo")
        .join(name);
    path.canonicalize().unwrap().display().to_string()
}

async fn upload(browser: &Client, input: &str, button: &str, path: &str, expect: &str) {
    browser
        .find(Locator::Id(input))
        .await
        .unwrap()
        .send_keys(path)
        .await
        .unwrap();
    browser
        .find(Locator::Id(button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(browser, ".notice", expect).await;
}

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
    // Each coordinator uploads their files and sets their own school's
    // share of the slot policy.
    for (coordinator, terms, bells, share) in [
        (
            "coord.a",
            "hillside-terms.csv",
            "hillside-bells.csv",
            "session_minutes = 20\n[schools.school-a]\nkinds = [\"tutor\"]\ndevices = 6\nsupervisors = [\"teacher.a\"]\n",
        ),
        (
            "coord.b",
            "st-columbas-terms.ics",
            "st-columbas-bells.csv",
            "session_minutes = 20\n[schools.school-b]\nkinds = [\"tutor\"]\ndevices = 4\nsupervisors = [\"coord.b\"]\n",
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
        save_screenshot(&browser, &format!("calendar-{coordinator}")).await;

        browser.goto(&slots).await.unwrap();
        if coordinator == "coord.a" {
            assert!(
                text_of(&browser, "#no-policy")
                    .await
                    .contains("Set the slot policy")
            );
        }
        let textarea = browser.find(Locator::Id("policy")).await.unwrap();
        textarea.clear().await.unwrap();
        textarea.send_keys(share).await.unwrap();
        browser
            .find(Locator::Id("save-policy"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
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
    save_screenshot(&browser, "slots-coord.b").await;
    browser.close().await.unwrap();
}
