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

/// A running chromedriver, stopped when dropped together with every
/// browser it started, also when a test panics: a Chromium left running
/// with a fake camera slows every later test and benchmark on the machine.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads a process group of its own, and the browsers
        // it starts are in it: ending the group ends them all. (Killing
        // chromedriver alone leaves its browsers behind.)
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
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
        .process_group(0)
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
            child,
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

/// A browser for calls, signed in as `who` on their home page: its own
/// profile (so its own sign-in), a fake camera and microphone, and
/// permission granted without a prompt.
async fn call_browser_as(
    driver: &Driver,
    chromium: &Path,
    profile: &Path,
    app: &TestApp,
    who: &str,
) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=820,1180",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let browser = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("chromedriver opens a session");
    sign_in(&browser, app, who, mentorbridge_tests::PASSWORD).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
}

/// Evaluates `script` (a function body returning a value) in the page.
async fn eval(browser: &Client, script: &str) -> serde_json::Value {
    browser.execute(script, vec![]).await.unwrap()
}

/// Calls run real video in every page: on two cores, one call test at a
/// time, so that a slow machine is not mistaken for a broken call.
static CALLS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits (up to `secs`) until `script` returns true in the page.
async fn wait_until(browser: &Client, what: &str, script: &str, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if eval(browser, script).await == serde_json::Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = eval(
        browser,
        "return document.getElementById('status')?.textContent",
    )
    .await;
    // On a call page, how each peer connection stands and what went wrong:
    // enough to tell a negotiation that stalled from media that never came.
    let call = eval(
        browser,
        "const s = window.__mentorbridge; return s ? { peers: [...s.peers].map(([id, p]) => ({ id, \
         signaling: p.pc.signalingState, connection: p.pc.connectionState, \
         ice: p.pc.iceConnectionState, ignoreOffer: p.ignoreOffer, makingOffer: p.makingOffer })), \
         warnings: s.warnings } : null;",
    )
    .await;
    panic!("{what}: not within {secs} s (status: {status}; call: {call})");
}

/// A function `ufrag()`: the ICE username fragment of the one peer's
/// remote description.
const REMOTE_UFRAG_FN: &str = r#"
const ufrag = () => {
  const peer = [...window.__mentorbridge.peers.values()][0];
  const m = peer && peer.pc.remoteDescription && peer.pc.remoteDescription.sdp.match(/a=ice-ufrag:(\S+)/);
  return m ? m[1] : null;
};
"#;

/// Whether audio packets from the supervisor are arriving (the check
/// starts a `getStats` and reads the last one's answer).
const HEARS_SUPERVISOR: &str = r#"
const s = window.__mentorbridge;
const id = s && [...s.roster].find(([, role]) => role === 'supervisor')?.[0];
const peer = id && s.peers.get(id);
if (!peer) return false;
peer.pc.getStats().then((stats) => {
  window.__hearsSupervisor = [...stats.values()].some(
    (r) => r.type === 'inbound-rtp' && r.kind === 'audio' && r.packetsReceived > 0);
});
return window.__hearsSupervisor === true;
"#;

/// True once the page has a connected peer whose video is decoding: frames
/// have a size and playback moves on.
const DECODING: &str = r#"
const s = window.__mentorbridge;
if (!s) return false;
const peers = [...s.peers.values()];
if (!peers.some(p => p.pc.connectionState === 'connected')) return false;
const v = document.querySelector('#remotes video');
if (!v || v.videoWidth === 0) return false;
const t = v.currentTime;
if (window.__lastTime !== undefined && t > window.__lastTime) return true;
window.__lastTime = t;
return false;
"#;

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
            // The demo arrives with its matches approved and booked.
            click(&browser, Locator::LinkText("Matching")).await;
            let coverage = text_of(&browser, "[data-testid=coverage]").await;
            assert!(coverage.contains("of 8 mentees matched"), "{coverage}");
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

async fn click(browser: &Client, locator: Locator<'_>) {
    let element = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("nothing to click ({e})"));
    element.click().await.unwrap();
}

async fn fill(scope: &fantoccini::elements::Element, css: &str, text: &str) {
    let input = scope.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Date inputs take their value in the browser's locale when typed; setting
/// it directly is what a date picker does.
async fn set_date(browser: &Client, css: &str, date: &str) {
    browser
        .execute(
            "document.querySelectorAll(arguments[0]).forEach(e => e.value = arguments[1]);",
            vec![css.into(), date.into()],
        )
        .await
        .unwrap();
}

async fn sign_out(browser: &Client) {
    click(browser, Locator::Css("form.signout button")).await;
    wait_for_text(browser, ".notice", "signed out").await;
}

async fn import_roster(browser: &Client, app: &TestApp, dir: &Path, name: &str, csv: &str) {
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    browser
        .goto(&format!("{}/school/students", app.base))
        .await
        .unwrap();
    browser
        .find(Locator::Id("roster-files"))
        .await
        .unwrap()
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    click(browser, Locator::Id("import-roster")).await;
    wait_for_text(browser, "#roster-summary", "Roster imported").await;
}

#[tokio::test]
async fn coordinators_import_rosters_refer_ready_mentors_run_the_optimiser_and_approve() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.calendars_for_matching(&world).await;
    app.add_staff(&world.b, "teacher.b", "teacher").await;
    let files = tempfile::tempdir().unwrap();
    let browser = open_browser(&driver, &chromium).await;
    let password = mentorbridge_tests::PASSWORD;

    // School A: import the mentors, then make two of them ready.
    sign_in(&browser, &app, "coord.a", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
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
        fill(&section, "input[name=free_periods]", "* Mon REG; * Wed REG").await;
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

        click(
            &browser,
            Locator::XPath(&format!("{card}//button[. = 'Clear for mentoring']")),
        )
        .await;
        wait_for_text(&browser, ".notice", "Mentor cleared").await;
    }
    let mentors = text_of(&browser, "main").await;
    assert_eq!(mentors.matches("ready").count() - 1, 2, "{mentors}");
    save_screenshot(&browser, "matching-mentors-ready").await;
    sign_out(&browser).await;

    // School B: import the mentees; a teacher refers three of them.
    sign_in(&browser, &app, "coord.b", password).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
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
        set_date(&browser, "input[name=consent_date]", "2026-11-02").await;
        click(&browser, Locator::Css("input[name=entry_criteria_met]")).await;
        click(&browser, Locator::Id("save-referral")).await;
        wait_for_text(&browser, ".notice", "Referral saved as a draft").await;
        let name = label.split(' ').next().unwrap();
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
        click(
            &browser,
            Locator::XPath(&format!(
                "//table[@id='referrals']//tr[td[contains(., '{name}')]]//button[contains(., 'Countersign')]"
            )),
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
    let pairs = text_of(&browser, "section[aria-labelledby=pairs]").await;
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
    browser.close().await.unwrap();
}

/// Opens the session card at `card` (an XPath), types `reason` into the
/// field `input` names, and presses the card's `button`.
async fn act_on_session(browser: &Client, card: &str, input: &str, reason: &str, button: &str) {
    click(browser, Locator::XPath(&format!("{card}//summary"))).await;
    let found = browser.find(Locator::XPath(card)).await.unwrap();
    fill(&found, input, reason).await;
    click(
        browser,
        Locator::XPath(&format!("{card}//button[. = '{button}']")),
    )
    .await;
}

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
    click(&browser, Locator::Id("make-feed")).await;
    let url = text_of(&browser, "#feed-url").await;
    assert!(url.contains("/calendar/") && url.ends_with(".ics"), "{url}");
    save_screenshot(&browser, "sessions-mentee").await;
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
    let first = "(//article[@data-testid='session'])[1]";
    let sports_day = "input[name=reason][placeholder='Sports day']";
    act_on_session(&browser, first, sports_day, "Sports day", "Move").await;
    wait_for_text(&browser, ".notice", "Session moved").await;

    let booked = "(//article[@data-testid='session'][.//span[. = 'booked']])[1]";
    let reason = "input[name=reason][required]";
    act_on_session(&browser, booked, reason, "Mock exams in the hall", "Cancel").await;
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

#[tokio::test]
async fn two_ipads_hold_a_call_that_survives_a_dropped_socket_and_an_ice_restart() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    // These two schools let their students start without a supervisor.
    app.calls_without_supervisor(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let profiles = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mentee = call_browser_as(&driver, &chromium, profiles[0].path(), &app, "mentee.b").await;
    let mentor = call_browser_as(&driver, &chromium, profiles[1].path(), &app, "mentor.a").await;
    for browser in [&mentee, &mentor] {
        // Today's session on the Sessions page leads to the call.
        click(browser, Locator::LinkText("Sessions")).await;
        click(browser, Locator::LinkText("Join the call")).await;
        wait_for_text(browser, "h1", "Mentoring").await;
        click(browser, Locator::Id("join")).await;
    }
    for (browser, who) in [(&mentee, "mentee"), (&mentor, "mentor")] {
        wait_until(
            browser,
            &format!("the {who} sees and decodes the other's video"),
            DECODING,
            30,
        )
        .await;
    }
    save_screenshot(&mentee, "call-mentee").await;

    // The mentee's socket is cut (as when school Wi-Fi drops): the page
    // says it is reconnecting, resumes its place, and the call goes on.
    eval(
        &mentee,
        "window.__mentorbridge.socket.close(); return true;",
    )
    .await;
    wait_until(
        &mentee,
        "the page resumes its place",
        "const s = window.__mentorbridge; return s.socket.readyState === 1 && document.getElementById('banner').hidden;",
        20,
    )
    .await;
    // Signalling works again: chat goes both ways through the server.
    fill(
        &mentee.find(Locator::Id("chat-form")).await.unwrap(),
        "#chat-text",
        "Can you hear me?",
    )
    .await;
    mentee
        .find(Locator::Css("#chat-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&mentor, "#chat-log", "Can you hear me?").await;
    eval(&mentee, "window.__lastTime = undefined; return true;").await;
    wait_until(&mentee, "video still decoding after the drop", DECODING, 20).await;

    // An ICE restart (what the page does when the media connection fails)
    // is negotiated through the server: the mentee takes the mentor's new
    // ICE credentials, the connection comes back, and video carries on.
    let before = eval(&mentee, &format!("{REMOTE_UFRAG_FN} return ufrag();")).await;
    assert!(before.is_string(), "{before}");
    eval(
        &mentor,
        "[...window.__mentorbridge.peers.values()][0].pc.restartIce(); return true;",
    )
    .await;
    wait_until(
        &mentee,
        "the mentor's restarted ICE reaches the mentee",
        &format!("{REMOTE_UFRAG_FN} return ufrag() !== {before} && [...window.__mentorbridge.peers.values()][0].pc.connectionState === 'connected';"),
        20,
    )
    .await;
    eval(&mentee, "window.__lastTime = undefined; return true;").await;
    wait_until(
        &mentee,
        "video still decoding after the ICE restart",
        DECODING,
        20,
    )
    .await;

    // One continuous presence: joined once, resumed, never left.
    let events = app.store.attendance_events(session.id).await.unwrap();
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e.user_id == world.mentee_b.id)
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        mine.iter().filter(|k| **k == "joined").count(),
        1,
        "{mine:?}"
    );
    assert!(mine.contains(&"resumed"), "{mine:?}");
    assert!(!mine.contains(&"left"), "{mine:?}");
    let record = app.store.attendance(&session).await.unwrap();
    for person in &record {
        assert!(person.present && person.in_call, "{person:?}");
        assert!(person.connected, "media connected: {person:?}");
    }
    let _ = mentee.close().await;
    let _ = mentor.close().await;
}

#[tokio::test]
async fn the_pre_call_check_finds_the_camera_microphone_and_a_connection_to_mentorbridge() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.world().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = call_browser_as(&driver, &chromium, profile.path(), &app, "mentee.b").await;
    browser
        .goto(&format!("{}/precall", app.base))
        .await
        .unwrap();
    click(&browser, Locator::Id("start")).await;
    wait_until(
        &browser,
        "the check finishes",
        "return document.getElementById('verdict').dataset.ok !== '';",
        30,
    )
    .await;
    save_screenshot(&browser, "precall-mentee").await;
    let verdict = text_of(&browser, "#verdict").await;
    let checks = text_of(&browser, ".checks").await;
    assert_eq!(verdict, "This iPad is ready for mentoring.", "{checks}");
    assert!(checks.contains("Camera: working"), "{checks}");
    assert!(checks.contains("Microphone: hearing sound"), "{checks}");
    // A real connection to the server's own WebRTC peer, with a measured
    // round trip and no loss on loopback.
    let network = eval(
        &browser,
        "const d = document.getElementById('check-network').dataset; return [d.ok, d.path, Number(d.rttMs), Number(d.loss)];",
    )
    .await;
    assert_eq!(network[0], "true", "{checks}");
    assert_eq!(network[1], "direct");
    assert!(network[2].as_f64().unwrap() < 200.0, "{network}");
    assert_eq!(network[3], 0, "{network}");
    let _ = browser.close().await;
}

#[tokio::test]
async fn students_wait_for_their_supervisor_who_watches_both_and_ends_the_call() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    // The default policy: students wait for a supervisor.
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let profiles = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let mut pages = Vec::new();
    for (profile, who) in profiles.iter().zip(["mentee.b", "mentor.a", "teacher.a"]) {
        let browser = call_browser_as(&driver, &chromium, profile.path(), &app, who).await;
        browser
            .goto(&format!("{}/sessions/{}/call", app.base, session.id))
            .await
            .unwrap();
        pages.push(browser);
    }
    let (mentee, mentor, teacher) = (&pages[0], &pages[1], &pages[2]);
    for page in [mentee, mentor] {
        click(page, Locator::Id("join")).await;
    }
    // Both students see the waiting screen, and no call starts.
    for page in [mentee, mentor] {
        wait_until(
            page,
            "the waiting screen",
            "return !document.getElementById('waiting').hidden;",
            15,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        eval(mentee, "return window.__mentorbridge.peers.size;").await,
        0,
        "no connection before a supervisor is there"
    );
    // The teacher joins, receiving only: both students' video reaches them.
    click(teacher, Locator::Id("join")).await;
    wait_until(
        teacher,
        "the teacher decodes both students' video",
        "const vs = [...document.querySelectorAll('#remotes video')]; return vs.length === 2 && vs.every(v => v.videoWidth > 0);",
        30,
    )
    .await;
    // Three pages sending and decoding video share two cores: on a busy
    // CI machine the students' own connection has taken over 30 s.
    for page in [mentee, mentor] {
        wait_until(page, "the students see each other", DECODING, 60).await;
    }
    let sends = eval(
        teacher,
        "return [...window.__mentorbridge.peers.values()].flatMap(p => p.pc.getSenders()).filter(s => s.track).length;",
    )
    .await;
    assert_eq!(
        sends, 0,
        "an observer sends nothing until they choose to speak"
    );
    // On an iPad the teacher watches both students side by side, each
    // across nearly half the page.
    let layout = eval(
        teacher,
        "const [a, b] = [...document.querySelectorAll('#remotes video')].map(v => v.getBoundingClientRect()); \
         return { sameRow: Math.abs(a.top - b.top) < 1, widths: [a.width, b.width], page: document.documentElement.clientWidth };",
    )
    .await;
    let page = layout["page"].as_f64().unwrap();
    assert!(
        layout["sameRow"] == true
            && layout["widths"]
                .as_array()
                .unwrap()
                .iter()
                .all(|w| w.as_f64().unwrap() > page * 0.4),
        "the students' videos: {layout}"
    );
    save_screenshot(teacher, "call-supervisor").await;
    // The teacher chooses to speak: both students receive their voice,
    // and the teacher can mute again.
    click(teacher, Locator::Id("speak")).await;
    for page in [mentee, mentor] {
        wait_until(page, "the student hears the teacher", HEARS_SUPERVISOR, 30).await;
    }
    assert_eq!(
        eval(
            teacher,
            "return !document.getElementById('mute').hidden && document.getElementById('speak').hidden;"
        )
        .await,
        true,
        "after Speak the teacher has Mute instead"
    );
    // The teacher ends the call for everyone.
    teacher
        .execute("window.confirm = () => true; return true;", vec![])
        .await
        .unwrap();
    click(teacher, Locator::Id("end")).await;
    for page in [mentee, mentor] {
        wait_for_text(page, "#status", "A teacher ended the call.").await;
    }
    let events = app.store.attendance_events(session.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "ended" && e.user_id == world.teacher_a.id)
    );
    for page in pages {
        let _ = page.close().await;
    }
}
