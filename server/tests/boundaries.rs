//! The domain boundaries, checked on the source itself.
//!
//! Each domain is one folder with the same parts (`mod.rs` types and rules,
//! `store.rs` its SQL, `http.rs` its API, `pages.rs` its pages), and domains
//! reach each other only through `mod`/`store` items. Nothing in the compiler
//! stops `booking` from calling `accounts::http`, or `matching` from writing
//! the `referrals` table, so this test reads every file under `server/src`
//! and fails, naming the file and line, when either happens.
//!
//! The app's assembly (`app.rs`) is the one place that may name every
//! domain's `http` and `pages`: it registers their routes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

/// Which domain owns each table, from the migrations' `CREATE TABLE`s.
const TABLES: &[(&str, &str)] = &[
    ("schools", "people::schools"),
    ("users", "people::accounts"),
    ("partnerships", "people::partnerships"),
    ("mentor_profiles", "people::mentors"),
    ("referrals", "people::referrals"),
    ("referral_changes", "people::referrals"),
    ("sessions", "auth"),
    ("calendar_entries", "calendar"),
    ("bell_schedules", "calendar"),
    ("bell_periods", "calendar"),
    ("cycle_overrides", "calendar"),
    ("slot_policies", "calendar"),
    ("school_capacity", "calendar"),
    ("match_proposals", "matching"),
    ("match_approvals", "matching"),
    ("match_rules", "matching"),
    ("matches", "matching"),
    ("mentoring_sessions", "booking"),
    ("session_claims", "booking"),
    ("calendar_feeds", "invites"),
    ("outbox", "invites"),
    ("outbox_attempts", "invites"),
    ("invite_series", "invites"),
    ("invite_copies", "invites"),
    ("invite_digest_subscribers", "invites"),
    ("invite_digest_lines", "invites"),
    // 0013's rebuild of the two, renamed into place.
    ("outbox_next", "invites"),
    ("outbox_attempts_next", "invites"),
    ("attendance_events", "attendance"),
    ("attendance_corrections", "attendance"),
    // Made by 0010, moved into `messages` and dropped by 0011.
    ("call_chat", "attendance"),
    ("messages", "messaging"),
    ("message_reads", "messaging"),
    ("school_words", "safeguarding"),
    ("message_rules", "safeguarding"),
    ("message_reviews", "safeguarding"),
    ("concerns", "safeguarding"),
    ("staff_reads", "safeguarding"),
    ("safeguarding_alerts", "safeguarding"),
    ("safeguarding_deputies", "safeguarding"),
    ("record_identifiers", "record"),
    ("record_assessments", "record"),
    ("record_scores", "record"),
    ("record_targets", "record"),
    ("record_progress", "record"),
    ("record_session_notes", "record"),
    ("record_reviews", "record"),
    ("record_exits", "record"),
    ("record_feedback", "record"),
    ("certificates", "certificates"),
    ("school_groups", "people::groups"),
    ("school_group_members", "people::groups"),
];

/// The domain a source file belongs to, or `None` for the shared parts
/// (state, store, errors, web kit, CLI, demo), which belong to no domain and
/// so may reach no domain's `http` or `pages` either.
fn domain_of(rel: &Path) -> Option<String> {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.as_slice() {
        [people, name, ..] if people == "people" && parts.len() > 2 => {
            Some(format!("people::{name}"))
        }
        [first, ..] => match first.as_str() {
            "auth" | "calendar" | "matching" | "booking" | "invites" | "attendance"
            | "messaging" | "safeguarding" | "record" | "reports" | "certificates" | "home" => {
                Some(first.clone())
            }
            _ => None,
        },
        [] => None,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("read a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file, with its path under `server/src` and its text.
fn sources() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            (
                path.strip_prefix(&root).expect("under src").to_path_buf(),
                text,
            )
        })
        .collect()
}

/// The domain named by a `crate::…` path's leading segments.
fn domain_in_path(segments: &[&str]) -> Option<String> {
    match segments {
        ["people", name, ..] => Some(format!("people::{name}")),
        [first, ..] => domain_of(Path::new(first)),
        [] => None,
    }
}

/// `crate::a::b::http` and `crate::a::{b, http::X}`: every domain whose
/// `http` or `pages` a line names.
fn http_or_pages_named(line: &str, path_re: &Regex, group_re: &Regex) -> Vec<String> {
    let mut found = Vec::new();
    for caps in path_re.captures_iter(line) {
        let segments: Vec<&str> = caps[1].split("::").collect();
        if let Some(at) = segments.iter().position(|s| *s == "http" || *s == "pages")
            && let Some(domain) = domain_in_path(&segments[..at])
        {
            found.push(domain);
        }
    }
    for caps in group_re.captures_iter(line) {
        let segments: Vec<&str> = caps[1].split("::").collect();
        let names_layer = caps[2]
            .split(',')
            .any(|item| matches!(item.trim().split("::").next(), Some("http" | "pages")));
        if names_layer && let Some(domain) = domain_in_path(&segments) {
            found.push(domain);
        }
    }
    found
}

#[test]
fn no_domain_reaches_into_another_domains_http_or_pages() {
    let path_re = Regex::new(r"\b(?:crate|mentorbridge)::((?:\w+::)*\w+)").expect("regex");
    let group_re =
        Regex::new(r"\b(?:crate|mentorbridge)::((?:\w+::)*\w+)::\{([^}]*)\}").expect("regex");
    let mut wrong = Vec::new();
    for (rel, text) in sources() {
        if rel == Path::new("app.rs") {
            continue;
        }
        let own = domain_of(&rel);
        for (n, line) in text.lines().enumerate() {
            for target in http_or_pages_named(line, &path_re, &group_re) {
                if own.as_deref() != Some(target.as_str()) {
                    wrong.push(format!(
                        "{}:{}: {} reaches into {target}'s http/pages: {}",
                        rel.display(),
                        n + 1,
                        own.as_deref().unwrap_or("a shared module"),
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn no_domain_touches_another_domains_tables() {
    let owner: BTreeMap<&str, &str> = TABLES.iter().copied().collect();
    // Table names follow the keywords that read or write one; prose that
    // happens to say "from users" would match too, which is why comments are
    // left out below.
    let sql = Regex::new(r"(?i)\b(?:from|join|into|update)\s+([a-z_]+)\b").expect("regex");
    let mut wrong = Vec::new();
    for (rel, text) in sources() {
        let own = domain_of(&rel);
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for caps in sql.captures_iter(code) {
                let table = &caps[1];
                let Some(&belongs) = owner.get(table) else {
                    continue;
                };
                if own.as_deref() != Some(belongs) {
                    wrong.push(format!(
                        "{}:{}: {} uses {belongs}'s table {table}: {}",
                        rel.display(),
                        n + 1,
                        own.as_deref().unwrap_or("a shared module"),
                        code
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn the_table_map_names_every_table_the_migrations_create() {
    let create = Regex::new(r"(?i)CREATE TABLE\s+(?:IF NOT EXISTS\s+)?([a-z_]+)").expect("regex");
    let rename = Regex::new(r"(?i)ALTER TABLE\s+([a-z_]+)\s+RENAME TO\s+([a-z_]+)").expect("regex");
    let mapped: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    for backend in ["sqlite", "postgres"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrations")
            .join(backend);
        for entry in std::fs::read_dir(&dir).expect("read the migrations") {
            let path = entry.expect("a migration").path();
            let text = std::fs::read_to_string(&path).expect("read a migration");
            // SQLite changes a table's constraints by building a new one and
            // renaming it over the old: the new one is the old table.
            let renamed: BTreeMap<&str, &str> = rename
                .captures_iter(&text)
                .map(|c| (c.get(1).unwrap().as_str(), c.get(2).unwrap().as_str()))
                .collect();
            for caps in create.captures_iter(&text) {
                let table = renamed.get(&caps[1]).copied().unwrap_or(&caps[1]);
                assert!(
                    mapped.contains(&table),
                    "{}: table {} has no owning domain in TABLES",
                    path.display(),
                    &caps[1]
                );
            }
        }
    }
}
