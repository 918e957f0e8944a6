//! The sessions table: a session starts at sign-in, is looked up by its
//! token's hash on every request, and ends at sign-out or expiry.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Actor, IdleLimits, NewSession, SESSION_HOURS, random_token, token_hash};
use crate::error::{Error, Result};
use crate::store::{Store, Tx};
use crate::{on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: Uuid,
    csrf_token: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl Store {
    /// Starts a session for a user who has just proved who they are,
    /// ending after `idle` without a request.
    pub async fn create_session(&self, user_id: Uuid, idle: Duration) -> Result<NewSession> {
        let session = NewSession {
            token: random_token(),
            csrf_token: random_token(),
            expires_at: Utc::now() + idle.min(Duration::hours(SESSION_HOURS)),
        };
        // Sweep lapsed sessions as new ones begin, so the table stays small.
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1"
        )
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        let sql = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(token_hash(&session.token))
            .bind(user_id)
            .bind(&session.csrf_token)
            .bind(Utc::now())
            .bind(session.expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(session)
    }

    /// The actor a session token belongs to, if the session is live; a
    /// request keeps it alive for the person's idle limit more (up to
    /// [`SESSION_HOURS`] from sign-in). The new end is written when it has
    /// moved a minute (or a quarter of the limit), not on every request.
    pub async fn session_actor(&self, token: &str, idle: &IdleLimits) -> Result<Option<Actor>> {
        let sql = "SELECT user_id, csrf_token, created_at, expires_at FROM sessions WHERE token_hash = $1";
        let hash = token_hash(token);
        let row: Option<SessionRow> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(&hash)
            .fetch_optional(pool)
            .await)?;
        let now = Utc::now();
        let Some(row) = row.filter(|r| r.expires_at > now) else {
            return Ok(None);
        };
        let user = match self.user(row.user_id).await {
            Ok(user) if user.disabled_at.is_none() => user,
            Ok(_) | Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let limit = idle.of(user.role);
        let until = (now + limit).min(row.created_at + Duration::hours(SESSION_HOURS));
        if until - row.expires_at > Duration::minutes(1).min(limit / 4) {
            on_pool!(self, |pool| sqlx::query(
                "UPDATE sessions SET expires_at = $1 WHERE token_hash = $2"
            )
            .bind(until)
            .bind(&hash)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(Some(Actor {
            user,
            csrf_token: row.csrf_token,
        }))
    }

    /// Ends a session (sign-out), and sweeps away expired ones.
    pub async fn end_session(&self, token: &str) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2"
        )
        .bind(token_hash(token))
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Ends every session of one account, inside an open transaction: a new
/// password signs the account out everywhere, in the same step.
pub(crate) async fn end_sessions_of_in_tx(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
