-- foreign-keys: off
-- Groups of schools (a scheme run by a local authority or a trust) and
-- their scheme leads, who belong to no school but to a group and see only
-- the aggregate reports of the group's member schools, never a pupil.
--
-- A scheme lead is an account with the role `scheme_lead` and a
-- `group_id`, so `users` needs new CHECKs and a column. SQLite cannot
-- change a CHECK in place, so `users` is rebuilt below by SQLite's
-- documented twelve-step procedure. With foreign keys on, `DROP TABLE
-- users` would be an implicit `DELETE FROM users` cascading into every
-- table that references it; the first line asks `Store::migrate` to run
-- this migration with foreign keys off (and to check every reference with
-- `PRAGMA foreign_key_check` before it commits).

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

-- `users` as 0001, 0003, 0009 and 0015 left it, with the role
-- `scheme_lead` and its `group_id`. The children keep their rows and
-- their `REFERENCES users` clauses, which name the table and so point at
-- the rebuilt one once it is renamed.
CREATE TABLE users_rebuilt (
    id             BLOB PRIMARY KEY NOT NULL,
    -- NULL only for platform administrators and scheme leads.
    school_id      BLOB REFERENCES schools (id),
    -- Scheme leads only.
    group_id       BLOB REFERENCES school_groups (id),
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'teacher', 'safeguarding_lead', 'student', 'scheme_lead')),
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    year_group     INTEGER,
    student_kind   TEXT CHECK (student_kind IN ('mentor', 'mentee')),
    subjects       TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    student_ref    TEXT,
    email          TEXT CHECK (email IS NULL OR role <> 'student'),
    disabled_at    TEXT,
    disabled_by    BLOB REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((role IN ('admin', 'scheme_lead')) = (school_id IS NULL)),
    CHECK ((role = 'scheme_lead') = (group_id IS NOT NULL)),
    CHECK ((role = 'student') = (year_group IS NOT NULL AND student_kind IS NOT NULL)),
    CONSTRAINT users_username_key UNIQUE (username)
);

INSERT INTO users_rebuilt (id, school_id, group_id, username, password_hash, role, given_name,
    family_name, year_group, student_kind, subjects, created_at, student_ref, email,
    disabled_at, disabled_by)
SELECT id, school_id, NULL, username, password_hash, role, given_name,
    family_name, year_group, student_kind, subjects, created_at, student_ref, email,
    disabled_at, disabled_by
FROM users;

DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;

CREATE INDEX users_school_idx ON users (school_id, role);
CREATE UNIQUE INDEX users_school_ref_key ON users (school_id, student_ref);
CREATE INDEX users_group_idx ON users (group_id);
