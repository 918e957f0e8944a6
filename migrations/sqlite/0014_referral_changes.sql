-- What was changed in a referral after it was written, by whom and when.
-- `editors` on the referral is the same people, kept on the row so that the
-- rule "a countersignature comes from someone who wrote none of it" needs
-- no second query.
ALTER TABLE referrals ADD COLUMN editors TEXT NOT NULL DEFAULT '';
CREATE TABLE referral_changes (
    id          BLOB PRIMARY KEY NOT NULL,
    referral_id BLOB NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    changed_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    changed_at  TEXT NOT NULL,
    fields      TEXT NOT NULL
);
CREATE INDEX referral_changes_referral_idx ON referral_changes (referral_id, changed_at);
