//! Groups of schools: a scheme run across several schools by a local
//! authority or a trust, and its *scheme leads*, who belong to no school
//! but to the group, and see only the group's aggregate reports.
//!
//! The platform administrator makes a group, invites schools into it and
//! adds its scheme leads. A school is a member only once its own
//! coordinator has agreed ([`agree`]), and leaves again the same way
//! ([`leave`]): what a school's pupils did stays with that school unless
//! the school says otherwise, and even then leaves it only as counts and
//! averages (the reports domain's business).
//!
//! `store` keeps `school_groups` and `school_group_members`; scheme leads
//! are accounts (`users`, with the role `scheme_lead` and a `group_id`),
//! written through the accounts store.

pub mod http;
pub mod pages;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::people::accounts::{ParsedAccount, Role, User};
use crate::people::schools::School;
use crate::store::Store;

/// A group of schools.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: Uuid,
    /// The scheme's name, e.g. "Northshire Peer Mentoring".
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A school's place in a group: invited, and (once its coordinator said
/// yes) agreed.
#[derive(Clone, Debug, Serialize)]
pub struct Membership {
    pub group_id: Uuid,
    pub school_id: Uuid,
    pub invited_at: DateTime<Utc>,
    /// `None` while the school has not agreed: its figures are not in the
    /// group's reports.
    pub agreed_at: Option<DateTime<Utc>>,
}

/// A group as its pages and API show it: its schools, each with whether it
/// has agreed, and its scheme leads' names.
#[derive(Clone, Debug, Serialize)]
pub struct GroupView {
    pub group: Group,
    pub schools: Vec<MemberSchool>,
    /// Their usernames and names only.
    pub leads: Vec<LeadView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MemberSchool {
    pub school: School,
    pub agreed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LeadView {
    pub id: Uuid,
    pub username: String,
    pub name: String,
}

impl From<User> for LeadView {
    fn from(u: User) -> Self {
        LeadView {
            id: u.id,
            name: u.full_name(),
            username: u.username,
        }
    }
}

/// A scheme lead's account, as the administrator submits it.
#[derive(Clone, Deserialize)]
pub struct LeadInput {
    pub username: String,
    pub password: String,
    pub given_name: String,
    pub family_name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// A group's name: one line of text, not blank, at most 120 characters.
fn parse_name(raw: &str) -> Result<String> {
    crate::text::line("name", raw, 120, true)
}

/// Makes a group (the administrator).
pub async fn create(store: &Store, actor: &Actor, name: &str) -> Result<Group> {
    authorize(actor, Action::CreateGroup)?;
    let group = store.create_group(&parse_name(name)?).await?;
    tracing::info!(group = %group.id, by = %actor.user.id, "group created");
    Ok(group)
}

/// Invites a school (by slug or id) into a group (the administrator). The
/// school is not a member until its coordinator agrees.
pub async fn invite(store: &Store, actor: &Actor, group: Uuid, school: &str) -> Result<Membership> {
    authorize(actor, Action::ManageGroup { group })?;
    store.group(group).await?;
    let school = crate::people::schools::find(store, school, "school").await?;
    let membership = store.invite_school(group, school.id).await?;
    tracing::info!(%group, school = %school.id, by = %actor.user.id, "school invited into a group");
    Ok(membership)
}

/// Adds a scheme lead to a group (the administrator).
pub async fn add_lead(
    store: &Store,
    actor: &Actor,
    group: Uuid,
    input: &LeadInput,
) -> Result<User> {
    authorize(actor, Action::ManageGroup { group })?;
    store.group(group).await?;
    let account = ParsedAccount::scheme_lead(
        &input.username,
        &input.password,
        &input.given_name,
        &input.family_name,
        input.email.as_deref(),
    )?
    .hash()
    .await?;
    let lead = store.create_scheme_lead(&account, group).await?;
    tracing::info!(%group, lead = %lead.id, by = %actor.user.id, "scheme lead added");
    Ok(lead)
}

/// The actor's school agrees to join a group it was invited into (its
/// coordinator).
pub async fn agree(store: &Store, actor: &Actor, group: Uuid) -> Result<Membership> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::JoinGroup { school })?;
    let membership = store.agree_to_group(group, school, actor.user.id).await?;
    tracing::info!(%group, %school, by = %actor.user.id, "school agreed to join a group");
    Ok(membership)
}

/// The actor's school leaves a group (or turns its invitation down): its
/// figures are out of the group's reports from now on.
pub async fn leave(store: &Store, actor: &Actor, group: Uuid) -> Result<()> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::JoinGroup { school })?;
    store.leave_group(group, school).await?;
    tracing::info!(%group, %school, by = %actor.user.id, "school left a group");
    Ok(())
}

/// One group with its schools and leads.
pub async fn view(store: &Store, actor: &Actor, group: Uuid) -> Result<GroupView> {
    authorize(actor, Action::ViewGroup { group })?;
    view_unchecked(store, group).await
}

async fn view_unchecked(store: &Store, group: Uuid) -> Result<GroupView> {
    let group = store.group(group).await?;
    let mut schools = Vec::new();
    for m in store.group_memberships(group.id).await? {
        schools.push(MemberSchool {
            school: store.school(m.school_id).await?,
            agreed_at: m.agreed_at,
        });
    }
    schools.sort_by(|a, b| a.school.name.cmp(&b.school.name));
    let leads = store
        .scheme_leads(group.id)
        .await?
        .into_iter()
        .map(LeadView::from)
        .collect();
    Ok(GroupView {
        group,
        schools,
        leads,
    })
}

/// The groups the actor may see: every group for the administrator, their
/// own for a scheme lead, and for a coordinator those their school is in
/// or invited to (so they can agree or leave).
pub async fn visible(store: &Store, actor: &Actor) -> Result<Vec<GroupView>> {
    let ids: Vec<Uuid> = match actor.role() {
        Role::Admin => {
            authorize(actor, Action::ListGroups)?;
            store
                .list_groups()
                .await?
                .into_iter()
                .map(|g| g.id)
                .collect()
        }
        Role::SchemeLead => {
            let group = actor.user.group_id.ok_or(Error::Forbidden)?;
            authorize(actor, Action::ViewGroup { group })?;
            vec![group]
        }
        _ => {
            let school = actor.school_id().ok_or(Error::Forbidden)?;
            authorize(actor, Action::JoinGroup { school })?;
            store
                .memberships_of_school(school)
                .await?
                .into_iter()
                .map(|m| m.group_id)
                .collect()
        }
    };
    let mut out = Vec::new();
    for id in ids {
        out.push(view_unchecked(store, id).await?);
    }
    Ok(out)
}

/// The schools whose figures are in `group`'s reports: those that agreed.
pub async fn member_schools(store: &Store, group: Uuid) -> Result<Vec<School>> {
    let mut out = Vec::new();
    for m in store.group_memberships(group).await? {
        if m.agreed_at.is_some() {
            out.push(store.school(m.school_id).await?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The demo's scheme: a trust's group with `schools` invited and agreed
/// (as their coordinators would), and its scheme lead, who signs in with
/// `password`. Returns the lead's username, for the demo's sign-in list.
pub async fn seed_demo(store: &Store, schools: &[Uuid], password: &str) -> Result<&'static str> {
    const LEAD: &str = "jwright";
    let group = store.create_group("Riverside Learning Trust").await?;
    for school in schools {
        store.invite_school(group.id, *school).await?;
        let coordinator = store
            .users_at_school(*school, &[Role::Coordinator])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("a demo school without a coordinator"))?;
        store
            .agree_to_group(group.id, *school, coordinator.id)
            .await?;
    }
    let lead = ParsedAccount::scheme_lead(LEAD, password, "Jo", "Wright", None)?
        .hash()
        .await?;
    store.create_scheme_lead(&lead, group.id).await?;
    Ok(LEAD)
}
