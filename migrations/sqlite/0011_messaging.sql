-- A pair's messages: one thread per approved match, written in the thread
-- page or in a call (`session_id`), so a pair's conversation is one record.
-- Every message is kept, whatever moderation decided: `status` says whether
-- the other student sees it, and `shown` is what they see (the text, or the
-- text with the matched part blanked when a safeguarding lead released it
-- so). `visible_at` is when they may see it: later than `sent_at` when it
-- was written outside the school's messaging hours, or held and released.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    match_id   BLOB NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    sender_id  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id BLOB REFERENCES mentoring_sessions (id) ON DELETE SET NULL,
    text       TEXT NOT NULL,
    shown      TEXT,
    status     TEXT NOT NULL CHECK (status IN ('delivered', 'held', 'blocked', 'rejected')),
    category   TEXT,
    findings   TEXT NOT NULL DEFAULT '[]',
    sent_at    TEXT NOT NULL,
    visible_at TEXT
);
CREATE INDEX messages_match_idx ON messages (match_id, id);
CREATE INDEX messages_status_idx ON messages (status, sent_at);

-- How far each person has read each thread, for unread counts.
CREATE TABLE message_reads (
    match_id     BLOB NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read_id INTEGER NOT NULL,
    PRIMARY KEY (match_id, user_id)
);

-- The call chat so far joins its pair's thread.
INSERT INTO messages (match_id, sender_id, session_id, text, shown, status, category, sent_at, visible_at)
SELECT s.match_id, c.user_id, c.session_id, c.text,
       CASE WHEN c.blocked IS NULL THEN c.text END,
       CASE WHEN c.blocked IS NULL THEN 'delivered' ELSE 'blocked' END,
       CASE WHEN c.blocked IS NULL THEN NULL ELSE 'swearing' END,
       c.at, CASE WHEN c.blocked IS NULL THEN c.at END
FROM call_chat c JOIN mentoring_sessions s ON s.id = c.session_id
ORDER BY c.id;
DROP TABLE call_chat;

-- Each school's own words and phrases (local slang), checked as well as the
-- built-in list in every message to or from its pupils.
CREATE TABLE school_words (
    school_id BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    word      TEXT NOT NULL,
    added_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (school_id, word)
);

-- What a school does with each category of finding, and its messaging
-- hours (local times in the school's zone). No row: the defaults.
CREATE TABLE message_rules (
    school_id    BLOB PRIMARY KEY NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    swearing     TEXT NOT NULL CHECK (swearing IN ('deliver', 'hold', 'block')),
    school_words TEXT NOT NULL CHECK (school_words IN ('deliver', 'hold', 'block')),
    contact      TEXT NOT NULL CHECK (contact IN ('deliver', 'hold', 'block')),
    meeting      TEXT NOT NULL CHECK (meeting IN ('deliver', 'hold', 'block')),
    secrecy      TEXT NOT NULL CHECK (secrecy IN ('deliver', 'hold', 'block')),
    hours_from   TEXT,
    hours_until  TEXT,
    updated_by   BLOB REFERENCES users (id) ON DELETE SET NULL,
    updated_at   TEXT NOT NULL
);

-- A safeguarding lead's decision on a held message: kept for good, with who
-- and when.
CREATE TABLE message_reviews (
    id         BLOB PRIMARY KEY NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    decision   TEXT NOT NULL CHECK (decision IN ('released', 'redacted', 'rejected')),
    note       TEXT NOT NULL DEFAULT '',
    by_user    BLOB NOT NULL REFERENCES users (id),
    at         TEXT NOT NULL
);
CREATE UNIQUE INDEX message_reviews_message_key ON message_reviews (message_id);

-- "I'm worried about something": from a student in their thread or call, or
-- a supervisor from a call; to the safeguarding leads of both pupils'
-- schools.
CREATE TABLE concerns (
    id              BLOB PRIMARY KEY NOT NULL,
    reporter_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    match_id        BLOB NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    session_id      BLOB REFERENCES mentoring_sessions (id) ON DELETE SET NULL,
    text            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'closed')),
    outcome         TEXT,
    created_at      TEXT NOT NULL,
    acknowledged_by BLOB REFERENCES users (id),
    acknowledged_at TEXT,
    closed_by       BLOB REFERENCES users (id),
    closed_at       TEXT
);
CREATE INDEX concerns_match_idx ON concerns (match_id, created_at);

-- Every time a member of staff opened a thread, a held message or a
-- concern: who, what, when.
CREATE TABLE staff_reads (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    school_id BLOB REFERENCES schools (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('thread', 'message', 'concern')),
    target    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX staff_reads_school_idx ON staff_reads (school_id, at);

-- When each school's safeguarding leads were last emailed that something
-- waits (at most one email per school per ten minutes).
CREATE TABLE safeguarding_alerts (
    school_id    BLOB PRIMARY KEY NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    last_sent_at TEXT NOT NULL
);
