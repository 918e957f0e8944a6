//! Shared helpers for the mentorbridge end-to-end tests.
//!
//! [`spawn_app`] starts the real server on `127.0.0.1:0` over a fresh
//! database — a temporary SQLite file, or a uniquely named PostgreSQL
//! database when `MENTORBRIDGE_TEST_POSTGRES` names a server — and returns a
//! [`TestApp`] with typed helpers. [`on_both_backends!`] turns one test
//! function into a SQLite test and a PostgreSQL test, so the same suite runs
//! on both. A test whose dependency is missing prints `SKIPPED: …`; with
//! `MENTORBRIDGE_TEST_REQUIRE_ALL=1` (as `.ci/run` sets) it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mentorbridge::app::{self, run};
use mentorbridge::config::Settings;
use mentorbridge::people::accounts::{ParsedAccount, StaffInput, StudentInput, User};
use mentorbridge::people::partnerships::Partnership;
use mentorbridge::people::schools::{NewSchool, School, SchoolInput};
use mentorbridge::state::AppState;
use mentorbridge::store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

/// The password every account made by the test helpers has.
pub const PASSWORD: &str = "kettle-otter-lantern";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Says a test cannot run here: fails under `.ci/run`, prints a notice otherwise.
pub fn skip(why: &str, var: &str) {
    if std::env::var("MENTORBRIDGE_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{why}, and MENTORBRIDGE_TEST_REQUIRE_ALL=1 forbids skipping (set {var})");
    }
    eprintln!("SKIPPED: {why} (set {var} to run)");
}

/// A running server over its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub store: Store,
    pub backend: Backend,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn fresh_postgres(base_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("mb_test_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach MENTORBRIDGE_TEST_POSTGRES={base_url}: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let (without_query, query) = match base_url.split_once('?') {
        Some((u, q)) => (u, format!("?{q}")),
        None => (base_url, String::new()),
    };
    let prefix = without_query
        .rsplit_once('/')
        .map_or(without_query, |(p, _)| p);
    format!("{prefix}/{name}{query}")
}

/// Starts the server over a fresh database, or `None` (after [`skip`]) when
/// the backend is not available here.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings adjusted first (e.g. a public https URL).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (url, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => match std::env::var("MENTORBRIDGE_TEST_POSTGRES") {
            Ok(base) if !base.is_empty() => (fresh_postgres(&base).await, None),
            _ => {
                skip(
                    "PostgreSQL tests need a server",
                    "MENTORBRIDGE_TEST_POSTGRES",
                );
                return None;
            }
        },
    };
    let store = Store::connect(&url)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate the test database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    let mut settings = Settings::for_database(&url);
    configure(&mut settings);
    app::install_crypto_provider();
    let (signalling, events) = app::start_signalling(&settings);
    let state = AppState::new(store.clone(), settings, signalling);
    tokio::spawn(async move {
        run(listener, state, events, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    Some(TestApp {
        addr,
        base: format!("http://{addr}"),
        store,
        backend,
        shutdown: Some(tx),
        _dir: dir,
    })
}

/// Declares each listed `async fn name(app: TestApp)` as two tests,
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = $crate::spawn_app($crate::Backend::Sqlite).await.expect("SQLite always runs");
                    super::$name(app).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(app) = $crate::spawn_app($crate::Backend::Postgres).await else { return };
                    super::$name(app).await
                }
            )*
        }
    };
}

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

/// The people and places most tests need: schools A and B in an accepted
/// partnership (proposed by A), and school C outside it.
pub struct World {
    pub a: School,
    pub b: School,
    pub c: School,
    pub partnership: Partnership,
    pub admin: User,
    pub coord_a: User,
    pub teacher_a: User,
    pub dsl_a: User,
    pub mentor_a: User,
    pub coord_b: User,
    pub mentee_b: User,
    pub coord_c: User,
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

    pub async fn add_school(&self, slug: &str, name: &str) -> School {
        self.add_school_in(slug, name, "Europe/London", "GB").await
    }

    /// A school in another time zone and country.
    pub async fn add_school_in(&self, slug: &str, name: &str, zone: &str, country: &str) -> School {
        let input = SchoolInput {
            slug: slug.into(),
            name: name.into(),
            time_zone: zone.into(),
            country: Some(country.into()),
            region: None,
        };
        self.store
            .create_school(&NewSchool::parse(&input).unwrap(), None)
            .await
            .unwrap()
    }

    pub async fn add_staff(&self, school: &School, username: &str, role: &str) -> User {
        let input = StaffInput {
            username: username.into(),
            password: PASSWORD.into(),
            given_name: format!("{username}-given"),
            family_name: format!("{username}-family"),
            role: role.into(),
            email: Some(format!("{username}@{}.example", school.slug)),
        };
        let user = ParsedAccount::staff(&input).unwrap().hash().await.unwrap();
        self.store
            .create_user(&user, Some(school.id))
            .await
            .unwrap()
    }

    pub async fn add_student(
        &self,
        school: &School,
        username: &str,
        kind: &str,
        year: i64,
    ) -> User {
        let input = StudentInput {
            username: username.into(),
            password: PASSWORD.into(),
            given_name: format!("{username}-given"),
            family_name: format!("{username}-family"),
            year_group: year,
            kind: kind.into(),
            subjects: vec!["Maths".into(), "English".into()],
        };
        let user = ParsedAccount::student(&input)
            .unwrap()
            .hash()
            .await
            .unwrap();
        self.store
            .create_user(&user, Some(school.id))
            .await
            .unwrap()
    }

    pub async fn add_admin(&self, username: &str) -> User {
        let user = ParsedAccount::admin(username, PASSWORD, "Admin")
            .unwrap()
            .hash()
            .await
            .unwrap();
        self.store.create_user(&user, None).await.unwrap()
    }

    /// Makes the world's partnership ready to match: both schools in term
    /// for years, registration every weekday, two iPads and a supervisor at
    /// each end; mentor.a offering Maths (GCSE), trained and cleared; and
    /// mentee.b referred for Maths, approved. Returns the referral's id.
    pub async fn ready_to_match(&self, world: &World) -> uuid::Uuid {
        self.calendars_for_matching(world).await;
        self.ready_pair(world).await
    }

    /// mentor.a ready for Maths, and mentee.b referred for Maths by a new
    /// teacher.b and approved. Returns the referral's id.
    pub async fn ready_pair(&self, world: &World) -> uuid::Uuid {
        self.ready_mentor(world, &world.mentor_a, "Maths").await;
        let teacher_b = self.add_staff(&world.b, "teacher.b", "teacher").await;
        self.approved_referral(world, &teacher_b, world.mentee_b.id, "Maths")
            .await
    }

    /// Schools A and B in term for years, with registration every weekday
    /// and the [`TestApp::matching_policy`].
    pub async fn calendars_for_matching(&self, world: &World) {
        self.calendars_with_registration(world, "08:40", "08:40")
            .await;
    }

    /// Schools A and B in term for years, registration every weekday for
    /// twenty minutes from `a_start` and `b_start` (local times), and the
    /// [`TestApp::matching_policy`].
    pub async fn calendars_with_registration(&self, world: &World, a_start: &str, b_start: &str) {
        use mentorbridge::calendar::store::{import_bells, import_term_dates};
        const TERMS: &str =
            "start_date,end_date,kind,label\n2026-01-05,2030-07-19,term,Long term\n";
        for (school, start) in [(&world.a, a_start), (&world.b, b_start)] {
            let time: chrono::NaiveTime = format!("{start}:00").parse().unwrap();
            let end = (time + chrono::Duration::minutes(20)).format("%H:%M");
            let bells: String = std::iter::once("week,day,period,start,end,kind\n".to_owned())
                .chain(
                    ["Mon", "Tue", "Wed", "Thu", "Fri"]
                        .iter()
                        .map(|d| format!("*,{d},REG,{start},{end},registration\n")),
                )
                .collect();
            import_term_dates(&self.store, school.id, "terms.csv", TERMS)
                .await
                .unwrap();
            import_bells(&self.store, school.id, "bells.csv", &bells, None)
                .await
                .unwrap();
        }
        self.matching_policy(world).await;
    }

    /// Runs the optimiser and has coord.a and coord.b approve its proposal
    /// (which books the series).
    pub async fn approve_as_both(&self, world: &World) {
        let proposal = self
            .store
            .run_matching(&world.partnership, None)
            .await
            .unwrap();
        for user in [&world.coord_a, &world.coord_b] {
            let actor = mentorbridge::auth::Actor {
                user: user.clone(),
                csrf_token: String::new(),
            };
            self.store
                .approve_proposal(&world.partnership, proposal.id, &actor)
                .await
                .unwrap();
        }
    }

    /// The [`TestApp::matching_policy`], but with both schools letting
    /// their students start a call before a supervisor joins.
    pub async fn calls_without_supervisor(&self, world: &World) {
        let input: mentorbridge::calendar::store::PolicyInput = serde_json::from_value(serde_json::json!({
            "session_minutes": 20,
            "schools": {
                "school-a": {"kinds": ["registration"], "devices": 2, "supervisors": ["teacher.a"], "require_supervisor": false},
                "school-b": {"kinds": ["registration"], "devices": 2, "supervisors": ["coord.b"], "require_supervisor": false}
            }
        }))
        .unwrap();
        let policy = mentorbridge::calendar::store::parse_policy(
            &self.store,
            &world.partnership,
            &input,
            None,
        )
        .await
        .unwrap();
        self.store
            .put_slot_policy(world.partnership.id, &policy)
            .await
            .unwrap();
    }

    /// A session of the world's approved match that starts two minutes from
    /// now (its room is open at once), for call and attendance tests. Any
    /// other live session of the pair within a day is cancelled, so this is
    /// the only one to join today.
    pub async fn session_now(&self, world: &World) -> mentorbridge::booking::Session {
        use chrono::{Duration, Utc};
        let record = self
            .store
            .partnership_matches(world.partnership.id)
            .await
            .unwrap()
            .remove(0);
        let today = Utc::now().date_naive();
        let mut slot = mentorbridge::calendar::store::partnership_slots(
            &self.store,
            &world.partnership,
            today,
            today + Duration::days(14),
        )
        .await
        .unwrap()
        .alignment
        .slots
        .remove(0);
        let start = Utc::now()
            .with_timezone(&Utc)
            .checked_add_signed(Duration::minutes(2))
            .unwrap();
        let start = chrono::DateTime::from_timestamp(start.timestamp(), 0).unwrap();
        slot.start_utc = start;
        slot.end_utc = start + Duration::minutes(20);
        // The test schools are in London; near enough for a label.
        for end in slot.schools.values_mut() {
            end.date = start.date_naive();
            end.start = start.time();
            end.end = (start + Duration::minutes(20)).time();
        }
        for s in self
            .store
            .sessions_of_student(
                record.mentee_id,
                start - Duration::hours(1),
                start + Duration::hours(1),
            )
            .await
            .unwrap()
        {
            if s.status.is_live() {
                self.store
                    .cancel_session(&s, "making room for a test call")
                    .await
                    .unwrap();
            }
        }
        self.store.book_session(&record, &slot).await.unwrap()
    }

    /// The slot policy [`TestApp::ready_to_match`] sets: registration at
    /// both schools, two iPads each, teacher.a and coord.b supervising.
    pub async fn matching_policy(&self, world: &World) {
        let input: mentorbridge::calendar::store::PolicyInput = serde_json::from_value(serde_json::json!({
            "session_minutes": 20,
            "schools": {
                "school-a": {"kinds": ["registration"], "devices": 2, "supervisors": ["teacher.a"]},
                "school-b": {"kinds": ["registration"], "devices": 2, "supervisors": ["coord.b"]}
            }
        }))
        .unwrap();
        let policy = mentorbridge::calendar::store::parse_policy(
            &self.store,
            &world.partnership,
            &input,
            None,
        )
        .await
        .unwrap();
        self.store
            .put_slot_policy(world.partnership.id, &policy)
            .await
            .unwrap();
    }

    /// Makes a mentor at school A ready: offering `subject` at GCSE, two
    /// mentees at once, free in registration every day, trained, cleared.
    pub async fn ready_mentor(&self, world: &World, mentor: &User, subject: &str) {
        use mentorbridge::people::mentors::{
            FreePeriod, Level, Offer, ProfileInput, TrainingInput,
        };
        let profile = ProfileInput {
            offers: vec![Offer {
                subject: subject.into(),
                level: Level::Gcse,
            }],
            capacity: 2,
            free_periods: ["Mon", "Tue", "Wed", "Thu", "Fri"]
                .iter()
                .map(|d| FreePeriod {
                    week: "*".into(),
                    day: (*d).into(),
                    period: "REG".into(),
                })
                .collect(),
        };
        self.store
            .set_mentor_profile(mentor.id, &profile)
            .await
            .unwrap();
        self.store
            .record_training(
                mentor.id,
                &TrainingInput {
                    course: "Peer mentoring".into(),
                    date: "2026-10-01".parse().unwrap(),
                },
            )
            .await
            .unwrap();
        let dsl = mentorbridge::auth::Actor {
            user: world.dsl_a.clone(),
            csrf_token: String::new(),
        };
        if self
            .store
            .mentor_profile(mentor.id)
            .await
            .unwrap()
            .cleared_by
            .is_none()
        {
            self.store.clear_mentor(mentor.id, &dsl).await.unwrap();
        }
    }

    /// Refers a mentee at school B for `focus` (by `referrer`, a teacher
    /// there) and has coord.b approve it. Returns the referral's id.
    pub async fn approved_referral(
        &self,
        world: &World,
        referrer: &User,
        mentee: uuid::Uuid,
        focus: &str,
    ) -> uuid::Uuid {
        use mentorbridge::people::referrals::{ConsentInput, ReferralInput, ReferralStatus};
        let actor = |user: &User| mentorbridge::auth::Actor {
            user: user.clone(),
            csrf_token: String::new(),
        };
        let input = ReferralInput {
            mentee_id: mentee,
            priority: 2,
            strengths: String::new(),
            concerns: vec![],
            reasons: "Struggling since the start of term".into(),
            focus: vec![focus.into()],
            support_received: String::new(),
            strategies_tried: String::new(),
            agencies: String::new(),
            consent: Some(ConsentInput {
                given_by: "Parent".into(),
                date: "2026-11-01".parse().unwrap(),
            }),
            entry_criteria_met: true,
            planned_weeks: 12,
            review_date: None,
        };
        let referral = self
            .store
            .create_referral(world.b.id, &actor(referrer), &input)
            .await
            .unwrap();
        let referral = self
            .store
            .set_referral_status(&referral, &actor(referrer), ReferralStatus::Submitted, None)
            .await
            .unwrap();
        self.store
            .set_referral_status(
                &referral,
                &actor(&world.coord_b),
                ReferralStatus::Approved,
                None,
            )
            .await
            .unwrap()
            .id
    }

    pub async fn world(&self) -> World {
        self.world_in("Europe/London", "GB").await
    }

    /// [`TestApp::world`] with school B in another zone and country.
    pub async fn world_in(&self, b_zone: &str, b_country: &str) -> World {
        let a = self.add_school("school-a", "School A").await;
        let b = self
            .add_school_in("school-b", "School B", b_zone, b_country)
            .await;
        let c = self.add_school("school-c", "School C").await;
        let partnership = self
            .store
            .create_accepted_partnership(a.id, b.id)
            .await
            .unwrap();
        World {
            admin: self.add_admin("admin").await,
            coord_a: self.add_staff(&a, "coord.a", "coordinator").await,
            teacher_a: self.add_staff(&a, "teacher.a", "teacher").await,
            dsl_a: self.add_staff(&a, "dsl.a", "safeguarding_lead").await,
            mentor_a: self.add_student(&a, "mentor.a", "mentor", 12).await,
            coord_b: self.add_staff(&b, "coord.b", "coordinator").await,
            mentee_b: self.add_student(&b, "mentee.b", "mentee", 8).await,
            coord_c: self.add_staff(&c, "coord.c", "coordinator").await,
            a,
            b,
            c,
            partnership,
        }
    }
}

/// One message as it reached [`SmtpServer`].
#[derive(Clone, Debug)]
pub struct Delivered {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message, as sent on the wire.
    pub data: Vec<u8>,
}

#[derive(Clone, Default)]
struct Keeper {
    inbox: Arc<Mutex<Vec<Delivered>>>,
    deferred: Arc<Mutex<std::collections::HashSet<String>>>,
    current: Option<Delivered>,
}

impl mailin_embedded::Handler for Keeper {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        // Addresses at refused.example do not exist (550); an address
        // starting "busy." is told to try later (451) the first time.
        if to.ends_with("@refused.example") {
            return mailin_embedded::response::NO_MAILBOX;
        }
        if to.starts_with("busy.") && self.deferred.lock().unwrap().insert(to.to_owned()) {
            return mailin_embedded::Response::custom(451, "Greylisted, try again later".into());
        }
        mailin_embedded::response::OK
    }

    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.current = Some(Delivered {
            from: from.to_owned(),
            to: to.to_vec(),
            data: Vec::new(),
        });
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(d) = self.current.as_mut() {
            d.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        if let Some(d) = self.current.take() {
            self.inbox.lock().unwrap().push(d);
        }
        mailin_embedded::response::OK
    }
}

/// A real SMTP server (mailin-embedded) on a loopback port, keeping every
/// message it accepts. It refuses mailboxes at `refused.example` and
/// greylists (451, once) addresses starting `busy.`.
pub struct SmtpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<Delivered>>>,
}

impl SmtpServer {
    /// Starts one on a free port (its threads live as long as the test).
    pub fn start() -> SmtpServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        SmtpServer::on(listener)
    }

    /// Starts one on `listener`.
    pub fn on(listener: std::net::TcpListener) -> SmtpServer {
        let addr = listener.local_addr().unwrap();
        let keeper = Keeper::default();
        let inbox = keeper.inbox.clone();
        let mut server = mailin_embedded::Server::new(keeper);
        server
            .with_name("mail.test.example")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpServer { addr, inbox }
    }

    /// The URL lettre connects with.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// What has arrived so far.
    pub fn inbox(&self) -> Vec<Delivered> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `done` holds of the inbox, and returns it.
    pub async fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&[Delivered]) -> bool,
    ) -> Vec<Delivered> {
        for _ in 0..200 {
            let inbox = self.inbox();
            if done(&inbox) {
                return inbox;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "waited 20 s for {what}; the inbox has {} messages",
            self.inbox().len()
        );
    }
}

/// Mail settings for tests: quick polls and retries.
pub fn quick_mail(smtp: &SmtpServer) -> mentorbridge::config::MailSettings {
    let mut mail = mentorbridge::config::MailSettings::new(
        &smtp.url(),
        "Mentoring scheme <mentoring@scheme.example>",
    );
    mail.poll = std::time::Duration::from_millis(100);
    mail.retry_base = std::time::Duration::from_millis(300);
    mail.max_attempts = 4;
    mail
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
