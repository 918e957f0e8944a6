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
//! SQL for schools lives in `schools/`, and so on. A constraint violation a
//! person can act on is read through [`Constraint::of`], by the
//! constraint's name on either backend.
//!
//! ## Instants on SQLite are text, and compared as text
//!
//! PostgreSQL stores instants as `TIMESTAMPTZ`. SQLite has no time type: a
//! bound `DateTime<Utc>` is stored as the text sqlx's chrono encoding writes,
//! `to_rfc3339_opts(SecondsFormat::AutoSi, false)`, e.g.
//! `2026-12-01T08:40:00+00:00`, or with `.123`, `.123456` or `.123456789`
//! when the instant has a fraction of a second (the fewest of those digits
//! that are exact, so each instant has one spelling). Every comparison on
//! such a column (`starts_at < $1`, `ORDER BY starts_at`, and the overlap
//! triggers on `session_claims` in `migrations/sqlite/0008_bookings.sql`,
//! which stand in for PostgreSQL's exclusion constraint) compares that text,
//! and is right only because every instant is written this one way: always
//! UTC (`+00:00`, never `Z` or another offset), `T` between date and time,
//! four-digit years. Differing lengths still sort right: `+` sorts before
//! `.` (a whole second before the same second with a fraction) and before
//! every digit (`.500+` before `.500001+`). So instants are
//! always bound as `DateTime<Utc>`, never as strings formatted by hand or
//! made by SQLite's `datetime()`/`CURRENT_TIMESTAMP` (which write a space,
//! not `T`). The test below checks the encoding and the ordering.

mod constraint;

pub use constraint::{Constraint, SqliteSignature};

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

/// Fetches `$row`s for a list of ids too long for one statement, a few
/// hundred at a time ([`IN_LIST_MAX`]): `$sql` holds `{in}` where the ids'
/// placeholders go, numbered after the leading `$bind`s, which every
/// chunk's statement binds first. The rows of all the chunks come back in
/// one `Result<Vec<$row>, sqlx::Error>`; adding up per-chunk sums is the
/// caller's business.
#[macro_export]
macro_rules! per_chunk {
    ($store:expr, $row:ty, $sql:expr, $ids:expr; $($bind:expr),* $(,)?) => {{
        let leading = <[&str]>::len(&[$(stringify!($bind)),*]);
        let mut out: Vec<$row> = Vec::new();
        let mut failed = None;
        for chunk in $ids.chunks($crate::store::IN_LIST_MAX) {
            let sql = $sql.replace("{in}", &$crate::store::placeholders(leading + 1, chunk.len()));
            let rows: Result<Vec<$row>, sqlx::Error> = $crate::on_pool!($store, |pool| {
                let q = sqlx::query_as(&sql);
                $(let q = q.bind($bind);)*
                let mut q = q;
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            });
            match rows {
                Ok(rows) => out.extend(rows),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }};
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
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
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
    /// The server named did not answer.
    #[error("could not connect to the database at {place}: {source}")]
    Unreachable {
        /// Where it was tried (host, port and database; no password).
        place: String,
        #[source]
        source: sqlx::Error,
    },
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
            let place = format!(
                "{}:{} (database `{}`, user `{}`)",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("postgres"),
                options.get_username()
            );
            // One connection first, so a wrong address is said at start-up,
            // within seconds, with the driver's reason and where it was tried.
            use sqlx::Connection;
            match tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::PgConnection::connect_with(&options),
            )
            .await
            {
                Ok(Ok(first)) => {
                    let _ = first.close().await;
                }
                Ok(Err(source)) => return Err(StoreError::Unreachable { place, source }),
                Err(_) => {
                    return Err(StoreError::Unreachable {
                        place,
                        source: sqlx::Error::PoolTimedOut,
                    });
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_lazy_with(options);
            Ok(Store::Postgres(pool))
        } else {
            let scheme: String = url.chars().take_while(|c| *c != ':').take(16).collect();
            Err(StoreError::UnknownScheme(scheme))
        }
    }

    /// Applies every migration the database has not seen yet.
    ///
    /// On SQLite, a migration that rebuilds a table (its first line
    /// `-- foreign-keys: off`, as 0019's rebuild of `users`) runs with
    /// foreign keys off, which sqlx's migrator cannot do (see
    /// [`sqlite_migrate`]).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool) => sqlite_migrate(pool).await,
            Store::Postgres(pool) => sqlx::migrate!("../migrations/postgres")
                .run(pool)
                .await
                .map_err(StoreError::Migrate),
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that read first and then
    /// tries to write, while another writer has committed, fails at once
    /// with "database is locked" whatever the busy timeout, where taking
    /// the lock up front makes it wait its turn. Transactions here are
    /// short and nearly all write, so both databases answer alike: a
    /// conflict the rules name, not a 500.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Checks that the database answers a trivial query within `within`
    /// (for `/readyz`: a load balancer wants its answer in a second, not
    /// after the pool's ten-second wait for a connection).
    pub async fn ping(&self, within: Duration) -> Result<(), sqlx::Error> {
        let ping = async {
            on_pool!(self, |pool| sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
        };
        tokio::time::timeout(within, ping)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
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

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The SQLite migrations numbered up to and including `.0`.
#[derive(Debug)]
struct SqliteUpTo(i64);

impl sqlx::migrate::MigrationSource<'static> for SqliteUpTo {
    fn resolve(
        self,
    ) -> futures_util::future::BoxFuture<
        'static,
        Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>,
    > {
        Box::pin(async move {
            Ok(SQLITE_MIGRATIONS
                .iter()
                .filter(|m| m.version <= self.0)
                .cloned()
                .collect())
        })
    }
}

/// The first line of a SQLite migration that must run with foreign keys
/// off: one that rebuilds a table others refer to (SQLite's twelve-step
/// table change), where `DROP TABLE` with foreign keys on is an implicit
/// `DELETE` that cascades into every child table.
const FOREIGN_KEYS_OFF: &str = "-- foreign-keys: off";

/// SQLite's migrations in order. sqlx (0.8) runs each one inside a
/// transaction, ignoring `-- no-transaction`, and inside a transaction
/// `PRAGMA foreign_keys = OFF` does nothing; so a migration marked with
/// [`FOREIGN_KEYS_OFF`] is applied here instead, once those before it
/// have run, and recorded in sqlx's own table as if sqlx had run it.
async fn sqlite_migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlite_migrate_up_to(pool, i64::MAX).await
}

/// SQLite's migrations up to and including `version`, as [`Store::migrate`]
/// applies them: a database as an older release left it, for tests that
/// upgrade one.
pub async fn sqlite_migrate_up_to(pool: &SqlitePool, version: i64) -> Result<(), StoreError> {
    for marked in SQLITE_MIGRATIONS
        .iter()
        .filter(|m| m.version <= version && m.sql.starts_with(FOREIGN_KEYS_OFF))
    {
        let mut before = sqlx::migrate::Migrator::new(SqliteUpTo(marked.version - 1))
            .await
            .map_err(StoreError::Migrate)?;
        // A database already past this one has migrations the list lacks.
        before.set_ignore_missing(true);
        before.run(pool).await.map_err(StoreError::Migrate)?;
        apply_without_foreign_keys(pool, marked)
            .await
            .map_err(|e| {
                StoreError::Migrate(sqlx::migrate::MigrateError::ExecuteMigration(
                    e,
                    marked.version,
                ))
            })?;
    }
    if version == i64::MAX {
        return SQLITE_MIGRATIONS
            .run(pool)
            .await
            .map_err(StoreError::Migrate);
    }
    let mut upto = sqlx::migrate::Migrator::new(SqliteUpTo(version))
        .await
        .map_err(StoreError::Migrate)?;
    upto.set_ignore_missing(true);
    upto.run(pool).await.map_err(StoreError::Migrate)
}

/// Applies one migration (unless it has been) on a connection with foreign
/// keys off, in one transaction that also records it in
/// `_sqlx_migrations`, with its checksum, so sqlx's own checks go on
/// working. `PRAGMA foreign_key_check` must find no reference broken
/// before it commits; foreign keys are on again whatever happened.
async fn apply_without_foreign_keys(
    pool: &SqlitePool,
    migration: &sqlx::migrate::Migration,
) -> Result<(), sqlx::Error> {
    use sqlx::{Acquire, Row};
    let mut conn = pool.acquire().await?;
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(&mut *conn)
            .await?;
    if applied.is_some() {
        return Ok(());
    }
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let done = async {
        let started = std::time::Instant::now();
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(&migration.sql).execute(&mut *tx).await?;
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *tx)
            .await?;
        if let Some(row) = broken.first() {
            let table: String = row.try_get(0)?;
            return Err(sqlx::Error::Protocol(format!(
                "migration {} would break {} references (the first in {table}); nothing was changed",
                migration.version,
                broken.len()
            )));
        }
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, $4)",
        )
        .bind(migration.version)
        .bind(&*migration.description)
        .bind(&*migration.checksum)
        .bind(i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
    .await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    done
}

/// How many values one `IN (…)` list carries: a page's worth of ids in one
/// statement, far below either backend's limit on bound parameters
/// (SQLite 32,766; PostgreSQL 65,535).
pub const IN_LIST_MAX: usize = 500;

/// The placeholders of an `IN (…)` list of `count` values numbered from
/// `first`: `placeholders(3, 2)` is `$3, $4`.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `CASE` that says which of `periods` half-open ranges `column` falls
/// in: `0` for the first, `1` for the next, and `-1` for none. Each period
/// binds two parameters, numbered from `first` (its start, then its end),
/// so one statement can count a whole year and each of its terms at once.
pub fn period_case(column: &str, first: usize, periods: usize) -> String {
    if periods == 0 {
        return "-1".to_owned();
    }
    let arms: String = (0..periods)
        .map(|n| {
            let from = first + 2 * n;
            format!(
                "WHEN {column} >= ${from} AND {column} < ${} THEN {n} ",
                from + 1
            )
        })
        .collect();
    format!("CASE {arms}ELSE -1 END")
}

/// Where a row counted with [`period_case`] belongs: the index of its
/// period, or `None` when it fell in none of them.
pub fn period_of(bucket: i32) -> Option<usize> {
    usize::try_from(bucket).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_period_case_numbers_each_range_and_leaves_the_rest_out() {
        assert_eq!(super::period_case("at", 3, 0), "-1");
        assert_eq!(
            super::period_case("at", 3, 2),
            "CASE WHEN at >= $3 AND at < $4 THEN 0 WHEN at >= $5 AND at < $6 THEN 1 ELSE -1 END"
        );
        assert_eq!(super::period_of(-1), None);
        assert_eq!(super::period_of(1), Some(1));
    }

    #[test]
    fn placeholders_number_an_in_list_from_where_it_starts() {
        assert_eq!(super::placeholders(1, 3), "$1, $2, $3");
        assert_eq!(super::placeholders(3, 1), "$3");
        assert_eq!(super::placeholders(1, 0), "");
    }

    use chrono::{DateTime, Duration, Utc};

    use super::Store;

    /// What the SQLite overlap triggers rely on: sqlx writes each instant as
    /// one fixed RFC 3339 UTC spelling, and text order is time order, with
    /// and without fractions of a second.
    #[tokio::test]
    async fn sqlite_orders_stored_instants_as_time_orders_them() {
        let Store::Sqlite(pool) = Store::connect("sqlite::memory:").await.expect("memory db")
        else {
            panic!("a sqlite: URL opens SQLite");
        };
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        let (text,): (String,) = sqlx::query_as("SELECT CAST($1 AS TEXT)")
            .bind(at("2026-12-01T08:40:00Z"))
            .fetch_one(&pool)
            .await
            .expect("encode");
        assert_eq!(text, "2026-12-01T08:40:00+00:00");
        let base = at("2026-12-01T08:40:00Z");
        let instants = [
            base,
            base + Duration::milliseconds(1),
            base + Duration::microseconds(1_001),
            base + Duration::nanoseconds(1_000_001),
            base + Duration::milliseconds(500),
            base + Duration::seconds(1),
            base + Duration::minutes(20),
            at("2027-01-01T00:00:00Z"),
        ];
        for a in instants {
            for b in instants {
                let (less,): (bool,) = sqlx::query_as("SELECT $1 < $2")
                    .bind(a)
                    .bind(b)
                    .fetch_one(&pool)
                    .await
                    .expect("compare");
                assert_eq!(less, a < b, "{a:?} < {b:?} as stored text");
            }
        }
    }
}
