-- Members of staff a school's safeguarding lead names as deputies: they
-- review held messages, handle concerns and read their school's pupils'
-- threads as the lead does, and every such read is recorded the same way.
CREATE TABLE safeguarding_deputies (
    school_id BLOB NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    named_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    named_at  TEXT NOT NULL,
    PRIMARY KEY (school_id, user_id)
);
