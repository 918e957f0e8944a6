-- The mentoring record: what happens to a mentee's programme after the
-- match, following UK learning-mentor practice. Everything hangs off the
-- referral, which is the mentee's programme from referral to exit (a
-- referral may have had more than one match).

-- The identifiers a school's mentees score themselves on, 1 to 10, where
-- 10 is always the good end ("Staying calm", not "Anger"). A school with no
-- rows uses the defaults in `record::DEFAULT_IDENTIFIERS`; its first change
-- writes the whole list. A retired identifier stays for old assessments.
CREATE TABLE record_identifiers (
    school_id  BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    label      TEXT NOT NULL,
    question   TEXT NOT NULL,
    position   INTEGER NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (school_id, key)
);

-- One assessment: the mentee's own (`view` = 'mentee') or the school's
-- (`view` = 'staff': attendance and behaviour data, observations), at the
-- baseline, midway or the exit. Each is written whole, with its scores.
CREATE TABLE record_assessments (
    id          BLOB PRIMARY KEY NOT NULL,
    referral_id BLOB NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL CHECK (stage IN ('baseline', 'midway', 'exit')),
    view        TEXT NOT NULL CHECK (view IN ('mentee', 'staff')),
    by_user     BLOB NOT NULL REFERENCES users (id),
    note        TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL,
    CONSTRAINT record_assessments_stage_key UNIQUE (referral_id, stage, view)
);

-- The identifier's key and its label as the mentee read it, so renaming an
-- identifier later does not change what an old score meant.
CREATE TABLE record_scores (
    assessment_id BLOB NOT NULL REFERENCES record_assessments (id) ON DELETE CASCADE,
    identifier    TEXT NOT NULL,
    label         TEXT NOT NULL,
    position      INTEGER NOT NULL,
    score         INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
    PRIMARY KEY (assessment_id, identifier)
);

-- The action plan: SMART targets (what, how it is measured, by when), set
-- by one of the pair and agreed by the other. `outcome` is NULL while the
-- target is open; a dropped target carries its reason.
CREATE TABLE record_targets (
    id                BLOB PRIMARY KEY NOT NULL,
    referral_id       BLOB NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    what              TEXT NOT NULL,
    measure           TEXT NOT NULL,
    by_date           TEXT NOT NULL,
    review_date       TEXT,
    set_by            BLOB NOT NULL REFERENCES users (id),
    set_at            TEXT NOT NULL,
    mentee_agreed_at  TEXT,
    mentor_agreed_at  TEXT,
    outcome           TEXT CHECK (outcome IN ('met', 'partly_met', 'dropped')),
    outcome_note      TEXT,
    outcome_by        BLOB REFERENCES users (id),
    outcome_at        TEXT,
    CHECK ((outcome IS NULL) = (outcome_at IS NULL)),
    CHECK (outcome IS NOT 'dropped' OR coalesce(length(trim(outcome_note)), 0) > 0)
);
CREATE INDEX record_targets_referral_idx ON record_targets (referral_id, set_at);

-- Progress on a target, noted at any session (or between them).
CREATE TABLE record_progress (
    id         BLOB PRIMARY KEY NOT NULL,
    target_id  BLOB NOT NULL REFERENCES record_targets (id) ON DELETE CASCADE,
    session_id BLOB REFERENCES mentoring_sessions (id) ON DELETE SET NULL,
    by_user    BLOB NOT NULL REFERENCES users (id),
    note       TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX record_progress_target_idx ON record_progress (target_id, at);

-- A session's account: the mentor's (what we did, the next step) and a
-- supervising teacher's observation, one each per author, rewritten in place.
CREATE TABLE record_session_notes (
    session_id BLOB NOT NULL REFERENCES mentoring_sessions (id) ON DELETE CASCADE,
    author     BLOB NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('mentor', 'observer')),
    body       TEXT NOT NULL,
    next_step  TEXT NOT NULL DEFAULT '',
    at         TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (session_id, author)
);

-- A coordinator's review of a programme: close, continue or monitor.
CREATE TABLE record_reviews (
    id            BLOB PRIMARY KEY NOT NULL,
    referral_id   BLOB NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    decision      TEXT NOT NULL CHECK (decision IN ('close', 'continue', 'monitor')),
    note          TEXT NOT NULL,
    plan_reviewed BOOLEAN NOT NULL,
    next_review   TEXT,
    by_user       BLOB NOT NULL REFERENCES users (id),
    at            TEXT NOT NULL
);
CREATE INDEX record_reviews_referral_idx ON record_reviews (referral_id, at);

-- How a programme ended: one per referral. Recording it ends the match,
-- cancels its later sessions and closes the referral, in one transaction.
CREATE TABLE record_exits (
    referral_id        BLOB PRIMARY KEY NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    reason             TEXT NOT NULL CHECK (reason IN ('targets_met', 'planned_length_ended', 'withdrawn', 'left_school')),
    note               TEXT NOT NULL DEFAULT '',
    sessions_cancelled INTEGER NOT NULL,
    by_user            BLOB NOT NULL REFERENCES users (id),
    at                 TEXT NOT NULL
);

-- Feedback from the mentee, the mentor and the referring teacher: at the
-- end (once each), or at a term's end.
CREATE TABLE record_feedback (
    id          BLOB PRIMARY KEY NOT NULL,
    referral_id BLOB NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    from_role   TEXT NOT NULL CHECK (from_role IN ('mentee', 'mentor', 'teacher')),
    stage       TEXT NOT NULL CHECK (stage IN ('end', 'term')),
    by_user     BLOB NOT NULL REFERENCES users (id),
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    went_well   TEXT NOT NULL,
    even_better TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
);
CREATE UNIQUE INDEX record_feedback_end_key ON record_feedback (referral_id, by_user) WHERE stage = 'end';
CREATE INDEX record_feedback_referral_idx ON record_feedback (referral_id, at);
