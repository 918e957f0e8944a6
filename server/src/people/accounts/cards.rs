//! Sign-in cards: first passwords for a class of students at once, printed
//! with each student's username and a QR code of the sign-in address.
//!
//! A password exists in clear only in the one response that prints the
//! cards: it is hashed before anything is stored, never logged, and the
//! page is marked not to be cached. Passwords are three words of the EFF's
//! short wordlist (1,296 words chosen to be easy to spell and tell apart)
//! and two digits, about 37 bits, drawn from the operating system's random
//! source; each still passes the same strength check as a typed one.

use rand::Rng;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;

use super::{NewPassword, Role, StudentKind, User, Username};
use crate::auth::Actor;
use crate::auth::password::PasswordHash;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::store::Store;

/// Which students get cards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardsFor {
    /// One year group, or every year.
    pub year_group: Option<i32>,
    /// Mentors or mentees only, or both.
    pub kind: Option<StudentKind>,
    /// Also students who already have a password (theirs is replaced).
    pub replace_existing: bool,
}

/// One student's card.
#[derive(Clone, Debug)]
pub struct Card {
    pub student: User,
    /// The new password, in clear: only for printing.
    pub password: String,
}

/// A password for a card: three short words and two digits, joined by
/// hyphens ("otter-lunar-pulp-47"), passing [`NewPassword::parse`].
pub fn card_password(username: &Username) -> Result<NewPassword> {
    let words = diceware_wordlists::EFF_SHORT_WORDLIST_1;
    let mut rng = OsRng;
    // A draw the strength check refuses (a word that repeats, a known
    // phrase) is drawn again; twenty refusals in a row would mean a bug.
    for _ in 0..20 {
        let mut parts: Vec<String> = (0..3)
            .map(|_| (*words.choose(&mut rng).unwrap_or(&"mentor")).to_owned())
            .collect();
        parts.push(format!("{:02}", rng.gen_range(0..100)));
        if let Ok(password) = NewPassword::parse(&parts.join("-"), username) {
            return Ok(password);
        }
    }
    Err(Error::internal(
        "no card password passed the strength check in twenty draws",
    ))
}

/// New first passwords for the chosen students at `actor`'s school, all
/// stored or none; the cards come back in the order of the student list.
pub async fn make_cards(store: &Store, actor: &Actor, chosen: &CardsFor) -> Result<Vec<Card>> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ResetStudentPassword { school })?;
    let students: Vec<User> = store
        .users_at_school(school, &[Role::Student])
        .await?
        .into_iter()
        .filter(|u| u.disabled_at.is_none())
        .filter(|u| chosen.year_group.is_none_or(|y| u.year_group == Some(y)))
        .filter(|u| chosen.kind.is_none_or(|k| u.kind == Some(k)))
        .filter(|u| chosen.replace_existing || !u.has_password)
        .collect();
    if students.is_empty() {
        return Err(Error::invalid(
            "students",
            if chosen.replace_existing {
                "no student matches that choice"
            } else {
                "every student you chose already has a password; tick \"Also students who have a password\" to replace theirs"
            },
        ));
    }
    let mut cards = Vec::with_capacity(students.len());
    let mut hashes = Vec::with_capacity(students.len());
    for student in students {
        let username = Username::parse(&student.username)?;
        let password = card_password(&username)?;
        let clear = password.expose().to_owned();
        hashes.push((student.id, PasswordHash::new(password).await?));
        cards.push(Card {
            student,
            password: clear,
        });
    }
    store.set_passwords(&hashes).await?;
    tracing::info!(
        school = %school,
        by = %actor.user.id,
        students = cards.len(),
        "sign-in cards made"
    );
    Ok(cards)
}
