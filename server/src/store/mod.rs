//! The database behind every domain module.
//!
//! mentorbridge runs on SQLite (the embedded default: one file, nothing to
//! install) and on PostgreSQL (production). Both drivers are compiled into the
//! one binary and [`Store::connect`] picks one from the URL scheme. The backends
//! are a closed enum rather than a type parameter so that handlers stay plain
//! functions; SQL is written once with `$1` placeholders (SQLite accepts them)
//! and [`on_pool!`](crate::on_pool) runs the same statement against whichever
//! pool is live. Each backend has its own migrations under
//! `migrations/<backend>/`, embedded in the binary and applied at start-up.
//!
//! Domain modules add their own `impl Store` blocks next to their types, so the
//! SQL for schools lives in `schools/`, and so on.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// Runs one expression against the live pool, whichever backend it is.
///
/// The body is compiled once per backend, so every bound value and decoded
/// row must work with both drivers; that is the check that keeps the SQL
/// portable.
#[macro_export]
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Runs one expression against the connection of an open [`Tx`].
///
/// `$conn` is a `&mut` connection, usable as a sqlx executor.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(transaction) => {
                let $conn = &mut **transaction;
                $body
            }
            $crate::store::Tx::Postgres(transaction) => {
                let $conn = &mut **transaction;
                $body
            }
        }
    };
}

/// An open transaction on either backend: writes made through it land
/// together on [`Tx::commit`], and are rolled back if it is dropped, so a
/// multi-row write is all-or-nothing.
#[derive(Debug)]
pub enum Tx {
    /// A SQLite transaction.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// A PostgreSQL transaction.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Makes every write in the transaction permanent.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded default: a SQLite file in WAL mode.
    Sqlite(SqlitePool),
    /// The production database.
    Postgres(PgPool),
}

/// Why the database could not be reached or prepared.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names neither `sqlite:` nor `postgres:`.
    #[error("the database URL must start with `sqlite:` or `postgres://` (it starts with `{0}:`)")]
    UnknownScheme(String),
    /// The driver refused the URL or the connection.
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("could not migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Store {
    /// Connects to the database the URL names (`sqlite:PATH` or
    /// `postgres://…`). A SQLite file is created if it does not exist.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::Connect)?
                .create_if_missing(true)
                // WAL lets the web server read while a write is in flight;
                // the busy timeout makes a second writer wait rather than fail.
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            Ok(Store::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            Ok(Store::Postgres(pool))
        } else {
            let scheme: String = url.chars().take_while(|c| *c != ':').take(16).collect();
            Err(StoreError::UnknownScheme(scheme))
        }
    }

    /// Applies every migration the database has not seen yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await,
            Store::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await,
        }
        .map_err(StoreError::Migrate)
    }

    /// Opens a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Checks that the database answers a trivial query (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Which backend this is, for logs and the start-up banner.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection (on shutdown, so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// The constraint a unique violation broke, if `err` is one.
///
/// PostgreSQL names the constraint; SQLite names the columns instead
/// (`UNIQUE constraint failed: users.username`), so callers match on either.
pub(crate) fn unique_violation(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => Some(
            db.constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned()),
        ),
        _ => None,
    }
}
