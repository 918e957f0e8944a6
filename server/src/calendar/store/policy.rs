//! A partnership's slot policy as its coordinators write it, and the slots
//! it gives when the two schools' calendars are aligned under it.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::calendar::align::{SchoolSlotPolicy, Side, align_slots};
use crate::calendar::{
    PartnershipSlots, PolicyInput, SlotPolicy, check_session_minutes, check_share,
};
use crate::error::{Error, Result};
use crate::people::accounts::Role;
use crate::people::partnerships::Partnership;
use crate::people::schools::School;
use crate::store::Store;

/// Checks a policy as written against the partnership it is for, and turns
/// slugs into ids: only the partnership's two schools, a sensible session
/// length, and supervisors who are staff at their school.
///
/// `editor` is the school of the coordinator saving it: each school decides
/// its own periods, iPads and supervisors, so a share of the other school
/// that differs from what is stored is refused, and a share left out keeps
/// what is stored. IT staff at the command line (`editor` = `None`) set both.
pub async fn parse_policy(
    store: &Store,
    partnership: &Partnership,
    input: &PolicyInput,
    editor: Option<Uuid>,
) -> Result<SlotPolicy> {
    check_session_minutes(input.session_minutes)?;
    let a = store.school(partnership.school_low).await?;
    let b = store.school(partnership.school_high).await?;
    let stored = store.slot_policy(partnership.id).await?.unwrap_or_default();
    let mut schools = BTreeMap::new();
    for (slug, share) in &input.schools {
        let school = [&a, &b]
            .into_iter()
            .find(|s| &s.slug == slug)
            .ok_or_else(|| {
                Error::invalid(
                    "schools",
                    format!(
                        "`{slug}` is not in this partnership (it is `{}` and `{}`)",
                        a.slug, b.slug
                    ),
                )
            })?;
        if editor.is_some_and(|e| e != school.id) {
            // The editor saw the other school's share as `shown_to_partner`
            // gives it; given back unchanged (in that form, or as stored),
            // the stored share stays.
            let current = stored.schools.get(&school.id).cloned().unwrap_or_default();
            if &current != share && &shown_to_partner(store, school.id, &current).await? != share {
                return Err(Error::invalid(
                    "schools",
                    format!(
                        "only {}'s coordinator can change {}'s periods, iPads and supervisors",
                        school.name, school.name
                    ),
                ));
            }
            if let Some(current) = stored.schools.get(&school.id) {
                schools.insert(school.id, current.clone());
            }
            continue;
        }
        let staff = store
            .users_at_school(
                school.id,
                &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
            )
            .await?;
        check_share(school, share, &staff)?;
        schools.insert(school.id, share.clone());
    }
    fill_missing_shares(&mut schools, [&a, &b], &stored, editor)?;
    Ok(SlotPolicy {
        session_minutes: input.session_minutes,
        schools,
    })
}

/// A share a coordinator left out keeps what is stored (or none yet, so no
/// slots until that school says); at the command line both must be given.
fn fill_missing_shares(
    schools: &mut BTreeMap<Uuid, SchoolSlotPolicy>,
    both: [&School; 2],
    stored: &SlotPolicy,
    editor: Option<Uuid>,
) -> Result<()> {
    for school in both {
        if schools.contains_key(&school.id) {
            continue;
        }
        match (editor, stored.schools.get(&school.id)) {
            (Some(_), Some(kept)) => {
                schools.insert(school.id, kept.clone());
            }
            (Some(_), None) => {
                schools.insert(school.id, SchoolSlotPolicy::default());
            }
            (None, _) => {
                return Err(Error::invalid(
                    "schools",
                    format!("say which periods `{}` can use", school.slug),
                ));
            }
        }
    }
    Ok(())
}

/// The policy with schools named by slug again, for showing and editing.
pub async fn policy_input(
    store: &Store,
    policy: &SlotPolicy,
    viewer: Option<Uuid>,
) -> Result<PolicyInput> {
    let mut schools = BTreeMap::new();
    for (id, p) in &policy.schools {
        let share = match viewer {
            Some(viewer) if viewer != *id => shown_to_partner(store, *id, p).await?,
            _ => p.clone(),
        };
        schools.insert(store.school(*id).await?.slug, share);
    }
    Ok(PolicyInput {
        session_minutes: policy.session_minutes,
        schools,
    })
}

/// `share` of `school` as the partner school's staff see it: supervisors by
/// name, not by the usernames they sign in with (a username is half of what
/// a guesser needs).
async fn shown_to_partner(
    store: &Store,
    school: Uuid,
    share: &SchoolSlotPolicy,
) -> Result<SchoolSlotPolicy> {
    let staff = store
        .users_at_school(
            school,
            &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
        )
        .await?;
    let name = |username: &String| {
        staff.iter().find(|u| &u.username == username).map_or_else(
            || "a former member of staff".to_owned(),
            |u| {
                format!("{} {}", u.given_name, u.family_name)
                    .trim()
                    .to_owned()
            },
        )
    };
    let mut shown = share.clone();
    shown.supervisors = share.supervisors.iter().map(name).collect();
    for period in shown.periods.values_mut() {
        if let Some(list) = &mut period.supervisors {
            *list = list.iter().map(name).collect();
        }
    }
    Ok(shown)
}

/// Aligns a partnership's two calendars over `from..=to` (local dates of the
/// school listed first: the one that proposed the partnership).
pub async fn partnership_slots(
    store: &Store,
    partnership: &Partnership,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<PartnershipSlots> {
    if to < from {
        return Err(Error::invalid("to", "must not be before `from`"));
    }
    if (to - from).num_days() > 400 {
        return Err(Error::invalid("to", "ask for at most 400 days at a time"));
    }
    let policy = store.slot_policy(partnership.id).await?.ok_or_else(|| {
        Error::invalid(
            "policy",
            "set the partnership's slot policy first (which periods, iPads and supervisors)",
        )
    })?;
    let first = partnership.proposed_by_school;
    let a = store.school(first).await?;
    let b = store.school(partnership.partner_of(first)).await?;
    let (cal_a, cal_b) = (
        store.school_calendar(a.id).await?,
        store.school_calendar(b.id).await?,
    );
    let empty = SchoolSlotPolicy::default();
    let alignment = align_slots(
        Side {
            slug: &a.slug,
            name: &a.name,
            calendar: &cal_a,
            policy: policy.schools.get(&a.id).unwrap_or(&empty),
        },
        Side {
            slug: &b.slug,
            name: &b.name,
            calendar: &cal_b,
            policy: policy.schools.get(&b.id).unwrap_or(&empty),
        },
        policy.session_minutes,
        from,
        to,
    );
    Ok(PartnershipSlots {
        a,
        b,
        session_minutes: policy.session_minutes,
        alignment,
        computed_at: Utc::now(),
    })
}
