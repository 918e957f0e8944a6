-- Closures a coordinator adds by hand (a snow day) are kept when the term
-- dates file is uploaded again; only what the file brought is replaced.
ALTER TABLE calendar_entries ADD COLUMN manual BOOLEAN NOT NULL DEFAULT FALSE;
