//! The `partnerships` table: proposing (or, from a script, recording an
//! agreed) partnership, accepting one, and finding a school's partnerships.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Partnership, PartnershipStatus};
use crate::error::{Error, Result};
use crate::on_pool;
use crate::store::{Constraint, Store};

#[derive(sqlx::FromRow)]
struct PartnershipRow {
    id: Uuid,
    school_low: Uuid,
    school_high: Uuid,
    proposed_by_school: Uuid,
    status: String,
    created_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
}

impl TryFrom<PartnershipRow> for Partnership {
    type Error = Error;

    fn try_from(r: PartnershipRow) -> Result<Self> {
        let status = r.status.parse()?;
        Ok(Partnership {
            id: r.id,
            school_low: r.school_low,
            school_high: r.school_high,
            proposed_by_school: r.proposed_by_school,
            status,
            created_at: r.created_at,
            accepted_at: r.accepted_at,
        })
    }
}

const COLUMNS: &str =
    "id, school_low, school_high, proposed_by_school, status, created_at, accepted_at";

impl Store {
    /// Proposes a partnership from `school` (by `user`) to `partner`.
    pub async fn propose_partnership(
        &self,
        school: Uuid,
        user: Uuid,
        partner: Uuid,
    ) -> Result<Partnership> {
        self.insert_partnership(school, Some(user), partner, PartnershipStatus::Proposed)
            .await
    }

    /// Records a partnership that both schools agreed outside mentorbridge
    /// (IT staff setting schools up by script): it starts accepted.
    pub async fn create_accepted_partnership(
        &self,
        school: Uuid,
        partner: Uuid,
    ) -> Result<Partnership> {
        self.insert_partnership(school, None, partner, PartnershipStatus::Accepted)
            .await
    }

    async fn insert_partnership(
        &self,
        school: Uuid,
        user: Option<Uuid>,
        partner: Uuid,
        status: PartnershipStatus,
    ) -> Result<Partnership> {
        if school == partner {
            return Err(Error::invalid(
                "partner_school",
                "a school cannot partner with itself; choose the other school",
            ));
        }
        match self.school(partner).await {
            Err(Error::NotFound(_)) => {
                return Err(Error::invalid("partner_school", "no school has that id"));
            }
            other => other?,
        };
        let (low, high) = if school < partner {
            (school, partner)
        } else {
            (partner, school)
        };
        let id = Uuid::new_v4();
        let now = Utc::now();
        let accepted_at = (status == PartnershipStatus::Accepted).then_some(now);
        let sql = "INSERT INTO partnerships (id, school_low, school_high, proposed_by_school, \
                   proposed_by_user, status, created_at, accepted_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(low)
            .bind(high)
            .bind(school)
            .bind(user)
            .bind(status.as_str())
            .bind(now)
            .bind(accepted_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|err| match Constraint::of(&err) {
            Some(Constraint::PartnershipPair) => Error::conflict(
                "partner_school",
                "these two schools already have a partnership (proposed or accepted)",
            ),
            _ => Error::Database(err),
        })?;
        self.partnership(id).await
    }

    /// Marks a proposed partnership accepted. The status check is in the
    /// statement itself so two coordinators clicking at once cannot both win.
    pub async fn accept_partnership(&self, id: Uuid, user: Uuid) -> Result<Partnership> {
        let sql = "UPDATE partnerships SET status = $1, accepted_by_user = $2, accepted_at = $3 \
                   WHERE id = $4 AND status = $5";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(PartnershipStatus::Accepted.as_str())
            .bind(user)
            .bind(Utc::now())
            .bind(id)
            .bind(PartnershipStatus::Proposed.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            self.partnership(id).await?;
            return Err(Error::conflict(
                "partnership",
                "this partnership has already been accepted",
            ));
        }
        self.partnership(id).await
    }

    pub async fn partnership(&self, id: Uuid) -> Result<Partnership> {
        let sql = format!("SELECT {COLUMNS} FROM partnerships WHERE id = $1");
        let row: Option<PartnershipRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("partnership"))?.try_into()
    }

    /// The partnerships a school is in, newest first.
    pub async fn partnerships_of(&self, school: Uuid) -> Result<Vec<Partnership>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM partnerships WHERE school_low = $1 OR school_high = $1 \
             ORDER BY created_at DESC"
        );
        let rows: Vec<PartnershipRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Partnership::try_from).collect()
    }
}
