//! Partnerships: two schools that mentor across their boundary.
//!
//! One school's coordinator proposes; the other school's coordinator accepts.
//! Only an accepted partnership lets either school see anything of the
//! other's students, and then only what pairing needs.
//!
//! Here are the types and the domain's steps (each authorized here, so the
//! JSON API in `http` and the pages in `pages` share them); `store` keeps
//! the `partnerships` table. Other domains that show partner data
//! (mentors, referrals) start from [`partner_school`].

pub mod http;
pub mod pages;
pub mod store;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::people::accounts::{PartnerStudentView, Role};
use crate::people::schools::School;
use crate::store::Store;

/// Where a partnership stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnershipStatus {
    /// Waiting for the other school to accept.
    Proposed,
    /// Both schools have agreed.
    Accepted,
}

impl PartnershipStatus {
    /// The stored name ([`FromStr`] reads it back).
    pub fn as_str(self) -> &'static str {
        match self {
            PartnershipStatus::Proposed => "proposed",
            PartnershipStatus::Accepted => "accepted",
        }
    }
}

impl FromStr for PartnershipStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        match raw {
            "proposed" => Ok(PartnershipStatus::Proposed),
            "accepted" => Ok(PartnershipStatus::Accepted),
            other => Err(Error::internal(format!(
                "stored partnership status `{other}`"
            ))),
        }
    }
}

/// A stored partnership between two schools.
#[derive(Clone, Debug, Serialize)]
pub struct Partnership {
    pub id: Uuid,
    /// One school (the lower id; the order means nothing else).
    pub school_low: Uuid,
    /// The other school.
    pub school_high: Uuid,
    /// The school whose coordinator proposed it.
    pub proposed_by_school: Uuid,
    pub status: PartnershipStatus,
    /// When it was proposed.
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl Partnership {
    /// Whether `school` is one of the pair.
    pub fn includes(&self, school: Uuid) -> bool {
        self.school_low == school || self.school_high == school
    }

    /// The other school of the pair, seen from `school`.
    pub fn partner_of(&self, school: Uuid) -> Uuid {
        if self.school_low == school {
            self.school_high
        } else {
            self.school_low
        }
    }

    /// A partnership that was never stored, for policy tests.
    #[doc(hidden)]
    pub fn new_for_test(proposer: Uuid, other: Uuid, status: PartnershipStatus) -> Self {
        let (low, high) = if proposer < other {
            (proposer, other)
        } else {
            (other, proposer)
        };
        Partnership {
            id: Uuid::new_v4(),
            school_low: low,
            school_high: high,
            proposed_by_school: proposer,
            status,
            created_at: Utc::now(),
            accepted_at: None,
        }
    }
}

/// The other school, as a partnership shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerSchool {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
}

/// A partnership seen from one of its schools.
#[derive(Clone, Debug, Serialize)]
pub struct PartnershipView {
    #[serde(flatten)]
    pub partnership: Partnership,
    /// The other school.
    pub partner: PartnerSchool,
    /// Whether this school proposed it.
    pub proposed_by_us: bool,
}

impl PartnershipView {
    /// Whether it is live.
    pub fn accepted(&self) -> bool {
        self.partnership.status == PartnershipStatus::Accepted
    }
}

/// The actor's own school: partnerships are always seen from one.
pub fn own_school(actor: &Actor) -> Result<Uuid> {
    actor.school_id().ok_or(Error::Forbidden)
}

/// The actor's school's partnerships, newest first, each with its partner.
pub async fn views(store: &Store, actor: &Actor) -> Result<Vec<PartnershipView>> {
    let school = own_school(actor)?;
    authorize(actor, Action::ViewPartnerships { school })?;
    let mut out = Vec::new();
    for p in store.partnerships_of(school).await? {
        let partner = store.school(p.partner_of(school)).await?;
        out.push(PartnershipView {
            proposed_by_us: p.proposed_by_school == school,
            partnership: p,
            partner: PartnerSchool {
                id: partner.id,
                slug: partner.slug,
                name: partner.name,
                time_zone: partner.time_zone,
            },
        });
    }
    Ok(out)
}

/// Finds the school a coordinator names, by slug or id.
async fn resolve_school(store: &Store, raw: &str) -> Result<School> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(
            "partner_school",
            "choose the school to partner with",
        ));
    }
    let found = match Uuid::parse_str(raw) {
        Ok(id) => store.school(id).await,
        Err(_) => store.school_by_slug(raw).await,
    };
    match found {
        Err(Error::NotFound(_)) => Err(Error::invalid(
            "partner_school",
            format!("no school is called `{raw}`"),
        )),
        other => other,
    }
}

/// Proposes a partnership from the actor's school to the one `partner`
/// names (a slug or an id).
pub async fn propose(store: &Store, actor: &Actor, partner: &str) -> Result<Partnership> {
    let school = own_school(actor)?;
    authorize(actor, Action::ProposePartnership { school })?;
    let partner = resolve_school(store, partner).await?;
    let p = store
        .propose_partnership(school, actor.user.id, partner.id)
        .await?;
    tracing::info!(partnership = %p.id, by = %actor.user.id, "partnership proposed");
    Ok(p)
}

pub async fn accept(store: &Store, actor: &Actor, id: Uuid) -> Result<Partnership> {
    let p = store.partnership(id).await?;
    authorize(actor, Action::AcceptPartnership { partnership: &p })?;
    let p = store.accept_partnership(id, actor.user.id).await?;
    tracing::info!(partnership = %p.id, by = %actor.user.id, "partnership accepted");
    Ok(p)
}

/// The partnership and the *other* school's id, once the actor may see
/// partner data: what every partner view (students, referrals, mentors)
/// starts from.
pub async fn partner_school(store: &Store, actor: &Actor, id: Uuid) -> Result<(Partnership, Uuid)> {
    let p = store.partnership(id).await?;
    authorize(actor, Action::ViewPartnerStudents { partnership: &p })?;
    let partner = p.partner_of(own_school(actor)?);
    Ok((p, partner))
}

/// The partner school's students that pairing is about, cut down to what
/// it needs: mentors who are ready (trained, cleared, offering something)
/// and mentees whose referral the partner may see (countersigned, and not
/// yet closed). A draft referral or a mentor not yet cleared is the
/// school's own business.
pub async fn partner_students(
    store: &Store,
    actor: &Actor,
    id: Uuid,
) -> Result<(Partnership, School, Vec<PartnerStudentView>)> {
    let (p, partner) = partner_school(store, actor, id).await?;
    let partner = store.school(partner).await?;
    let ready: std::collections::HashSet<Uuid> = store
        .mentor_profiles(partner.id)
        .await?
        .into_iter()
        .filter(|m| m.ready)
        .map(|m| m.user_id)
        .collect();
    let referred: std::collections::HashSet<Uuid> = store
        .referrals_at(partner.id)
        .await?
        .into_iter()
        .filter(|r| r.status.shown_to_partner())
        .map(|r| r.mentee_id)
        .collect();
    let students = store
        .users_at_school(partner.id, &[Role::Student])
        .await?
        .into_iter()
        .filter(|u| ready.contains(&u.id) || referred.contains(&u.id))
        .map(PartnerStudentView::from)
        .collect();
    Ok((p, partner, students))
}
