//! A real SMTP server for invite tests: it keeps every message it
//! accepts, refuses some mailboxes and greylists others, so the outbox's
//! retries meet real SMTP replies.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One message as it reached [`SmtpServer`].
#[derive(Clone, Debug)]
pub struct Delivered {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message, as sent on the wire.
    pub data: Vec<u8>,
}

#[derive(Clone, Default)]
struct Keeper {
    inbox: Arc<Mutex<Vec<Delivered>>>,
    deferred: Arc<Mutex<std::collections::HashSet<String>>>,
    current: Option<Delivered>,
}

impl mailin_embedded::Handler for Keeper {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        // Addresses at refused.example do not exist (550); an address
        // starting "busy." is told to try later (451) the first time.
        if to.ends_with("@refused.example") {
            return mailin_embedded::response::NO_MAILBOX;
        }
        if to.starts_with("busy.") && self.deferred.lock().unwrap().insert(to.to_owned()) {
            return mailin_embedded::Response::custom(451, "Greylisted, try again later".into());
        }
        mailin_embedded::response::OK
    }

    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.current = Some(Delivered {
            from: from.to_owned(),
            to: to.to_vec(),
            data: Vec::new(),
        });
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(d) = self.current.as_mut() {
            d.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        if let Some(d) = self.current.take() {
            self.inbox.lock().unwrap().push(d);
        }
        mailin_embedded::response::OK
    }
}

/// A real SMTP server (mailin-embedded) on a loopback port, keeping every
/// message it accepts. It refuses mailboxes at `refused.example` and
/// greylists (451, once) addresses starting `busy.`.
pub struct SmtpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<Delivered>>>,
}

impl SmtpServer {
    /// Starts one on a free port (its threads live as long as the test).
    pub fn start() -> SmtpServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        SmtpServer::on(listener)
    }

    /// Starts one on `listener`.
    pub fn on(listener: std::net::TcpListener) -> SmtpServer {
        let addr = listener.local_addr().unwrap();
        let keeper = Keeper::default();
        let inbox = keeper.inbox.clone();
        let mut server = mailin_embedded::Server::new(keeper);
        server
            .with_name("mail.test.example")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpServer { addr, inbox }
    }

    /// The URL lettre connects with.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// What has arrived so far.
    pub fn inbox(&self) -> Vec<Delivered> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `done` holds of the inbox, and returns it.
    pub async fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&[Delivered]) -> bool,
    ) -> Vec<Delivered> {
        for _ in 0..200 {
            let inbox = self.inbox();
            if done(&inbox) {
                return inbox;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "waited 20 s for {what}; the inbox has {} messages",
            self.inbox().len()
        );
    }
}

/// Mail settings for tests: quick polls and retries.
pub fn quick_mail(smtp: &SmtpServer) -> mentorbridge::config::MailSettings {
    let mut mail = mentorbridge::config::MailSettings::new(
        &smtp.url(),
        "Mentoring scheme <mentoring@scheme.example>",
    );
    mail.poll = std::time::Duration::from_millis(100);
    mail.retry_base = std::time::Duration::from_millis(300);
    mail.max_attempts = 4;
    mail
}
