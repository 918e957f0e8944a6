//! Grooming-style requests: to meet off the platform, to keep the
//! conversation secret, to delete messages. Read in the letters reading of
//! the message (digits and symbols that stand for letters made letters,
//! long repeats shortened), so "d0nt t3ll" and "meeeet up" are read too.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::text::Mapped;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

/// Digits and symbols as the letters they stand for.
pub fn letters(plain: &Mapped) -> Mapped {
    plain
        .map_chars(|c| match c {
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' | '+' => 't',
            '8' => 'b',
            '’' | '‘' | '`' => '\'',
            c => c,
        })
        .squeeze()
}

/// Meeting in person, or moving to a call or place the school cannot see.
static MEETING: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"\b(?:meet|meat)\s*(?:up|me|(?:you|u)\s+(?:outside|after\s+school|at\s+the|in\s+town|this\s+weekend|on\s+(?:saturday|sunday)|irl|in\s+person))\b",
        r"|\bmeet\s+(?:irl|in\s+person|in\s+real\s+life|outside|after\s+school|at\s+the\s+(?:park|shops|station|bus\s+stop|gates|mall|cinema)|in\s+town|this\s+weekend|on\s+(?:saturday|sunday))\b",
        r"|\b(?:can|could|shall|should|will)\s+(?:we|i)\s+meet\b",
        r"|\blet'?s\s+meet\b",
        r"|\b(?:come|coming)\s+(?:round|over|to)\s+(?:to\s+)?(?:my|mine|your|ur)\s*(?:house|place|flat|home)?\b",
        r"|\b(?:hang\s*out|chill)\s+(?:after\s+school|this\s+weekend|on\s+(?:saturday|sunday)|irl|at\s+(?:mine|yours|my\s+house|your\s+house))\b",
        r"|\bin\s+real\s+life\b|\birl\b",
        r"|\bsee\s+(?:you|u)\s+(?:after\s+school|outside\s+school|this\s+weekend|in\s+town|at\s+the\s+(?:park|shops|station))\b",
        r"|\bsend\s+(?:me\s+)?(?:a\s+)?(?:pic|pics|picture|pictures|photo|photos|selfie|selfies|nudes?)\b",
        r"|\b(?:video\s*call|facetime)\s+me\b",
        r"|\bare\s+(?:you|u)\s+(?:home\s+)?alone\b",
    ))
});

/// Keeping the conversation from teachers and parents, or wiping it.
static SECRECY: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        r"\b(?:don'?t|do\s+not|dont|never|dnt)\s+(?:tell|show)\s+(?:your\s+|ur\s+|the\s+|any\s+)?(?:teachers?|sir|miss|mum|mom|dad|parents?|family|anyone|anybody|any1|no\s*one|nobody|staff|dsl|friends?|mates?)\b",
        r"|\b(?:don'?t|do\s+not|dont)\s+tell\s*[.!]*$",
        r"|\bkeep\s+(?:this|it|that|us)\s+(?:a\s+)?(?:secret|between\s+us|quiet|private)\b",
        r"|\b(?:our|a)\s+(?:little\s+)?secret\b",
        r"|\bbetween\s+(?:you\s+and\s+me|me\s+and\s+you|us)\b",
        r"|\b(?:no\s*one|nobody|no\s+body)\s+(?:needs|has|have)\s+to\s+know\b",
        r"|\b(?:delete|wipe|clear|remove|erase)\s+(?:this|these|that|the|our|your|ur|my|all|all\s+the|all\s+our|those)?\s*(?:message|messages|msg|msgs|chat|chats|texts?|convo|conversation|history)\b",
        r"|\bdelete\s+(?:it|this)\s+after\b",
    ))
});

/// Asking to meet off the platform.
pub fn meeting(letters: &Mapped) -> Vec<Range<usize>> {
    MEETING
        .find_iter(&letters.text)
        .map(|m| letters.source(m.range()))
        .collect()
}

/// Asking for secrecy or for messages to be deleted.
pub fn secrecy(letters: &Mapped) -> Vec<Range<usize>> {
    SECRECY
        .find_iter(&letters.text)
        .map(|m| letters.source(m.range()))
        .collect()
}
