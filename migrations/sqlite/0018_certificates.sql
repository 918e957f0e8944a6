-- Mentors' volunteering certificates: one row per certificate issued. The
-- figures are a snapshot of what was printed (`printed` is the whole
-- certificate as JSON: names, schools, subjects, frequency, the signer and
-- their contact), so the public verification page shows what the paper
-- says even after more sessions are delivered or a name changes. Issuing
-- again makes a new row with a new code; the old one stays verifiable.
-- `code` is the verification code in its canonical spelling
-- (`XXXX-XXXX-XXXX-XXXX`, Crockford base32).
CREATE TABLE certificates (
    id         BLOB PRIMARY KEY NOT NULL,
    code       TEXT NOT NULL,
    mentor_id  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    school_id  BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    signed_by  BLOB NOT NULL REFERENCES users (id),
    issued_at  TEXT NOT NULL,
    sessions   INTEGER NOT NULL CHECK (sessions > 0),
    minutes    INTEGER NOT NULL CHECK (minutes > 0),
    first_date TEXT NOT NULL,
    last_date  TEXT NOT NULL,
    printed    TEXT NOT NULL,
    CONSTRAINT certificates_code_key UNIQUE (code),
    CHECK (first_date <= last_date)
);
CREATE INDEX certificates_mentor_idx ON certificates (mentor_id, issued_at);
