-- An account a coordinator has turned off: it cannot sign in, its sessions
-- are ended, and everything it did stays on record.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN disabled_by UUID REFERENCES users (id) ON DELETE SET NULL;
