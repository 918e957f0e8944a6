//! iCalendar text as RFC 5545 §3.1 writes it: content lines, escaped
//! values, quoted parameters, and lines folded at 75 octets.
//!
//! Written here rather than with the `icalendar` crate, for two measured
//! reasons: that crate cannot write a `VTIMEZONE`, which a series in a
//! school's own zone needs, and its folding leaves 76-octet lines (it
//! counts the continuation's leading space outside the limit). The tests
//! read everything written here back with independent parsers (the `ical`
//! crate here, Python `icalendar` and ical.js in the API tests).

use std::fmt::Write as _;

/// The longest line RFC 5545 allows, in octets, CRLF excluded.
const LINE_OCTETS: usize = 75;

/// Builds one iCalendar object, a line at a time.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn begin(&mut self, component: &str) -> &mut Self {
        self.raw("BEGIN", &[], component)
    }

    pub fn end(&mut self, component: &str) -> &mut Self {
        self.raw("END", &[], component)
    }

    /// A property whose value is already in its iCalendar form (a date, a
    /// number, a URI, a rule): written as given.
    pub fn raw(&mut self, name: &str, params: &[(&str, &str)], value: &str) -> &mut Self {
        let mut line = String::from(name);
        for (key, param) in params {
            let _ = write!(line, ";{key}={}", param_value(param));
        }
        line.push(':');
        line.push_str(value);
        fold_into(&mut self.out, &line);
        self
    }

    /// A TEXT property: backslashes, semicolons, commas and line breaks
    /// escaped, other control characters dropped.
    pub fn text(&mut self, name: &str, params: &[(&str, &str)], value: &str) -> &mut Self {
        self.raw(name, params, &escape_text(value))
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (RFC 5545 §3.2): a double quote cannot be escaped in
/// one, so it goes, as do control characters; one holding `:`, `;` or `,`
/// is quoted.
fn param_value(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// Appends `line` folded (RFC 5545 §3.1): at most 75 octets a line, the
/// leading space of a continuation counted, never splitting a character.
fn fold_into(out: &mut String, line: &str) {
    let mut room = LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > room {
            out.push_str("\r\n ");
            // The space is one of the next line's 75.
            room = LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_never_pass_75_octets_and_unfold_to_the_line() {
        let long = format!(
            "Mentoring: Siobhán ({}) with Zoë",
            "Ysgol Gyfun Gymraeg Plasmawr — 学校 ".repeat(6)
        );
        let mut w = Writer::new();
        w.text("SUMMARY", &[], &long);
        let text = w.finish();
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        let unfolded = text.trim_end().replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{long}"));
    }

    #[test]
    fn text_is_escaped_and_parameters_quoted() {
        let mut w = Writer::new();
        w.text(
            "DESCRIPTION",
            &[],
            "Moved: trip; back, late\r\nsee \\ you\u{7}",
        );
        w.raw(
            "ORGANIZER",
            &[("CN", "Hillside: \"mentoring\"")],
            "mailto:a@b.example",
        );
        assert_eq!(
            w.finish(),
            "DESCRIPTION:Moved: trip\\; back\\, late\\nsee \\\\ you\r\n\
             ORGANIZER;CN=\"Hillside: mentoring\":mailto:a@b.example\r\n"
        );
    }
}
