//! A message as the checks read it: the text as stored (`clean`), and the
//! same text rewritten (look-alike letters made plain, number words made
//! digits, "at"/"dot" made `@`/`.`) with every character still pointing back
//! to where it came from, so a finding in the rewrite is shown in the
//! message the reviewer reads.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

/// What a message may not contain at all: it is refused before any check,
/// with this as the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    #[error("write a message first")]
    Empty,
    #[error("a message can be at most {max} characters (this one has {len})")]
    TooLong { len: usize, max: usize },
    #[error(
        "the message has a hidden control character in it; type it again without copying and pasting"
    )]
    Control,
    #[error(
        "the message has a hidden character that changes the direction of the text; type it again without copying and pasting"
    )]
    Bidi,
}

/// The longest message, in characters.
pub const MAX_CHARS: usize = 2000;

/// Characters that reorder text on screen, so what a reader sees is not
/// what was sent: the overrides a name may not hold either, and the
/// direction marks.
fn is_bidi_control(c: char) -> bool {
    crate::text::is_bidi_override(c) || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Invisible characters that only split words ("f\u{200B}ck"): dropped from
/// the stored text, so they neither hide a word nor reach the reader.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// The message as it is stored and shown: trimmed, composed (NFC), with
/// invisible characters and stray combining marks (strike-through and
/// "zalgo" decorations) removed. Refused if it is empty, too long, or holds
/// control or direction-changing characters.
pub fn clean(text: &str) -> Result<String, Unsendable> {
    if text.chars().any(is_bidi_control) {
        return Err(Unsendable::Bidi);
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Unsendable::Control);
    }
    let cleaned: String = text
        .nfc()
        .filter(|c| !is_invisible(*c) && !is_stray_mark(*c))
        .map(|c| if c == '\t' || c == '\r' { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim().to_owned();
    let len = cleaned.chars().count();
    if len == 0 {
        return Err(Unsendable::Empty);
    }
    if len > MAX_CHARS {
        return Err(Unsendable::TooLong {
            len,
            max: MAX_CHARS,
        });
    }
    Ok(cleaned)
}

/// A combining mark left over after composition (no precomposed letter
/// takes it).
fn is_stray_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Text rewritten for reading, each byte mapped back to the byte range of
/// the clean text it came from.
#[derive(Clone, Debug, Default)]
pub struct Mapped {
    pub text: String,
    /// For each byte of `text`, the clean text's range it stands for.
    from: Vec<Range<usize>>,
}

impl Mapped {
    fn push(&mut self, c: char, from: Range<usize>) {
        let mut buf = [0; 4];
        let s = c.encode_utf8(&mut buf);
        for _ in 0..s.len() {
            self.from.push(from.clone());
        }
        self.text.push(c);
    }

    pub(super) fn push_str_from(&mut self, s: &str, from: Range<usize>) {
        self.push_str(s, from);
    }

    fn push_str(&mut self, s: &str, from: Range<usize>) {
        for c in s.chars() {
            self.push(c, from.clone());
        }
    }

    /// The clean text's range behind `range` of this text.
    pub fn source(&self, range: Range<usize>) -> Range<usize> {
        if range.is_empty() || self.from.is_empty() {
            return 0..0;
        }
        let first = &self.from[range.start.min(self.from.len() - 1)];
        let last = &self.from[(range.end - 1).min(self.from.len() - 1)];
        first.start..last.end.max(first.start)
    }

    /// The plain reading of `clean`: look-alikes from other alphabets,
    /// fullwidth forms and accented letters made plain lower-case ASCII
    /// (by `decancer`), everything else as it was.
    pub fn plain(clean: &str) -> Mapped {
        let mut out = Mapped::default();
        for (at, c) in clean.char_indices() {
            let from = at..at + c.len_utf8();
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase(), from);
                continue;
            }
            match decancer::cure_char(c, decancer::Options::default()) {
                decancer::Translation::Character(p) => out.push(p, from),
                decancer::Translation::String(s) => out.push_str(&s, from),
                decancer::Translation::None => {}
            }
        }
        out
    }

    /// Rewrites each match of `find` to `to`, keeping the mapping.
    pub fn replace(&self, find: &regex::Regex, to: &str) -> Mapped {
        let mut out = Mapped::default();
        let mut last = 0;
        for m in find.find_iter(&self.text) {
            self.copy(last..m.start(), &mut out);
            let from = self.source(m.range());
            out.push_str(to, from);
            last = m.end();
        }
        self.copy(last..self.text.len(), &mut out);
        out
    }

    /// Rewrites each character by `map` (one character for one).
    pub fn map_chars(&self, map: impl Fn(char) -> char) -> Mapped {
        let mut out = Mapped::default();
        for (at, c) in self.text.char_indices() {
            out.push(map(c), self.from[at].clone());
        }
        out
    }

    /// Keeps at most two of any letter in a row ("meeeeet" reads "meet").
    pub fn squeeze(&self) -> Mapped {
        let mut out = Mapped::default();
        let mut run: (Option<char>, usize) = (None, 0);
        for (at, c) in self.text.char_indices() {
            run = if run.0 == Some(c) {
                (Some(c), run.1 + 1)
            } else {
                (Some(c), 1)
            };
            if run.1 <= 2 || !c.is_alphabetic() {
                out.push(c, self.from[at].clone());
            }
        }
        out
    }

    fn copy(&self, range: Range<usize>, out: &mut Mapped) {
        out.text.push_str(&self.text[range.clone()]);
        out.from.extend_from_slice(&self.from[range]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_refuses_what_cannot_be_sent_and_drops_what_hides_words() {
        assert_eq!(clean("   "), Err(Unsendable::Empty));
        assert_eq!(clean("\u{200B}"), Err(Unsendable::Empty));
        assert_eq!(clean("hi\u{202E}olleh"), Err(Unsendable::Bidi));
        assert_eq!(clean("hi\u{7}"), Err(Unsendable::Control));
        assert!(matches!(
            clean(&"a".repeat(2001)),
            Err(Unsendable::TooLong { len: 2001, .. })
        ));
        assert_eq!(clean(" f\u{200B}u\u{200D}n ").as_deref(), Ok("fun"));
        // Composed, so "é" typed as e + accent is one letter.
        assert_eq!(clean("cafe\u{301}").as_deref(), Ok("café"));
        assert_eq!(
            clean("line one\nline two").as_deref(),
            Ok("line one\nline two")
        );
    }

    #[test]
    fn the_plain_reading_maps_back_to_the_clean_text() {
        let clean = "Ｓｎａｐ Ѕnарсhаt café";
        let plain = Mapped::plain(clean);
        assert_eq!(plain.text, "snap snapchat cafe");
        let at = plain.text.find("snapchat").unwrap_or_default();
        let back = plain.source(at..at + "snapchat".len());
        assert_eq!(&clean[back], "Ѕnарсhаt");
        let dot = regex::Regex::new(" dot ").unwrap_or_else(|e| panic!("{e}"));
        let rewritten = Mapped::plain("me dot com").replace(&dot, ".");
        assert_eq!(rewritten.text, "me.com");
        assert_eq!(rewritten.source(2..3), 2..7);
    }
}
