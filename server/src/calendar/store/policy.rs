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
use crate::people::partnerships::Partnership;
use crate::people::schools::School;
use crate::store::Store;

/// Checks a policy as written against the partnership it is for, and turns
/// slugs into ids: only the partnership's two schools, a sensible session
/// length, and supervisors who are staff at their school.
///
/// `editor` is the school of the coordinator saving it: each school decides
/// its own periods (its iPads and supervisors are its own, in
/// [`crate::calendar::capacity`]), so a share of the other school
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
            // Given back unchanged, the other school's stored share stays.
            let current = stored.schools.get(&school.id).cloned().unwrap_or_default();
            if &current != share {
                return Err(Error::invalid(
                    "schools",
                    format!(
                        "only {}'s coordinator can change the periods {} uses",
                        school.name, school.name
                    ),
                ));
            }
            if let Some(current) = stored.schools.get(&school.id) {
                schools.insert(school.id, current.clone());
            }
            continue;
        }
        check_share(school, share)?;
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
pub async fn policy_input(store: &Store, policy: &SlotPolicy) -> Result<PolicyInput> {
    let mut schools = BTreeMap::new();
    for (id, p) in &policy.schools {
        schools.insert(store.school(*id).await?.slug, p.clone());
    }
    Ok(PolicyInput {
        session_minutes: policy.session_minutes,
        schools,
    })
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
            "set the partnership's slot policy first (which periods it uses)",
        )
    })?;
    let first = partnership.proposed_by_school;
    let a = store.school(first).await?;
    let b = store.school(partnership.partner_of(first)).await?;
    let (cal_a, cal_b) = (
        store.school_calendar(a.id).await?,
        store.school_calendar(b.id).await?,
    );
    let (has_a, has_b) = (
        store.school_capacity(a.id).await?,
        store.school_capacity(b.id).await?,
    );
    let empty = SchoolSlotPolicy::default();
    let alignment = align_slots(
        Side {
            slug: &a.slug,
            name: &a.name,
            calendar: &cal_a,
            policy: policy.schools.get(&a.id).unwrap_or(&empty),
            capacity: &has_a,
        },
        Side {
            slug: &b.slug,
            name: &b.name,
            calendar: &cal_b,
            policy: policy.schools.get(&b.id).unwrap_or(&empty),
            capacity: &has_b,
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
