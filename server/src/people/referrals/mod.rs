//! Referrals: how a mentee comes to be mentored.
//!
//! A member of staff refers a mentee at their own school, following UK
//! learning-mentor practice (strengths, areas of concern, reasons, the focus
//! requested, support already received, strategies tried, other agencies,
//! parental consent, entry criteria, planned length and review date). A
//! coordinator or safeguarding lead — not the referrer — countersigns it.
//! The life of a referral is a small state machine ([`ReferralStatus`]);
//! every move is checked in [`next_status`]. Only the mentee's school sees a
//! referral; the partner school sees first name, year group and focus.
//!
//! Here are the types and rules (`rules` holds the input checks and the
//! state machine); `store` keeps the `referrals` table; `http` is the JSON
//! API and `pages` the school's Referrals page.

pub mod http;
pub mod pages;
mod rules;
pub mod store;

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::people::partnerships::partner_school;
use crate::store::Store;

pub(crate) use rules::{changed_fields, check, check_edit, consent_recorder};
pub use rules::{may_move, next_status};

/// Where a referral stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Being written.
    Draft,
    /// Waiting for a countersignature.
    Submitted,
    /// Countersigned: ready to be matched.
    Approved,
    /// A match has been approved.
    Matched,
    /// Sessions are running.
    Active,
    /// At its review point.
    Review,
    /// Finished (or withdrawn), with a reason.
    Closed,
}

impl ReferralStatus {
    const ALL: [ReferralStatus; 7] = [
        ReferralStatus::Draft,
        ReferralStatus::Submitted,
        ReferralStatus::Approved,
        ReferralStatus::Matched,
        ReferralStatus::Active,
        ReferralStatus::Review,
        ReferralStatus::Closed,
    ];

    /// The stored name ([`FromStr`] reads it back; serde uses the same).
    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "draft",
            ReferralStatus::Submitted => "submitted",
            ReferralStatus::Approved => "approved",
            ReferralStatus::Matched => "matched",
            ReferralStatus::Active => "active",
            ReferralStatus::Review => "review",
            ReferralStatus::Closed => "closed",
        }
    }

    /// Whether the partner school sees it: from countersigned until the
    /// mentoring is under way (they look for, or have found, a mentor).
    pub fn shown_to_partner(self) -> bool {
        matches!(
            self,
            ReferralStatus::Approved | ReferralStatus::Matched | ReferralStatus::Active
        )
    }

    /// Whether the mentoring is under way: matched, and not yet closed.
    pub fn under_way(self) -> bool {
        matches!(
            self,
            ReferralStatus::Matched | ReferralStatus::Active | ReferralStatus::Review
        )
    }

    /// Whether its content may still be rewritten.
    pub fn editable(self) -> bool {
        matches!(self, ReferralStatus::Draft | ReferralStatus::Submitted)
    }
}

impl FromStr for ReferralStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        ReferralStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::invalid("to", format!("`{raw}` is not a referral status")))
    }
}

/// The areas of concern a referral can tick.
pub const CONCERNS: &[&str] = &[
    "attendance",
    "behaviour",
    "confidence",
    "friendships",
    "organisation",
    "reading",
    "writing",
    "numeracy",
    "exam anxiety",
    "motivation",
    "transition",
    "wellbeing",
];

/// A time a mentee cannot be mentored, in their own school's timetable: a
/// music lesson in Tuesday registration (`week` none, `day` Tue, `period`
/// REG), an intervention group on Week B Thursdays (`period` none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unavailable {
    /// The cycle week's letter (A, B …); none for every week.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week: Option<String>,
    /// Mon, Tue … as the bell schedule has them.
    pub day: String,
    /// A period code from the bell schedule; none for the whole day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

impl Unavailable {
    /// Whether it covers the period `period` on `day` of cycle week `week`.
    pub fn covers(&self, week: &str, day: &str, period: &str) -> bool {
        self.week.as_deref().is_none_or(|w| w == week)
            && self.day == day
            && self.period.as_deref().is_none_or(|p| p == period)
    }

    /// In words: "Tuesdays", "Week B Thursdays, REG".
    pub fn label(&self) -> String {
        let day = match self.day.as_str() {
            "Mon" => "Mondays",
            "Tue" => "Tuesdays",
            "Wed" => "Wednesdays",
            "Thu" => "Thursdays",
            "Fri" => "Fridays",
            "Sat" => "Saturdays",
            "Sun" => "Sundays",
            other => other,
        };
        let mut text = match &self.week {
            Some(w) => format!("Week {w} {day}"),
            None => day.to_owned(),
        };
        if let Some(p) = &self.period {
            text.push_str(", ");
            text.push_str(p);
        }
        text
    }
}

/// Stored one a line as `WEEK DAY PERIOD`, `*` for any week or period.
impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.week.as_deref().unwrap_or("*"),
            self.day,
            self.period.as_deref().unwrap_or("*")
        )
    }
}

impl FromStr for Unavailable {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let any = |x: &str| (x != "*").then(|| x.to_owned());
        match s.split(' ').collect::<Vec<_>>()[..] {
            [week, day, period] if !day.is_empty() => Ok(Unavailable {
                week: any(week),
                day: day.to_owned(),
                period: any(period),
            }),
            _ => Err(Error::internal(format!("stored unavailability `{s}`"))),
        }
    }
}

/// Parental consent, as recorded by staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Who gave it (a parent or carer's name and relationship).
    pub given_by: String,
    pub date: NaiveDate,
}

/// A referral as staff write it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// The mentee (a student at the referrer's school).
    pub mentee_id: Uuid,
    /// 3 = most urgent, 1 = least; matched in that order.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// What the mentee is good at.
    #[serde(default)]
    pub strengths: String,
    /// Ticked areas of concern, from [`CONCERNS`].
    #[serde(default)]
    pub concerns: Vec<String>,
    /// Why mentoring, in the referrer's words.
    pub reasons: String,
    /// The focus requested: subjects or skills (e.g. "English poetry").
    pub focus: Vec<String>,
    /// Support the mentee already has.
    #[serde(default)]
    pub support_received: String,
    #[serde(default)]
    pub strategies_tried: String,
    /// Other agencies involved.
    #[serde(default)]
    pub agencies: String,
    /// Parental consent, once given.
    #[serde(default)]
    pub consent: Option<ConsentInput>,
    /// Whether the scheme's entry criteria are met.
    #[serde(default)]
    pub entry_criteria_met: bool,
    /// Planned length in weeks (e.g. 6 or 12).
    pub planned_weeks: u32,
    #[serde(default)]
    pub review_date: Option<NaiveDate>,
    /// Times the mentee cannot be mentored; checked against the school's
    /// bell schedule.
    #[serde(default)]
    pub unavailable: Vec<Unavailable>,
    /// Days the mentee would rather meet on (`Wed`); days the school
    /// teaches.
    #[serde(default)]
    pub preferred_days: Vec<String>,
}

fn default_priority() -> u8 {
    2
}

/// A stored referral, as the mentee's school sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Referral {
    pub id: Uuid,
    /// The mentee's school.
    pub school_id: Uuid,
    pub mentee_id: Uuid,
    /// The mentee's name, for lists.
    pub mentee_name: String,
    /// The mentee's given name (all the partner school sees).
    pub given_name: String,
    /// The mentee's year group.
    pub year_group: Option<i32>,
    pub referred_by: Uuid,
    pub countersigned_by: Option<Uuid>,
    pub status: ReferralStatus,
    /// 1 to 3.
    pub priority: i32,
    pub strengths: String,
    pub concerns: Vec<String>,
    pub reasons: String,
    pub focus: Vec<String>,
    pub support_received: String,
    pub strategies_tried: String,
    pub agencies: String,
    pub consent_given_by: Option<String>,
    pub consent_date: Option<NaiveDate>,
    /// Which member of staff recorded the consent (as it now stands).
    pub consent_recorded_by: Option<Uuid>,
    /// Staff who changed it after it was written: none of them, nor its
    /// referrer, may countersign it.
    pub editors: Vec<Uuid>,
    pub entry_criteria_met: bool,
    pub planned_weeks: i32,
    pub review_date: Option<NaiveDate>,
    /// Times the mentee cannot be mentored.
    pub unavailable: Vec<Unavailable>,
    /// Days they would rather meet on (`Wed`), in the week's order.
    pub preferred_days: Vec<String>,
    pub closed_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Referral {
    /// The days the mentee would rather meet on, in words: "Thursdays and
    /// Fridays".
    pub fn preferred_label(&self) -> String {
        let days: Vec<String> = self
            .preferred_days
            .iter()
            .filter_map(|d| crate::calendar::import::parse_day(d))
            .map(|d| format!("{}s", crate::calendar::model::long_day(d)))
            .collect();
        match days.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// One change to a referral after it was written.
#[derive(Clone, Debug, Serialize)]
pub struct ReferralChange {
    /// Who made it (`None` once their account is gone).
    pub changed_by: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
    /// The fields it changed, by their API names.
    pub fields: Vec<String>,
}

/// What the partner school sees of a referral: enough to find a mentor.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerReferralView {
    /// The referral (to refer to it in a match).
    pub id: Uuid,
    /// The mentee's given name.
    pub given_name: String,
    pub year_group: Option<i32>,
    pub focus: Vec<String>,
}

impl From<Referral> for PartnerReferralView {
    fn from(r: Referral) -> Self {
        PartnerReferralView {
            id: r.id,
            given_name: r.given_name,
            year_group: r.year_group,
            focus: r.focus,
        }
    }
}

/// A referral the actor may see: only its own school's staff may.
pub async fn visible(store: &Store, actor: &Actor, id: Uuid) -> Result<Referral> {
    let referral = store.referral(id).await?;
    authorize(
        actor,
        Action::ViewReferrals {
            school: referral.school_id,
        },
    )?;
    Ok(referral)
}

/// The partner school's approved referrals, cut down to what matching needs.
pub async fn partner_referrals(
    store: &Store,
    actor: &Actor,
    partnership: Uuid,
) -> Result<Vec<PartnerReferralView>> {
    let (_, partner) = partner_school(store, actor, partnership).await?;
    Ok(store
        .referrals_at(partner)
        .await?
        .into_iter()
        .filter(|r| r.status.shown_to_partner())
        .map(PartnerReferralView::from)
        .collect())
}
