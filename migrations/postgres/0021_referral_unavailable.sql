-- Times a mentee cannot be mentored (a lesson in Tuesday registration),
-- one a line as `WEEK DAY PERIOD` with `*` for any week or period; the
-- optimiser keeps the mentee out of those slots.
ALTER TABLE referrals ADD COLUMN unavailable TEXT NOT NULL DEFAULT '';
