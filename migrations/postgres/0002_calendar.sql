-- School calendars: terms and closures, bell schedules with a week cycle,
-- and each partnership's slot policy. Local dates and times are stored as
-- they are written in the school's own zone; calendar::time turns them into
-- instants. On PostgreSQL they are DATE and TIME.

CREATE TABLE calendar_entries (
    id          UUID PRIMARY KEY,
    school_id   UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    start_date  DATE NOT NULL,
    end_date    DATE NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('term', 'closure')),
    label       TEXT NOT NULL,
    CHECK (end_date >= start_date)
);
CREATE INDEX calendar_entries_school_idx ON calendar_entries (school_id, start_date);

-- A schedule applies from effective_from until the next one, so a change of
-- bell times mid-year adds a row instead of rewriting the past.
CREATE TABLE bell_schedules (
    id              UUID PRIMARY KEY,
    school_id       UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    effective_from  DATE NOT NULL,
    cycle_weeks     INTEGER NOT NULL CHECK (cycle_weeks BETWEEN 1 AND 26),
    CONSTRAINT bell_schedules_school_from_key UNIQUE (school_id, effective_from)
);

CREATE TABLE bell_periods (
    schedule_id  UUID NOT NULL REFERENCES bell_schedules (id) ON DELETE CASCADE,
    -- NULL means every week of the cycle.
    week         INTEGER CHECK (week BETWEEN 1 AND 26),
    -- 0 = Monday … 6 = Sunday.
    day          INTEGER NOT NULL CHECK (day BETWEEN 0 AND 6),
    code         TEXT NOT NULL,
    start_time   TIME NOT NULL,
    end_time     TIME NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('registration', 'tutor', 'lesson', 'break', 'lunch', 'other')),
    CHECK (end_time > start_time)
);
CREATE INDEX bell_periods_schedule_idx ON bell_periods (schedule_id);

-- How the school counts Week A/B: from an anchor date (default: the first
-- day of the first term), and whether holiday weeks advance the cycle.
ALTER TABLE schools ADD COLUMN cycle_anchor DATE;
ALTER TABLE schools ADD COLUMN cycle_holidays_advance BOOLEAN NOT NULL DEFAULT FALSE;

-- Weeks a school has declared by hand (its Monday), from which counting resumes.
CREATE TABLE cycle_overrides (
    school_id    UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    week_monday  DATE NOT NULL,
    week         INTEGER NOT NULL CHECK (week BETWEEN 1 AND 26),
    PRIMARY KEY (school_id, week_monday)
);

-- Which periods host mentoring at each school, with iPads and supervisors:
-- kept as the JSON of calendar::align's policy types, keyed by school id.
CREATE TABLE slot_policies (
    partnership_id   UUID PRIMARY KEY REFERENCES partnerships (id) ON DELETE CASCADE,
    session_minutes  INTEGER NOT NULL CHECK (session_minutes BETWEEN 5 AND 120),
    schools          TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
