-- Referrals of mentees by staff at their own school. Only that school's
-- staff see a referral; the partner school sees first name, year group and
-- the focus requested, through the partnership.
CREATE TABLE referrals (
    id                  UUID PRIMARY KEY,
    school_id           UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    mentee_id           UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    referred_by         UUID NOT NULL REFERENCES users (id),
    countersigned_by    UUID REFERENCES users (id),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'matched', 'active', 'review', 'closed')),
    priority            INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 3),
    strengths           TEXT NOT NULL,
    concerns            TEXT NOT NULL,
    reasons             TEXT NOT NULL,
    focus               TEXT NOT NULL,
    support_received    TEXT NOT NULL,
    strategies_tried    TEXT NOT NULL,
    agencies            TEXT NOT NULL,
    consent_given_by    TEXT,
    consent_date        DATE,
    consent_recorded_by UUID REFERENCES users (id),
    entry_criteria_met  BOOLEAN NOT NULL,
    planned_weeks       INTEGER NOT NULL CHECK (planned_weeks BETWEEN 1 AND 52),
    review_date         DATE,
    closed_reason       TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX referrals_school_idx ON referrals (school_id, status);
-- At most one open referral per mentee: a second is a mistake, not a plan.
CREATE UNIQUE INDEX referrals_open_mentee_key ON referrals (mentee_id) WHERE status <> 'closed';
