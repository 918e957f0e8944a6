//! The rules a referral follows: what a referral must contain ([`check`]),
//! when its content may still change ([`check_edit`]), and the moves of its
//! life ([`next_status`]).

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use super::{CONCERNS, ConsentInput, Referral, ReferralInput, ReferralStatus, Unavailable};
use crate::auth::Actor;
use crate::auth::policy::{Action, allowed, authorize};
use crate::error::{Error, Result};

/// A free-text field: trimmed, at most 4,000 characters.
fn text(field: &'static str, raw: &str, required: bool) -> Result<String> {
    let s = raw.trim();
    if required && s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > 4000 {
        return Err(Error::invalid(field, "must be at most 4,000 characters"));
    }
    Ok(s.to_owned())
}

/// A checked referral, ready to store (lists joined by newlines).
pub(crate) struct Checked {
    pub priority: i32,
    pub strengths: String,
    pub concerns: String,
    pub reasons: String,
    pub focus: String,
    pub support_received: String,
    pub strategies_tried: String,
    pub agencies: String,
    pub consent: Option<ConsentInput>,
    pub entry_criteria_met: bool,
    pub planned_weeks: i32,
    pub review_date: Option<NaiveDate>,
    /// Sorted, each once.
    pub unavailable: Vec<Unavailable>,
    /// `Mon` … `Sun`, in Monday-first order, each once.
    pub preferred_days: Vec<String>,
}

/// The days a mentee would rather meet on, each a day of the week (not yet
/// checked against the school's teaching days: the store does that), each
/// once, and none a whole day they cannot make.
fn check_preferred_days(raw: &[String], unavailable: &[Unavailable]) -> Result<Vec<String>> {
    let mut days = Vec::new();
    for typed in raw.iter().map(|d| d.trim()).filter(|d| !d.is_empty()) {
        let Some(day) = crate::calendar::import::parse_day(typed) else {
            return Err(Error::invalid(
                "preferred_days",
                format!("`{typed}` is not a day of the week (Mon … Sun)"),
            ));
        };
        if !days.contains(&day) {
            days.push(day);
        }
    }
    days.sort_by_key(chrono::Weekday::num_days_from_monday);
    let names: Vec<String> = days
        .iter()
        .map(|d| crate::calendar::model::short_day(*d).to_owned())
        .collect();
    if let Some(clash) = unavailable
        .iter()
        .find(|u| u.week.is_none() && u.period.is_none() && names.contains(&u.day))
    {
        return Err(Error::invalid(
            "preferred_days",
            format!(
                "{} are ticked both as a day the mentee cannot make and as one they would rather meet on; untick one",
                clash.label()
            ),
        ));
    }
    Ok(names)
}

/// The times a mentee cannot make, each well formed (a weekday; a week
/// letter and a period code if given), sorted and each once. Whether the
/// school's timetable has them is checked against its bell schedule when
/// the referral is stored.
fn check_unavailable(raw: &[Unavailable]) -> Result<Vec<Unavailable>> {
    if raw.len() > 50 {
        return Err(Error::invalid(
            "unavailable",
            "at most 50 times; mark whole days rather than every period",
        ));
    }
    let mut out = Vec::new();
    for u in raw {
        let typed = u.day.trim();
        let Some(day) = crate::calendar::import::parse_day(typed) else {
            return Err(Error::invalid(
                "unavailable",
                format!("`{typed}` is not a day of the week (Mon … Sun)"),
            ));
        };
        let week = match u.week.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            None => None,
            Some(w) if w.len() == 1 && w.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(w.to_ascii_uppercase())
            }
            Some(w) => {
                return Err(Error::invalid(
                    "unavailable",
                    format!("week `{w}` should be a timetable week's letter, such as A or B"),
                ));
            }
        };
        let period = match u.period.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) if p.len() <= 20 && !p.contains(char::is_whitespace) && p != "*" => {
                Some(p.to_owned())
            }
            Some(p) => {
                return Err(Error::invalid(
                    "unavailable",
                    format!(
                        "`{p}` is not a period code from the bell schedule (such as REG or P1)"
                    ),
                ));
            }
        };
        out.push(Unavailable {
            week,
            day: day.to_string(),
            period,
        });
    }
    // In the week's order, as a teacher reads a timetable.
    out.sort_by_key(|u| {
        (
            u.day
                .parse::<chrono::Weekday>()
                .map(|d| d.num_days_from_monday())
                .ok(),
            u.week.clone(),
            u.period.clone(),
        )
    });
    out.dedup();
    Ok(out)
}

/// Concerns from the checklist, lowercased, each once.
fn check_concerns(raw: &[String]) -> Result<Vec<String>> {
    let mut concerns = Vec::new();
    for c in raw {
        let c = c.trim().to_lowercase();
        if !CONCERNS.contains(&c.as_str()) {
            return Err(Error::invalid(
                "concerns",
                format!("`{c}` is not on the checklist ({})", CONCERNS.join(", ")),
            ));
        }
        if !concerns.contains(&c) {
            concerns.push(c);
        }
    }
    Ok(concerns)
}

/// At least one subject or skill, each on one line of at most 80 characters.
fn check_focus(raw: &[String]) -> Result<Vec<String>> {
    let focus: Vec<String> = raw
        .iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    if focus.is_empty()
        || focus
            .iter()
            .any(|f| f.chars().count() > 80 || f.contains('\n'))
    {
        return Err(Error::invalid(
            "focus",
            "name at least one subject or skill to work on (each at most 80 characters)",
        ));
    }
    Ok(focus)
}

/// Consent names who gave it and is not dated in the future.
fn check_consent(consent: Option<&ConsentInput>) -> Result<Option<ConsentInput>> {
    match consent {
        Some(c) if c.given_by.trim().is_empty() => Err(Error::invalid(
            "consent.given_by",
            "say who gave consent (e.g. \"Mrs Murphy, mother\")",
        )),
        Some(c) if c.date > Utc::now().date_naive() => Err(Error::invalid(
            "consent.date",
            "consent cannot be dated in the future",
        )),
        other => Ok(other.cloned()),
    }
}

/// Checks every field of a referral, reporting the first that is wrong.
pub(crate) fn check(input: &ReferralInput) -> Result<Checked> {
    if !(1..=3).contains(&input.priority) {
        return Err(Error::invalid(
            "priority",
            "must be 1 (low), 2 (medium) or 3 (high)",
        ));
    }
    let concerns = check_concerns(&input.concerns)?;
    let focus = check_focus(&input.focus)?;
    if !(1..=52).contains(&input.planned_weeks) {
        return Err(Error::invalid(
            "planned_weeks",
            "must be between 1 and 52 weeks",
        ));
    }
    let consent = check_consent(input.consent.as_ref())?;
    let unavailable = check_unavailable(&input.unavailable)?;
    let preferred_days = check_preferred_days(&input.preferred_days, &unavailable)?;
    Ok(Checked {
        priority: i32::from(input.priority),
        strengths: text("strengths", &input.strengths, false)?,
        concerns: concerns.join("\n"),
        reasons: text("reasons", &input.reasons, true)?,
        focus: focus.join("\n"),
        support_received: text("support_received", &input.support_received, false)?,
        strategies_tried: text("strategies_tried", &input.strategies_tried, false)?,
        agencies: text("agencies", &input.agencies, false)?,
        consent,
        entry_criteria_met: input.entry_criteria_met,
        planned_weeks: i32::try_from(input.planned_weeks).unwrap_or(52),
        review_date: input.review_date,
        unavailable,
        preferred_days,
    })
}

/// A referral's content is rewritten only while it is a draft or waiting
/// for a countersignature, and always stays with its mentee.
pub(crate) fn check_edit(referral: &Referral, input: &ReferralInput) -> Result<()> {
    if !referral.status.editable() {
        return Err(Error::conflict(
            "status",
            "an approved referral is no longer edited; close it and refer again",
        ));
    }
    if input.mentee_id != referral.mentee_id {
        return Err(Error::invalid(
            "mentee_id",
            "a referral stays with its mentee",
        ));
    }
    Ok(())
}

/// Who is recorded as having taken the consent after an edit: whoever
/// recorded it as it now stands (`editor`, if this edit adds or changes
/// who gave it or when); nobody once it is removed.
pub(crate) fn consent_recorder(
    referral: &Referral,
    checked: &Checked,
    editor: Uuid,
) -> Option<Uuid> {
    match &checked.consent {
        None => None,
        Some(c)
            if referral.consent_date == Some(c.date)
                && referral.consent_given_by.as_deref() == Some(c.given_by.trim()) =>
        {
            referral.consent_recorded_by
        }
        Some(_) => Some(editor),
    }
}

/// The fields an edit changes, by their API names.
pub(crate) fn changed_fields(referral: &Referral, c: &Checked) -> Vec<&'static str> {
    let consent_now = c.consent.as_ref().map(|c| (c.given_by.trim(), c.date));
    let consent_was = referral
        .consent_given_by
        .as_deref()
        .zip(referral.consent_date);
    [
        ("priority", referral.priority != c.priority),
        ("strengths", referral.strengths != c.strengths),
        ("concerns", referral.concerns.join("\n") != c.concerns),
        ("reasons", referral.reasons != c.reasons),
        ("focus", referral.focus.join("\n") != c.focus),
        (
            "support_received",
            referral.support_received != c.support_received,
        ),
        (
            "strategies_tried",
            referral.strategies_tried != c.strategies_tried,
        ),
        ("agencies", referral.agencies != c.agencies),
        ("consent", consent_was != consent_now),
        ("unavailable", referral.unavailable != c.unavailable),
        (
            "preferred_days",
            referral.preferred_days != c.preferred_days,
        ),
        (
            "entry_criteria_met",
            referral.entry_criteria_met != c.entry_criteria_met,
        ),
        ("planned_weeks", referral.planned_weeks != c.planned_weeks),
        ("review_date", referral.review_date != c.review_date),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// Whether `actor` may move a referral from its status to `to`, and what
/// else the move needs. Who may ask for which step is the policy's
/// ([`Action::MoveReferral`]); the steps themselves:
/// - a draft is submitted;
/// - a submitted referral is approved by someone who did not write it (with
///   consent and entry criteria recorded), or returned to draft;
/// - `matched` is set by approving a match, not by hand;
/// - matched → active → review → active;
/// - any open referral is closed, saying why.
pub fn next_status(
    referral: &Referral,
    actor: &Actor,
    to: ReferralStatus,
    reason: Option<&str>,
) -> Result<()> {
    authorize(
        actor,
        Action::MoveReferral {
            school: referral.school_id,
            to,
        },
    )?;
    step_rules(referral, actor, to, reason)
}

/// Whether `actor` may ask for `to` and the step is one the referral can
/// take now, asked without logging a refusal: what the referral page asks
/// of every step it could offer as a button.
pub fn may_move(referral: &Referral, actor: &Actor, to: ReferralStatus) -> bool {
    let action = Action::MoveReferral {
        school: referral.school_id,
        to,
    };
    allowed(actor.role(), actor.school_id(), action)
        && step_rules(referral, actor, to, Some("-")).is_ok()
}

/// The steps themselves, once the policy has let the actor ask.
fn step_rules(
    referral: &Referral,
    actor: &Actor,
    to: ReferralStatus,
    reason: Option<&str>,
) -> Result<()> {
    use ReferralStatus::*;
    let refuse = |why: &str| {
        Err(Error::conflict(
            "status",
            format!(
                "a {} referral cannot become {}: {why}",
                referral.status.as_str(),
                to.as_str()
            ),
        ))
    };
    match (referral.status, to) {
        (Draft, Submitted) | (Submitted, Draft) => Ok(()),
        (Submitted, Approved) => {
            if actor.user.id == referral.referred_by {
                return refuse("it needs a second person's countersignature");
            }
            if referral.editors.contains(&actor.user.id) {
                return refuse(
                    "you changed it after it was written, so someone who did not must countersign it",
                );
            }
            if referral.consent_date.is_none() {
                return Err(Error::invalid(
                    "consent",
                    "record parental consent before approving",
                ));
            }
            if !referral.entry_criteria_met {
                return Err(Error::invalid(
                    "entry_criteria_met",
                    "the entry criteria must be met before approving",
                ));
            }
            Ok(())
        }
        (_, Matched) => refuse("a referral is matched by approving a match"),
        (Matched | Review, Active) | (Active, Review) => Ok(()),
        (status, Closed) if status != Closed => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                return Err(Error::invalid(
                    "reason",
                    "say why the referral is being closed",
                ));
            }
            Ok(())
        }
        _ => refuse("that is not a step in a referral's life"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReferralInput {
        ReferralInput {
            mentee_id: Uuid::new_v4(),
            priority: 2,
            strengths: String::new(),
            concerns: vec!["Confidence".into()],
            reasons: "Quiet in lessons".into(),
            focus: vec!["English poetry".into()],
            support_received: String::new(),
            strategies_tried: String::new(),
            agencies: String::new(),
            consent: None,
            entry_criteria_met: false,
            planned_weeks: 6,
            review_date: None,
            unavailable: Vec::new(),
            preferred_days: Vec::new(),
        }
    }

    #[test]
    fn times_a_mentee_cannot_make_are_tidied_and_bad_ones_named() {
        let at = |week: Option<&str>, day: &str, period: Option<&str>| Unavailable {
            week: week.map(str::to_owned),
            day: day.into(),
            period: period.map(str::to_owned),
        };
        let mut i = input();
        i.unavailable = vec![
            at(Some("b"), "thursday", None),
            at(None, "Tue", Some(" REG ")),
            at(None, "tue", Some("REG")),
        ];
        let c = check(&i).unwrap();
        assert_eq!(
            c.unavailable,
            vec![at(None, "Tue", Some("REG")), at(Some("B"), "Thu", None)]
        );
        for (bad, says) in [
            (at(None, "Tues-ish", None), "not a day of the week"),
            (at(Some("Week A"), "Mon", None), "week's letter"),
            (at(None, "Mon", Some("period 1")), "not a period code"),
        ] {
            i.unavailable = vec![bad];
            let err = check(&i).err().unwrap().to_string();
            assert!(err.contains("unavailable") && err.contains(says), "{err}");
        }
    }

    #[test]
    fn a_referral_needs_reasons_a_focus_and_concerns_from_the_checklist() {
        assert!(check(&input()).is_ok());
        let mut bad = input();
        bad.concerns = vec!["naughtiness".into()];
        assert_eq!(check(&bad).err().and_then(|e| e.field()), Some("concerns"));
        let mut bad = input();
        bad.focus = vec![" ".into()];
        assert_eq!(check(&bad).err().and_then(|e| e.field()), Some("focus"));
        let mut bad = input();
        bad.reasons = "  ".into();
        assert_eq!(check(&bad).err().and_then(|e| e.field()), Some("reasons"));
        let mut bad = input();
        bad.planned_weeks = 0;
        assert_eq!(
            check(&bad).err().and_then(|e| e.field()),
            Some("planned_weeks")
        );
    }
}
