-- Members of staff a school's safeguarding lead names as deputies: they
-- review held messages, handle concerns and read their school's pupils'
-- threads as the lead does, and every such read is recorded the same way.
CREATE TABLE safeguarding_deputies (
    school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    named_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    named_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (school_id, user_id)
);
