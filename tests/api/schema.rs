//! Migration parity: a fresh SQLite database and a fresh PostgreSQL database,
//! each migrated by its own `migrations/<backend>/` files, must end up with
//! the same tables, columns, nullability, primary keys, foreign keys,
//! unique constraints and indexes, so the two sets of migrations cannot
//! drift apart.
//!
//! Types are compared by family: SQLite has no uuid, date, time or
//! timestamp types, and stores those as BLOB (uuids) and TEXT (dates,
//! times and instants, see `mentorbridge::store`'s docs on ordering), so a
//! SQLite TEXT column matches a PostgreSQL text, date, time or timestamptz
//! one. Everything else must match exactly, or be listed in
//! [`EXPLAINED`] with the reason it differs.
//!
//! It lives in the api binary (not a binary of its own) to reuse the
//! harness's fresh databases and `skip` rule, and to spare the machine one
//! more test executable to link.

use std::collections::{BTreeMap, BTreeSet};

use mentorbridge::store::{Constraint, SqliteSignature, Store};
use mentorbridge_tests::{Backend, FreshDatabase};
use sqlx::{PgPool, SqlitePool};

/// Differences that are deliberate, as the report words them, each with
/// why. (How the schemas refuse overlapping claims, an exclusion
/// constraint against triggers, is not a table, column or key, and has its
/// own test below.)
const EXPLAINED: &[(&str, &str)] = &[(
    "session_claims: index session_claims_resource_idx (resource, starts_at) only on sqlite",
    "SQLite's overlap triggers look claims up by resource and time through it; on PostgreSQL \
     the exclusion constraint's GiST index on (resource, tstzrange) serves those lookups",
)];

/// What a column holds, with the dialects' legitimate differences folded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Uuid,
    Text,
    /// PostgreSQL timestamptz, date or time; SQLite keeps them as TEXT.
    Temporal,
    Int,
    Bool,
    Real,
    Other,
}

#[derive(Debug, PartialEq, Eq)]
struct Column {
    family: Family,
    /// The declared type, for the report.
    declared: String,
    nullable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    table: String,
    references: Vec<String>,
    on_delete: String,
}

/// A unique index or constraint other than the primary key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Unique {
    columns: Vec<String>,
    /// Whether it has a `WHERE` clause (the predicate's text differs
    /// between dialects, so only its presence is compared).
    partial: bool,
}

#[derive(Debug, Default)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    foreign_keys: BTreeSet<ForeignKey>,
    uniques: BTreeSet<Unique>,
    /// Other indexes, by name and columns.
    indexes: BTreeSet<(String, Vec<String>)>,
}

/// A migrated schema, and the names the code maps violations by.
#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    /// PostgreSQL: constraint and index names. SQLite: unique signatures
    /// (`table.a, table.b`) and trigger names.
    names: BTreeSet<String>,
}

fn cols(list: &str) -> Vec<String> {
    list.split(',').map(str::to_owned).collect()
}

async fn sqlite_schema(pool: &SqlitePool) -> Schema {
    let mut schema = Schema::default();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (name,) in tables {
        let table = sqlite_table(pool, &name, &mut schema.names).await;
        schema.tables.insert(name, table);
    }
    let triggers: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(pool)
            .await
            .unwrap();
    schema.names.extend(triggers.into_iter().map(|(n,)| n));
    schema
}

async fn sqlite_table(pool: &SqlitePool, name: &str, names: &mut BTreeSet<String>) -> Table {
    let mut table = Table::default();
    let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut pk: Vec<(i64, String)> = vec![];
    for (column, declared, not_null, pk_position) in &columns {
        // `INTEGER PRIMARY KEY` is the rowid: never NULL, though SQLite
        // does not mark it NOT NULL.
        let rowid = *pk_position == 1 && declared.eq_ignore_ascii_case("INTEGER");
        let family = match declared.to_ascii_uppercase().as_str() {
            "BLOB" => Family::Uuid,
            "TEXT" => Family::Text,
            "INTEGER" => Family::Int,
            "BOOLEAN" => Family::Bool,
            "REAL" => Family::Real,
            _ => Family::Other,
        };
        let nullable = *not_null == 0 && !rowid;
        let declared = declared.clone();
        table.columns.insert(
            column.clone(),
            Column {
                family,
                declared,
                nullable,
            },
        );
        if *pk_position > 0 {
            pk.push((*pk_position, column.clone()));
        }
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
    if !table.primary_key.is_empty() {
        names.insert(signature(name, &table.primary_key));
    }
    table.foreign_keys = sqlite_foreign_keys(pool, name).await;
    sqlite_indexes(pool, name, names, &mut table).await;
    table
}

async fn sqlite_foreign_keys(pool: &SqlitePool, name: &str) -> BTreeSet<ForeignKey> {
    let keys: Vec<(i64, i64, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, seq, \"table\", \"from\", \"to\", on_delete \
         FROM pragma_foreign_key_list($1) ORDER BY id, seq",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut by_id: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    for (id, _, target, from, to, on_delete) in keys {
        let key = by_id.entry(id).or_insert_with(|| ForeignKey {
            columns: vec![],
            table: target.clone(),
            references: vec![],
            on_delete,
        });
        key.columns.push(from);
        // A bare `REFERENCES t` names t's primary key; every key here names
        // its column, so "(its primary key)" in a report means drift.
        key.references
            .push(to.unwrap_or_else(|| "(its primary key)".into()));
    }
    by_id.into_values().collect()
}

/// Unique indexes other than the primary key (their signatures go in
/// `names` too), and the other indexes.
async fn sqlite_indexes(
    pool: &SqlitePool,
    name: &str,
    names: &mut BTreeSet<String>,
    table: &mut Table,
) {
    let indexes: Vec<(String, i64, String, i64)> =
        sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
            .bind(name)
            .fetch_all(pool)
            .await
            .unwrap();
    for (index, unique, origin, partial) in indexes {
        if origin == "pk" {
            continue;
        }
        let columns: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&index)
                .fetch_all(pool)
                .await
                .unwrap();
        let columns: Vec<String> = columns.into_iter().map(|(c,)| c).collect();
        if unique == 0 {
            table.indexes.insert((index, columns));
            continue;
        }
        names.insert(signature(name, &columns));
        table.uniques.insert(Unique {
            columns,
            partial: partial != 0,
        });
    }
}

/// How SQLite names a unique index's columns in its errors.
fn signature(table: &str, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{table}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns of an index or constraint, in order, as `a,b` (`$keys` is
/// an int2 array of attribute numbers of the relation `$rel`).
macro_rules! pg_columns {
    ($keys:literal, $rel:literal) => {
        concat!(
            "array_to_string(ARRAY(SELECT a.attname::text FROM unnest(",
            $keys,
            ") WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = ",
            $rel,
            " AND a.attnum = k.n ORDER BY k.i), ',')"
        )
    };
}

async fn postgres_schema(pool: &PgPool) -> Schema {
    let mut schema = Schema::default();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, column, declared, nullable) in columns {
        let family = match declared.as_str() {
            "uuid" => Family::Uuid,
            "text" | "character varying" => Family::Text,
            "timestamp with time zone" | "date" | "time without time zone" => Family::Temporal,
            "integer" | "bigint" | "smallint" => Family::Int,
            "boolean" => Family::Bool,
            "real" | "double precision" => Family::Real,
            _ => Family::Other,
        };
        let column_info = Column {
            family,
            declared,
            nullable: nullable == "YES",
        };
        schema
            .tables
            .entry(table)
            .or_default()
            .columns
            .insert(column, column_info);
    }
    postgres_indexes(pool, &mut schema).await;
    postgres_foreign_keys(pool, &mut schema).await;
    let constraints: Vec<(String,)> = sqlx::query_as(
        "SELECT c.conname::text FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    schema.names.extend(constraints.into_iter().map(|(n,)| n));
    schema
}

/// Primary keys, unique indexes (every unique constraint has one) and
/// other indexes, except those behind an exclusion constraint.
async fn postgres_indexes(pool: &PgPool, schema: &mut Schema) {
    let sql = concat!(
        "SELECT t.relname::text, i.relname::text, ix.indisprimary, ix.indisunique, \
         ix.indpred IS NOT NULL, ",
        pg_columns!("ix.indkey::int2[]", "t.oid"),
        " FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations' AND NOT EXISTS \
           (SELECT 1 FROM pg_constraint x WHERE x.conindid = ix.indexrelid AND x.contype = 'x')"
    );
    let rows: Vec<(String, String, bool, bool, bool, String)> =
        sqlx::query_as(sql).fetch_all(pool).await.unwrap();
    for (table, index, primary, unique, partial, columns) in rows {
        let table = schema.tables.entry(table).or_default();
        if primary {
            table.primary_key = cols(&columns);
        } else if !unique {
            table.indexes.insert((index.clone(), cols(&columns)));
        } else {
            table.uniques.insert(Unique {
                columns: cols(&columns),
                partial,
            });
        }
        schema.names.insert(index);
    }
}

async fn postgres_foreign_keys(pool: &PgPool, schema: &mut Schema) {
    let sql = concat!(
        "SELECT t.relname::text, r.relname::text, ",
        pg_columns!("c.conkey", "c.conrelid"),
        ", ",
        pg_columns!("c.confkey", "c.confrelid"),
        ", CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
           WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = 'public'"
    );
    let rows: Vec<(String, String, String, String, String)> =
        sqlx::query_as(sql).fetch_all(pool).await.unwrap();
    for (table, target, columns, references, on_delete) in rows {
        schema
            .tables
            .entry(table)
            .or_default()
            .foreign_keys
            .insert(ForeignKey {
                columns: cols(&columns),
                table: target,
                references: cols(&references),
                on_delete,
            });
    }
}

/// Every difference between the two schemas, one line each, by table and
/// column.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = vec![];
    for name in sqlite.tables.keys().chain(postgres.tables.keys()) {
        match (sqlite.tables.get(name), postgres.tables.get(name)) {
            (Some(s), Some(p)) => table_differences(name, s, p, &mut found),
            (Some(_), None) => found.push(format!("{name}: table only on sqlite")),
            (None, Some(_)) => found.push(format!("{name}: table only on postgres")),
            (None, None) => {}
        }
    }
    found.sort();
    found.dedup();
    found
}

fn table_differences(name: &str, s: &Table, p: &Table, found: &mut Vec<String>) {
    for column in s.columns.keys().chain(p.columns.keys()) {
        let at = format!("{name}.{column}");
        match (s.columns.get(column), p.columns.get(column)) {
            (Some(sc), Some(pc)) => {
                let text_for_time = sc.family == Family::Text && pc.family == Family::Temporal;
                if sc.family != pc.family && !text_for_time {
                    found.push(format!(
                        "{at}: type {} on sqlite, {} on postgres",
                        sc.declared, pc.declared
                    ));
                }
                if sc.nullable != pc.nullable {
                    let word = |n: bool| if n { "nullable" } else { "NOT NULL" };
                    found.push(format!(
                        "{at}: {} on sqlite, {} on postgres",
                        word(sc.nullable),
                        word(pc.nullable)
                    ));
                }
            }
            (Some(_), None) => found.push(format!("{at}: column only on sqlite")),
            (None, Some(_)) => found.push(format!("{at}: column only on postgres")),
            (None, None) => {}
        }
    }
    if s.primary_key != p.primary_key {
        found.push(format!(
            "{name}: primary key ({}) on sqlite, ({}) on postgres",
            s.primary_key.join(", "),
            p.primary_key.join(", ")
        ));
    }
    for key in s.foreign_keys.symmetric_difference(&p.foreign_keys) {
        let side = if s.foreign_keys.contains(key) {
            "sqlite"
        } else {
            "postgres"
        };
        found.push(format!(
            "{name}.{}: foreign key to {} ({}) ON DELETE {} only on {side}",
            key.columns.join(", "),
            key.table,
            key.references.join(", "),
            key.on_delete
        ));
    }
    for unique in s.uniques.symmetric_difference(&p.uniques) {
        let side = if s.uniques.contains(unique) {
            "sqlite"
        } else {
            "postgres"
        };
        let partial = if unique.partial { " (partial)" } else { "" };
        found.push(format!(
            "{name}: unique ({}){partial} only on {side}",
            unique.columns.join(", ")
        ));
    }
    for (index, columns) in s.indexes.symmetric_difference(&p.indexes) {
        let side = if s.indexes.contains(&(index.clone(), columns.clone())) {
            "sqlite"
        } else {
            "postgres"
        };
        found.push(format!(
            "{name}: index {index} ({}) only on {side}",
            columns.join(", ")
        ));
    }
}

/// Both schemas, freshly migrated, or `None` when PostgreSQL is not here.
async fn both_schemas() -> Option<(Schema, Schema)> {
    let sqlite_db = FreshDatabase::new(Backend::Sqlite).await?;
    let postgres_db = FreshDatabase::new(Backend::Postgres).await?;
    let sqlite = Store::connect(&sqlite_db.url).await.unwrap();
    let postgres = Store::connect(&postgres_db.url).await.unwrap();
    sqlite.migrate().await.unwrap();
    postgres.migrate().await.unwrap();
    let (Store::Sqlite(sqlite), Store::Postgres(postgres)) = (sqlite, postgres) else {
        panic!("each URL opens its own backend");
    };
    Some((
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    ))
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_columns_and_keys() {
    let Some((sqlite, postgres)) = both_schemas().await else {
        return;
    };
    assert!(
        sqlite.tables.len() > 20 && sqlite.tables.contains_key("session_claims"),
        "the SQLite schema was read: {:?}",
        sqlite.tables.keys()
    );
    let found = differences(&sqlite, &postgres);
    let unexplained: Vec<&String> = found
        .iter()
        .filter(|d| !EXPLAINED.iter().any(|(e, _)| e == d))
        .collect();
    let stale: Vec<&str> = EXPLAINED
        .iter()
        .map(|(e, _)| *e)
        .filter(|e| !found.iter().any(|d| d == e))
        .collect();
    let mut report = String::new();
    if !unexplained.is_empty() {
        report.push_str("the migrations have drifted apart (add a migration on the wrong side):");
        for d in &unexplained {
            report.push_str(&format!("\n  {d}"));
        }
    }
    if !stale.is_empty() {
        report.push_str("\nexplained differences no longer seen (remove them from EXPLAINED):");
        for e in &stale {
            report.push_str(&format!("\n  {e}"));
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// The one deliberate difference in how the schemas guard data: PostgreSQL
/// refuses overlapping claims with an exclusion constraint; SQLite has
/// none, and two triggers (insert and update) do the same job.
#[tokio::test]
async fn overlapping_claims_are_refused_by_an_exclusion_constraint_or_by_triggers() {
    let Some((sqlite, postgres)) = both_schemas().await else {
        return;
    };
    assert!(postgres.names.contains("session_claims_no_overlap"));
    for trigger in [
        "session_claims_no_overlap",
        "session_claims_no_overlap_update",
    ] {
        assert!(sqlite.names.contains(trigger), "SQLite trigger {trigger}");
    }
}

/// [`Constraint::of`] maps violations by name; every name it knows must
/// exist in the schema it is read from.
#[tokio::test]
async fn every_constraint_the_code_maps_exists_on_both_backends() {
    let Some((sqlite, postgres)) = both_schemas().await else {
        return;
    };
    let mut missing = vec![];
    for c in Constraint::ALL {
        if !postgres.names.contains(c.postgres_name()) {
            missing.push(format!("{c:?}: postgres has no {}", c.postgres_name()));
        }
        let (SqliteSignature::Unique(name) | SqliteSignature::Trigger(name)) = c.sqlite_signature();
        if !sqlite.names.contains(name) {
            missing.push(format!("{c:?}: sqlite has no {name}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
