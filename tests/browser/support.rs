//! What every browser test shares: chromedriver and Chromium at iPad size,
//! signing in, waiting for the page, and the form steps.

pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::time::Duration;

pub(crate) use fantoccini::{Client, ClientBuilder, Locator};
pub(crate) use mentorbridge::demo::{DEMO_PASSWORD, seed};
pub(crate) use mentorbridge_tests::{Backend, TestApp, skip, spawn_app};
pub(crate) use tokio::process::{Child, Command};

/// A running chromedriver, stopped when dropped together with every
/// browser it started, also when a test panics: a Chromium left running
/// with a fake camera slows every later test and benchmark on the machine.
pub(crate) struct Driver {
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

pub(crate) fn find_binary(var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(var) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

pub(crate) async fn start_driver() -> Option<(Driver, PathBuf)> {
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
    wait_until_answers(&url, "chromedriver").await;
    Some((
        Driver {
            child,
            url,
            _profile: tempfile::tempdir().unwrap(),
        },
        chromium,
    ))
}

/// Waits until the WebDriver at `url` answers on its status endpoint:
/// bounded (10 s), never an open-ended sleep.
pub(crate) async fn wait_until_answers(url: &str, what: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{url}/status")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not start within 10 s");
}

/// Chromium's window: an iPad in portrait (820 × 1180), or in landscape
/// with `MENTORBRIDGE_LANDSCAPE=1`, for screenshots of both.
fn window_size() -> String {
    match std::env::var("MENTORBRIDGE_LANDSCAPE").as_deref() {
        Ok("1") => "--window-size=1180,820".into(),
        _ => "--window-size=820,1180".into(),
    }
}

pub(crate) async fn open_browser(driver: &Driver, chromium: &Path) -> Client {
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
                "--disable-component-update", "--disable-sync", window_size(),
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
pub(crate) async fn call_browser_as(
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
                "--disable-component-update", "--disable-sync", window_size(),
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
pub(crate) async fn eval(browser: &Client, script: &str) -> serde_json::Value {
    browser.execute(script, vec![]).await.unwrap()
}

/// Calls run real video in every page: on two cores, one call test at a
/// time, so that a slow machine is not mistaken for a broken call.
pub(crate) static CALLS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits (up to `secs`) until `script` returns true in the page.
pub(crate) async fn wait_until(browser: &Client, what: &str, script: &str, secs: u64) {
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
pub(crate) const REMOTE_UFRAG_FN: &str = r#"
const ufrag = () => {
  const peer = [...window.__mentorbridge.peers.values()][0];
  const m = peer && peer.pc.remoteDescription && peer.pc.remoteDescription.sdp.match(/a=ice-ufrag:(\S+)/);
  return m ? m[1] : null;
};
"#;

/// Whether audio packets from the supervisor are arriving (the check
/// starts a `getStats` and reads the last one's answer).
pub(crate) const HEARS_SUPERVISOR: &str = r#"
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
pub(crate) const DECODING: &str = r#"
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

pub(crate) async fn text_of(browser: &Client, css: &str) -> String {
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
pub(crate) async fn save_screenshot(browser: &Client, name: &str) {
    if let Ok(dir) = std::env::var("MENTORBRIDGE_SCREENSHOTS") {
        let png = browser.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// Waits until an element matching `css` holds `needle`: after a click the
/// old page can still be showing, so finding the element is not enough.
pub(crate) async fn wait_for_text(browser: &Client, css: &str, needle: &str) -> String {
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

pub(crate) async fn sign_in(browser: &Client, app: &TestApp, username: &str, password: &str) {
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

/// A file shipped with the demo, by absolute path (for the file input).
pub(crate) fn demo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/demo")
        .join(name);
    path.canonicalize().unwrap().display().to_string()
}

pub(crate) async fn upload(browser: &Client, input: &str, button: &str, path: &str, expect: &str) {
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

/// Clicks what `locator` finds. After a form is sent, the page that
/// answered the one before can still be showing (with the same notice), so
/// the element found may be replaced before the click lands: then it is
/// found again on the new page.
pub(crate) async fn click(browser: &Client, locator: Locator<'_>) {
    for _ in 0..5 {
        let element = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("nothing to click ({e})"));
        match element.click().await {
            Err(e) if e.is_stale_element_reference() => continue,
            done => return done.unwrap(),
        }
    }
    panic!("what was to be clicked kept being replaced");
}

pub(crate) async fn fill(scope: &fantoccini::elements::Element, css: &str, text: &str) {
    let input = scope.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Date inputs take their value in the browser's locale when typed; setting
/// it directly is what a date picker does.
pub(crate) async fn set_date(browser: &Client, css: &str, date: &str) {
    browser
        .execute(
            "document.querySelectorAll(arguments[0]).forEach(e => e.value = arguments[1]);",
            vec![css.into(), date.into()],
        )
        .await
        .unwrap();
}

pub(crate) async fn sign_out(browser: &Client) {
    click(browser, Locator::Css("form.signout button")).await;
    wait_for_text(browser, ".notice", "signed out").await;
}

pub(crate) async fn import_roster(
    browser: &Client,
    app: &TestApp,
    dir: &Path,
    name: &str,
    csv: &str,
) {
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

/// Opens the session card at `card` (an XPath), types `reason` into the
/// field `input` names, and presses the card's `button`.
pub(crate) async fn act_on_session(
    browser: &Client,
    card: &str,
    input: &str,
    reason: &str,
    button: &str,
) {
    click(browser, Locator::XPath(&format!("{card}//summary"))).await;
    let found = browser.find(Locator::XPath(card)).await.unwrap();
    fill(&found, input, reason).await;
    click(
        browser,
        Locator::XPath(&format!("{card}//button[. = '{button}']")),
    )
    .await;
}
