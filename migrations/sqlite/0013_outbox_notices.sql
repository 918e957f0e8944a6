-- The outbox carries notices as well as invites: a plain email to a member
-- of staff (a safeguarding lead told that something waits for them), with
-- the same queue, leases and retries. A notice has no session, SEQUENCE or
-- iTIP method; `snapshot` holds its subject, text and link, never a pupil's
-- message. SQLite cannot drop NOT NULL in place, so both tables are built
-- anew and renamed, attempts first so that no cascade touches them.
CREATE TABLE outbox_next (
    id              BLOB PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'invite' CHECK (kind IN ('invite', 'notice')),
    school_id       BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    session_id      BLOB REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    sequence        INTEGER,
    method          TEXT CHECK (method IN ('REQUEST', 'CANCEL')),
    recipient_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipient_email TEXT NOT NULL,
    snapshot        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    CHECK ((kind = 'invite') = (session_id IS NOT NULL AND sequence IS NOT NULL AND method IS NOT NULL))
);
INSERT INTO outbox_next (id, kind, school_id, session_id, sequence, method, recipient_id, recipient_email,
    snapshot, status, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at)
SELECT id, 'invite', school_id, session_id, sequence, method, recipient_id, recipient_email,
    snapshot, status, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at
FROM outbox;

CREATE TABLE outbox_attempts_next (
    message_id BLOB NOT NULL REFERENCES outbox_next (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'refused', 'expired')),
    detail     TEXT NOT NULL
);
INSERT INTO outbox_attempts_next (message_id, at, outcome, detail)
SELECT message_id, at, outcome, detail FROM outbox_attempts;

DROP TABLE outbox_attempts;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
ALTER TABLE outbox_attempts_next RENAME TO outbox_attempts;
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_school_idx ON outbox (school_id, created_at);
CREATE INDEX outbox_attempts_message_idx ON outbox_attempts (message_id, at);
