//! Sending the outbox: each round first announces the series whose changes
//! are due and queues the day's digests, then sends over SMTP (lettre).
//! An invite is a plain-text part for people and a `text/calendar;
//! method=…` part for calendars, whose `method=` matches the `METHOD`
//! inside (RFC 6047), with the calendar attached as `invite.ics` too.
//!
//! A temporary failure (the server unreachable, a 4xx reply) is tried again
//! with exponential backoff; a refusal (a 5xx reply, such as an unknown
//! mailbox) fails the message at once. Either way the try is recorded and
//! the coordinator sees it on the sessions page: nothing is dropped
//! silently.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::{Next, OutboxMessage, Outcome, QueuedNotice};
use super::store::Announcer;
use crate::config::MailSettings;
use crate::error::{Error, Result};
use crate::store::Store;

/// What one round of sending did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    /// To be tried again.
    pub deferred: usize,
    /// Failed for good.
    pub failed: usize,
    /// Not sent because the session was over.
    pub expired: usize,
}

impl Round {
    fn count(&mut self, next: Next) {
        match next {
            Next::Sent => self.sent += 1,
            Next::RetryAt(_) => self.deferred += 1,
            Next::Expired => self.expired += 1,
            Next::Failed => self.failed += 1,
        }
    }
}

/// Sends queued invites through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: MailSettings,
    base_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `settings`; links in messages point at `base_url`.
    pub fn new(settings: &MailSettings, base_url: &str) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp_url())
            .map_err(|e| {
                Error::invalid("smtp_url", format!("cannot use this mail server URL: {e}"))
            })?
            .timeout(Some(StdDuration::from_secs(30)))
            .build();
        let from: Mailbox = settings.from.parse().map_err(|e| {
            Error::invalid(
                "mail_from",
                format!(
                    "`{}` is not a mailbox like `Mentoring <mentoring@school.sch.uk>`: {e}",
                    settings.from
                ),
            )
        })?;
        Ok(Mailer {
            transport,
            from,
            settings: settings.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The message for one queued invite, exactly as it will be sent (the
    /// same bytes on every try, bar the transport's own headers): a
    /// `multipart/mixed` of a `multipart/alternative` (text for people,
    /// `text/calendar; method=…` for calendars) and the same calendar as an
    /// `invite.ics` attachment, as Google and Apple send them.
    pub fn message(&self, queued: &OutboxMessage) -> Result<Message> {
        let snap = &queued.snapshot;
        let method = queued.method;
        let to = Mailbox::new(
            snap.to_name.clone(),
            queued
                .recipient_email
                .parse()
                .map_err(|e| Error::invalid("email", format!("{}: {e}", queued.recipient_email)))?,
        );
        let calendar_type = ContentType::parse(&format!(
            "text/calendar; method={}; charset=UTF-8",
            method.as_str()
        ))
        .map_err(|e| Error::internal_from("calendar content type", e))?;
        let attachment_type = ContentType::parse(&format!(
            "application/ics; method={}; name=invite.ics",
            method.as_str()
        ))
        .map_err(|e| Error::internal_from("calendar attachment type", e))?;
        let from_domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(snap.subject.clone())
            .message_id(Some(format!("<{}@{from_domain}>", queued.id)))
            .date(queued.created_at.into())
            .header(AutoSubmitted)
            .multipart(
                MultiPart::mixed()
                    .multipart(
                        MultiPart::alternative()
                            .singlepart(SinglePart::plain(snap.text.clone()))
                            .singlepart(
                                SinglePart::builder()
                                    .header(calendar_type)
                                    .body(snap.ics.clone()),
                            ),
                    )
                    .singlepart(
                        Attachment::new("invite.ics".to_owned())
                            .body(snap.ics.clone(), attachment_type),
                    ),
            )
            .map_err(|e| Error::internal_from("building an invite", e))
    }

    /// When a message deferred `attempts` times is next due, or `None`
    /// once every retry is spent: `retry_base`, doubling, at most six hours
    /// apart.
    pub fn retry_at(&self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.settings.max_attempts {
            return None;
        }
        let base = Duration::from_std(self.settings.retry_base).unwrap_or(Duration::seconds(60));
        let factor = 1_i32 << attempts.saturating_sub(1).min(16);
        Some(now + (base * factor).min(Duration::hours(6)))
    }

    /// Sends one queued invite and says what came of it.
    async fn try_send(&self, queued: &OutboxMessage, now: DateTime<Utc>) -> Outcome {
        if queued.snapshot.until < now {
            return Outcome::Expired;
        }
        let message = match built(|| self.message(queued)) {
            Ok(m) => m,
            Err(e) => return Outcome::Refused(e.to_string()),
        };
        match self.transport.send(message).await {
            Ok(_) => Outcome::Sent,
            Err(e) if e.is_permanent() => Outcome::Refused(e.to_string()),
            Err(e) => Outcome::Deferred(e.to_string()),
        }
    }

    /// A notice as it is sent: plain text, with the link to the page.
    pub fn notice_message(&self, queued: &QueuedNotice) -> Result<Message> {
        let n = &queued.notice;
        let text = format!("{}\n\n{}{}\n", n.text, self.base_url, n.path);
        let to = Mailbox::new(
            None,
            queued
                .recipient_email
                .parse()
                .map_err(|e| Error::invalid("email", format!("{}: {e}", queued.recipient_email)))?,
        );
        let from_domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@{from_domain}>", queued.id)))
            .date(queued.created_at.into())
            .header(AutoSubmitted)
            .singlepart(SinglePart::plain(text))
            .map_err(|e| Error::internal_from("building a notice", e))
    }

    /// Sends every notice now due, and records each try (a notice never
    /// expires: it says only that something waits).
    async fn send_notices(&self, store: &Store, round: &mut Round) -> Result<()> {
        let now = Utc::now();
        for queued in store
            .lease_due_notices(now, Duration::minutes(5), 100)
            .await?
        {
            let outcome = match built(|| self.notice_message(&queued)) {
                Err(e) => Outcome::Refused(e.to_string()),
                Ok(message) => match self.transport.send(message).await {
                    Ok(_) => Outcome::Sent,
                    Err(e) if e.is_permanent() => Outcome::Refused(e.to_string()),
                    Err(e) => Outcome::Deferred(e.to_string()),
                },
            };
            let tries = u32::try_from(queued.attempts).unwrap_or(0) + 1;
            let next = outcome.next(|| self.retry_at(tries, Utc::now()));
            round.count(next);
            store
                .record_notice(&queued, &outcome, next, Utc::now())
                .await?;
        }
        Ok(())
    }

    /// Announces the series whose changes are due, queues the day's
    /// digests, then sends every invite and notice now due, and records
    /// each try.
    pub async fn send_due(&self, store: &Store) -> Result<Round> {
        let announcer = Announcer {
            from_email: self.from.email.as_ref(),
            base_url: &self.base_url,
        };
        store.announce_due(&announcer, Utc::now()).await?;
        store
            .queue_digests(self.settings.digest_at, Utc::now())
            .await?;
        let now = Utc::now();
        let due = store.lease_due_mail(now, Duration::minutes(5), 100).await?;
        let mut round = Round::default();
        for queued in due {
            let outcome = self.try_send(&queued, now).await;
            let tries = u32::try_from(queued.attempts).unwrap_or(0) + 1;
            let next = outcome.next(|| self.retry_at(tries, Utc::now()));
            round.count(next);
            if let Outcome::Refused(why) | Outcome::Deferred(why) = &outcome {
                // The address is the recipient's work mailbox, not a
                // secret; the server's words say what to fix.
                tracing::warn!(message = %queued.id, to = %queued.recipient_email, error = %why, "invite not delivered");
            }
            store
                .record_mail(&queued, &outcome, next, Utc::now())
                .await?;
        }
        self.send_notices(store, &mut round).await?;
        Ok(round)
    }

    /// Sends due invites every `poll` until the task is dropped.
    pub async fn run(&self, store: &Store) {
        let mut tick = tokio::time::interval(self.settings.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.send_due(store).await {
                tracing::error!(error = %e, "sending invites");
            }
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-reply or
/// out-of-office answer should come back to a message nobody reads.
#[derive(Clone, Copy, Debug)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// A message built by `build`, or why not. lettre panics on some header
/// values it cannot encode; that becomes a refusal recorded against the one
/// message, never a panic that stops every school's mail.
fn built(build: impl FnOnce() -> Result<Message>) -> Result<Message> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(build)).unwrap_or_else(|_| {
        Err(Error::invalid(
            "email",
            "the message could not be built from the names and details it carries",
        ))
    })
}

#[cfg(test)]
mod built_tests {
    use super::*;

    #[test]
    fn a_message_that_panics_while_built_is_a_refusal() {
        let refused = built(|| panic!("lettre could not encode a header")).unwrap_err();
        assert!(refused.public_message().contains("could not be built"));
    }
}
