//! What a new account must be: the input rules for usernames, passwords,
//! names, year groups, staff email addresses and subjects, and the parsed
//! [`ParsedAccount`] that only a valid input becomes (hashed into a
//! [`NewUser`] when it is stored).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Role, StudentKind};
use crate::auth::password::PasswordHash;
use crate::error::{Error, Result};

/// A school year group, 1 to 13 (Year 7 is the first year of secondary
/// school in England and Wales; 12 and 13 are the sixth form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct YearGroup(u8);

impl YearGroup {
    pub fn parse(n: i64) -> Result<Self> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=13).contains(n))
            .map(YearGroup)
            .ok_or_else(|| {
                Error::invalid(
                    "year_group",
                    format!("{n} is not a year group from 1 to 13"),
                )
            })
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A sign-in name: 3 to 64 of lowercase letters, digits, `.`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Stored lowercase, so sign-in ignores case.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_lowercase();
        if s.len() < 3 || s.len() > 64 {
            return Err(Error::invalid("username", "must be 3 to 64 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(Error::invalid(
                "username",
                "may use only letters, digits, `.`, `_` and `-`",
            ));
        }
        Ok(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that passed the policy, not yet hashed. Its `Debug` hides it.
pub struct NewPassword(String);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

impl NewPassword {
    /// Applies the password policy: 10 to 128 characters, and hard enough
    /// to guess by zxcvbn's estimate (at least 10^10 guesses: its score 3),
    /// which knows common passwords, keyboard runs, dates, repeats and
    /// words, and the username given here. A refusal says, in zxcvbn's
    /// words, what made it easy.
    pub fn parse(raw: &str, username: &Username) -> Result<Self> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(Error::invalid("password", "must not be empty"));
        }
        if len < 10 {
            return Err(Error::invalid(
                "password",
                "is too weak: use at least 10 characters (three short words work well)",
            ));
        }
        if len > 128 {
            return Err(Error::invalid("password", "must be at most 128 characters"));
        }
        if raw.to_lowercase().contains(username.as_str()) {
            return Err(Error::invalid(
                "password",
                "must not contain the username: anyone who knows it would try that first",
            ));
        }
        let estimate = zxcvbn::zxcvbn(raw, &[username.as_str(), "mentorbridge"]);
        if estimate.score() < zxcvbn::Score::Three {
            let mut why = String::from("is too easy to guess");
            if let Some(feedback) = estimate.feedback() {
                if let Some(warning) = feedback.warning() {
                    why.push_str(&format!(": {}", warning.to_string().trim_end_matches('.')));
                }
                why.push('.');
                for suggestion in feedback.suggestions() {
                    why.push_str(&format!(" {suggestion}"));
                }
            } else {
                why.push('.');
            }
            if !why.contains("words") {
                why.push_str(" Three or four unrelated words work well.");
            }
            return Err(Error::invalid("password", why));
        }
        Ok(NewPassword(raw.to_owned()))
    }

    /// For hashing, and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's given name (required) or family name (may be empty: not
/// everyone has one).
fn parse_name(field: &'static str, raw: &str) -> Result<String> {
    crate::text::line(field, raw, 80, field == "given_name")
}

/// A staff work address: blank means none. Deliberately loose (one `@`, a
/// dotted domain, no spaces): the mail server is the judge of the rest, and
/// a refusal is recorded against the invite.
pub fn parse_email(raw: &str) -> Result<Option<String>> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok = s.len() <= 254
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        return Err(Error::invalid(
            "email",
            format!("`{s}` is not an email address (like name@school.sch.uk)"),
        ));
    }
    Ok(Some(s.to_lowercase()))
}

/// Subjects a student studies, mentors in, or wants help with.
fn parse_subjects(raw: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if s.chars().count() > 60 || s.contains(',') || crate::text::unwanted_char(s).is_some() {
            return Err(Error::invalid(
                "subjects",
                format!(
                    "`{}` is not a subject name (one line of at most 60 characters, no commas)",
                    s.escape_debug()
                ),
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// A member of staff as submitted, before parsing.
#[derive(Clone, Deserialize)]
pub struct StaffInput {
    pub username: String,
    pub password: String,
    pub given_name: String,
    pub family_name: String,
    /// `coordinator`, `teacher` or `safeguarding_lead`.
    pub role: String,
    /// A work address for calendar invites (staff only; optional).
    #[serde(default)]
    pub email: Option<String>,
}

/// A student as submitted, before parsing.
#[derive(Clone, Deserialize)]
pub struct StudentInput {
    pub username: String,
    pub password: String,
    pub given_name: String,
    pub family_name: String,
    pub year_group: i64,
    /// `mentor` or `mentee`.
    pub kind: String,
    /// Subjects offered (mentors) or wanted (mentees).
    #[serde(default)]
    pub subjects: Vec<String>,
}

/// Student-only fields of a new account.
#[derive(Clone, Debug)]
pub struct StudentDetails {
    pub year_group: YearGroup,
    pub kind: StudentKind,
    /// De-duplicated.
    pub subjects: Vec<String>,
}

/// An account whose fields have all been parsed and whose password is hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: Username,
    /// The argon2 hash of the password.
    pub password_hash: PasswordHash,
    pub role: Role,
    pub given_name: String,
    pub family_name: String,
    /// Set for students only.
    pub student: Option<StudentDetails>,
    /// Staff only: where calendar invites go.
    pub email: Option<String>,
}

/// The parsed but not yet hashed form of [`StaffInput`] or [`StudentInput`].
#[derive(Debug)]
pub struct ParsedAccount {
    username: Username,
    password: NewPassword,
    role: Role,
    given_name: String,
    family_name: String,
    student: Option<StudentDetails>,
    email: Option<String>,
}

impl ParsedAccount {
    pub fn staff(input: &StaffInput) -> Result<Self> {
        let role: Role = input.role.parse()?;
        if !role.is_school_staff() {
            return Err(Error::invalid(
                "role",
                "staff must be a coordinator, teacher or safeguarding_lead",
            ));
        }
        let username = Username::parse(&input.username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(&input.password, &username)?,
            username,
            role,
            given_name: parse_name("given_name", &input.given_name)?,
            family_name: parse_name("family_name", &input.family_name)?,
            student: None,
            email: input
                .email
                .as_deref()
                .map(parse_email)
                .transpose()?
                .flatten(),
        })
    }

    /// A platform administrator's account.
    pub fn admin(username: &str, password: &str, name: &str) -> Result<Self> {
        let username = Username::parse(username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(password, &username)?,
            username,
            role: Role::Admin,
            given_name: parse_name("given_name", name)?,
            family_name: String::new(),
            student: None,
            email: None,
        })
    }

    /// A scheme lead's account (their group is given when it is stored).
    pub fn scheme_lead(
        username: &str,
        password: &str,
        given_name: &str,
        family_name: &str,
        email: Option<&str>,
    ) -> Result<Self> {
        let username = Username::parse(username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(password, &username)?,
            username,
            role: Role::SchemeLead,
            given_name: parse_name("given_name", given_name)?,
            family_name: parse_name("family_name", family_name)?,
            student: None,
            email: email.map(parse_email).transpose()?.flatten(),
        })
    }

    pub fn student(input: &StudentInput) -> Result<Self> {
        let username = Username::parse(&input.username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(&input.password, &username)?,
            username,
            role: Role::Student,
            given_name: parse_name("given_name", &input.given_name)?,
            family_name: parse_name("family_name", &input.family_name)?,
            student: Some(StudentDetails {
                year_group: YearGroup::parse(input.year_group)?,
                kind: StudentKind::parse(&input.kind)?,
                subjects: parse_subjects(&input.subjects)?,
            }),
            email: None,
        })
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Hashes the password (slow on purpose: run off the async threads).
    pub async fn hash(self) -> Result<NewUser> {
        let password_hash = PasswordHash::new(self.password).await?;
        Ok(NewUser {
            username: self.username,
            password_hash,
            role: self.role,
            given_name: self.given_name,
            family_name: self.family_name,
            student: self.student,
            email: self.email,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    #[test]
    fn weak_or_empty_passwords_are_refused_with_the_field_named() {
        let u = user("amira.k");
        for bad in [
            "",
            "short",
            "password123",
            "aaaaaaaaaaaa",
            "amira.k-2026!",
            "password1234",
            "qwertyuiop1",
            "qwertyuiop",
            "liverpool2026",
        ] {
            let err = NewPassword::parse(bad, &u)
                .err()
                .unwrap_or_else(|| panic!("{bad} was accepted"));
            assert_eq!(err.field(), Some("password"), "{bad}");
        }
        // Three words pass, as the demo's and the examples' passwords do.
        for good in [
            "otter-kettle-lantern",
            "bridge-demo-2026",
            "cobalt-fern-ladder",
            "lemon-harbour-kite",
            "maple-river-lantern",
            "quiet-harbour-lamp",
            "sunrise-maple-window",
            "violet-anchor-piano",
        ] {
            assert!(NewPassword::parse(good, &u).is_ok(), "{good}");
        }
        let why = NewPassword::parse("password1234", &u)
            .unwrap_err()
            .public_message();
        assert!(
            why.contains("easy to guess") && why.contains("words"),
            "{why}"
        );
    }

    #[test]
    fn usernames_are_case_insensitive_and_plain() {
        assert_eq!(user(" Amira.K ").as_str(), "amira.k");
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("ab").is_err());
    }

    #[test]
    fn year_groups_run_from_1_to_13() {
        assert!(YearGroup::parse(7).is_ok());
        assert!(YearGroup::parse(0).is_err());
        assert!(YearGroup::parse(14).is_err());
    }
}
