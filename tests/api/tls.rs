//! `mentorbridge serve` terminating TLS itself.

use mentorbridge::config::TlsFiles;
use mentorbridge_tests::{Backend, PASSWORD, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn mentorbridge_serves_https_itself_with_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let files = TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
    };
    let app = spawn_app_with(Backend::Sqlite, |s| s.tls = Some(files))
        .await
        .unwrap();
    app.world().await;
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", app.addr)
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", app.addr.port());
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert_eq!(
        health.version(),
        reqwest::Version::HTTP_11,
        "HTTP/1.1, so websockets can upgrade"
    );
    let signed_in = client
        .post(format!("{base}/api/session"))
        .json(&json!({"username": "mentee.b", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::OK);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    // Plain http on the same port gets nowhere.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A wrong file is named.
    let missing = TlsFiles {
        cert: dir.path().join("nope.pem"),
        key,
    };
    let err = mentorbridge::tls::server_config(&missing).unwrap_err();
    assert!(
        err.contains("nope.pem") && err.contains("cannot read"),
        "{err}"
    );
    let swapped = TlsFiles {
        cert: cert.clone(),
        key: cert,
    };
    let err = mentorbridge::tls::server_config(&swapped).unwrap_err();
    assert!(
        err.contains("cert.pem") && err.contains("private key"),
        "{err}"
    );
}
