-- A school's iPads and supervisors for mentoring: the school's own, shared
-- by all its partnerships, each declaration in force from `starts_on`
-- until the next. Kept as the JSON of calendar::capacity::SchoolCapacity.
CREATE TABLE school_capacity (
    school_id   UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    starts_on   DATE NOT NULL,
    capacity    TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (school_id, starts_on)
);
