-- Students as the school's information system knows them. student_ref is
-- that system's id for the pupil, so importing the roster again updates the
-- same accounts instead of making new ones.
ALTER TABLE users ADD COLUMN student_ref TEXT;
CREATE UNIQUE INDEX users_school_ref_key ON users (school_id, student_ref);
