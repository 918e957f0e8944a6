-- What the signalling server saw in each call: who joined, when their
-- media connected and dropped, when they left. Attendance is derived from
-- these, never typed in; a teacher's correction is kept beside them, so the
-- record shows both what happened and what was changed, by whom and why.
CREATE TABLE attendance_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id BLOB NOT NULL REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('joined', 'resumed', 'media', 'left', 'ended')),
    -- The call role for `joined`, the connection state for `media`, the
    -- reason for `left`.
    detail     TEXT NOT NULL DEFAULT '',
    at         TEXT NOT NULL
);
CREATE INDEX attendance_events_session_idx ON attendance_events (session_id, at);

CREATE TABLE attendance_corrections (
    id         BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    present    BOOLEAN NOT NULL,
    minutes    INTEGER CHECK (minutes IS NULL OR minutes BETWEEN 0 AND 600),
    reason     TEXT NOT NULL,
    by_user    BLOB NOT NULL REFERENCES users (id),
    at         TEXT NOT NULL
);
CREATE INDEX attendance_corrections_session_idx ON attendance_corrections (session_id, at);

-- In-call chat, kept for the safeguarding lead, including what the filter
-- stopped.
CREATE TABLE call_chat (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id BLOB NOT NULL REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    blocked    TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX call_chat_session_idx ON call_chat (session_id, at);
