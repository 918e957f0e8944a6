//! A school's declared iPads and supervisors (`school_capacity`), one row
//! per declaration, each in force from its date until the next.

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::calendar::capacity::{CapacityInput, CapacityPlan, Declared, check_capacity};
use crate::calendar::since_always;
use crate::error::{Error, Result};
use crate::people::accounts::Role;
use crate::store::Store;
use crate::{on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct CapacityRow {
    starts_on: NaiveDate,
    capacity: String,
}

impl Store {
    /// A school's declarations of iPads and supervisors, in date order.
    pub async fn school_capacity(&self, school: Uuid) -> Result<CapacityPlan> {
        let rows: Vec<CapacityRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT starts_on, capacity FROM school_capacity WHERE school_id = $1 ORDER BY starts_on"
        )
        .bind(school)
        .fetch_all(pool)
        .await
        })?;
        let declared = rows
            .into_iter()
            .map(|r| {
                Ok(Declared {
                    from: r.starts_on,
                    capacity: serde_json::from_str(&r.capacity)
                        .map_err(|e| Error::internal_from("stored capacity is unreadable", e))?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(CapacityPlan { declared })
    }

    /// Stores one declaration, replacing any other from the same date.
    pub async fn put_school_capacity(&self, school: Uuid, declared: &Declared) -> Result<()> {
        let json = serde_json::to_string(&declared.capacity)
            .map_err(|e| Error::internal_from("capacity does not serialise", e))?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM school_capacity WHERE school_id = $1 AND starts_on = $2"
        )
        .bind(school)
        .bind(declared.from)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO school_capacity (school_id, starts_on, capacity, updated_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(school)
        .bind(declared.from)
        .bind(&json)
        .bind(Utc::now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes back the declaration from `from`; the one before it holds on.
    pub async fn delete_school_capacity(&self, school: Uuid, from: NaiveDate) -> Result<()> {
        let gone = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM school_capacity WHERE school_id = $1 AND starts_on = $2"
        )
        .bind(school)
        .bind(from)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if gone == 0 {
            return Err(Error::NotFound("declaration of iPads and supervisors"));
        }
        Ok(())
    }
}

/// Checks and stores a school's declaration: supervisors must be its staff
/// and periods its own. With no date it holds from the start.
pub async fn declare_capacity(
    store: &Store,
    school: Uuid,
    input: &CapacityInput,
) -> Result<Declared> {
    let found = store.school(school).await?;
    let staff = store
        .users_at_school(
            school,
            &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
        )
        .await?;
    let periods = store.school_calendar(school).await?.period_codes();
    check_capacity(&found, &input.capacity, &staff, &periods)?;
    let declared = Declared {
        from: input.from.unwrap_or_else(since_always),
        capacity: input.capacity.clone(),
    };
    store.put_school_capacity(school, &declared).await?;
    Ok(declared)
}
