//! A page of sessions as one viewer sees it: what the Sessions page and a
//! student's home page list. The rows are loaded by
//! [`Store::sessions_page`](crate::store::Store::sessions_page) in a fixed
//! number of queries, whatever the number of sessions; this file holds the
//! rows' types and the rules that shape them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::{Session, SessionNames, SessionStatus};
use crate::calendar::align::Slot;

/// Which sessions a page shows.
#[derive(Clone, Debug, Default)]
pub struct PageFilter {
    /// One day at the viewer's school, or the next four weeks.
    pub day: Option<NaiveDate>,
    pub partnership: Option<Uuid>,
    /// Staff only: the sessions this member of staff supervises.
    pub supervisor: Option<Uuid>,
}

impl PageFilter {
    /// The instants whose sessions may fall on the page: a day with room
    /// for any school's zone either side, or from two hours ago (a call
    /// still running) to four weeks on.
    pub(crate) fn range(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.day {
            Some(d) => {
                let start = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
                (start - Duration::hours(14), start + Duration::hours(38))
            }
            None => (now - Duration::hours(2), now + Duration::days(28)),
        }
    }
}

/// A slot a session could move to.
pub struct MoveOption {
    /// Its start (the form's value).
    pub starts_at: String,
    /// In the viewer's local time.
    pub label: String,
}

/// A session as a row on the page.
pub struct Row {
    pub session: Session,
    /// The day at the viewer's school.
    pub date: NaiveDate,
    /// "Tue 1 Dec" (a student's home page says "Today" and "Tomorrow").
    pub day: String,
    /// "08:40–09:00" at the viewer's school.
    pub time: String,
    /// Who, in first names and schools.
    pub who: String,
    /// Whether the viewer may move or cancel it.
    pub can_change: bool,
    /// Whether the viewer may restore it (cancelled, still to come, and
    /// the viewer one of its partnership's coordinators).
    pub can_restore: bool,
    /// Where it could move to.
    pub moves: Vec<MoveOption>,
    /// Who supervises it at the viewer's school (staff only).
    pub supervisor: Option<String>,
    /// Today, and the viewer is in it (booked or supervising): a Join link.
    pub can_join: bool,
    /// A supervisor has ended its call today.
    pub call_ended: bool,
}

impl Row {
    /// The status in words.
    pub fn status_word(&self) -> &'static str {
        match self.session.status {
            SessionStatus::Scheduled => "booked",
            SessionStatus::Moved => "moved",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Completed => "done",
            SessionStatus::Missed => "missed",
        }
    }

    /// Whether it still takes place.
    pub fn is_live(&self) -> bool {
        self.session.status.is_live()
    }
}

/// A choice in one of the staff's filters: a partnership (named by the
/// other school) or a supervisor.
pub struct Choice {
    pub id: Uuid,
    pub name: String,
}

/// One page of sessions.
pub struct SessionsPage {
    pub rows: Vec<Row>,
    /// The partnerships to filter by (staff only).
    pub partners: Vec<Choice>,
    /// The school's own staff who supervise a session shown (staff only).
    pub supervisors: Vec<Choice>,
}

/// A session's date and "08:40–09:00" at the school with this slug; at a
/// school not in it, its UTC date and start.
pub(crate) fn local_of(session: &Session, slug: &str) -> (NaiveDate, String) {
    match session.local.get(slug) {
        Some(end) => (
            end.date,
            format!("{}–{}", end.start.format("%H:%M"), end.end.format("%H:%M")),
        ),
        None => (
            session.starts_at.date_naive(),
            format!("{} UTC", session.starts_at.format("%H:%M")),
        ),
    }
}

/// Who is in a session, as the viewer reads it: a student sees the other
/// student, staff see both.
pub(crate) fn who(viewer: Uuid, student: bool, session: &Session, n: &SessionNames) -> String {
    match (student, viewer == session.mentee_id) {
        (true, true) => format!("with {} ({})", n.mentor, n.mentor_school),
        (true, false) => format!("with {} ({})", n.mentee, n.mentee_school),
        (false, _) => format!(
            "{} ({}) with {} ({})",
            n.mentee, n.mentee_school, n.mentor, n.mentor_school
        ),
    }
}

/// The menu entry for moving to `slot`, in the viewer's school's time.
pub(crate) fn move_option(slot: &Slot, slug: &str) -> Option<MoveOption> {
    let end = slot.schools.get(slug)?;
    Some(MoveOption {
        starts_at: slot.start_utc.to_rfc3339(),
        label: format!(
            "{} {} ({})",
            end.date.format("%a %-d %b"),
            end.start.format("%H:%M"),
            end.period
        ),
    })
}

/// A day as rows show it: "Tue 1 Dec".
pub(crate) fn day_label(date: NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
}

/// A student's home page says "Today" and "Tomorrow" where they are.
pub(crate) fn near_day_label(date: NaiveDate, today: NaiveDate) -> String {
    if date == today {
        "Today".into()
    } else if date == today + Duration::days(1) {
        "Tomorrow".into()
    } else {
        day_label(date)
    }
}
