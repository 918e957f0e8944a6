//! Words that stop a message, found by `rustrict`: its own list of swearing,
//! slurs and abuse, the platforms students use to move a chat elsewhere,
//! and each school's list. `rustrict` sees through letters swapped for
//! digits and symbols, spaced or dotted letters, repeats, and look-alike
//! characters, so the same evasions fail against every list.

use std::ops::Range;
use std::sync::LazyLock;

use rustrict::{Censor, Trie, Type};

/// What `rustrict` marks a found word with: a private-use character, which
/// its reader drops from any input, so it never stands for itself.
const MARK: char = '\u{E000}';

/// Ordinary words and names that hold a short swear word, or read as one
/// across a space, and that `rustrict` would otherwise stop. Each was found
/// by the corpus (`server/tests/moderation/corpus.txt`).
const ALSO_CLEAN: &[&str] = &[
    "sussex",
    "essex",
    "wessex",
    "middlesex",
    "dick whittington",
    "dickon",
    "moby dick",
    "philip k dick",
    "cockburn",
    "cockermouth",
    "shitterton",
    "clitheroe",
    "penistone",
    "scunthorpe",
    "arsenal",
    "hancock",
];

/// How bad a built-in word must be to stop a message: moderate or severe
/// swearing, sexual words and slurs, and severe abuse ("kill yourself").
/// Mild words ("crap", "damn") pass; a school that stops them adds them to
/// its own list.
fn stops(typ: Type) -> bool {
    typ.is((Type::PROFANE | Type::OFFENSIVE | Type::SEXUAL) & Type::MODERATE_OR_HIGHER)
        || typ.is(Type::MEAN & Type::SEVERE)
}

/// `rustrict`'s own list with the clean words above added. Built once: the
/// censor takes a `'static` list.
static BUILT_IN: LazyLock<&'static Trie> = LazyLock::new(|| {
    let mut trie = Trie::default();
    for word in ALSO_CLEAN {
        trie.set(word, Type::NONE);
    }
    Box::leak(Box::new(trie))
});

/// Places students are asked to move a conversation to.
const PLATFORMS: &[&str] = &[
    "snapchat",
    "snap chat",
    "insta",
    "instagram",
    "tiktok",
    "tik tok",
    "discord",
    "whatsapp",
    "whats app",
    "telegram",
    "facebook",
    "messenger",
    "twitter",
    "kik",
    "wechat",
    "viber",
    "skype",
    "facetime",
    "omegle",
    "threads app",
    "bereal",
    "twitch",
    "xbox live",
    "psn",
    "youtube channel",
];

static PLATFORM_TRIE: LazyLock<&'static Trie> = LazyLock::new(|| leak(PLATFORMS.iter().copied()));

/// The type every word of our own lists is given, to tell a match of a
/// listed word from `rustrict`'s own remarks on the text (evasive, spam).
fn listed_type() -> Type {
    Type::PROFANE & Type::SEVERE
}

/// A list of words and phrases made into a trie `rustrict` can read. The
/// censor takes only a `'static` trie, so each list is leaked: it is built
/// when a school's list is loaded or edited, a few kilobytes each, not per
/// message.
fn leak<'a>(words: impl Iterator<Item = &'a str>) -> &'static Trie {
    let mut trie = Trie::new();
    for word in words {
        trie.set(&word.to_lowercase(), listed_type());
    }
    Box::leak(Box::new(trie))
}

/// A school's own words and phrases, ready to check against.
#[derive(Clone)]
pub struct WordList {
    words: Vec<String>,
    trie: &'static Trie,
}

impl Default for WordList {
    /// No words.
    fn default() -> Self {
        static EMPTY: LazyLock<&'static Trie> = LazyLock::new(|| Box::leak(Box::new(Trie::new())));
        WordList {
            words: Vec::new(),
            trie: &EMPTY,
        }
    }
}

impl std::fmt::Debug for WordList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordList")
            .field("words", &self.words.len())
            .finish()
    }
}

impl WordList {
    pub fn new(words: Vec<String>) -> WordList {
        let trie = leak(words.iter().map(String::as_str));
        WordList { words, trie }
    }

    /// Two schools' lists as one, to check a message between them in one
    /// pass.
    pub fn joined(a: &WordList, b: &WordList) -> WordList {
        let mut words = a.words.clone();
        words.extend(b.words.iter().filter(|w| !a.words.contains(w)).cloned());
        WordList::new(words)
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Where in `clean` the built-in list finds swearing or abuse.
pub fn swearing(clean: &str) -> Vec<Range<usize>> {
    find(&without_numbers(clean), &BUILT_IN, stops)
}

/// `clean` with each word made only of digits and the signs of sums
/// ("07700", "=", "3.14", "+") blanked, character for character. `rustrict`
/// tries every letter a digit or sign could stand for, which made a line of
/// algebra four times slower than a line of words and stopped some sums;
/// a word of digits and signs alone spells nothing. Digits among letters
/// ("sh1t") and the signs that stand for letters (`@`, `$`, `!`, `*`) stay.
fn without_numbers(clean: &str) -> std::borrow::Cow<'_, str> {
    let numeric = |word: &str| {
        word.chars()
            .all(|c| c.is_ascii_digit() || "+-=^/().,:%<>".contains(c))
    };
    if !clean.split_whitespace().any(numeric) {
        return clean.into();
    }
    let mut out = String::with_capacity(clean.len());
    let mut rest = clean;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        if numeric(word) {
            out.extend(word.chars().map(|_| ' '));
        } else {
            out.push_str(word);
        }
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..space_end]);
        rest = &tail[space_end..];
    }
    out.into()
}

/// Where in `clean` a platform name is.
pub fn platforms(clean: &str) -> Vec<Range<usize>> {
    find(clean, &PLATFORM_TRIE, |t| t.is(listed_type()))
}

/// Where in `clean` a word of `list` is.
pub fn listed(clean: &str, list: &WordList) -> Vec<Range<usize>> {
    if list.is_empty() {
        return Vec::new();
    }
    find(clean, list.trie, |t| t.is(listed_type()))
}

/// The byte ranges of `clean` that `rustrict`, reading with `trie`, marks
/// as meeting `stop`. Its reader drops some characters (accents on their
/// own, characters it bans), so when its output does not line up with the
/// input character for character, the whole message is the finding.
fn find(clean: &str, trie: &'static Trie, stop: impl Fn(Type) -> bool) -> Vec<Range<usize>> {
    let mut censor = Censor::from_str(clean);
    censor
        .with_trie(trie)
        .with_censor_replacement(MARK)
        .with_censor_threshold(Type::ANY)
        .with_censor_first_character_threshold(Type::ANY);
    let (marked, typ) = censor.censor_and_analyze();
    if !stop(typ) {
        return Vec::new();
    }
    let mut found: Vec<Range<usize>> = Vec::new();
    let (mut clean_chars, mut marked_chars) = (clean.char_indices(), marked.chars());
    let mut aligned = true;
    loop {
        match (clean_chars.next(), marked_chars.next()) {
            (Some((at, c)), Some(m)) => {
                if m == MARK && c != MARK {
                    let range = at..at + c.len_utf8();
                    match found.last_mut() {
                        Some(last) if last.end == range.start => last.end = range.end,
                        _ => found.push(range),
                    }
                }
            }
            (None, None) => break,
            _ => {
                aligned = false;
                break;
            }
        }
    }
    if !aligned {
        return std::iter::once(0..clean.len()).collect();
    }
    // A run that starts or ends on spaces is shown without them; one that
    // is mostly digits and symbols is algebra ("x^2 + 3x" reads as a
    // word once `^`, `2` and `+` are taken for letters), not a word.
    found
        .into_iter()
        .map(|r| trim_spaces(clean, r))
        .filter(|r| mostly_letters(&clean[r.clone()]))
        .collect()
}

fn mostly_letters(part: &str) -> bool {
    let letters = part.chars().filter(|c| c.is_alphabetic()).count();
    let others = part
        .chars()
        .filter(|c| !c.is_alphabetic() && !c.is_whitespace())
        .count();
    letters >= 2 && letters >= others
}

fn trim_spaces(text: &str, range: Range<usize>) -> Range<usize> {
    let part = &text[range.clone()];
    let start = range.start + (part.len() - part.trim_start().len());
    let end = range.end - (part.len() - part.trim_end().len());
    start..end.max(start)
}
