//! What people do to a record, each checked against who they are to the
//! programme ([`Programme`]) and the record's rules, then stored. The API
//! and the pages both call these, so a rule holds whichever way in.

use uuid::Uuid;

use super::programme::Programme;
use super::{
    AssessmentInput, ExitInput, FeedbackInput, IdentifierInput, NoteInput, OutcomeInput,
    ReviewInput, Target, TargetInput, View, check_assessment, check_exit, check_identifiers,
    check_note, check_outcome, check_review, check_target,
};
use crate::auth::Actor;
use crate::auth::policy::{
    Action, RecordAccess, authorize, feedback_role, may_exit, may_review, note_kind,
};
use crate::booking::SessionStatus;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::text;

/// Sets what a school's mentees score themselves on.
pub async fn set_identifiers(
    store: &Store,
    actor: &Actor,
    school: Uuid,
    input: &[IdentifierInput],
) -> Result<()> {
    authorize(actor, Action::ManageRecordIdentifiers { school })?;
    let list = check_identifiers(input)?;
    store.set_record_identifiers(school, &list).await
}

/// The mentee's own check-in, or the school's view beside it.
pub async fn assess(
    store: &Store,
    actor: &Actor,
    programme: &Programme,
    input: &AssessmentInput,
) -> Result<Uuid> {
    match (input.view, programme.access) {
        (View::Mentee, RecordAccess::Mentee) | (View::Staff, RecordAccess::School) => {}
        _ => return Err(Error::Forbidden),
    }
    if programme.pairs.is_empty() {
        return Err(Error::conflict(
            "stage",
            "the check-in starts once a mentor has been matched",
        ));
    }
    let exited = store.exit(programme.referral.id).await?.is_some();
    let open = programme.under_way() || exited && input.stage == super::Stage::Exit;
    if !open {
        return Err(Error::conflict(
            "stage",
            "this mentoring has ended; only the end check-in is still open",
        ));
    }
    let identifiers = store
        .record_identifiers(programme.referral.school_id)
        .await?;
    let checked = check_assessment(input, &identifiers)?;
    let id = store
        .save_assessment(programme.referral.id, actor.user.id, &checked)
        .await?;
    tracing::info!(referral = %programme.referral.id, by = %actor.user.id, stage = checked.stage.as_str(), view = checked.view.as_str(), "assessment saved");
    Ok(id)
}

/// Adds a target to the plan.
pub async fn add_target(
    store: &Store,
    actor: &Actor,
    programme: &Programme,
    input: &TargetInput,
) -> Result<Target> {
    let side = programme.check_plan(actor)?;
    let checked = check_target(input, programme.today()?)?;
    store
        .add_target(programme.referral.id, actor.user.id, side, &checked)
        .await
}

/// A target and the programme it belongs to, as `actor` reaches it.
pub async fn target_of(store: &Store, actor: &Actor, id: Uuid) -> Result<(Target, Programme)> {
    let target = store.target(id).await?;
    let programme = Programme::load(store, actor, target.referral_id)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound("target"),
            e => e,
        })?;
    Ok((target, programme))
}

/// The mentee or the mentor agrees a target the other set.
pub async fn agree_target(store: &Store, actor: &Actor, id: Uuid) -> Result<Target> {
    let (target, programme) = target_of(store, actor, id).await?;
    let side = programme.check_plan(actor)?;
    if side == super::store::Side::Staff {
        // Staff set targets with the pair; agreeing is the pair's own.
        return Err(Error::Forbidden);
    }
    if target.outcome.is_some() {
        return Err(Error::conflict("target", "this target is already finished"));
    }
    store.agree_target(target.id, side).await
}

/// Notes progress on a target.
pub async fn add_progress(
    store: &Store,
    actor: &Actor,
    id: Uuid,
    session: Option<Uuid>,
    note: &str,
) -> Result<()> {
    let (target, programme) = target_of(store, actor, id).await?;
    programme.check_plan(actor)?;
    let note = text::paragraphs("note", note, 1000, true)?;
    if let Some(session) = session {
        let s = store.session(session).await?;
        if !programme.has_session(&s) {
            return Err(Error::invalid(
                "session_id",
                "that session is not one of this mentoring's",
            ));
        }
    }
    store
        .add_progress(target.id, actor.user.id, session, &note)
        .await
}

/// Marks a target met, partly met or dropped.
pub async fn set_outcome(
    store: &Store,
    actor: &Actor,
    id: Uuid,
    input: &OutcomeInput,
) -> Result<Target> {
    let (target, programme) = target_of(store, actor, id).await?;
    programme.check_plan(actor)?;
    let note = check_outcome(input)?;
    store
        .set_outcome(&target, actor.user.id, input.outcome, &note)
        .await
}

/// Writes the viewer's note on a session: the mentor's account, or a
/// supervising teacher's observation, once the session has begun.
pub async fn write_note(
    store: &Store,
    actor: &Actor,
    session: Uuid,
    input: &NoteInput,
) -> Result<()> {
    let s = store.session(session).await?;
    let Some(kind) = note_kind(actor.user.id, actor.role(), s.mentor_id, &s.supervisors) else {
        return Err(Error::Forbidden);
    };
    if s.status == SessionStatus::Cancelled {
        return Err(Error::conflict(
            "session",
            "this session was cancelled, so there is nothing to write up",
        ));
    }
    if s.starts_at > chrono::Utc::now() {
        return Err(Error::conflict(
            "session",
            "this session has not started yet; write the note after it",
        ));
    }
    let (body, next_step) = check_note(input, kind)?;
    store
        .save_session_note(s.id, actor.user.id, kind, &body, &next_step)
        .await?;
    tracing::info!(session = %s.id, by = %actor.user.id, kind = kind.as_str(), "session note saved");
    Ok(())
}

/// The coordinator's review. Closing is the exit too. Returns how many
/// sessions an exit cancelled.
pub async fn review(
    store: &Store,
    actor: &Actor,
    programme: &Programme,
    input: &ReviewInput,
) -> Result<Option<u64>> {
    if !may_review(programme.access, actor.role()) {
        return Err(Error::Forbidden);
    }
    not_closed(programme, "there is nothing left to review")?;
    let checked = check_review(input, programme.today()?)?;
    let cancelled = store
        .add_review(programme.referral.id, actor.user.id, &checked)
        .await?;
    tracing::info!(referral = %programme.referral.id, by = %actor.user.id, decision = checked.decision.as_str(), "review recorded");
    Ok(cancelled)
}

/// What an exit would do, for its confirm step: the sessions still to
/// come that it cancels.
pub async fn exit_preview(
    store: &Store,
    actor: &Actor,
    programme: &Programme,
) -> Result<Vec<crate::booking::Session>> {
    if !may_exit(programme.access, actor.role()) {
        return Err(Error::Forbidden);
    }
    not_closed(programme, "it cannot end twice")?;
    let now = chrono::Utc::now();
    Ok(super::programme::sessions(store, programme)
        .await?
        .into_iter()
        .filter(|s| super::still_to_come(s.status, s.starts_at, now))
        .collect())
}

/// Records the exit: ends the match, cancels the later sessions (with
/// their invites) and closes the referral. Returns how many sessions were
/// cancelled.
pub async fn exit(
    store: &Store,
    actor: &Actor,
    programme: &Programme,
    input: &ExitInput,
) -> Result<u64> {
    if !may_exit(programme.access, actor.role()) {
        return Err(Error::Forbidden);
    }
    not_closed(programme, "it cannot end twice")?;
    let (reason, note) = check_exit(input)?;
    if !programme.under_way() {
        return Err(Error::conflict(
            "status",
            "this referral has no mentoring under way yet; close the referral instead",
        ));
    }
    let cancelled = store
        .record_exit(programme.referral.id, actor.user.id, reason, &note)
        .await?;
    tracing::info!(referral = %programme.referral.id, by = %actor.user.id, reason = reason.as_str(), cancelled, "exit recorded");
    Ok(cancelled)
}

/// Keeps the viewer's feedback, in the role they have on the programme.
pub async fn give_feedback(
    store: &Store,
    actor: &Actor,
    programme: &Programme,
    input: &FeedbackInput,
) -> Result<()> {
    let Some(from) = feedback_role(programme.access, actor.role()) else {
        return Err(Error::Forbidden);
    };
    if programme.pairs.is_empty() {
        return Err(Error::conflict(
            "stage",
            "feedback opens once the mentoring has started",
        ));
    }
    store
        .add_feedback(programme.referral.id, actor.user.id, from, input)
        .await
}

fn not_closed(programme: &Programme, what: &str) -> Result<()> {
    if programme.closed() {
        return Err(Error::conflict(
            "status",
            format!(
                "this mentoring is closed ({}); {what}",
                programme
                    .referral
                    .closed_reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .unwrap_or("ended")
            ),
        ));
    }
    Ok(())
}
