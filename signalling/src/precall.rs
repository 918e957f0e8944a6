//! The pre-call check's far end: a WebRTC peer that mentorbridge runs
//! itself (the `webrtc` crate), so a school can test an iPad's network
//! before the first session without anyone at the other end.
//!
//! The page sends a complete offer (ICE gathered, no trickle) over HTTP;
//! this peer answers the same way and echoes every data-channel message
//! back, so the page measures round-trip time and loss, and reads from its
//! own statistics whether the path is direct or through TURN. Each check
//! holds its connection for a bounded time, and only a few run at once.

use std::sync::Arc;
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
    hold: Duration,
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
            hold,
        }
    }

    /// Answers `offer` (a complete SDP offer with a data channel); returns
    /// the complete answer. The connection echoes until `hold` runs out.
    pub async fn answer(&self, offer: &str) -> Result<String, PrecallError> {
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| PrecallError::Busy)?;
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
        });
        Ok(local.sdp)
    }
}
