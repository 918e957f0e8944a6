//! The moderation pipeline every message passes before the other student
//! can see it, in a thread or in a call: [`check`] finds what is in the
//! message ([`Finding`]s, each with its [`Category`] and where it is), and
//! a school's [`Policy`] turns the findings into a [`Verdict`].
//!
//! - [`text`]: what cannot be sent at all, the clean text that is stored,
//!   and the plain reading (look-alikes, fullwidth forms and accents made
//!   plain) that the finders read, mapped back to the clean text.
//! - [`words`]: swearing and abuse, platform names and each school's own
//!   list, through `rustrict`.
//! - [`contact`]: phone numbers, emails, links, handles, addresses.
//! - [`conduct`]: meeting up, secrecy, deleting messages.

pub mod conduct;
pub mod contact;
pub mod text;
pub mod words;

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use text::{MAX_CHARS, Unsendable, clean};
pub use words::WordList;

/// What a finding is about. Each school decides what happens for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Swearing, slurs and abuse (the built-in list).
    Swearing,
    /// A word or phrase on one of the two schools' own lists.
    SchoolWords,
    /// Phone numbers, emails, links, handles, platforms, addresses.
    Contact,
    /// Asking to meet, or to move to a place the school cannot see.
    Meeting,
    /// Asking for secrecy, or to delete messages.
    Secrecy,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Swearing,
        Category::SchoolWords,
        Category::Contact,
        Category::Meeting,
        Category::Secrecy,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Swearing => "swearing",
            Category::SchoolWords => "school_words",
            Category::Contact => "contact",
            Category::Meeting => "meeting",
            Category::Secrecy => "secrecy",
        }
    }

    /// As staff read it.
    pub fn label(self) -> &'static str {
        match self {
            Category::Swearing => "Swearing or abuse",
            Category::SchoolWords => "A word on the school's list",
            Category::Contact => "Contact details",
            Category::Meeting => "Meeting up",
            Category::Secrecy => "Secrecy or deleting messages",
        }
    }

    /// Why a message could not be sent, as a 12-year-old reads it.
    pub fn told_to_sender(self) -> &'static str {
        match self {
            Category::Swearing => {
                "Your message has a word in it that isn't allowed here. Try saying it another way."
            }
            Category::SchoolWords => {
                "Your message has a word in it that your school has asked us not to send. Try saying it another way."
            }
            Category::Contact => {
                "To keep everyone safe, phone numbers, emails, addresses, links and other apps can't be shared here."
            }
            Category::Meeting => {
                "To keep everyone safe, mentoring happens here and in your sessions, not in person or on other apps."
            }
            Category::Secrecy => {
                "Messages here are never secret: your teachers can read them, and that keeps everyone safe."
            }
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored name this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown moderation name `{0}`")]
pub struct UnknownName(pub String);

impl FromStr for Category {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// What happens to a message with a finding of a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Sent as it is.
    Deliver,
    /// Kept for a safeguarding lead to release or reject; the other
    /// student sees nothing until then.
    Hold,
    /// Not sent; the sender is told why, and the attempt is kept.
    Block,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Deliver, Action::Hold, Action::Block];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deliver => "deliver",
            Action::Hold => "hold",
            Action::Block => "block",
        }
    }
}

impl FromStr for Action {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// One thing found in a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    /// Where in the clean text (byte offsets), to highlight or redact.
    pub start: usize,
    pub end: usize,
}

impl Finding {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// What one school does with each category. A message between two schools
/// takes the stricter of the two schools' actions for each category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub swearing: Action,
    pub school_words: Action,
    pub contact: Action,
    pub meeting: Action,
    pub secrecy: Action,
}

impl Default for Policy {
    /// Swearing and the school's own words blocked; contact details,
    /// meeting and secrecy held for review.
    fn default() -> Self {
        Policy {
            swearing: Action::Block,
            school_words: Action::Block,
            contact: Action::Hold,
            meeting: Action::Hold,
            secrecy: Action::Hold,
        }
    }
}

impl Policy {
    pub fn action(&self, category: Category) -> Action {
        match category {
            Category::Swearing => self.swearing,
            Category::SchoolWords => self.school_words,
            Category::Contact => self.contact,
            Category::Meeting => self.meeting,
            Category::Secrecy => self.secrecy,
        }
    }

    pub fn set(&mut self, category: Category, action: Action) {
        *match category {
            Category::Swearing => &mut self.swearing,
            Category::SchoolWords => &mut self.school_words,
            Category::Contact => &mut self.contact,
            Category::Meeting => &mut self.meeting,
            Category::Secrecy => &mut self.secrecy,
        } = action;
    }

    /// The stricter of two schools' policies, category by category.
    pub fn stricter(&self, other: &Policy) -> Policy {
        let mut out = *self;
        for c in Category::ALL {
            out.set(c, self.action(c).max(other.action(c)));
        }
        out
    }
}

/// A message as checked: its clean text and what was found in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub text: String,
    pub findings: Vec<Finding>,
}

/// The decision for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub action: Action,
    /// The category that decided it (the first of the strictest), if any.
    pub category: Option<Category>,
}

impl Checked {
    /// What `policy` does with this message: the strictest action any
    /// finding calls for.
    pub fn verdict(&self, policy: &Policy) -> Verdict {
        let decided = self
            .findings
            .iter()
            .map(|f| (policy.action(f.category), f.category))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        match decided {
            Some((action, category)) if action != Action::Deliver => Verdict {
                action,
                category: Some(category),
            },
            _ => Verdict {
                action: Action::Deliver,
                category: None,
            },
        }
    }

    /// The text with every finding's part replaced by `█` blocks, for a
    /// release with the matched part redacted.
    pub fn redacted(&self) -> String {
        redact(&self.text, &self.findings)
    }
}

/// `text` with the parts `findings` cover blanked out.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let covered = findings.iter().any(|f| f.range().contains(&at));
        out.push(if covered && !c.is_whitespace() {
            '█'
        } else {
            c
        });
    }
    out
}

/// Checks `text` against the built-in lists and `list` (the schools' own,
/// both schools' in one: [`WordList::joined`]): what cannot be sent is
/// refused; otherwise every finding.
pub fn check(text: &str, list: &WordList) -> Result<Checked, Unsendable> {
    let clean = text::clean(text)?;
    let plain = text::Mapped::plain(&clean);
    let letters = conduct::letters(&plain);
    let mut findings = Vec::new();
    let mut add = |category, ranges: Vec<Range<usize>>| {
        findings.extend(ranges.into_iter().map(|r| Finding {
            category,
            start: r.start,
            end: r.end,
        }));
    };
    add(Category::Swearing, words::swearing(&clean));
    add(Category::SchoolWords, words::listed(&clean, list));
    add(Category::Contact, contact::phone_numbers(&plain));
    add(Category::Contact, contact::emails(&plain));
    add(Category::Contact, contact::links(&plain));
    add(Category::Contact, contact::handles(&plain));
    add(Category::Contact, contact::addresses(&plain));
    add(Category::Contact, words::platforms(&clean));
    add(Category::Meeting, conduct::meeting(&letters));
    add(Category::Secrecy, conduct::secrecy(&letters));
    findings.sort_by_key(|f| (f.start, f.category));
    findings.dedup();
    Ok(Checked {
        text: clean,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strictest_finding_decides_and_two_schools_take_the_stricter_policy() {
        let checked = check(
            "ring me on 07700 900123 you idiot, don't tell your teacher",
            &WordList::default(),
        )
        .unwrap();
        let default = Policy::default();
        assert_eq!(checked.verdict(&default).action, Action::Hold);
        let relaxed = Policy {
            contact: Action::Deliver,
            secrecy: Action::Deliver,
            ..Policy::default()
        };
        assert_eq!(checked.verdict(&relaxed).action, Action::Deliver);
        let strict = Policy {
            secrecy: Action::Block,
            ..Policy::default()
        };
        assert_eq!(
            checked.verdict(&relaxed.stricter(&strict)),
            Verdict {
                action: Action::Block,
                category: Some(Category::Secrecy)
            }
        );
    }

    #[test]
    fn redaction_blanks_the_found_parts_only() {
        let checked = check("my number is 07700 900123 ok", &WordList::default()).unwrap();
        let redacted = checked.redacted();
        assert!(!redacted.contains("07700"), "{redacted}");
        assert!(
            redacted.starts_with("my number is") || redacted.contains("ok"),
            "{redacted}"
        );
        assert!(redacted.ends_with("ok"), "{redacted}");
    }

    #[test]
    fn a_school_list_word_is_found_through_the_same_evasions() {
        let list = WordList::new(vec!["skeng".to_owned(), "opp block".to_owned()]);
        for message in [
            "he had a skeng",
            "sk3ng",
            "s k e n g",
            "SKEEENG",
            "the opp block",
        ] {
            let checked = check(message, &list).unwrap();
            assert!(
                checked
                    .findings
                    .iter()
                    .any(|f| f.category == Category::SchoolWords),
                "{message}: {checked:?}"
            );
        }
        let checked = check("a skeleton", &list).unwrap();
        assert!(checked.findings.is_empty(), "{checked:?}");
    }
}
