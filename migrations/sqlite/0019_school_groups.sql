-- Groups of schools (a scheme run by a local authority or a trust) and
-- their scheme leads, who belong to no school but to a group and see only
-- the aggregate reports of the group's member schools, never a pupil.
--
-- A scheme lead is an account with the role `scheme_lead` and a
-- `group_id`, so `users` needs new CHECKs and a column, and SQLite cannot
-- change a CHECK in place: the table must be rebuilt. That rebuild is not
-- in this file. sqlx (0.8) runs every SQLite migration inside a
-- transaction, ignoring `-- no-transaction`, and inside a transaction
-- `PRAGMA foreign_keys = OFF` does nothing; with foreign keys on,
-- `DROP TABLE users` is an implicit `DELETE FROM users` that cascades into
-- every table that references it (sign-in sessions, referrals, matches,
-- mentoring sessions, messages …). So `Store::migrate` rebuilds `users`
-- itself, right after this migration, on a connection with foreign keys
-- off (`server/src/store/sqlite_users_0019.sql`, SQLite's documented
-- twelve-step procedure, checked by `PRAGMA foreign_key_check` before it
-- commits), and only if `users` has no `group_id` yet.

CREATE TABLE school_groups (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT school_groups_name_key UNIQUE (name)
);

-- A school is invited by the platform administrator and is a member only
-- once its own coordinator has agreed (`agreed_at`): a school's pupils'
-- figures leave it only with the school's consent.
CREATE TABLE school_group_members (
    group_id   BLOB NOT NULL REFERENCES school_groups (id) ON DELETE CASCADE,
    school_id  BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    invited_at TEXT NOT NULL,
    agreed_at  TEXT,
    agreed_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (group_id, school_id)
);
CREATE INDEX school_group_members_school_idx ON school_group_members (school_id);
