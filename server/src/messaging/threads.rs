//! Opening a thread as the policy allows, and what each reader sees of
//! it: the steps the thread pages, the API and the safeguarding lead's
//! record share.

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use super::{Entry, Message, WHO_CAN_READ};
use crate::auth::Actor;
use crate::auth::policy::{ThreadAccess, thread_access};
use crate::error::{Error, Result};
use crate::matching::Pair;
use crate::safeguarding::ReadKind;
use crate::store::Store;

/// A thread opened by someone the policy lets in.
pub struct OpenThread {
    pub pair: Pair,
    pub access: ThreadAccess,
    /// The mentee's and the mentor's schools.
    pub schools: [Option<Uuid>; 2],
}

/// Opens thread `id` for `actor`, or `Forbidden`. A safeguarding lead's
/// opening is recorded.
pub async fn open_thread(store: &Store, actor: &Actor, id: Uuid) -> Result<OpenThread> {
    let pair = store.pair(id).await?;
    let schools = [
        store.user(pair.mentee_id).await?.school_id,
        store.user(pair.mentor_id).await?.school_id,
    ];
    // A deputy is judged as the lead is; asked only of staff who could be one.
    let deputy = match actor.school_id() {
        Some(school) if crate::auth::policy::may_deputise(actor.role()) => {
            store.is_deputy(actor.user.id, school).await?
        }
        _ => false,
    };
    let access = thread_access(
        actor.user.id,
        actor.role(),
        actor.school_id(),
        deputy,
        &pair,
        schools,
    )
    .ok_or_else(|| {
        tracing::info!(user = %actor.user.id, thread = %id, "denied a thread");
        Error::Forbidden
    })?;
    if access == ThreadAccess::Oversee {
        store
            .record_read(
                actor.user.id,
                actor.school_id(),
                ReadKind::Thread,
                &id.to_string(),
            )
            .await?;
    }
    Ok(OpenThread {
        pair,
        access,
        schools,
    })
}

/// A thread as one of its students sees it.
#[derive(Debug, Serialize)]
pub struct ThreadView {
    pub match_id: Uuid,
    /// Whether new messages can be sent.
    pub open: bool,
    pub who_can_read: &'static str,
    /// For a student: the other student's given name and school.
    pub with: Option<(String, String)>,
    pub entries: Vec<Entry>,
    /// Everything, for a safeguarding lead (held and blocked too).
    pub record: Option<Vec<Message>>,
}

/// The thread for `actor`, marked read up to its newest message.
pub async fn thread_view(store: &Store, actor: &Actor, id: Uuid) -> Result<ThreadView> {
    let thread = open_thread(store, actor, id).await?;
    let messages = store.thread_messages(id).await?;
    let now = Utc::now();
    if thread.access == ThreadAccess::Oversee {
        return Ok(ThreadView {
            match_id: id,
            open: thread.pair.open,
            who_can_read: WHO_CAN_READ,
            with: None,
            entries: Vec::new(),
            record: Some(messages),
        });
    }
    let entries: Vec<Entry> = messages
        .iter()
        .filter_map(|m| Entry::for_reader(m, actor.user.id, now))
        .collect();
    if let Some(last) = entries.iter().filter(|e| !e.mine).map(|e| e.id).max() {
        store.mark_read(id, actor.user.id, last).await?;
    }
    Ok(ThreadView {
        match_id: id,
        open: thread.pair.open,
        who_can_read: WHO_CAN_READ,
        with: Some(partner(store, &thread.pair, actor.user.id).await?),
        entries,
        record: None,
    })
}

/// The other student of `pair`, for `reader`: given name and school.
async fn partner(store: &Store, pair: &Pair, reader: Uuid) -> Result<(String, String)> {
    let other = store.user(pair.other(reader)).await?;
    let school = match other.school_id {
        Some(s) => store.school(s).await?.name,
        None => String::new(),
    };
    Ok((other.given_name, school))
}

/// One of a student's threads, for their list and home page.
#[derive(Debug, Serialize)]
pub struct ThreadLine {
    pub match_id: Uuid,
    /// The other student's first name and school.
    pub with: String,
    pub open: bool,
    pub unread: i64,
}

/// `actor`'s threads (students only; staff have none of their own).
pub async fn threads_of(store: &Store, actor: &Actor) -> Result<Vec<ThreadLine>> {
    let now = Utc::now();
    let mut lines = Vec::new();
    for pair in store.pairs_of(actor.user.id).await? {
        let (name, school) = partner(store, &pair, actor.user.id).await?;
        lines.push(ThreadLine {
            match_id: pair.id,
            with: format!("{name} ({school})"),
            open: pair.open,
            unread: store.unread_in(pair.id, actor.user.id, now).await?,
        });
    }
    Ok(lines)
}
