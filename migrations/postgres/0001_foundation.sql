-- The foundation: schools, their people, partnerships and sign-in sessions.

CREATE TABLE schools (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- An IANA zone name, validated against chrono-tz before it is stored.
    time_zone   TEXT NOT NULL,
    -- ISO 3166-1 alpha-2, and an optional ISO 3166-2 subdivision: bank
    -- holidays differ between the nations of one country.
    country     TEXT NOT NULL,
    region      TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT schools_slug_key UNIQUE (slug)
);

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    -- NULL only for platform administrators, who belong to no school.
    school_id      UUID REFERENCES schools (id),
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'teacher', 'safeguarding_lead', 'student')),
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    -- Students only.
    year_group     INTEGER,
    student_kind   TEXT CHECK (student_kind IN ('mentor', 'mentee')),
    subjects       TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK ((role = 'admin') = (school_id IS NULL)),
    CHECK ((role = 'student') = (year_group IS NOT NULL AND student_kind IS NOT NULL)),
    CONSTRAINT users_username_key UNIQUE (username)
);
CREATE INDEX users_school_idx ON users (school_id, role);

-- A partnership pairs two schools. The pair is stored in a canonical order
-- (school_low < school_high) so that one unique constraint forbids a second
-- partnership between the same two schools whichever proposed it.
CREATE TABLE partnerships (
    id                 UUID PRIMARY KEY,
    school_low         UUID NOT NULL REFERENCES schools (id),
    school_high        UUID NOT NULL REFERENCES schools (id),
    proposed_by_school UUID NOT NULL REFERENCES schools (id),
    -- NULL when IT staff made the partnership at the command line.
    proposed_by_user   UUID REFERENCES users (id),
    status             TEXT NOT NULL CHECK (status IN ('proposed', 'accepted')),
    accepted_by_user   UUID REFERENCES users (id),
    created_at         TIMESTAMPTZ NOT NULL,
    accepted_at        TIMESTAMPTZ,
    CHECK (school_low < school_high),
    CHECK (proposed_by_school IN (school_low, school_high)),
    CONSTRAINT partnerships_pair_key UNIQUE (school_low, school_high)
);

-- Only a hash of the session token is stored: a copy of this table does not
-- let anyone sign in.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
