//! The sessions a mentor delivered, for certificates and reports: those
//! whose status is [`DELIVERED`](crate::booking::DELIVERED), read with the
//! same columns as every session, so that
//! [`delivered_minutes`](crate::booking::delivered_minutes) counts them.

use uuid::Uuid;

use super::{COLUMNS, Row};
use crate::booking::{DELIVERED, Session};
use crate::error::Result;
use crate::on_pool;
use crate::store::Store;

impl Store {
    /// Every session `mentor` delivered as the mentor, earliest first.
    /// (A mentor is a student in a few dozen sessions a year at most, so
    /// the whole history is one small read.)
    pub async fn delivered_by_mentor(&self, mentor: Uuid) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mentoring_sessions WHERE mentor_id = $1 AND status = $2 \
             ORDER BY starts_at, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(mentor)
            .bind(DELIVERED.as_str())
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Session::try_from).collect()
    }
}
