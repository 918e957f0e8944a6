-- Email invites. Staff (never students) may have a work address, which is
-- where iTIP invites go; students follow their sessions through their own
-- calendar feed instead.
ALTER TABLE users ADD COLUMN email TEXT CHECK (email IS NULL OR role <> 'student');

-- The staff who supervise a session, one at each school (JSON array of user
-- ids). Their claims stop a supervisor being booked past their capacity;
-- this copy survives a cancellation, so the cancel reaches them too.
ALTER TABLE mentoring_sessions ADD COLUMN supervisors TEXT NOT NULL DEFAULT '[]';

-- The outbox: one row per invite per recipient, written in the same
-- transaction as the change it announces, so no change is committed
-- without its invites and none is lost across a restart. `snapshot` holds
-- the session as it was when the message was made (names, times, SEQUENCE);
-- the message is rendered from it with DTSTAMP = created_at, so every retry
-- sends the same bytes.
CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    school_id       UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    session_id      UUID NOT NULL REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    sequence        INTEGER NOT NULL,
    method          TEXT NOT NULL CHECK (method IN ('REQUEST', 'CANCEL')),
    recipient_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipient_email TEXT NOT NULL,
    snapshot        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_school_idx ON outbox (school_id, created_at);

-- Every try at sending, whatever came of it.
CREATE TABLE outbox_attempts (
    message_id UUID NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    at         TIMESTAMPTZ NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'refused', 'expired')),
    detail     TEXT NOT NULL
);
CREATE INDEX outbox_attempts_message_idx ON outbox_attempts (message_id, at);
