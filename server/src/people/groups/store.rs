//! The `school_groups` and `school_group_members` tables: making a group,
//! inviting a school, a school agreeing or leaving, and reading them back.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Group, Membership};
use crate::error::{Error, Result};
use crate::on_pool;
use crate::store::{Constraint, Store};

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<GroupRow> for Group {
    fn from(r: GroupRow) -> Self {
        Group {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    group_id: Uuid,
    school_id: Uuid,
    invited_at: DateTime<Utc>,
    agreed_at: Option<DateTime<Utc>>,
}

impl From<MemberRow> for Membership {
    fn from(r: MemberRow) -> Self {
        Membership {
            group_id: r.group_id,
            school_id: r.school_id,
            invited_at: r.invited_at,
            agreed_at: r.agreed_at,
        }
    }
}

const MEMBER_COLUMNS: &str = "group_id, school_id, invited_at, agreed_at";

impl Store {
    /// Makes a group; a name another group has is a conflict on `name`.
    pub async fn create_group(&self, name: &str) -> Result<Group> {
        let id = Uuid::new_v4();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO school_groups (id, name, created_at) VALUES ($1, $2, $3)"
        )
        .bind(id)
        .bind(name)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(drop))
        .map_err(|err| match Constraint::of(&err) {
            Some(Constraint::GroupName) => {
                Error::conflict("name", format!("a group is already called `{name}`"))
            }
            _ => Error::Database(err),
        })?;
        self.group(id).await
    }

    pub async fn group(&self, id: Uuid) -> Result<Group> {
        let row: Option<GroupRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, created_at FROM school_groups WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.ok_or(Error::NotFound("group"))?.into())
    }

    /// Every group, by name.
    pub async fn list_groups(&self) -> Result<Vec<Group>> {
        let rows: Vec<GroupRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, created_at FROM school_groups ORDER BY name"
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(Group::from).collect())
    }

    /// Invites `school` into `group`; inviting it again changes nothing
    /// (an agreement already given stands).
    pub async fn invite_school(&self, group: Uuid, school: Uuid) -> Result<Membership> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO school_group_members (group_id, school_id, invited_at) \
             VALUES ($1, $2, $3) ON CONFLICT (group_id, school_id) DO NOTHING"
        )
        .bind(group)
        .bind(school)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(drop))?;
        self.membership(group, school)
            .await?
            .ok_or_else(|| Error::internal("an invitation just written is missing"))
    }

    /// Records that `school` agreed (by `user`) to join `group`. A school
    /// that was never invited cannot agree: that is a 404 for the group.
    pub async fn agree_to_group(
        &self,
        group: Uuid,
        school: Uuid,
        user: Uuid,
    ) -> Result<Membership> {
        let changed = on_pool!(self, |pool| sqlx::query(
            "UPDATE school_group_members SET agreed_at = $1, agreed_by = $2 \
             WHERE group_id = $3 AND school_id = $4 AND agreed_at IS NULL"
        )
        .bind(Utc::now())
        .bind(user)
        .bind(group)
        .bind(school)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        let membership = self
            .membership(group, school)
            .await?
            .ok_or(Error::NotFound("group"))?;
        if changed == 0 {
            tracing::debug!(%group, %school, "already agreed");
        }
        Ok(membership)
    }

    /// Takes `school` out of `group` (or turns down its invitation).
    pub async fn leave_group(&self, group: Uuid, school: Uuid) -> Result<()> {
        let gone = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM school_group_members WHERE group_id = $1 AND school_id = $2"
        )
        .bind(group)
        .bind(school)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if gone == 0 {
            return Err(Error::NotFound("group"));
        }
        Ok(())
    }

    async fn membership(&self, group: Uuid, school: Uuid) -> Result<Option<Membership>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM school_group_members \
             WHERE group_id = $1 AND school_id = $2"
        );
        let row: Option<MemberRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(group)
            .bind(school)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Membership::from))
    }

    /// A group's schools, invited or agreed.
    pub async fn group_memberships(&self, group: Uuid) -> Result<Vec<Membership>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM school_group_members WHERE group_id = $1 \
             ORDER BY invited_at"
        );
        let rows: Vec<MemberRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(group)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Membership::from).collect())
    }

    /// The groups a school is in or invited to.
    pub async fn memberships_of_school(&self, school: Uuid) -> Result<Vec<Membership>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM school_group_members WHERE school_id = $1 \
             ORDER BY invited_at"
        );
        let rows: Vec<MemberRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Membership::from).collect())
    }
}
