//! The `users` table (every account) and, for a password change, the
//! sign-in `sessions` it ends. Rosters write students through
//! `insert_user`, `update_rostered_student` and `set_student_ref`,
//! inside the one transaction an import runs in.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{NewUser, Role, StudentDetails, User, Username};
use crate::auth::password::PasswordHash;
use crate::error::{Error, Result};
use crate::store::{Constraint, IN_LIST_MAX, Store, Tx, placeholders};
use crate::{on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    school_id: Option<Uuid>,
    group_id: Option<Uuid>,
    username: String,
    role: String,
    given_name: String,
    family_name: String,
    year_group: Option<i32>,
    student_kind: Option<String>,
    subjects: String,
    created_at: DateTime<Utc>,
    student_ref: Option<String>,
    has_password: bool,
    email: Option<String>,
    disabled_at: Option<DateTime<Utc>>,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self> {
        Ok(User {
            id: row.id,
            school_id: row.school_id,
            group_id: row.group_id,
            username: row.username,
            role: row
                .role
                .parse::<Role>()
                .map_err(|_| Error::internal(format!("stored role `{}` is unknown", row.role)))?,
            given_name: row.given_name,
            family_name: row.family_name,
            year_group: row.year_group,
            kind: row
                .student_kind
                .as_deref()
                .map(str::parse::<super::StudentKind>)
                .transpose()
                .map_err(|_| Error::internal("stored student kind is unknown"))?,
            subjects: row
                .subjects
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: row.created_at,
            student_ref: row.student_ref,
            has_password: row.has_password,
            email: row.email,
            disabled_at: row.disabled_at,
        })
    }
}

// `'!'` is `PasswordHash::NONE`: a rostered account without a password yet.
const USER_COLUMNS: &str = "id, school_id, group_id, username, role, given_name, family_name, \
                            year_group, student_kind, subjects, created_at, student_ref, \
                            password_hash <> '!' AS has_password, email, disabled_at";

fn map_user_conflict(err: sqlx::Error, username: &Username) -> Error {
    match Constraint::of(&err) {
        Some(Constraint::UserUsername) => Error::conflict(
            "username",
            format!("the username `{}` is already taken", username.as_str()),
        ),
        _ => Error::Database(err),
    }
}

/// Everyone at the schools of two people, read inside an open transaction
/// (so what a booking's invites are addressed to is what the booking saw).
pub(crate) async fn at_schools_of_in_tx(tx: &mut Tx, a: Uuid, b: Uuid) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE school_id IN (SELECT school_id FROM users WHERE id = $1 OR id = $2)"
    );
    let rows: Vec<UserRow> = on_tx!(&mut *tx, |conn| sqlx::query_as(&sql)
        .bind(a)
        .bind(b)
        .fetch_all(conn)
        .await)?;
    rows.into_iter().map(User::try_from).collect()
}

/// Inserts an account inside an open transaction.
pub(crate) async fn insert_user(
    tx: &mut Tx,
    user: &NewUser,
    school_id: Option<Uuid>,
) -> Result<Uuid> {
    insert_account(tx, user, school_id, None).await
}

/// Inserts an account of a school (`school_id`), of a group of schools
/// (`group_id`, a scheme lead's), or of neither (an administrator's).
async fn insert_account(
    tx: &mut Tx,
    user: &NewUser,
    school_id: Option<Uuid>,
    group_id: Option<Uuid>,
) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let sql = "INSERT INTO users (id, school_id, group_id, username, password_hash, role, \
               given_name, family_name, year_group, student_kind, subjects, created_at, email) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    let student = user.student.as_ref();
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(id)
        .bind(school_id)
        .bind(group_id)
        .bind(user.username.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.role.as_str())
        .bind(&user.given_name)
        .bind(&user.family_name)
        .bind(student.map(|s| i32::from(s.year_group.get())))
        .bind(student.map(|s| s.kind.as_str()))
        .bind(student.map(|s| s.subjects.join(",")).unwrap_or_default())
        .bind(Utc::now())
        .bind(user.email.as_deref())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|err| map_user_conflict(err, &user.username))?;
    Ok(id)
}

/// Brings a rostered student's account up to date from the school's
/// information system; their username changes only if the roster gives one.
/// A username another account has is a [`Error::Conflict`].
pub(crate) async fn update_rostered_student(
    tx: &mut Tx,
    id: Uuid,
    given_name: &str,
    family_name: &str,
    student: &StudentDetails,
    username: Option<&Username>,
) -> Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE users SET given_name = $1, family_name = $2, year_group = $3, \
         student_kind = $4, subjects = $5, username = COALESCE($6, username) WHERE id = $7"
    )
    .bind(given_name)
    .bind(family_name)
    .bind(i32::from(student.year_group.get()))
    .bind(student.kind.as_str())
    .bind(student.subjects.join(","))
    .bind(username.map(Username::as_str))
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|err| match Constraint::of(&err) {
        Some(Constraint::UserUsername | Constraint::UserStudentRef) => {
            Error::conflict("username", "that username belongs to another account")
        }
        _ => Error::Database(err),
    })?;
    Ok(())
}

/// Records the information system's id for a student, so the next import
/// finds them.
pub(crate) async fn set_student_ref(tx: &mut Tx, id: Uuid, student_ref: &str) -> Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE users SET student_ref = $1 WHERE id = $2"
    )
    .bind(student_ref)
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

impl Store {
    pub async fn create_user(&self, user: &NewUser, school_id: Option<Uuid>) -> Result<User> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, user, school_id).await?;
        tx.commit().await?;
        self.user(id).await
    }

    /// Adds a scheme lead of `group` (the account must have that role: the
    /// table refuses a scheme lead without a group and anyone else with one).
    pub async fn create_scheme_lead(&self, user: &NewUser, group: Uuid) -> Result<User> {
        let mut tx = self.begin().await?;
        let id = insert_account(&mut tx, user, None, Some(group)).await?;
        tx.commit().await?;
        self.user(id).await
    }

    /// The scheme leads of `group`, by name.
    pub async fn scheme_leads(&self, group: Uuid) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE group_id = $1 ORDER BY family_name, given_name"
        );
        let rows: Vec<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(group)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// The students of `kind` at any of `schools` whose accounts existed
    /// before `until`, as (student, school): a report's mentors recruited.
    pub async fn students_of_kind_at(
        &self,
        schools: &[Uuid],
        kind: super::StudentKind,
        until: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>> {
        let mut out = Vec::new();
        for chunk in schools.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT id, school_id FROM users \
                 WHERE role = $1 AND student_kind = $2 AND created_at < $3 AND school_id IN ({})",
                placeholders(4, chunk.len())
            );
            let rows: Vec<(Uuid, Uuid)> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql)
                    .bind(Role::Student.as_str())
                    .bind(kind.as_str())
                    .bind(until);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn user(&self, id: Uuid) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("account"))?.try_into()
    }

    /// An account and its password hash, by username, for signing in.
    pub async fn user_for_sign_in(&self, username: &str) -> Result<Option<(User, PasswordHash)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
        let row: Option<UserRowWithHash> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(username.trim().to_lowercase())
            .fetch_optional(pool)
            .await)?;
        match row {
            None => Ok(None),
            Some(r) => {
                let hash = PasswordHash::from_stored(r.password_hash);
                Ok(Some((r.user.try_into()?, hash)))
            }
        }
    }

    /// Sets (or with `None` removes) a member of staff's invite address.
    pub async fn set_email(&self, user: Uuid, email: Option<&str>) -> Result<()> {
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE users SET email = $1 WHERE id = $2 AND role <> $3"
        )
        .bind(email)
        .bind(user)
        .bind(Role::Student.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(Error::NotFound("account"));
        }
        // The series they supervise go to the new address, and are
        // cancelled at the old one.
        crate::invites::store::recipient_changed(self, user).await
    }

    /// The accounts of one school with the given roles, by family then given name.
    pub async fn users_at_school(&self, school_id: Uuid, roles: &[Role]) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE school_id = $1");
        let rows: Vec<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school_id)
            .fetch_all(pool)
            .await)?;
        let mut users = rows
            .into_iter()
            .map(User::try_from)
            .filter(|u| u.as_ref().map_or(true, |u| roles.contains(&u.role)))
            .collect::<Result<Vec<_>>>()?;
        // Sorted here, not in SQL, so both databases give the same order
        // (SQLite compares bytes, PostgreSQL uses the server's collation).
        users.sort_by_cached_key(|u| (u.family_name.to_lowercase(), u.given_name.to_lowercase()));
        Ok(users)
    }

    /// The accounts with these ids (any order; unknown ids are left out),
    /// in one query per [`IN_LIST_MAX`] ids: what a list of sessions needs to show its
    /// people's names without a query per person.
    pub async fn users_by_id(&self, ids: &[Uuid]) -> Result<Vec<User>> {
        let mut users = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<UserRow> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await
            })?;
            for row in rows {
                users.push(User::try_from(row)?);
            }
        }
        Ok(users)
    }

    /// The ids of a school's students.
    pub async fn student_ids_at_school(&self, school: Uuid) -> Result<Vec<Uuid>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM users WHERE school_id = $1 AND role = $2"
        )
        .bind(school)
        .bind(Role::Student.as_str())
        .fetch_all(pool)
        .await)?)
    }

    /// A school's rostered students by the information system's id.
    pub async fn student_refs(&self, school: Uuid) -> Result<HashMap<String, Uuid>> {
        let rows: Vec<(Uuid, Option<String>)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, student_ref FROM users WHERE school_id = $1 AND student_ref IS NOT NULL"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, r)| Some((r?, id)))
            .collect())
    }

    /// Every username in use, at any school (usernames are global).
    pub async fn usernames(&self) -> Result<BTreeSet<String>> {
        let rows: Vec<(String,)> =
            on_pool!(self, |pool| sqlx::query_as("SELECT username FROM users")
                .fetch_all(pool)
                .await)?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    /// Replaces an account's password and signs it out everywhere.
    /// Turns an account off (`by` is who did it) or, with `None`, on again;
    /// turning it off ends its sessions in the same step.
    pub async fn set_disabled(&self, user_id: Uuid, by: Option<Uuid>) -> Result<()> {
        let mut tx = self.begin().await?;
        let updated = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE users SET disabled_at = $1, disabled_by = $2 WHERE id = $3"
        )
        .bind(by.map(|_| Utc::now()))
        .bind(by)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if updated == 0 {
            return Err(Error::NotFound("account"));
        }
        if by.is_some() {
            crate::auth::store::end_sessions_of_in_tx(&mut tx, user_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_password(&self, user_id: Uuid, hash: &PasswordHash) -> Result<()> {
        let mut tx = self.begin().await?;
        set_password_in_tx(&mut tx, user_id, hash).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets many passwords at once, all or none (a class's sign-in cards:
    /// a card printed for a password that was never stored would lock its
    /// student out), ending each account's sessions.
    pub async fn set_passwords(&self, passwords: &[(Uuid, PasswordHash)]) -> Result<()> {
        let mut tx = self.begin().await?;
        for (user_id, hash) in passwords {
            set_password_in_tx(&mut tx, *user_id, hash).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A new password for one account, ending its sessions, inside `tx`.
async fn set_password_in_tx(tx: &mut Tx, user_id: Uuid, hash: &PasswordHash) -> Result<()> {
    let updated = on_tx!(tx, |conn| sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE id = $2"
    )
    .bind(hash.as_str())
    .bind(user_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if updated == 0 {
        return Err(Error::NotFound("account"));
    }
    crate::auth::store::end_sessions_of_in_tx(tx, user_id).await
}

#[derive(sqlx::FromRow)]
struct UserRowWithHash {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}
