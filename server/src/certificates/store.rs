//! The `certificates` table: each certificate as issued, its figures in
//! columns (for counting) and the whole of what it printed as JSON (what
//! the PDF and the verification page are drawn from).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Certificate, Printed, VerificationCode};
use crate::error::{Error, Result};
use crate::on_pool;
use crate::store::Store;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    code: String,
    mentor_id: Uuid,
    school_id: Uuid,
    signed_by: Uuid,
    issued_at: DateTime<Utc>,
    printed: String,
}

const COLUMNS: &str = "id, code, mentor_id, school_id, signed_by, issued_at, printed";

impl TryFrom<Row> for Certificate {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Certificate {
            id: r.id,
            code: VerificationCode::parse(&r.code)
                .ok_or_else(|| Error::internal(format!("stored certificate code `{}`", r.code)))?,
            mentor_id: r.mentor_id,
            school_id: r.school_id,
            signed_by: r.signed_by,
            issued_at: r.issued_at,
            printed: serde_json::from_str::<Printed>(&r.printed)
                .map_err(|e| Error::internal_from("a stored certificate", e))?,
        })
    }
}

/// Whether `err` is the code's unique constraint refusing a duplicate.
fn code_taken(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

impl Store {
    /// Keeps `certificate`. Should its random code already be taken (one
    /// chance in 2^80 per certificate), it is given another.
    pub async fn insert_certificate(&self, certificate: &mut Certificate) -> Result<()> {
        let printed = serde_json::to_string(&certificate.printed)
            .map_err(|e| Error::internal_from("writing a certificate", e))?;
        let p = &certificate.printed;
        let sessions = i32::try_from(p.sessions).unwrap_or(i32::MAX);
        let minutes = i32::try_from(p.minutes).unwrap_or(i32::MAX);
        let (first, last): (NaiveDate, NaiveDate) = (p.first_date, p.last_date);
        for _ in 0..3 {
            let inserted = on_pool!(self, |pool| {
                sqlx::query(
                "INSERT INTO certificates (id, code, mentor_id, school_id, signed_by, issued_at, \
                 sessions, minutes, first_date, last_date, printed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            )
            .bind(certificate.id)
            .bind(certificate.code.as_str())
            .bind(certificate.mentor_id)
            .bind(certificate.school_id)
            .bind(certificate.signed_by)
            .bind(certificate.issued_at)
            .bind(sessions)
            .bind(minutes)
            .bind(first)
            .bind(last)
            .bind(&printed)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            });
            match inserted {
                Ok(_) => return Ok(()),
                Err(e) if code_taken(&e) => certificate.code = VerificationCode::generate(),
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal(
            "no free certificate code after three tries",
        ))
    }

    /// The certificate with this code, if one was issued.
    pub async fn certificate_by_code(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<Certificate>> {
        let sql = format!("SELECT {COLUMNS} FROM certificates WHERE code = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(code.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(Certificate::try_from).transpose()
    }

    /// Every certificate issued to `mentor`, newest first.
    pub async fn certificates_of(&self, mentor: Uuid) -> Result<Vec<Certificate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificates WHERE mentor_id = $1 ORDER BY issued_at DESC, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(mentor)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Certificate::try_from).collect()
    }

    /// The newest certificate of each mentor of `school` who has one.
    pub async fn latest_certificates(&self, school: Uuid) -> Result<HashMap<Uuid, Certificate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificates WHERE school_id = $1 ORDER BY issued_at DESC, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .fetch_all(pool)
            .await)?;
        let mut latest = HashMap::new();
        for row in rows {
            let certificate = Certificate::try_from(row)?;
            latest.entry(certificate.mentor_id).or_insert(certificate);
        }
        Ok(latest)
    }
}
