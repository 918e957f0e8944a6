//! Contact details and ways off the platform: phone numbers (in digits or
//! words), email addresses (also "name at gmail dot com"), links and bare
//! domains, social handles, home addresses and postcodes. Each finder reads
//! the plain reading of the message ([`Mapped`]) and answers with ranges of
//! the clean text.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::text::Mapped;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

/// How many digits make a phone number. UK numbers have 10 or 11 (without
/// the 0: 10), international ones 8 to 15 after the `+`. Times ("8:45"),
/// page numbers and sums have far fewer in one run.
const PHONE_DIGITS: usize = 10;
const INTERNATIONAL_DIGITS: usize = 8;

/// Number words as digits, so "oh seven seven double oh" reads "07700".
/// "oh" and "o" are read as zero only beside another number word or digit
/// (see [`phone_numbers`]), so "oh ok" stays words.
static NUMBER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(zero|nought|oh|o|one|won|two|too|three|four|for|five|six|seven|eight|ate|nine|niner|double|triple|treble)\b",
    )
});

fn digit_of(word: &str) -> Option<&'static str> {
    Some(match word {
        "zero" | "nought" | "oh" | "o" => "0",
        "one" | "won" => "1",
        "two" | "too" => "2",
        "three" => "3",
        "four" | "for" => "4",
        "five" => "5",
        "six" => "6",
        "seven" => "7",
        "eight" | "ate" => "8",
        "nine" | "niner" => "9",
        _ => return None,
    })
}

/// Phone numbers: runs of digits (or number words) split by spaces,
/// dashes, dots, brackets or slashes.
pub fn phone_numbers(plain: &Mapped) -> Vec<Range<usize>> {
    let digits = spell_digits(plain);
    let text = digits.text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if !(text[i].is_ascii_digit() || text[i] == b'+') {
            i += 1;
            continue;
        }
        let start = i;
        let international = text[i] == b'+';
        let (mut count, mut end, mut gap) = (0, i, 0);
        while i < text.len() {
            let b = text[i];
            if b.is_ascii_digit() {
                count += 1;
                end = i + 1;
                gap = 0;
            } else if matches!(
                b,
                b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+' | b',' | b'_'
            ) && gap < 3
            {
                gap += 1;
            } else {
                break;
            }
            i += 1;
        }
        if count >= PHONE_DIGITS || (international && count >= INTERNATIONAL_DIGITS) {
            found.push(digits.source(start..end));
        }
        i = end.max(start + 1);
    }
    found
}

/// The plain reading with number words beside other numbers made digits,
/// and "double"/"triple" spelled out.
fn spell_digits(plain: &Mapped) -> Mapped {
    // Words to digits first; a lone "o"/"oh"/"for"/"too" among words is
    // put back below by looking at its neighbours.
    let words: Vec<(Range<usize>, &str)> = NUMBER_WORD
        .find_iter(&plain.text)
        .map(|m| (m.range(), m.as_str()))
        .collect();
    let is_numeric = |r: &Range<usize>, before: bool| -> bool {
        // The nearest token on that side is a digit or a number word.
        let text = &plain.text;
        let side = if before {
            &text[..r.start]
        } else {
            &text[r.end..]
        };
        let token = if before {
            side.trim_end().rsplit(|c: char| c.is_whitespace()).next()
        } else {
            side.trim_start().split(|c: char| c.is_whitespace()).next()
        };
        token.is_some_and(|t| {
            let t = t.trim_matches(|c: char| c.is_ascii_punctuation());
            !t.is_empty()
                && (t.bytes().all(|b| b.is_ascii_digit())
                    || NUMBER_WORD.is_match(t)
                        && NUMBER_WORD.find(t).is_some_and(|m| m.len() == t.len()))
        })
    };
    let mut out = Mapped::default();
    let mut last = 0;
    let mut pending_repeat = 1;
    for (range, word) in &words {
        let weak = matches!(*word, "o" | "oh" | "for" | "too" | "won" | "ate");
        if weak && !(is_numeric(range, true) || is_numeric(range, false)) {
            continue;
        }
        out.extend_from(plain, last..range.start);
        match *word {
            "double" => pending_repeat = 2,
            "triple" | "treble" => pending_repeat = 3,
            w => {
                if let Some(d) = digit_of(w) {
                    out.push_str_from(&d.repeat(pending_repeat), plain.source(range.clone()));
                }
                pending_repeat = 1;
            }
        }
        last = range.end;
    }
    out.extend_from(plain, last..plain.text.len());
    out
}

/// "at" and "dot" in all their written forms, for email and web addresses
/// spelled out to get past a filter.
static AT: LazyLock<Regex> = LazyLock::new(|| regex(r"\s*(\[at\]|\(at\)|\{at\}|\bat\b)\s*"));
static DOT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\s*(?:\[dot\]|\(dot\)|\{dot\}|\bdot\b)\s*|\s+\.\s+"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"[a-z0-9._%+\-]+\s*@\s*[a-z0-9\-]+(?:\s*\.\s*[a-z0-9\-]+)*\s*\.\s*(?:com|net|org|co|uk|io|me|info|biz|edu|ac|sch|gov|online|live|icloud|de|fr|es|ie|us|ca|au)\b",
    )
});

/// Email addresses, written plainly or spelled out ("sam at gmail dot com").
pub fn emails(plain: &Mapped) -> Vec<Range<usize>> {
    let direct: Vec<Range<usize>> = linkify::LinkFinder::new()
        .kinds(&[linkify::LinkKind::Email])
        .links(&plain.text)
        .map(|l| plain.source(l.start()..l.end()))
        .collect();
    if !direct.is_empty() {
        return direct;
    }
    let spelled = plain.replace(&AT, "@").replace(&DOT, ".");
    EMAIL
        .find_iter(&spelled.text)
        .map(|m| spelled.source(m.range()))
        .collect()
}

/// Top-level domains a bare domain ("mysite.com") must end in to count: a
/// word joined by a dot ("e.g", "Mr.Smith", "file.txt") is not a link.
const DOMAINS: &[&str] = &[
    "com", "net", "org", "uk", "co", "io", "me", "ly", "gg", "tv", "app", "info", "biz", "xyz",
    "online", "site", "link", "live", "to", "be", "cc", "us", "ru", "de", "fr", "es", "ie", "eu",
    "ca", "au", "in", "ai", "dev", "page", "club", "fun", "chat", "social", "gl", "sh", "id",
];

/// Link shorteners and chat invites, which name nothing but lead anywhere.
static SHORTENER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(bit\s*\.?\s*ly|tinyurl|t\s*\.\s*co|goo\s*\.\s*gl|ow\s*\.\s*ly|is\s*\.\s*gd|cutt\s*\.\s*ly|rb\s*\.\s*gy|shorturl|discord\s*\.?\s*gg|wa\s*\.\s*me|t\s*\.\s*me)\b",
    )
});

/// Web links, with or without `https://`, bare domains and shorteners.
pub fn links(plain: &Mapped) -> Vec<Range<usize>> {
    let mut finder = linkify::LinkFinder::new();
    finder
        .kinds(&[linkify::LinkKind::Url])
        .url_must_have_scheme(false);
    let spelled = plain.replace(&DOT, ".");
    let mut found: Vec<Range<usize>> = finder
        .links(&spelled.text)
        .filter(|l| {
            let s = l.as_str();
            s.contains("://")
                || s.starts_with("www.")
                || host_of(s)
                    .rsplit('.')
                    .next()
                    .is_some_and(|tld| DOMAINS.contains(&tld))
        })
        .map(|l| spelled.source(l.start()..l.end()))
        .collect();
    found.extend(
        SHORTENER
            .find_iter(&spelled.text)
            .map(|m| spelled.source(m.range())),
    );
    found
}

fn host_of(link: &str) -> &str {
    let rest = link.split("://").last().unwrap_or(link);
    rest.split(['/', '?', '#', ':']).next().unwrap_or(rest)
}

/// "@name" on its own (an email address is found above), and the words
/// that ask to be found elsewhere.
static HANDLE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:^|[\s(])(@[a-z0-9_.]{3,30})\b|\b(add|follow|message|msg|dm|text|ring|call|phone|find|ping|snap|whatsapp|facetime)\s+me\s+(on|at)\b|\bmy\s+(snap|insta|tiktok|discord|number|phone\s+number|mobile|handle|username|user\s*name|gamertag|account)\s+(is|=|:)|\bdm\s+me\b|\btext\s+me\b|\bwhat'?s\s+your\s+(number|snap|insta|discord|tiktok|username|email|mobile)\b|\bgive\s+me\s+your\s+(number|snap|insta|email|mobile|address)\b",
    )
});

/// Social handles, and asking for or giving a way to be contacted.
pub fn handles(plain: &Mapped) -> Vec<Range<usize>> {
    HANDLE
        .captures_iter(&plain.text)
        .filter_map(|c| c.get(1).or_else(|| c.get(0)))
        .map(|m| plain.source(m.range()))
        .collect()
}

/// UK postcodes ("SW1A 1AA", "m1 1ae").
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b([a-pr-uwyz][a-hk-y]?[0-9][0-9a-hjkps-uw]?)\s*([0-9][abd-hjlnp-uw-z]{2})\b")
});

/// A house number and a street ("12 Acacia Avenue"), or a home asked for
/// or given ("I live on Mill Lane", "where do you live").
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b[0-9]{1,4}[a-z]?,?\s+(?:[a-z']+\s+){1,3}(?:road|rd|street|st|lane|ln|avenue|ave|close|drive|dr|way|crescent|cres|grove|gardens|gdns|court|ct|place|terrace|mews|row|walk|square|sq|parade|rise|view)\b|\b(?:i|we)\s+live\s+(?:at|on|in)\s+(?:[a-z']+\s+){1,3}(?:road|rd|street|st|lane|avenue|ave|close|drive|way|crescent|grove|gardens|court|place|terrace|estate|flats)\b|\b(?:my|our)\s+(?:home\s+)?address\s+is\b|\bwhere\s+do\s+(?:you|u)\s+live\b|\bwhat'?s\s+(?:your|ur)\s+(?:home\s+)?address\b|\bwhat\s+is\s+(?:your|ur)\s+(?:home\s+)?address\b|\bwhich\s+(?:road|street)\s+do\s+(?:you|u)\s+live\b",
    )
});

/// Addresses every pupil learns, which are nobody's home.
const FAMOUS: &[&str] = &[
    "downing street",
    "baker street",
    "privet drive",
    "sesame street",
];

/// Postcodes and home addresses.
pub fn addresses(plain: &Mapped) -> Vec<Range<usize>> {
    POSTCODE
        .find_iter(&plain.text)
        .chain(ADDRESS.find_iter(&plain.text))
        .filter(|m| !FAMOUS.iter().any(|f| m.as_str().ends_with(f)))
        .map(|m| plain.source(m.range()))
        .collect()
}

impl Mapped {
    fn extend_from(&mut self, other: &Mapped, range: Range<usize>) {
        for (at, c) in other.text[range.clone()].char_indices() {
            let at = range.start + at;
            self.push_str_from(
                c.encode_utf8(&mut [0; 4]),
                other.source(at..at + c.len_utf8()),
            );
        }
    }
}
