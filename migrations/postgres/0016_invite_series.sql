-- A pair's run of weekly sessions is one calendar event, a series, with one
-- UID; each session is an instance of it, named by the time it was first
-- booked at (its RECURRENCE-ID), which a move of that one session keeps.
-- Sessions booked before this are each a series of one.
ALTER TABLE mentoring_sessions ADD COLUMN series_uid TEXT;
ALTER TABLE mentoring_sessions ADD COLUMN recurrence_at TIMESTAMPTZ;
UPDATE mentoring_sessions SET series_uid = uid, recurrence_at = starts_at;
CREATE INDEX mentoring_sessions_series_idx ON mentoring_sessions (series_uid, recurrence_at);

-- A series as calendars know it: its SEQUENCE (0 as first booked, one more
-- for each change after), the SEQUENCE last sent, and when its changes are
-- next to be announced (NULL when nothing waits).
CREATE TABLE invite_series (
    uid           TEXT PRIMARY KEY,
    sequence      INTEGER NOT NULL DEFAULT 0,
    sent_sequence INTEGER,
    due_at        TIMESTAMPTZ,
    changed_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX invite_series_due_idx ON invite_series (due_at);

-- What each recipient's calendar holds of a series, as last sent
-- (`holder` is a member of staff's id, or `school:<id>` for the school's
-- own record, which the coordinators' digest is written from), so the next
-- change sends each of them only the difference.
CREATE TABLE invite_copies (
    series_uid TEXT NOT NULL REFERENCES invite_series (uid) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    school_id  UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    email      TEXT,
    state      TEXT NOT NULL,
    PRIMARY KEY (series_uid, holder)
);

ALTER TABLE outbox ADD COLUMN series_uid TEXT;

-- Coordinators who asked for one email a day listing the changes at their
-- school, and the lines it is written from.
CREATE TABLE invite_digest_subscribers (
    user_id      UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    since        TIMESTAMPTZ NOT NULL,
    last_sent_at TIMESTAMPTZ
);
CREATE TABLE invite_digest_lines (
    id        UUID PRIMARY KEY,
    school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    at        TIMESTAMPTZ NOT NULL,
    line      TEXT NOT NULL
);
CREATE INDEX invite_digest_lines_school_idx ON invite_digest_lines (school_id, at);

-- Several calendar links per person and per school, each named for where
-- it is used ("Phone", "Laptop") and revoked on its own, instead of one
-- link that the next silently replaced.
ALTER TABLE calendar_feeds ADD COLUMN id UUID;
UPDATE calendar_feeds SET id = gen_random_uuid();
ALTER TABLE calendar_feeds ADD COLUMN label TEXT NOT NULL DEFAULT 'Calendar link';
CREATE UNIQUE INDEX calendar_feeds_id_key ON calendar_feeds (id);
DROP INDEX calendar_feeds_live_user_key;
DROP INDEX calendar_feeds_live_school_key;
CREATE UNIQUE INDEX calendar_feeds_live_user_key ON calendar_feeds (user_id, label) WHERE revoked_at IS NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX calendar_feeds_live_school_key ON calendar_feeds (school_id, label) WHERE revoked_at IS NULL AND school_id IS NOT NULL;
