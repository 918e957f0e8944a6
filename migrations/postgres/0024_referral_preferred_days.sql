-- The days of the mentee's own week they would rather meet on, as
-- `Wed,Fri`; the optimiser gives them those days where it costs no match
-- and no better-fitting mentor.
ALTER TABLE referrals ADD COLUMN preferred_days TEXT NOT NULL DEFAULT '';
