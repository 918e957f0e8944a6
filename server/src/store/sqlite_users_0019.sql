-- The rebuild of `users` that migration 0019 needs (see its comments):
-- run by `Store::migrate` inside one transaction on a connection whose
-- foreign keys are off, so that dropping the old table cascades nowhere.
-- The children keep their rows and their `REFERENCES users` clauses, which
-- name the table and so point at the rebuilt one once it is renamed.
-- `users` as 0001, 0003, 0009 and 0015 left it, with the role
-- `scheme_lead` and its `group_id`.
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
