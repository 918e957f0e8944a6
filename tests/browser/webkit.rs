//! Safari's engine, where it runs here: Debian's WebKitGTK (MiniBrowser,
//! driven by WebKitWebDriver, in an Xvfb display of its own). It has no
//! WebRTC, so no video; but signing in, the pages, the camera (its mock
//! capture devices), the call page's waiting screen, chat and resuming a
//! dropped socket all run in it, as they must on a school iPad's Safari.

use super::support::*;

/// WebKitWebDriver, and the display it draws in, stopped when dropped.
struct WebKit {
    driver: Child,
    xvfb: Option<Child>,
    url: String,
    browser: PathBuf,
}

impl Drop for WebKit {
    fn drop(&mut self) {
        for child in [Some(&mut self.driver), self.xvfb.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }
}

async fn start_webkit() -> Option<WebKit> {
    let Some(driver) = find_binary("WEBKIT_WEBDRIVER", &["/usr/bin/WebKitWebDriver"]) else {
        skip(
            "the WebKit test needs WebKitWebDriver (Debian: webkit2gtk-driver)",
            "WEBKIT_WEBDRIVER",
        );
        return None;
    };
    let Some(browser) = find_binary(
        "MINIBROWSER",
        &[
            "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
            "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser",
        ],
    ) else {
        skip(
            "the WebKit test needs MiniBrowser (Debian: webkit2gtk-driver)",
            "MINIBROWSER",
        );
        return None;
    };
    // A display of its own: Xvfb on the first free number from 90.
    let (display, xvfb) = match std::env::var("WEBKIT_DISPLAY") {
        Ok(d) => (d, None),
        Err(_) => {
            let Some(xvfb) = find_binary("XVFB", &["/usr/bin/Xvfb"]) else {
                skip("the WebKit test needs Xvfb (Debian: xvfb)", "XVFB");
                return None;
            };
            let n = (90..190)
                .find(|n| {
                    !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                        && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                })
                .expect("a free display number");
            let child = Command::new(xvfb)
                .args([
                    format!(":{n}"),
                    "-screen".into(),
                    "0".into(),
                    "1280x1024x24".into(),
                    "-nolisten".into(),
                    "tcp".into(),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .expect("Xvfb starts");
            for _ in 0..100 {
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (format!(":{n}"), Some(child))
        }
    };
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .env("DISPLAY", &display)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let url = format!("http://127.0.0.1:{port}");
    wait_until_answers(&url, "WebKitWebDriver").await;
    Some(WebKit {
        driver: child,
        xvfb,
        url,
        browser,
    })
}

async fn open_webkit(webkit: &WebKit) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let caps = serde_json::json!({
        "webkitgtk:browserOptions": {
            "binary": webkit.browser.display().to_string(),
            "args": ["--automation", "--enable-mock-capture-devices"]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&webkit.url)
        .await
        .expect("WebKitWebDriver opens a session")
}

#[tokio::test]
async fn webkit_signs_in_and_waits_chats_and_resumes_in_a_call() {
    let Some(webkit) = start_webkit().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    // The default policy: students wait for a supervisor.
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let browser = open_webkit(&webkit).await;
    let _ = browser.set_window_size(820, 1180).await;

    sign_in(&browser, &app, "mentee.b", mentorbridge_tests::PASSWORD).await;
    // WebKitWebDriver answers the click before the form's navigation ends.
    wait_until(
        &browser,
        "signed in",
        "return location.pathname === '/home';",
        20,
    )
    .await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
        .goto(&format!("{}/account", app.base))
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "Your account").await;

    browser
        .goto(&format!("{}/sessions/{}/call", app.base, session.id))
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "Mentoring with").await;
    click(&browser, Locator::Id("join")).await;
    wait_until(
        &browser,
        "the waiting screen",
        "return !document.getElementById('waiting').hidden;",
        20,
    )
    .await;
    // The camera runs (WebKit's mock devices), and the page says plainly
    // that this browser shows no video.
    let camera = eval(
        &browser,
        "const v = document.getElementById('local'); return !!(v.srcObject && v.srcObject.getVideoTracks().length);",
    )
    .await;
    assert_eq!(camera, true, "the camera runs");
    let no_video = text_of(&browser, "#no-video").await;
    assert!(no_video.contains("cannot make video calls"), "{no_video}");
    save_screenshot(&browser, "webkit-waiting").await;

    // Chat goes through the server and comes back with its answer.
    fill(
        &browser.find(Locator::Id("chat-form")).await.unwrap(),
        "#chat-text",
        "hello?",
    )
    .await;
    browser
        .find(Locator::Css("#chat-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(
        &browser,
        "#chat-log",
        "when a supervising teacher has joined",
    )
    .await;

    // A dropped socket resumes its place.
    browser
        .execute("window.__mentorbridge.socket.close(); return true;", vec![])
        .await
        .unwrap();
    wait_until(
        &browser,
        "the socket resumes",
        "const s = window.__mentorbridge; return s.socket.readyState === 1 && document.getElementById('banner').hidden;",
        20,
    )
    .await;
    let events = app.store.attendance_events(session.id).await.unwrap();
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e.user_id == world.mentee_b.id)
        .map(|e| e.kind.as_str())
        .collect();
    assert!(
        mine.contains(&"resumed") && !mine.contains(&"left"),
        "{mine:?}"
    );
    let warnings = eval(&browser, "return window.__mentorbridge.warnings;").await;
    let _ = browser.close().await;
    drop(webkit);
    assert!(
        warnings
            .as_array()
            .is_some_and(|w| w.iter().all(|w| !w.as_str().unwrap_or("").contains("page"))),
        "nothing failed unseen: {warnings}"
    );
}
