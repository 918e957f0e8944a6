//! ICE servers, and TURN credentials in coturn's time-limited form
//! (`use-auth-secret`): the username is `<expiry unix time>:<user>` and the
//! password is `base64(HMAC-SHA1(secret, username))`, so coturn can check a
//! credential with nothing but the shared secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` or `turn:`/`turns:` URLs.
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    /// TURN password.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub credential: Option<String>,
}

/// A TURN username and password valid until `expires_at` (unix seconds).
pub fn turn_credentials(secret: &[u8], user: &str, expires_at: i64) -> (String, String) {
    let username = format!("{expires_at}:{user}");
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    let password = STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_match_an_independent_hmac_sha1() {
        // Computed independently with Python:
        // base64(hmac.new(b"north-secret", b"1767225600:u-42", sha1).digest())
        let (username, password) = turn_credentials(b"north-secret", "u-42", 1_767_225_600);
        assert_eq!(username, "1767225600:u-42");
        assert_eq!(password, "xeMcATpPwzWP+gEOgqb/1RjlTmI=");
    }
}

/// The operator's STUN and TURN servers. TURN credentials are minted per
/// join, valid for `ttl` (coturn: `use-auth-secret`, `static-auth-secret`).
#[derive(Clone, Default)]
pub struct IceConfig {
    /// `stun:host:port` URLs.
    pub stun: Vec<String>,
    /// `turn:`/`turns:` URLs (e.g. `turns:turn.example.sch.uk:443?transport=tcp`).
    pub turn: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub turn_secret: Option<Vec<u8>>,
    /// How long minted credentials last.
    pub ttl: std::time::Duration,
}

impl std::fmt::Debug for IceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceConfig")
            .field("stun", &self.stun)
            .field("turn", &self.turn)
            .field(
                "turn_secret",
                &self.turn_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl crate::hub::IceProvider for IceConfig {
    fn servers(&self, user: uuid::Uuid) -> Vec<IceServer> {
        self.servers_for(user, self.ttl)
    }
}

impl IceConfig {
    /// The servers for `user`, with TURN credentials valid for `ttl` (at
    /// least a minute).
    pub fn servers_for(&self, user: uuid::Uuid, ttl: std::time::Duration) -> Vec<IceServer> {
        let mut out = Vec::new();
        if !self.stun.is_empty() {
            out.push(IceServer {
                urls: self.stun.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn.is_empty(), &self.turn_secret) {
            let ttl = i64::try_from(ttl.as_secs()).unwrap_or(3600).max(60);
            let expires = chrono::Utc::now().timestamp() + ttl;
            let (username, credential) = turn_credentials(secret, &user.to_string(), expires);
            out.push(IceServer {
                urls: self.turn.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        out
    }
}
