//! The server under test: [`spawn_app`] starts the real app on
//! `127.0.0.1:0` over a fresh database (a temporary SQLite file, or a
//! uniquely named PostgreSQL database when `MENTORBRIDGE_TEST_POSTGRES`
//! names a server), and [`on_both_backends!`](crate::on_both_backends) runs
//! one test function on each. A test whose dependency is missing calls
//! [`skip`].

use std::net::SocketAddr;

use mentorbridge::app::{self, run};
use mentorbridge::config::Settings;
use mentorbridge::state::AppState;
use mentorbridge::store::Store;
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
    server: Option<tokio::task::JoinHandle<()>>,
    _db: FreshDatabase,
}

impl TestApp {
    /// Stops the server as SIGTERM does, and waits until it has stopped.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server stops cleanly");
        }
    }

    /// Runs one SQL statement on the app's database as it is, for a test
    /// that must set up data no route can make (rows from before a rule).
    pub async fn execute_sql(&self, sql: &str) {
        match &self.store {
            Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
            Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A database no other test uses, not yet migrated.
pub struct FreshDatabase {
    pub url: String,
    /// Holds a SQLite file's folder until the test ends.
    _dir: Option<tempfile::TempDir>,
}

impl FreshDatabase {
    /// A new one on `backend`, or `None` (after [`skip`]) when PostgreSQL
    /// is not available here.
    pub async fn new(backend: Backend) -> Option<FreshDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Some(FreshDatabase {
                    url,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => match std::env::var("MENTORBRIDGE_TEST_POSTGRES") {
                Ok(base) if !base.is_empty() => Some(FreshDatabase {
                    url: fresh_postgres(&base).await,
                    _dir: None,
                }),
                _ => {
                    skip(
                        "PostgreSQL tests need a server",
                        "MENTORBRIDGE_TEST_POSTGRES",
                    );
                    None
                }
            },
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
    let db = FreshDatabase::new(backend).await?;
    let store = Store::connect(&db.url)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate the test database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    let mut settings = Settings::for_database(&db.url);
    // Links point where this server listens, as `demo`'s do.
    settings.public_url = Some(format!("http://{addr}"));
    configure(&mut settings);
    app::install_crypto_provider();
    let (signalling, events) = app::start_signalling(&settings);
    let state = AppState::new(store.clone(), settings, signalling);
    let server = tokio::spawn(async move {
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
        server: Some(server),
        _db: db,
    })
}

/// Declares each listed `async fn name(backend: Backend)` as two tests,
/// `sqlite::name` and `postgres::name`, for tests that start the app
/// themselves (with adjusted settings).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::Backend::Postgres).await
            })*
        }
    };
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
