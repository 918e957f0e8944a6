-- Sessions: each approved match becomes a weekly series, one row a session
-- with its own state. A session keeps its UID for life; SEQUENCE rises on
-- every change (RFC 5545), so calendars replace rather than duplicate it.
CREATE TABLE mentoring_sessions (
    id             BLOB PRIMARY KEY NOT NULL,
    match_id       BLOB NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    partnership_id BLOB NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    mentee_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mentor_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    uid            TEXT NOT NULL UNIQUE,
    sequence       INTEGER NOT NULL DEFAULT 0,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    slot_key       TEXT NOT NULL,
    -- JSON: each school's local date, times, period and week.
    local          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('scheduled', 'moved', 'cancelled', 'completed', 'missed')),
    reason         TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX mentoring_sessions_mentee_idx ON mentoring_sessions (mentee_id, starts_at);
CREATE INDEX mentoring_sessions_mentor_idx ON mentoring_sessions (mentor_id, starts_at);
CREATE INDEX mentoring_sessions_partnership_idx ON mentoring_sessions (partnership_id, starts_at);
CREATE INDEX mentoring_sessions_match_idx ON mentoring_sessions (match_id, starts_at);

-- What a live session holds for its time: each student, and one iPad at
-- each school ("device:<school>:<n>"). The database refuses two claims on
-- one resource for overlapping times, whoever makes them and however many
-- at once: that, not code, is what stops double booking.
CREATE TABLE session_claims (
    session_id BLOB NOT NULL REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    resource   TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, resource)
);
CREATE INDEX session_claims_resource_idx ON session_claims (resource, starts_at);
-- SQLite has no exclusion constraints; a trigger does the same job, and
-- SQLite's single writer makes its check and insert one step.
CREATE TRIGGER session_claims_no_overlap BEFORE INSERT ON session_claims
WHEN EXISTS (
    SELECT 1 FROM session_claims c
    WHERE c.resource = NEW.resource AND c.starts_at < NEW.ends_at AND NEW.starts_at < c.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'session_claims_no_overlap: already booked for an overlapping time');
END;
CREATE TRIGGER session_claims_no_overlap_update BEFORE UPDATE ON session_claims
WHEN EXISTS (
    SELECT 1 FROM session_claims c
    WHERE c.resource = NEW.resource AND c.starts_at < NEW.ends_at AND NEW.starts_at < c.ends_at
      AND NOT (c.session_id = OLD.session_id AND c.resource = OLD.resource)
)
BEGIN
    SELECT RAISE(ABORT, 'session_claims_no_overlap: already booked for an overlapping time');
END;

-- Private calendar subscriptions: one for a person (their own sessions) or
-- for a school (every session with one of its students). Only a hash of
-- the token is kept; regenerating one revokes the old.
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BLOB REFERENCES users (id) ON DELETE CASCADE,
    school_id  BLOB REFERENCES schools (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((user_id IS NULL) <> (school_id IS NULL))
);
CREATE INDEX calendar_feeds_user_idx ON calendar_feeds (user_id);
CREATE INDEX calendar_feeds_school_idx ON calendar_feeds (school_id);
-- One live link per person and per school: regenerating revokes the old.
CREATE UNIQUE INDEX calendar_feeds_live_user_key ON calendar_feeds (user_id) WHERE revoked_at IS NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX calendar_feeds_live_school_key ON calendar_feeds (school_id) WHERE revoked_at IS NULL AND school_id IS NOT NULL;
