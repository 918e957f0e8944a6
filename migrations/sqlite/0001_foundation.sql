-- The foundation: schools, their people, partnerships and sign-in sessions.
-- UUIDs are stored as 16-byte BLOBs and instants as RFC 3339 TEXT in UTC,
-- which is what sqlx's SQLite driver reads and writes for Uuid and DateTime<Utc>.

CREATE TABLE schools (
    id          BLOB PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- An IANA zone name, validated against chrono-tz before it is stored.
    time_zone   TEXT NOT NULL,
    -- ISO 3166-1 alpha-2, and an optional ISO 3166-2 subdivision: bank
    -- holidays differ between the nations of one country.
    country     TEXT NOT NULL,
    region      TEXT,
    created_at  TEXT NOT NULL,
    CONSTRAINT schools_slug_key UNIQUE (slug)
);

CREATE TABLE users (
    id             BLOB PRIMARY KEY NOT NULL,
    -- NULL only for platform administrators, who belong to no school.
    school_id      BLOB REFERENCES schools (id),
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'teacher', 'safeguarding_lead', 'student')),
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    -- Students only.
    year_group     INTEGER,
    student_kind   TEXT CHECK (student_kind IN ('mentor', 'mentee')),
    subjects       TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    CHECK ((role = 'admin') = (school_id IS NULL)),
    CHECK ((role = 'student') = (year_group IS NOT NULL AND student_kind IS NOT NULL)),
    CONSTRAINT users_username_key UNIQUE (username)
);
CREATE INDEX users_school_idx ON users (school_id, role);

-- A partnership pairs two schools. The pair is stored in a canonical order
-- (school_low < school_high) so that one unique constraint forbids a second
-- partnership between the same two schools whichever proposed it.
CREATE TABLE partnerships (
    id               BLOB PRIMARY KEY NOT NULL,
    school_low       BLOB NOT NULL REFERENCES schools (id),
    school_high      BLOB NOT NULL REFERENCES schools (id),
    proposed_by_school BLOB NOT NULL REFERENCES schools (id),
    -- NULL when IT staff made the partnership at the command line.
    proposed_by_user BLOB REFERENCES users (id),
    status           TEXT NOT NULL CHECK (status IN ('proposed', 'accepted')),
    accepted_by_user BLOB REFERENCES users (id),
    created_at       TEXT NOT NULL,
    accepted_at      TEXT,
    CHECK (school_low < school_high),
    CHECK (proposed_by_school IN (school_low, school_high)),
    CONSTRAINT partnerships_pair_key UNIQUE (school_low, school_high)
);

-- Only a hash of the session token is stored: a copy of this table does not
-- let anyone sign in.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
