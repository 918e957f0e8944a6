-- An account a coordinator has turned off: it cannot sign in, its sessions
-- are ended, and everything it did stays on record.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN disabled_by BLOB REFERENCES users (id) ON DELETE SET NULL;
