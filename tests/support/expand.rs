//! Recurring events expanded by two parsers independent of mentorbridge:
//! Python `icalendar` with `recurring-ical-events` (which reads zones from
//! its own zone database) and Mozilla's ical.js (which reads them from the
//! `VTIMEZONE`s the object carries), so a series is checked against both
//! the rules and the `VTIMEZONE` we write.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One occurrence of an event, as a parser expanded it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct Occurrence {
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: String,
}

fn run(program: &str, script: &str, ics: &str) -> Result<Vec<Occurrence>, String> {
    let mut child = Command::new(program)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ics.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Every occurrence of every event in `ics`, as each parser expands it:
/// `[("python", …), ("ical.js", …)]`, each sorted. `None` (after
/// [`super::app::skip`]) when a parser is not installed.
pub fn expanded(ics: &str) -> Option<Vec<(&'static str, Vec<Occurrence>)>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let python = format!("{root}/support/expand.py");
    let js = format!("{root}/js/expand.mjs");
    let ready = Command::new("python3")
        .args(["-c", "import icalendar, recurring_ical_events"])
        .status()
        .is_ok_and(|s| s.success())
        && std::path::Path::new(&format!("{root}/js/node_modules/ical.js")).exists();
    if !ready {
        super::app::skip(
            "Python icalendar + recurring-ical-events, or ical.js, is not installed \
             (pip install icalendar recurring-ical-events; npm ci --prefix tests/js)",
            "nothing: install them",
        );
        return None;
    }
    let mut out = Vec::new();
    for (name, program, script) in [("python", "python3", &python), ("ical.js", "node", &js)] {
        let mut found = run(program, script, ics)
            .unwrap_or_else(|e| panic!("{name} could not read it: {e}\n{ics}"));
        found.sort();
        out.push((name, found));
    }
    Some(out)
}
