//! Safeguarding: the moderation every message passes before the other
//! student can see it ([`moderate`]), each school's own word list and
//! rules, the safeguarding lead's review of held messages, concerns, and
//! the record of every time staff opened a thread, a held message or a
//! concern.
//!
//! Layout: [`moderate`] the pipeline (no I/O); this module the
//! [`Moderator`], which keeps each school's compiled list and rules in
//! memory so a call's chat is checked without a database round trip, and
//! the types of reviews, concerns and reads; [`store`] its SQL
//! (`school_words`, `message_rules`, `message_reviews`, `concerns`,
//! `staff_reads`, `safeguarding_alerts`); [`http`] the JSON API; [`pages`]
//! the review queue, concerns and the record.

pub mod http;
pub mod moderate;
pub mod pages;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use mentorbridge_signalling::hub::{ChatFilter, ChatVerdict, Seat};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::Store;
use moderate::{Action, Checked, Policy, Unsendable, Verdict, WordList};

/// Every pair with a pupil of `school` in it: the partnerships' matches.
pub async fn pairs_at(store: &Store, school: Uuid) -> Result<Vec<crate::matching::Pair>> {
    let partnerships: Vec<Uuid> = store
        .partnerships_of(school)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    store.pairs_in(&partnerships).await
}

/// Tells `school`'s safeguarding lead and deputies by email, through the
/// invites' outbox, that something waits for them: at most once per school
/// in ten minutes, and never what it is (no pupil's words leave the
/// system by email).
pub async fn alert(store: &Store, school: Uuid) -> Result<()> {
    if !store.take_alert(school, Utc::now()).await? {
        return Ok(());
    }
    let mut recipients = store
        .users_at_school(school, &[crate::people::accounts::Role::SafeguardingLead])
        .await?;
    for id in store.deputies(school).await? {
        recipients.push(store.user(id).await?);
    }
    let notice = crate::invites::outbox::Notice {
        subject: "Something is waiting for you in mentorbridge".to_owned(),
        text: "A message is waiting for you to check, or a concern has been raised, about a pupil \
               at your school. Sign in to mentorbridge to see it:"
            .to_owned(),
        path: "/safeguarding".to_owned(),
    };
    for who in recipients {
        if let Some(email) = &who.email {
            store.queue_notice(school, who.id, email, &notice).await?;
        }
    }
    Ok(())
}

/// Raises a concern about `pair` (from its thread, or from `session`'s
/// call) and alerts the safeguarding leads of both pupils' schools. Who
/// may raise it is the caller's check.
pub async fn raise_concern(
    store: &Store,
    reporter: Uuid,
    pair: &crate::matching::Pair,
    session: Option<Uuid>,
    input: &ConcernInput,
) -> Result<Concern> {
    let text = input.checked_text()?;
    let concern = store
        .raise_concern(reporter, pair.id, session, &text)
        .await?;
    for pupil in [pair.mentee_id, pair.mentor_id] {
        if let Some(school) = store.user(pupil).await?.school_id {
            alert(store, school).await?;
        }
    }
    Ok(concern)
}

/// The longest entry on a school's word list, in characters.
pub const MAX_WORD_CHARS: usize = 60;

/// A school's rules for messages: its own words, what happens for each
/// category, and its messaging hours.
#[derive(Clone, Debug)]
pub struct SchoolRules {
    pub words: WordList,
    pub policy: Policy,
    /// Messages are delivered from `.0` to `.1`, school time; outside
    /// them they wait. `None`: any time.
    pub hours: Option<(NaiveTime, NaiveTime)>,
    pub zone: Tz,
}

impl SchoolRules {
    /// When a message sent at `now` may be seen: now inside the hours, else
    /// when they next open.
    pub fn visible_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let Some((open, close)) = self.hours else {
            return now;
        };
        let local = now.with_timezone(&self.zone);
        let time = local.time();
        if time >= open && time < close {
            return now;
        }
        let day = if time < open {
            local.date_naive()
        } else {
            local.date_naive() + chrono::Duration::days(1)
        };
        self.zone
            .from_local_datetime(&day.and_time(open))
            .earliest()
            .map_or(now, |t| t.with_timezone(&Utc))
    }
}

/// A message checked for one pair: what was found, what happens, and when
/// the other student may see it.
#[derive(Clone, Debug)]
pub struct Decision {
    pub checked: Checked,
    pub verdict: Verdict,
    pub visible_from: DateTime<Utc>,
}

/// Each school's rules, compiled and kept in memory, and the schools of
/// each call a join token has been minted for (so the hub's filter, which
/// cannot wait on the database, knows whose lists apply).
#[derive(Debug, Default)]
pub struct Moderator {
    schools: RwLock<HashMap<Uuid, Arc<SchoolRules>>>,
    joined: RwLock<HashMap<(Uuid, Uuid), Arc<WordList>>>,
    calls: RwLock<HashMap<Uuid, [Uuid; 2]>>,
    sent: Mutex<HashMap<Uuid, Vec<Instant>>>,
}

/// Messages a pupil may send in a minute before being asked to slow down.
pub const PER_MINUTE: usize = 12;

impl Moderator {
    /// A school's rules, read from the store the first time.
    pub async fn rules(&self, store: &Store, school: Uuid) -> Result<Arc<SchoolRules>> {
        if let Some(rules) = read(&self.schools).get(&school) {
            return Ok(rules.clone());
        }
        let rules = Arc::new(store.school_rules(school).await?);
        write(&self.schools).insert(school, rules.clone());
        Ok(rules)
    }

    /// Forgets a school's rules after they changed, so they are read again.
    pub fn forget(&self, school: Uuid) {
        write(&self.schools).remove(&school);
        write(&self.joined).retain(|(a, b), _| *a != school && *b != school);
    }

    /// Loads both schools' rules and remembers them for `session`'s call.
    pub async fn prepare_call(
        &self,
        store: &Store,
        session: Uuid,
        schools: [Uuid; 2],
    ) -> Result<()> {
        for school in schools {
            self.rules(store, school).await?;
        }
        write(&self.calls).insert(session, schools);
        Ok(())
    }

    /// Checks `text` from a pupil of `from` to a pupil of `to`: both
    /// schools' lists, the stricter policy, the recipient's hours.
    pub async fn decide(
        &self,
        store: &Store,
        text: &str,
        from: Uuid,
        to: Uuid,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Decision, Unsendable>> {
        let sender = self.rules(store, from).await?;
        let recipient = self.rules(store, to).await?;
        Ok(self
            .decide_with(&sender, &recipient, (from, to), text)
            .map(|(checked, verdict)| Decision {
                checked,
                verdict,
                visible_from: recipient.visible_from(now),
            }))
    }

    fn decide_with(
        &self,
        sender: &SchoolRules,
        recipient: &SchoolRules,
        schools: (Uuid, Uuid),
        text: &str,
    ) -> std::result::Result<(Checked, Verdict), Unsendable> {
        let key = if schools.0 <= schools.1 {
            schools
        } else {
            (schools.1, schools.0)
        };
        let list = read(&self.joined).get(&key).cloned();
        let list = match list {
            Some(list) => list,
            None => {
                let list = Arc::new(WordList::joined(&sender.words, &recipient.words));
                write(&self.joined).insert(key, list.clone());
                list
            }
        };
        let checked = moderate::check(text, &list)?;
        let verdict = checked.verdict(&sender.policy.stricter(&recipient.policy));
        Ok((checked, verdict))
    }

    /// Checks a chat message in a prepared call, without I/O. A call this
    /// server has not prepared (it cannot happen: tokens are minted here)
    /// is judged by the default policy and no school words.
    pub fn decide_in_call(
        &self,
        session: Uuid,
        text: &str,
    ) -> std::result::Result<(Checked, Verdict), Unsendable> {
        let schools = read(&self.calls).get(&session).copied();
        let rules = schools.map(|[a, b]| {
            let map = read(&self.schools);
            (map.get(&a).cloned(), map.get(&b).cloned(), a, b)
        });
        match rules {
            Some((Some(a), Some(b), ia, ib)) => self.decide_with(&a, &b, (ia, ib), text),
            _ => {
                let checked = moderate::check(text, &WordList::default())?;
                let verdict = checked.verdict(&Policy::default());
                Ok((checked, verdict))
            }
        }
    }

    /// Counts a message from `pupil`, or says to wait: at most
    /// [`PER_MINUTE`] in any minute.
    pub fn allow(&self, pupil: Uuid, now: Instant) -> Result<()> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let times = sent.entry(pupil).or_default();
        times.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
        if times.len() >= PER_MINUTE {
            let wait = times
                .first()
                .map_or(60, |t| 60 - now.duration_since(*t).as_secs().min(59));
            return Err(Error::RateLimited {
                retry_after_secs: wait,
            });
        }
        times.push(now);
        Ok(())
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// The hub's chat filter: the same pipeline as the thread page.
pub struct CallFilter(pub Arc<Moderator>);

impl ChatFilter for CallFilter {
    fn check(&self, seat: &Seat, text: &str) -> ChatVerdict {
        match self.0.decide_in_call(seat.session, text) {
            Err(why) => ChatVerdict::Block(why.to_string()),
            Ok((_, verdict)) => match (verdict.action, verdict.category) {
                (Action::Deliver, _) | (_, None) => ChatVerdict::Deliver,
                (Action::Hold, Some(_)) => ChatVerdict::Hold(HELD_NOTE.to_owned()),
                (Action::Block, Some(c)) => ChatVerdict::Block(c.told_to_sender().to_owned()),
            },
        }
    }
}

/// What the sender of a held message is told.
pub const HELD_NOTE: &str =
    "Your message is waiting for a teacher to check it. They'll see it soon.";

/// A safeguarding lead's decision on a held message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decide {
    /// Delivered as written.
    Release,
    /// Delivered with the matched parts blanked.
    Redact,
    /// Not delivered (a note is required).
    Reject,
}

impl Decide {
    /// The stored name of the decision.
    pub fn stored(self) -> &'static str {
        match self {
            Decide::Release => "released",
            Decide::Redact => "redacted",
            Decide::Reject => "rejected",
        }
    }
}

/// A decision as submitted.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: Decide,
    #[serde(default)]
    pub note: String,
}

/// A decision as kept.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Review {
    pub message_id: i64,
    pub decision: String,
    pub note: String,
    pub by_user: Uuid,
    pub at: DateTime<Utc>,
}

/// Where a concern stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernState {
    New,
    Acknowledged,
    Closed,
}

impl ConcernState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConcernState::New => "new",
            ConcernState::Acknowledged => "acknowledged",
            ConcernState::Closed => "closed",
        }
    }
}

/// "I'm worried about something", as kept.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Concern {
    pub id: Uuid,
    pub reporter_id: Uuid,
    pub match_id: Uuid,
    pub session_id: Option<Uuid>,
    pub text: String,
    pub state: String,
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A concern as raised.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcernInput {
    /// What worries them (may be short: a pupil may not want to write much).
    #[serde(default)]
    pub text: String,
}

impl ConcernInput {
    /// The text, trimmed, at most 2,000 characters; an empty one says so.
    pub fn checked_text(&self) -> Result<String> {
        let text = self.text.trim();
        if text.chars().count() > 2000 {
            return Err(Error::invalid("text", "at most 2,000 characters"));
        }
        Ok(if text.is_empty() {
            "(no details given)".to_owned()
        } else {
            text.to_owned()
        })
    }
}

/// A concern moved on.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcernMove {
    pub state: ConcernState,
    /// Required to close: what was done.
    #[serde(default)]
    pub outcome: String,
}

/// What a member of staff opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    Thread,
    Message,
    Concern,
}

impl ReadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadKind::Thread => "thread",
            ReadKind::Message => "message",
            ReadKind::Concern => "concern",
        }
    }
}

/// One staff read, as the safeguarding lead sees the record.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct StaffRead {
    pub user_id: Uuid,
    pub kind: String,
    pub target: String,
    pub at: DateTime<Utc>,
}

/// A word list entry checked: trimmed, lower-case, 1 to
/// [`MAX_WORD_CHARS`] characters, no control characters.
pub fn checked_word(word: &str) -> Result<String> {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return Err(Error::invalid("word", "type a word or phrase to add"));
    }
    if word.chars().count() > MAX_WORD_CHARS {
        return Err(Error::invalid(
            "word",
            format!(
                "a word or phrase has at most {MAX_WORD_CHARS} characters (this has {})",
                word.chars().count()
            ),
        ));
    }
    if word.chars().any(char::is_control) {
        return Err(Error::invalid(
            "word",
            "a word cannot hold control characters",
        ));
    }
    Ok(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_messaging_hours_a_message_waits_for_them_to_open() {
        let rules = SchoolRules {
            words: WordList::default(),
            policy: Policy::default(),
            hours: Some((
                NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            )),
            zone: chrono_tz::Europe::London,
        };
        // 21:00 in London in December is 21:00 UTC; it opens 07:30 next day.
        let evening = Utc.with_ymd_and_hms(2026, 12, 1, 21, 0, 0).unwrap();
        assert_eq!(
            rules.visible_from(evening),
            Utc.with_ymd_and_hms(2026, 12, 2, 7, 30, 0).unwrap()
        );
        let early = Utc.with_ymd_and_hms(2026, 12, 2, 6, 0, 0).unwrap();
        assert_eq!(
            rules.visible_from(early),
            Utc.with_ymd_and_hms(2026, 12, 2, 7, 30, 0).unwrap()
        );
        let noon = Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
        assert_eq!(rules.visible_from(noon), noon);
    }

    #[test]
    fn word_list_entries_are_checked() {
        assert!(checked_word("  ").is_err());
        assert!(checked_word(&"a".repeat(200)).is_err());
        assert_eq!(checked_word(" Skeng ").unwrap(), "skeng");
    }
}
