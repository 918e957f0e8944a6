//! Coordinators' pins and forbids for a partnership's pairs.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::supersede_open_in_tx;
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::matching::{MatchRule, RuleChoice, RuleInput, RuleKind};
use crate::on_pool;
use crate::on_tx;
use crate::people::accounts::StudentKind;
use crate::people::partnerships::Partnership;
use crate::store::{Constraint, Store};

#[derive(sqlx::FromRow)]
struct RuleRow {
    mentee_id: Uuid,
    mentor_id: Uuid,
    kind: String,
    set_by: Uuid,
    set_at: DateTime<Utc>,
}

impl Store {
    /// A partnership's pinned and forbidden pairs.
    pub async fn match_rules(&self, partnership: Uuid) -> Result<Vec<MatchRule>> {
        let rows: Vec<RuleRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT mentee_id, mentor_id, kind, set_by, set_at FROM match_rules WHERE partnership_id = $1 ORDER BY set_at"
        )
        .bind(partnership)
        .fetch_all(pool)
        .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(MatchRule {
                    mentee_id: r.mentee_id,
                    mentor_id: r.mentor_id,
                    kind: r.kind.parse()?,
                    set_by: r.set_by,
                    set_at: r.set_at,
                })
            })
            .collect()
    }

    /// Pins, forbids or clears a pair. The mentee must be a mentee at one
    /// school of the partnership and the mentor a mentor at the other; a
    /// new pin replaces the mentee's old one.
    pub async fn set_match_rule(
        &self,
        partnership: &Partnership,
        input: &RuleInput,
        actor: &Actor,
    ) -> Result<()> {
        self.check_rule_pair(partnership, input).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "DELETE FROM match_rules WHERE partnership_id = $1 AND mentee_id = $2 AND (mentor_id = $3 OR kind = $4)"
        )
        .bind(partnership.id)
        .bind(input.mentee_id)
        .bind(input.mentor_id)
        .bind(if input.kind == RuleChoice::Pin {
            RuleKind::Pin.as_str()
        } else {
            ""
        })
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        // A proposal made under the old rules must not be approved under
        // the new ones.
        supersede_open_in_tx(&mut tx, partnership.id).await?;
        if let Some(kind) = input.kind.kind() {
            let inserted = on_tx!(&mut tx, |conn| {
                sqlx::query(
                "INSERT INTO match_rules (partnership_id, mentee_id, mentor_id, kind, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(partnership.id)
            .bind(input.mentee_id)
            .bind(input.mentor_id)
            .bind(kind.as_str())
            .bind(actor.user.id)
            .bind(Utc::now())
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            });
            match inserted {
                // Another pin for this mentee landed first.
                Err(e)
                    if matches!(
                        Constraint::of(&e),
                        Some(Constraint::MatchRuleOnePin | Constraint::MatchRule)
                    ) =>
                {
                    return Err(Error::conflict(
                        "mentee_id",
                        "someone else pinned this mentee at the same moment; reload and try again",
                    ));
                }
                other => other?,
            };
        }
        tx.commit().await?;
        Ok(())
    }

    /// The mentee is a mentee at one school of the partnership, and the
    /// mentor a mentor at the other.
    async fn check_rule_pair(&self, partnership: &Partnership, input: &RuleInput) -> Result<()> {
        let mentee = match self.user(input.mentee_id).await {
            Ok(u)
                if u.kind == Some(StudentKind::Mentee)
                    && u.school_id.is_some_and(|s| partnership.includes(s)) =>
            {
                u
            }
            Ok(_) | Err(Error::NotFound(_)) => {
                return Err(Error::invalid(
                    "mentee_id",
                    "not a mentee in this partnership",
                ));
            }
            Err(e) => return Err(e),
        };
        let mentee_school = mentee.school_id.unwrap_or_default();
        match self.user(input.mentor_id).await {
            Ok(u)
                if u.kind == Some(StudentKind::Mentor)
                    && u.school_id == Some(partnership.partner_of(mentee_school)) =>
            {
                Ok(())
            }
            Ok(_) | Err(Error::NotFound(_)) => Err(Error::invalid(
                "mentor_id",
                "not a mentor at the mentee's partner school",
            )),
            Err(e) => Err(e),
        }
    }
}
