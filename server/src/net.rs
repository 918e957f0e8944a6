//! The HTTP/1.1 server itself: accepting connections (https too), the
//! limits that keep slow or silent clients from holding it, and a graceful
//! stop.
//!
//! `axum::serve` runs hyper without a timer, so no header or idle timeout
//! applies there: a client trickling a request a byte a second holds its
//! socket for ever, and a thousand of them hold the server's file
//! descriptors. Here hyper gets a timer and a header-read timeout, which
//! also closes a keep-alive connection left idle that long (hyper starts
//! the timer whenever it waits for a request's head).
//!
//! Connections are counted ([`Gate`]): in all, and those not yet known to
//! belong to anyone signed in ("anonymous"), in all and per client address.
//! A connection becomes known when a request on it carries a live session
//! ([`ConnSlot::identify`], called by the authentication middleware). When
//! the anonymous caps are reached, a new connection is still accepted, up
//! to the overall cap, but *on probation*: its first request must carry a
//! live session, or it is answered 503 and closed. So a flood of anonymous
//! sockets cannot shut out the people already signed in, and a school's
//! iPads behind one address (which sign in within seconds) are not shut out
//! by each other. A websocket, once upgraded, leaves these counts: the
//! signalling hub caps sockets that have not said `hello` itself.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// How much the server lets connections take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request's head must arrive within this; a keep-alive connection
    /// idle this long is closed.
    pub header_timeout: Duration,
    /// A TLS handshake must finish within this.
    pub tls_handshake_timeout: Duration,
    /// Connections at once, in all.
    pub max_connections: usize,
    /// Connections at once not yet known to be anyone's, in all.
    pub max_anonymous: usize,
    /// Connections at once not yet known to be anyone's, from one address.
    pub max_anonymous_per_address: usize,
    /// How long a stop waits for requests in flight.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(15),
            tls_handshake_timeout: Duration::from_secs(10),
            // Well below the usual file-descriptor limits of a service.
            max_connections: 8192,
            max_anonymous: 6144,
            // A school's 200 iPads behind one address each open a few
            // connections to the sign-in page at once.
            max_anonymous_per_address: 768,
            drain: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    anonymous: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// Counts the connections, and decides which to take.
#[derive(Debug)]
pub struct Gate {
    limits: Limits,
    counts: Mutex<Counts>,
}

impl Gate {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Gate {
            limits,
            counts: Mutex::default(),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection from `addr`: its slot, or `None` to close it now.
    pub fn admit(self: &Arc<Self>, addr: IpAddr) -> Option<ConnSlot> {
        let addr = crate::net::address_key(addr);
        let mut counts = self.counts();
        if counts.total >= self.limits.max_connections {
            return None;
        }
        let from_here = counts.per_address.get(&addr).copied().unwrap_or(0);
        let probation = counts.anonymous >= self.limits.max_anonymous
            || from_here >= self.limits.max_anonymous_per_address;
        counts.total += 1;
        counts.anonymous += 1;
        *counts.per_address.entry(addr).or_default() += 1;
        Some(ConnSlot {
            gate: self.clone(),
            addr,
            anonymous: AtomicBool::new(true),
            probation,
        })
    }

    /// (all connections, anonymous ones), for tests and logs.
    pub fn load(&self) -> (usize, usize) {
        let counts = self.counts();
        (counts.total, counts.anonymous)
    }
}

/// Addresses as the caps count them: an IPv6 client is its /64, which one
/// household or school is usually given whole.
fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// One connection's place in the counts, in its requests' extensions.
#[derive(Debug)]
pub struct ConnSlot {
    gate: Arc<Gate>,
    addr: IpAddr,
    anonymous: AtomicBool,
    probation: bool,
}

impl ConnSlot {
    /// The connection carries a live session: it no longer counts as
    /// anonymous.
    pub fn identify(&self) {
        if self.anonymous.swap(false, Ordering::AcqRel) {
            let mut counts = self.gate.counts();
            counts.anonymous -= 1;
            forget_one(&mut counts, self.addr);
        }
    }

    /// Whether the connection was taken while the anonymous caps were full
    /// and has not yet shown a session: its request is refused.
    pub fn refused_as_anonymous(&self) -> bool {
        self.probation && self.anonymous.load(Ordering::Acquire)
    }
}

fn forget_one(counts: &mut Counts, addr: IpAddr) {
    if let Some(n) = counts.per_address.get_mut(&addr) {
        *n -= 1;
        if *n == 0 {
            counts.per_address.remove(&addr);
        }
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut counts = self.gate.counts();
        counts.total -= 1;
        if *self.anonymous.get_mut() {
            counts.anonymous -= 1;
            forget_one(&mut counts, self.addr);
        }
    }
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown`
/// resolves; then stops accepting and lets the requests in flight finish,
/// for at most [`Limits::drain`].
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    gate: Arc<Gate>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = gate.limits;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    // Each connection task holds a receiver: the stop is sent through it,
    // and the sender learns that every task has ended when all are gone.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = gate.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: the server is at its connection limit");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (router, http, tls, stop) =
            (router.clone(), http.clone(), tls.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let slot = Arc::new(slot);
            match tls {
                None => connection(TokioIo::new(tcp), peer, slot, router, http, stop).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp))
                        .await
                    {
                        Ok(Ok(stream)) => {
                            connection(TokioIo::new(stream), peer, slot, router, http, stop).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    if tokio::time::timeout(limits.drain, stop_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the drain time; stopping anyway");
    }
    Ok(())
}

/// One connection, served until it closes or the server stops.
async fn connection<I>(
    io: TokioIo<I>,
    peer: SocketAddr,
    slot: Arc<ConnSlot>,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(slot.clone());
            router.clone().call(request)
        });
    let conn = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let stopping = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let done = tokio::select! {
        done = conn.as_mut() => done,
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = done {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Arc<Gate> {
        Gate::new(Limits {
            max_connections: 4,
            max_anonymous: 2,
            max_anonymous_per_address: 2,
            ..Limits::default()
        })
    }

    #[test]
    fn past_the_anonymous_caps_a_connection_is_taken_on_probation_and_past_all_not_at_all() {
        let gate = small();
        let here = IpAddr::from([192, 0, 2, 1]);
        let a = gate.admit(here).unwrap();
        let b = gate.admit(here).unwrap();
        assert!(!a.refused_as_anonymous() && !b.refused_as_anonymous());
        let c = gate.admit(IpAddr::from([192, 0, 2, 2])).unwrap();
        assert!(c.refused_as_anonymous(), "over the anonymous cap");
        c.identify();
        assert!(!c.refused_as_anonymous(), "a signed-in person passes");
        let d = gate.admit(here).unwrap();
        assert!(d.refused_as_anonymous());
        assert!(gate.admit(here).is_none(), "over the cap in all");
        drop((a, b));
        let e = gate.admit(here).unwrap();
        assert!(!e.refused_as_anonymous(), "room again");
        drop((c, d, e));
        assert_eq!(gate.load(), (0, 0));
    }

    #[test]
    fn an_ipv6_client_counts_as_its_64() {
        let one: IpAddr = "2001:db8:1:2::10".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2::20".parse().unwrap();
        assert_eq!(address_key(one), address_key(two));
        assert_ne!(
            address_key(one),
            address_key("2001:db8:1:3::10".parse().unwrap())
        );
    }
}
