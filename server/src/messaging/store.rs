//! Messaging's SQL, on its own tables only (`messages`, `message_reads`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Message, NewMessage, Status};
use crate::error::{Error, Result};
use crate::store::{IN_LIST_MAX, Store, Tx, placeholders};
use crate::{on_pool, on_tx};

const COLUMNS: &str = "id, match_id, sender_id, session_id, text, shown, status, category, findings, sent_at, visible_at";

/// A search of the messages of some threads, for safeguarding leads.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub category: Option<String>,
    /// Only messages moderation stopped or found something in.
    pub flagged_only: bool,
}

impl Store {
    /// Stores a message (delivered, held or blocked, as moderation said).
    pub async fn post_message(&self, new: &NewMessage<'_>) -> Result<Message> {
        let shown = (new.status == Status::Delivered).then_some(new.text);
        let id: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
            "INSERT INTO messages (match_id, sender_id, session_id, text, shown, status, category, findings, sent_at, visible_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
        )
        .bind(new.match_id)
        .bind(new.sender_id)
        .bind(new.session_id)
        .bind(new.text)
        .bind(shown)
        .bind(new.status.as_str())
        .bind(new.category)
        .bind(&new.findings)
        .bind(new.sent_at)
        .bind(new.visible_at)
        .fetch_one(pool)
        .await
        })?;
        self.message(id).await
    }

    pub async fn message(&self, id: i64) -> Result<Message> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE id = $1");
        let row: Option<Message> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("message"))
    }

    /// A thread's messages, all of them, oldest first.
    pub async fn thread_messages(&self, match_id: Uuid) -> Result<Vec<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE match_id = $1 ORDER BY id");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(match_id)
            .fetch_all(pool)
            .await)?)
    }

    /// The messages of `threads` that match `search`, newest first (at
    /// most 500).
    pub async fn search_messages(&self, threads: &[Uuid], search: &Search) -> Result<Vec<Message>> {
        let mut found = Vec::new();
        for chunk in threads.chunks(IN_LIST_MAX) {
            let n = chunk.len();
            let mut sql = format!(
                "SELECT {COLUMNS} FROM messages WHERE match_id IN ({})",
                placeholders(1, n)
            );
            let mut next = n + 1;
            let mut clause = |sql: &mut String, text: &str| {
                sql.push_str(&text.replace('?', &format!("${next}")));
                next += 1;
            };
            if search.from.is_some() {
                clause(&mut sql, " AND sent_at >= ?");
            }
            if search.until.is_some() {
                clause(&mut sql, " AND sent_at < ?");
            }
            if search.category.is_some() {
                clause(&mut sql, " AND category = ?");
            }
            if search.flagged_only {
                sql.push_str(" AND (category IS NOT NULL OR findings <> '[]')");
            }
            sql.push_str(" ORDER BY id DESC LIMIT 500");
            let rows: Vec<Message> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                if let Some(from) = search.from {
                    q = q.bind(from);
                }
                if let Some(until) = search.until {
                    q = q.bind(until);
                }
                if let Some(category) = &search.category {
                    q = q.bind(category.as_str());
                }
                q.fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        found.sort_by_key(|m| std::cmp::Reverse(m.id));
        found.truncate(500);
        Ok(found)
    }

    /// The held messages of `threads`, oldest first: a review queue.
    pub async fn held_messages(&self, threads: &[Uuid]) -> Result<Vec<Message>> {
        let mut found = Vec::new();
        for chunk in threads.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT {COLUMNS} FROM messages WHERE status = $1 AND match_id IN ({}) ORDER BY id",
                placeholders(2, chunk.len())
            );
            let rows: Vec<Message> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(Status::Held.as_str());
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        found.sort_by_key(|m| m.id);
        Ok(found)
    }

    /// How many messages in `thread` `reader` has not read: the other
    /// student's, delivered and visible by `now`, after the last read.
    pub async fn unread_in(&self, thread: Uuid, reader: Uuid, now: DateTime<Utc>) -> Result<i64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages m WHERE m.match_id = $1 AND m.sender_id <> $2 \
             AND m.status = $3 AND m.visible_at <= $4 AND m.id > COALESCE( \
               (SELECT r.last_read_id FROM message_reads r WHERE r.match_id = $1 AND r.user_id = $2), 0)"
        )
        .bind(thread)
        .bind(reader)
        .bind(Status::Delivered.as_str())
        .bind(now)
        .fetch_one(pool)
        .await
        })?)
    }

    /// Marks `thread` read by `reader` up to message `last`.
    pub async fn mark_read(&self, thread: Uuid, reader: Uuid, last: i64) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO message_reads (match_id, user_id, last_read_id) VALUES ($1, $2, $3) \
             ON CONFLICT (match_id, user_id) DO UPDATE SET last_read_id = \
             CASE WHEN excluded.last_read_id > message_reads.last_read_id THEN excluded.last_read_id ELSE message_reads.last_read_id END"
        )
        .bind(thread)
        .bind(reader)
        .bind(last)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

/// Settles a held message inside the caller's transaction (a safeguarding
/// lead's decision): delivered from `now` showing `shown`, or rejected
/// (`shown` is `None`). Refused if it is no longer held.
pub(crate) async fn settle_held_in_tx(
    tx: &mut Tx,
    id: i64,
    shown: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let status = if shown.is_some() {
        Status::Delivered
    } else {
        Status::Rejected
    };
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
        "UPDATE messages SET status = $1, shown = $2, visible_at = $3 WHERE id = $4 AND status = $5"
    )
    .bind(status.as_str())
    .bind(shown)
    .bind(shown.map(|_| now))
    .bind(id)
    .bind(Status::Held.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    if changed == 0 {
        return Err(Error::conflict(
            "message",
            "this message has already been decided",
        ));
    }
    Ok(())
}
