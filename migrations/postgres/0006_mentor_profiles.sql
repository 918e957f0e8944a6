-- What a mentor offers and whether they are ready: trained, and cleared by a
-- member of staff. Only ready mentors are matched.
CREATE TABLE mentor_profiles (
    user_id         UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- JSON list of {"subject", "level"}.
    offers          TEXT NOT NULL,
    capacity        INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 4),
    -- JSON list of free periods, e.g. {"week": "A", "day": "Mon", "period": "TUT"}.
    free_periods    TEXT NOT NULL,
    training_course TEXT,
    training_date   DATE,
    cleared_by      UUID REFERENCES users (id),
    cleared_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);
