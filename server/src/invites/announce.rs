//! Turning a changed series into what is sent: for each holder, the copy
//! of the series its sessions call for ([`wanted_copies`]), the one message
//! (or none) that brings a supervisor's calendar from the copy it holds to
//! that one ([`messages_for`], by the rule in [`super::copies`]), and the
//! lines a school's digest says of it ([`digest_lines`]). No SQL: the
//! sender's round in [`super::store`] reads the sessions and copies, calls
//! these, and queues the result in the [`super::outbox`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::copies::{CopyState, Send, difference};
use super::outbox::Snapshot;
use super::series::{Instance, Parties, Transp, View};
use super::{CalendarUser, Method};
use crate::booking::{Session, SessionNames, SessionStatus};
use crate::error::Result;

/// A member of staff (or a student) of one of a session's two schools, as
/// the sender reads them to address invites.
pub(crate) struct Person {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub school_id: Option<Uuid>,
    pub school_name: String,
    pub school_tz: chrono_tz::Tz,
}

/// The copy of a series one holder should have now.
pub(crate) struct Wanted {
    pub school: Uuid,
    pub email: Option<String>,
    pub state: CopyState,
}

/// A message ready to queue.
pub(crate) struct Composed {
    pub school: Uuid,
    pub recipient: Uuid,
    pub email: String,
    pub method: Method,
    pub snapshot: Snapshot,
}

/// The key of a school's own copy of a series.
fn school_holder(school: Uuid) -> String {
    format!("school:{school}")
}

/// The names a series shows, from its first session's students.
fn names_of(sessions: &[Session], people: &[Person]) -> Option<(SessionNames, [Uuid; 2])> {
    let first = sessions.first()?;
    let find = |user: Uuid| people.iter().find(|p| p.id == user);
    let (mentee, mentor) = (find(first.mentee_id)?, find(first.mentor_id)?);
    Some((
        SessionNames {
            mentee: mentee.given_name.clone(),
            mentee_school: mentee.school_name.clone(),
            mentor: mentor.given_name.clone(),
            mentor_school: mentor.school_name.clone(),
        },
        [mentee.school_id?, mentor.school_id?],
    ))
}

fn what(names: &SessionNames) -> String {
    format!(
        "{} ({}) with {} ({})",
        names.mentee, names.mentee_school, names.mentor, names.mentor_school
    )
}

/// The staff of `school` who supervise any live session of the series and
/// have a work address.
fn supervisors_at<'a>(sessions: &[Session], people: &'a [Person], school: Uuid) -> Vec<&'a Person> {
    let mut out: Vec<&Person> = people
        .iter()
        .filter(|p| p.school_id == Some(school) && p.email.is_some())
        .filter(|p| {
            sessions
                .iter()
                .any(|s| s.status != SessionStatus::Cancelled && s.supervisors.contains(&p.id))
        })
        .collect();
    out.sort_by_key(|p| (p.family_name.clone(), p.given_name.clone(), p.id));
    out
}

/// The copies a series' sessions call for: each supervisor with a work
/// address holds the sessions they supervise; each school holds them all.
pub(crate) fn wanted_copies(
    sessions: &[Session],
    people: &[Person],
) -> Result<BTreeMap<String, Wanted>> {
    let mut out = BTreeMap::new();
    let Some((names, schools)) = names_of(sessions, people) else {
        return Ok(out);
    };
    let what = what(&names);
    for school in schools {
        let tz = people
            .iter()
            .find(|p| p.school_id == Some(school))
            .map_or(chrono_tz::UTC, |p| p.school_tz);
        let supervisors = supervisors_at(sessions, people, school);
        // The title and zone: what a supervisor's copy says besides its
        // sessions (each copy's only attendee is its holder).
        let header = format!(
            "{}|{}",
            super::series::title(&names, super::Reader::Staff),
            tz.name()
        );
        let all: Vec<Instance> = sessions.iter().map(Instance::from).collect();
        if let Some(state) = CopyState::of(header.clone(), what.clone(), &all) {
            out.insert(
                school_holder(school),
                Wanted {
                    school,
                    email: None,
                    state,
                },
            );
        }
        for person in supervisors {
            let theirs: Vec<Instance> = sessions
                .iter()
                .filter(|s| s.supervisors.contains(&person.id))
                .map(Instance::from)
                .collect();
            if let Some(state) = CopyState::of(header.clone(), what.clone(), &theirs) {
                out.insert(
                    person.id.to_string(),
                    Wanted {
                        school,
                        email: person.email.clone(),
                        state,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The lines a people-readable message lists: each session's day and time.
fn session_lines(tz: chrono_tz::Tz, instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| {
            let start = i.starts.with_timezone(&tz);
            let end = i.ends.with_timezone(&tz);
            let mut line = format!(
                "- {}–{}",
                start.format("%a %-d %b %Y %H:%M"),
                end.format("%H:%M")
            );
            if i.starts != i.recurrence {
                line.push_str(&format!(
                    " (moved from {}",
                    super::series::when(tz, i.recurrence)
                ));
                if let Some(reason) = &i.reason {
                    line.push_str(&format!(": {reason}"));
                }
                line.push(')');
            }
            line.push('\n');
            line
        })
        .collect()
}

/// The messages (none, one, or a cancellation at an old address and the
/// series at the new) that bring one holder's calendar from `before` (the
/// address it went to, and what it held) to `after`. A school's own copy
/// gets no message.
#[allow(clippy::too_many_arguments)]
pub(crate) fn messages_for(
    holder: &str,
    uid: &str,
    sequence: i32,
    before: Option<(Option<&str>, &CopyState)>,
    after: Option<&Wanted>,
    sessions: &[Session],
    people: &[Person],
    announcer: &super::store::Announcer<'_>,
    stamp: DateTime<Utc>,
) -> Result<Vec<Composed>> {
    let Ok(recipient) = holder.parse::<Uuid>() else {
        return Ok(Vec::new());
    };
    let Some((names, _)) = names_of(sessions, people) else {
        return Ok(Vec::new());
    };
    let Some(person) = people.iter().find(|p| p.id == recipient) else {
        return Ok(Vec::new());
    };
    let Some(school) = person.school_id else {
        return Ok(Vec::new());
    };
    let tz = person.school_tz;
    let organizer = CalendarUser {
        name: format!("{} mentoring scheme", person.school_name),
        email: announcer.from_email.to_owned(),
    };
    let to_name = Some(crate::text::fold_to_line(
        format!("{} {}", person.given_name, person.family_name).trim(),
    ));
    let what = what(&names);
    let short = format!("{} with {}", names.mentee, names.mentor);
    let view = |instances: Vec<Instance>| View {
        uid,
        sequence,
        names: &names,
        reader: super::Reader::Staff,
        tz,
        instances,
        transp: Transp::Opaque,
    };
    let reply = "No reply is needed: answers to this invite are not read. Your mentoring coordinator makes any change.\n";
    let join = format!(
        "\nSee today's sessions and join from a school iPad: {}/sessions\n",
        announcer.base_url
    );
    let compose = |method: Method,
                   email: &str,
                   instances: Vec<Instance>,
                   cancelled: Option<Vec<Instance>>,
                   subject: String,
                   text: String|
     -> Composed {
        let v = view(instances);
        // The one attendee is the recipient: another supervisor's address
        // is not theirs to see, and a rota change that moves a session to a
        // colleague is then only that session, not the whole series again.
        let to = [CalendarUser {
            name: to_name.clone().unwrap_or_default(),
            email: email.to_owned(),
        }];
        let shown = cancelled.as_deref().unwrap_or(&v.instances);
        let until = shown.iter().map(|i| i.ends).max().unwrap_or(stamp);
        let when = shown
            .first()
            .map(|i| super::series::when(tz, i.starts))
            .unwrap_or_default();
        let ics = super::itip(
            method,
            &v,
            cancelled.as_deref(),
            Parties {
                organizer: &organizer,
                attendees: &to,
            },
            announcer.base_url,
            stamp,
        );
        Composed {
            school,
            recipient,
            email: email.to_owned(),
            method,
            snapshot: Snapshot {
                series_uid: uid.to_owned(),
                subject,
                text,
                ics,
                to_name: to_name.clone(),
                until,
                when,
            },
        }
    };
    let request = |email: &str, state: &CopyState, first: bool| {
        let instances = state.instances();
        let cadence = super::series::cadence(tz, &instances);
        let count = instances.len();
        let sessions_word = if count == 1 { "session" } else { "sessions" };
        let (subject, lead) = if first {
            (
                format!("Mentoring: {short}, {cadence} ({count} {sessions_word})"),
                format!("You are supervising the mentoring of {what}. The {sessions_word} booked:"),
            )
        } else {
            (
                format!("Changed: mentoring {short}, {cadence}"),
                format!(
                    "The mentoring of {what} has changed. The {sessions_word} you supervise are now:"
                ),
            )
        };
        let text = format!("{lead}\n\n{}{join}\n{reply}", session_lines(tz, &instances));
        compose(Method::Request, email, instances, None, subject, text)
    };
    let cancel_all = |email: &str, state: &CopyState, why: &str| {
        let instances = state.instances();
        let cadence = super::series::cadence(tz, &instances);
        let subject = format!("Cancelled: mentoring {short}, {cadence}");
        let text = format!("{why}\n\n{}\n{reply}", session_lines(tz, &instances));
        compose(Method::Cancel, email, instances, None, subject, text)
    };
    let mut out = Vec::new();
    match (before, after) {
        (None, None) => {}
        (Some((Some(old), held)), Some(now)) if now.email.as_deref() != Some(old) => {
            out.push(cancel_all(
                old,
                held,
                &format!("Invites for the mentoring of {what} now go to your new address, so this calendar entry is cancelled here."),
            ));
            if let Some(email) = &now.email {
                out.push(request(email, &now.state, true));
            }
        }
        (None, Some(now)) | (Some((None, _)), Some(now)) => {
            if let Some(email) = &now.email {
                out.push(request(email, &now.state, true));
            }
        }
        (Some((email, held)), now) => {
            let Some(email) = email else {
                return Ok(out);
            };
            match difference(Some(held), now.map(|n| &n.state)) {
                None => {}
                Some(Send::Request) => {
                    if let Some(now) = now {
                        out.push(request(email, &now.state, false));
                    }
                }
                Some(Send::CancelAll) => {
                    out.push(cancel_all(
                        email,
                        held,
                        &format!("You no longer supervise the mentoring of {what}: these sessions are off your calendar."),
                    ));
                }
                Some(Send::CancelSome(gone)) => {
                    let cancelled: Vec<Instance> = gone
                        .iter()
                        .filter_map(|at| {
                            let h = held.instances.get(at)?;
                            let now_row = sessions.iter().find(|s| s.recurrence_at == *at);
                            Some(Instance {
                                recurrence: *at,
                                starts: h.starts,
                                ends: h.ends,
                                status: SessionStatus::Cancelled,
                                reason: now_row.and_then(|s| s.reason.clone()),
                            })
                        })
                        .collect();
                    let dates: Vec<String> = cancelled
                        .iter()
                        .map(|i| super::series::when(tz, i.starts))
                        .collect();
                    let reasons: Vec<String> = cancelled
                        .iter()
                        .filter_map(|i| i.reason.clone())
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let mut text = format!(
                        "Cancelled: the mentoring of {what} on {}.\n",
                        dates.join(", ")
                    );
                    if !reasons.is_empty() {
                        text.push_str(&format!("Reason: {}\n", reasons.join("; ")));
                    }
                    text.push_str(&format!("\n{reply}"));
                    let subject = format!("Cancelled: mentoring {short} on {}", dates.join(", "));
                    let remaining = now.map(|n| n.state.instances()).unwrap_or_default();
                    out.push(compose(
                        Method::Cancel,
                        email,
                        remaining,
                        Some(cancelled),
                        subject,
                        text,
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// What a school's digest says of one change to a series, or `None` for
/// a holder that is not a school or a change of nothing.
pub(crate) fn digest_lines(
    holder: &str,
    before: Option<&CopyState>,
    after: Option<&Wanted>,
    sessions: &[Session],
    people: &[Person],
) -> Option<Vec<String>> {
    let school: Uuid = holder.strip_prefix("school:")?.parse().ok()?;
    let tz = people
        .iter()
        .find(|p| p.school_id == Some(school))
        .map_or(chrono_tz::UTC, |p| p.school_tz);
    let after = after.map(|a| &a.state);
    let what = after.or(before).map(|c| c.what.clone())?;
    let list = |keys: &[DateTime<Utc>], of: &CopyState| -> String {
        keys.iter()
            .filter_map(|k| of.instances.get(k))
            .map(|h| super::series::when(tz, h.starts))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = Vec::new();
    match (before, after) {
        (None, None) => {}
        (None, Some(now)) => {
            let instances = now.instances();
            lines.push(format!(
                "Booked: {what}, {} sessions, {} from {}",
                instances.len(),
                super::series::cadence(tz, &instances),
                instances
                    .first()
                    .map(|i| i
                        .starts
                        .with_timezone(&tz)
                        .format("%a %-d %b %Y")
                        .to_string())
                    .unwrap_or_default()
            ));
        }
        (Some(old), None) => {
            let keys: Vec<DateTime<Utc>> = old.instances.keys().copied().collect();
            lines.push(format!(
                "Cancelled: {what}, every session: {}",
                list(&keys, old)
            ));
        }
        (Some(old), Some(now)) => {
            let gone: Vec<DateTime<Utc>> = old
                .instances
                .keys()
                .filter(|k| !now.instances.contains_key(k))
                .copied()
                .collect();
            let added: Vec<DateTime<Utc>> = now
                .instances
                .keys()
                .filter(|k| !old.instances.contains_key(k))
                .copied()
                .collect();
            if !gone.is_empty() {
                let reason = gone
                    .iter()
                    .find_map(|k| {
                        sessions
                            .iter()
                            .find(|s| s.recurrence_at == *k)?
                            .reason
                            .clone()
                    })
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                lines.push(format!("Cancelled: {what} on {}{reason}", list(&gone, old)));
            }
            for (k, h) in &now.instances {
                if let Some(was) = old.instances.get(k)
                    && was.starts != h.starts
                {
                    lines.push(format!(
                        "Moved: {what}, {} to {}",
                        super::series::when(tz, was.starts),
                        super::series::when(tz, h.starts)
                    ));
                }
            }
            if !added.is_empty() {
                lines.push(format!("Booked: {what} on {}", list(&added, now)));
            }
        }
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::invites::store::Announcer;

    fn person(id: u128, given: &str, school: u128, email: Option<&str>) -> Person {
        Person {
            id: Uuid::from_u128(id),
            given_name: given.into(),
            family_name: "Family".into(),
            email: email.map(str::to_owned),
            school_id: Some(Uuid::from_u128(school)),
            school_name: format!("School {school}"),
            school_tz: chrono_tz::Europe::London,
        }
    }

    fn weekly(supervisors: &[&[u128]]) -> Vec<Session> {
        let first = Utc.with_ymd_and_hms(2026, 11, 2, 8, 40, 0).unwrap();
        supervisors
            .iter()
            .enumerate()
            .map(|(w, who)| {
                let at = first + Duration::weeks(i64::try_from(w).unwrap());
                Session {
                    id: Uuid::from_u128(100 + w as u128),
                    match_id: Uuid::from_u128(9),
                    partnership_id: Uuid::from_u128(8),
                    mentee_id: Uuid::from_u128(1),
                    mentor_id: Uuid::from_u128(2),
                    uid: String::new(),
                    series_uid: "series-9@mentorbridge".into(),
                    recurrence_at: at,
                    sequence: 0,
                    starts_at: at,
                    ends_at: at + Duration::minutes(20),
                    slot_key: String::new(),
                    local: BTreeMap::new(),
                    status: SessionStatus::Scheduled,
                    reason: None,
                    supervisors: who.iter().map(|u| Uuid::from_u128(*u)).collect(),
                    updated_at: at,
                }
            })
            .collect()
    }

    #[test]
    fn a_rota_change_cancels_the_sessions_taken_from_one_supervisor_and_tells_the_other() {
        let people = [
            person(1, "Asha", 50, None),
            person(2, "Ben", 60, None),
            person(10, "Tom", 50, Some("tom@a.example")),
            person(11, "Una", 50, Some("una@a.example")),
            person(20, "Zed", 60, Some("zed@b.example")),
        ];
        let before = weekly(&[&[10, 20], &[10, 20], &[10, 20], &[10, 20]]);
        // The rota gives Una the third week.
        let mut after = before.clone();
        after[2].supervisors = vec![Uuid::from_u128(11), Uuid::from_u128(20)];
        let held = wanted_copies(&before, &people).unwrap();
        let wanted = wanted_copies(&after, &people).unwrap();
        let announcer = Announcer {
            from_email: "mentoring@scheme.example",
            base_url: "https://m.example",
        };
        let stamp = Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap();
        let send = |holder: u128| {
            let key = Uuid::from_u128(holder).to_string();
            messages_for(
                &key,
                "series-9@mentorbridge",
                1,
                held.get(&key).map(|c| (c.email.as_deref(), &c.state)),
                wanted.get(&key),
                &after,
                &people,
                &announcer,
                stamp,
            )
            .unwrap()
        };
        let tom = send(10);
        assert_eq!(tom.len(), 1);
        assert_eq!(tom[0].method, Method::Cancel);
        assert!(
            tom[0]
                .snapshot
                .ics
                .contains("RECURRENCE-ID;TZID=Europe/London:20261116T084000"),
            "{}",
            tom[0].snapshot.ics
        );
        let una = send(11);
        assert_eq!(una.len(), 1);
        assert_eq!(una[0].method, Method::Request);
        assert_eq!(una[0].email, "una@a.example");
        // Zed at the other school still supervises every week: nothing.
        assert!(send(20).is_empty());
        // Students have no address and get no message.
        assert!(send(1).is_empty());
    }
}
