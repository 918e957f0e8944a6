//! Safeguarding: the moderation every message passes ([`moderate`]).

pub mod moderate;
