//! The pre-call check's far end: a WebRTC peer that mentorbridge runs
//! itself (the `webrtc` crate), so a school can test an iPad's network
//! before the first session without anyone at the other end.
//!
//! The page sends a complete offer (ICE gathered, no trickle) over HTTP;
//! this peer answers the same way and echoes every data-channel message
//! back, so the page measures round-trip time and loss, and reads from its
//! own statistics whether the path is direct or through TURN. Each check
//! holds its connection for a bounded time, only a few run at once, and
//! each person runs one at a time.
//!
//! The offer comes from a client, so its candidates are not trusted as
//! places to send to: loopback, link-local, private-range and other
//! non-public addresses are dropped before the peer sees them, or a crafted
//! offer would aim this server's STUN checks at its own services or its
//! network's.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::MediaEngine;
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

use crate::ice::IceServer;

/// Why a check could not start.
#[derive(Debug, thiserror::Error)]
pub enum PrecallError {
    #[error("too many connection checks are running; try again in a minute")]
    Busy,
    /// This person's earlier check is still running.
    #[error("your last connection check is still running; wait a minute and try again")]
    AlreadyRunning,
    #[error("the offer could not be answered: {0}")]
    BadOffer(String),
    /// The WebRTC stack failed.
    #[error("the check peer failed: {0}")]
    Internal(String),
}

/// Answers pre-call checks.
#[derive(Clone)]
pub struct PrecallPeer {
    ice: Vec<RTCIceServer>,
    slots: Arc<Semaphore>,
    /// Whose checks are running now.
    running: Arc<Mutex<HashSet<uuid::Uuid>>>,
    hold: Duration,
}

/// Marks `who`'s check as running until dropped.
struct Running {
    running: Arc<Mutex<HashSet<uuid::Uuid>>>,
    who: uuid::Uuid,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.who);
    }
}

impl std::fmt::Debug for PrecallPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrecallPeer")
            .field("free", &self.slots.available_permits())
            .field("hold", &self.hold)
            .finish()
    }
}

fn internal(e: impl std::fmt::Display) -> PrecallError {
    PrecallError::Internal(e.to_string())
}

impl PrecallPeer {
    /// A peer using `ice` servers, running at most `concurrent` checks,
    /// each for at most `hold`.
    pub fn new(ice: &[IceServer], concurrent: usize, hold: Duration) -> Self {
        PrecallPeer {
            ice: ice
                .iter()
                .map(|s| RTCIceServer {
                    urls: s.urls.clone(),
                    username: s.username.clone().unwrap_or_default(),
                    credential: s.credential.clone().unwrap_or_default(),
                })
                .collect(),
            slots: Arc::new(Semaphore::new(concurrent)),
            running: Arc::default(),
            hold,
        }
    }

    /// Answers `who`'s `offer` (a complete SDP offer with a data channel);
    /// returns the complete answer. The connection echoes until `hold` runs
    /// out.
    pub async fn answer(&self, who: uuid::Uuid, offer: &str) -> Result<String, PrecallError> {
        if !self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(who)
        {
            return Err(PrecallError::AlreadyRunning);
        }
        let running = Running {
            running: self.running.clone(),
            who,
        };
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| PrecallError::Busy)?;
        let offer = &public_candidates_only(offer);
        let mut media = MediaEngine::default();
        media.register_default_codecs().map_err(internal)?;
        let registry =
            register_default_interceptors(Registry::new(), &mut media).map_err(internal)?;
        let api = APIBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .build();
        let pc = Arc::new(
            api.new_peer_connection(RTCConfiguration {
                ice_servers: self.ice.clone(),
                ..Default::default()
            })
            .await
            .map_err(internal)?,
        );
        pc.on_data_channel(Box::new(|channel| {
            Box::pin(async move {
                let echo = channel.clone();
                channel.on_message(Box::new(move |msg| {
                    let echo = echo.clone();
                    Box::pin(async move {
                        // Echo in kind: text as text, so the page can match it.
                        if msg.is_string {
                            let _ = echo
                                .send_text(String::from_utf8_lossy(&msg.data).into_owned())
                                .await;
                        } else {
                            let _ = echo.send(&msg.data).await;
                        }
                    })
                }));
            })
        }));
        let offer = RTCSessionDescription::offer(offer.to_owned())
            .map_err(|e| PrecallError::BadOffer(e.to_string()))?;
        pc.set_remote_description(offer)
            .await
            .map_err(|e| PrecallError::BadOffer(e.to_string()))?;
        let answer = pc.create_answer(None).await.map_err(internal)?;
        let mut gathered = pc.gathering_complete_promise().await;
        pc.set_local_description(answer).await.map_err(internal)?;
        let _ = tokio::time::timeout(Duration::from_secs(5), gathered.recv()).await;
        let local = pc
            .local_description()
            .await
            .ok_or_else(|| internal("no local description"))?;
        let hold = self.hold;
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            let _ = pc.close().await;
            drop(permit);
            drop(running);
        });
        Ok(local.sdp)
    }
}

/// `offer` without the candidates this server must not send to: those on a
/// loopback, link-local, private, shared (carrier NAT), documentation,
/// multicast or unspecified address, and mDNS names (`….local`), which only
/// the client's own network can resolve. A browser's public (server
/// reflexive) and relay candidates are what the check is for.
pub fn public_candidates_only(offer: &str) -> String {
    let mut out = String::with_capacity(offer.len());
    for line in offer.split_inclusive('\n') {
        let text = line.trim_end_matches(['\r', '\n']);
        let keep = match text.strip_prefix("a=candidate:") {
            // foundation component transport priority address port typ …
            Some(rest) => rest
                .split_ascii_whitespace()
                .nth(4)
                .and_then(|addr| addr.parse::<IpAddr>().ok())
                .is_some_and(is_public),
            None => true,
        };
        if keep {
            out.push_str(line);
        }
    }
    out
}

fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_candidates_reach_the_check_peer() {
        let offer = "v=0\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 5432 typ host\r\n\
a=candidate:2 1 udp 2130706431 10.1.2.3 5000 typ host\r\n\
a=candidate:3 1 udp 2130706431 192.168.0.9 5000 typ host\r\n\
a=candidate:4 1 udp 2130706431 169.254.1.1 5000 typ host\r\n\
a=candidate:5 1 udp 2130706431 ::1 5000 typ host\r\n\
a=candidate:6 1 udp 2130706431 fd00::1 5000 typ host\r\n\
a=candidate:7 1 udp 2130706431 3c5e0f7a-1b2c.local 5000 typ host\r\n\
a=candidate:8 1 udp 1694498815 81.2.69.160 61000 typ srflx raddr 10.1.2.3 rport 5000\r\n\
a=candidate:9 1 udp 2130706431 ::ffff:127.0.0.1 5000 typ host\r\n\
a=candidate:10 1 udp 2130706431 100.64.0.1 5000 typ host\r\n\
a=candidate:11 1 udp 16777215 2a00:1450:4009::1 3478 typ relay raddr 0.0.0.0 rport 0\r\n\
a=end-of-candidates\r\n";
        let kept = public_candidates_only(offer);
        let candidates: Vec<&str> = kept
            .lines()
            .filter(|l| l.starts_with("a=candidate"))
            .collect();
        assert_eq!(candidates.len(), 2, "{kept}");
        assert!(candidates[0].contains("81.2.69.160"));
        assert!(candidates[1].contains("2a00:1450:4009::1"));
        assert!(kept.starts_with("v=0\r\n") && kept.ends_with("a=end-of-candidates\r\n"));
    }
}
