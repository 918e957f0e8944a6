-- The days of the week a school teaches, in its week's order: most teach
-- Monday to Friday, many in the Middle East Sunday to Thursday. Its Week A/B
-- cycle counts weeks from its first teaching day.
ALTER TABLE schools ADD COLUMN teaching_days TEXT NOT NULL DEFAULT 'Mon,Tue,Wed,Thu,Fri';
