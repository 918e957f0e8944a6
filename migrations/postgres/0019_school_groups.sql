-- Groups of schools (a scheme run by a local authority or a trust) and
-- their scheme leads, who belong to no school but to a group and see only
-- the aggregate reports of the group's member schools, never a pupil.

CREATE TABLE school_groups (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT school_groups_name_key UNIQUE (name)
);

-- A school is invited by the platform administrator and is a member only
-- once its own coordinator has agreed (`agreed_at`): a school's pupils'
-- figures leave it only with the school's consent.
CREATE TABLE school_group_members (
    group_id   UUID NOT NULL REFERENCES school_groups (id) ON DELETE CASCADE,
    school_id  UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    invited_at TIMESTAMPTZ NOT NULL,
    agreed_at  TIMESTAMPTZ,
    agreed_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (group_id, school_id)
);
CREATE INDEX school_group_members_school_idx ON school_group_members (school_id);

ALTER TABLE users ADD COLUMN group_id UUID REFERENCES school_groups (id);
CREATE INDEX users_group_idx ON users (group_id);

-- 0001's checks were unnamed, so PostgreSQL named them; they are found by
-- what they say, dropped, and added again with names and the new role.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'users'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%''admin''%'
    LOOP
        EXECUTE format('ALTER TABLE users DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;

ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'coordinator', 'teacher', 'safeguarding_lead', 'student', 'scheme_lead'));
ALTER TABLE users ADD CONSTRAINT users_school_scope_check
    CHECK ((role IN ('admin', 'scheme_lead')) = (school_id IS NULL));
ALTER TABLE users ADD CONSTRAINT users_group_scope_check
    CHECK ((role = 'scheme_lead') = (group_id IS NOT NULL));
