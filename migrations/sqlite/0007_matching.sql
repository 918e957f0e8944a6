-- Match proposals: the optimiser's answer for a partnership, kept as a
-- document (pairs, slots, explanations, reasons for the unmatched) so both
-- coordinators review exactly what was proposed.
CREATE TABLE match_proposals (
    id             BLOB PRIMARY KEY NOT NULL,
    partnership_id BLOB NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    status         TEXT NOT NULL CHECK (status IN ('open', 'approved', 'superseded')),
    created_by     BLOB REFERENCES users (id),
    created_at     TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX match_proposals_partnership_idx ON match_proposals (partnership_id, created_at);

-- Each school's coordinator approves a proposal once.
CREATE TABLE match_approvals (
    proposal_id BLOB NOT NULL REFERENCES match_proposals (id) ON DELETE CASCADE,
    school_id   BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    approved_by BLOB NOT NULL REFERENCES users (id),
    approved_at TEXT NOT NULL,
    PRIMARY KEY (proposal_id, school_id)
);

-- Pairs a coordinator has pinned (match them if at all possible) or
-- forbidden (never match them).
CREATE TABLE match_rules (
    partnership_id BLOB NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    mentee_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mentor_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('pin', 'forbid')),
    set_by         BLOB NOT NULL REFERENCES users (id),
    set_at         TEXT NOT NULL,
    PRIMARY KEY (partnership_id, mentee_id, mentor_id)
);
-- One pin per mentee: two would contradict each other.
CREATE UNIQUE INDEX match_rules_one_pin_key ON match_rules (partnership_id, mentee_id) WHERE kind = 'pin';

-- Approved matches: a mentee, a mentor and a weekly slot, ready for booking.
CREATE TABLE matches (
    id             BLOB PRIMARY KEY NOT NULL,
    partnership_id BLOB NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    referral_id    BLOB NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    mentee_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mentor_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The weekly slot's key (both ends' week, day and period) and its details as JSON.
    slot_key       TEXT NOT NULL,
    -- The mentor's own period the slot falls in ("A-Mon-TUT"): a mentor
    -- mentors one mentee at a time, whichever partnership they are in.
    mentor_period  TEXT NOT NULL,
    slot           TEXT NOT NULL,
    proposal_id    BLOB NOT NULL REFERENCES match_proposals (id),
    status         TEXT NOT NULL CHECK (status IN ('approved', 'ended')),
    approved_at    TEXT NOT NULL
);
-- The database, not only the optimiser, keeps a mentor to one mentee per
-- period of their timetable and a referral to one live match.
CREATE UNIQUE INDEX matches_mentor_period_key ON matches (mentor_id, mentor_period) WHERE status = 'approved';
CREATE UNIQUE INDEX matches_referral_key ON matches (referral_id) WHERE status = 'approved';
CREATE INDEX matches_partnership_idx ON matches (partnership_id);
