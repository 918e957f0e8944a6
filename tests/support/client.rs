//! The HTTP client a test drives the app with: its own cookie jar, the
//! session's CSRF token sent as the pages and API expect, and every
//! response read whole into a [`Reply`].

use reqwest::StatusCode;
use serde_json::Value;

use crate::{PASSWORD, TestApp};

/// An HTTP client with its own cookie jar, and the CSRF token of its session.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `field` of an API error body.
    pub fn error_field(&self) -> Option<String> {
        self.json()["error"]["field"].as_str().map(str::to_owned)
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

async fn read(resp: reqwest::Response) -> Reply {
    Reply {
        status: resp.status(),
        headers: resp.headers().clone(),
        text: resp.text().await.unwrap(),
    }
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            csrf: None,
        }
    }

    fn with_csrf(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.csrf {
            Some(token) => req.header("x-csrf-token", token),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        read(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        let req = self.http.post(format!("{}{path}", self.base)).json(body);
        read(self.with_csrf(req).send().await.unwrap()).await
    }

    /// Posts a raw body with the JSON content type (for malformed input).
    pub async fn post_raw_json(&self, path: &str, body: &str) -> Reply {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        read(self.with_csrf(req).send().await.unwrap()).await
    }

    /// Sends a raw body (a CSV or iCalendar file) with PUT.
    pub async fn put_raw(&self, path: &str, content_type: &str, body: &str) -> Reply {
        let req = self
            .http
            .put(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body.to_owned());
        read(self.with_csrf(req).send().await.unwrap()).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Reply {
        let req = self.http.put(format!("{}{path}", self.base)).json(body);
        read(self.with_csrf(req).send().await.unwrap()).await
    }

    /// Uploads a file as a page's upload form does (token in the URL).
    pub async fn post_file(
        &self,
        path: &str,
        file_name: &str,
        text: &str,
        fields: &[(&str, &str)],
    ) -> Reply {
        self.post_files(path, "file", &[(file_name, text)], fields)
            .await
    }

    /// Uploads several files in one form field, as `<input multiple>` does.
    pub async fn post_files(
        &self,
        path: &str,
        field: &str,
        files: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Reply {
        let mut form = reqwest::multipart::Form::new();
        for (name, text) in files {
            form = form.part(
                field.to_owned(),
                reqwest::multipart::Part::text((*text).to_owned()).file_name((*name).to_owned()),
            );
        }
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        let csrf = self.csrf.clone().unwrap_or_default();
        let resp = self
            .http
            .post(format!("{}{path}?csrf={csrf}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        read(resp).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        let req = self.http.delete(format!("{}{path}", self.base));
        read(self.with_csrf(req).send().await.unwrap()).await
    }

    /// Posts a form, adding the CSRF field unless `fields` already has one.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(token) = &self.csrf
            && !fields.iter().any(|(k, _)| k == "csrf")
        {
            fields.push(("csrf".into(), token.clone()));
        }
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&fields)
            .send()
            .await
            .unwrap();
        read(resp).await
    }

    /// Signs in through the API and keeps the session's CSRF token.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Reply {
        let reply = self
            .post_json(
                "/api/session",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        if reply.status == StatusCode::OK {
            self.csrf = reply.json()["csrf_token"].as_str().map(str::to_owned);
        }
        reply
    }

    /// Loads the sign-in page and keeps its form token (for anonymous forms).
    pub async fn load_sign_in_form(&mut self) {
        let page = self.get("/login").await;
        let marker = "name=\"csrf\" value=\"";
        let start = page
            .text
            .find(marker)
            .expect("sign-in form has a csrf field")
            + marker.len();
        let end = start + page.text[start..].find('"').unwrap();
        self.csrf = Some(page.text[start..end].to_owned());
    }
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client signed in as `username` (with [`PASSWORD`]).
    pub async fn signed_in(&self, username: &str) -> Client {
        let mut client = self.client();
        let reply = client.sign_in(username, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "sign in as {username}: {}",
            reply.text
        );
        client
    }
}

/// A complete SDP offer for one data channel, as a browser sends it to the
/// pre-call check (its ICE details need not lead anywhere: answering it
/// does not need a connection).
pub const DATA_CHANNEL_OFFER: &str = "v=0\r\n\
o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=msid-semantic: WMS\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host\r\n\
a=ice-ufrag:mbtq\r\n\
a=ice-pwd:mentorbridgetestpassword\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";
