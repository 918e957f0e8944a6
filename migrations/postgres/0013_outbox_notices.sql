-- The outbox carries notices as well as invites: a plain email to a member
-- of staff (a safeguarding lead told that something waits for them), with
-- the same queue, leases and retries. A notice has no session, SEQUENCE or
-- iTIP method; `snapshot` holds its subject, text and link, never a pupil's
-- message.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'invite' CHECK (kind IN ('invite', 'notice'));
ALTER TABLE outbox ALTER COLUMN session_id DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN sequence DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN method DROP NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_fields_check
    CHECK ((kind = 'invite') = (session_id IS NOT NULL AND sequence IS NOT NULL AND method IS NOT NULL));
