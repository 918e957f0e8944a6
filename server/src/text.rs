//! The one rule for every name and label a person can set (staff and
//! students, schools, partnerships, periods, terms, closures, subjects):
//! one line of visible text.
//!
//! A line break in a name is never meant, and it is dangerous wherever the
//! name travels: into an email header (lettre refuses to build the message),
//! an iCalendar property, a CSV export or a log line. Bidirectional
//! overrides make a name read differently from what it is. So these are
//! refused where the name is typed, with words that say what to change.

use crate::error::{Error, Result};

/// A bidirectional embedding, override or isolate: it reorders the text
/// after it on screen, so what a reader sees is not what was written (the
/// "Trojan Source" characters). Message moderation refuses these too.
pub fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first character that has no place in a one-line name: a control
/// character (line breaks and tabs among them), a line or paragraph
/// separator, or a bidirectional override or isolate.
pub fn unwanted_char(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_bidi_override(c))
}

/// What to tell a person about `c`, in words they understand.
pub fn describe(c: char) -> String {
    match c {
        '\n' | '\r' | '\u{2028}' | '\u{2029}' => "a line break".to_owned(),
        '\t' => "a tab".to_owned(),
        c => format!("an invisible character (U+{:04X})", u32::from(c)),
    }
}

/// Why `s` is not one line of text, if it is not.
pub fn one_line_problem(s: &str) -> Option<String> {
    unwanted_char(s).map(|c| {
        format!(
            "contains {}; type it on one line, without copying in hidden characters",
            describe(c)
        )
    })
}

/// `raw` trimmed, as a name or label of at most `max` characters: refused
/// when blank (if `required`), too long, or not one line of text.
pub fn line(field: &'static str, raw: &str, max: usize, required: bool) -> Result<String> {
    let s = raw.trim();
    if required && s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if let Some(problem) = one_line_problem(s) {
        return Err(Error::invalid(field, problem));
    }
    Ok(s.to_owned())
}

/// `raw` trimmed, as a few lines of writing (a note, a target, feedback)
/// of at most `max` characters: line breaks are welcome, but control
/// characters and bidirectional overrides are refused as in [`line`].
pub fn paragraphs(field: &'static str, raw: &str, max: usize, required: bool) -> Result<String> {
    let s = raw.trim();
    if required && s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let stray = s
        .chars()
        .find(|&c| (c.is_control() && c != '\n' && c != '\r') || is_bidi_override(c));
    if let Some(c) = stray {
        return Err(Error::invalid(
            field,
            format!(
                "contains {}; type it again without copying in hidden characters",
                describe(c)
            ),
        ));
    }
    Ok(s.replace("\r\n", "\n"))
}

/// Text read from a file someone else wrote (a school's published
/// calendar), where a line break inside a title is common and harmless to
/// fold: every run of unwanted characters and spaces becomes one space.
pub fn fold_to_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.trim().chars() {
        if c.is_whitespace() || unwanted_char(c.encode_utf8(&mut [0; 4])).is_some() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_line_break_or_an_override_is_refused_in_plain_words() {
        for bad in [
            "Ms Ada\r\nBcc: everyone@example.org",
            "Ada\nLovelace",
            "Ada\tLovelace",
            "Ada\u{202e}ecalevol",
            "Ada\u{0}",
            "Ada\u{2028}Lovelace",
        ] {
            let err = line("given_name", bad, 80, true).unwrap_err();
            assert_eq!(err.field(), Some("given_name"), "{bad:?}");
            assert!(
                err.public_message().contains("one line"),
                "{bad:?}: {}",
                err.public_message()
            );
        }
        assert_eq!(
            line("given_name", "  Siobhán Ó Briain ", 80, true).unwrap(),
            "Siobhán Ó Briain"
        );
    }

    #[test]
    fn a_published_title_is_folded_onto_one_line() {
        assert_eq!(
            fold_to_line(" Autumn\r\nterm \t(staff)\u{202e} "),
            "Autumn term (staff)"
        );
    }
}
