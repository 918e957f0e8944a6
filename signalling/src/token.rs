//! Join tokens: the server's word that a person may enter one call.
//!
//! A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(key, claims))`.
//! The server mints one when a booked person taps Join; the signalling side
//! checks the signature, the token's short lifetime, that the call's window
//! is open, and that the token has not been used before. Nothing in it is
//! secret, but nothing in it can be changed.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// How a person takes part in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallRole {
    /// Sends and receives audio and video.
    Mentor,
    /// Sends and receives audio and video.
    Mentee,
    /// A supervising teacher: receives both, sends only if they choose, and
    /// can end the call.
    Supervisor,
}

/// What a token grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinClaims {
    /// The booked session.
    pub session: Uuid,
    pub user: Uuid,
    pub role: CallRole,
    pub school: Uuid,
    /// When the room opens.
    pub opens_at: DateTime<Utc>,
    /// When the room closes.
    pub closes_at: DateTime<Utc>,
    /// When the token itself lapses (minutes after minting).
    pub expires_at: DateTime<Utc>,
    /// A unique id, so each token is used once.
    pub nonce: Uuid,
    /// Whether students wait for a supervisor before talking (the
    /// partnership's policy).
    #[serde(default)]
    pub needs_supervisor: bool,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token we could have made.
    #[error("the join token is malformed")]
    Malformed,
    /// Altered, or signed with another key.
    #[error("the join token's signature does not match")]
    BadSignature,
    #[error("the join token has expired; tap Join again")]
    Expired,
    #[error("this call's room is open from {opens_at} to {closes_at} (UTC)")]
    OutsideWindow {
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    },
    #[error("the join token has already been used; tap Join again")]
    Reused,
}

/// Mints and checks join tokens with one key, remembering used nonces until
/// their tokens expire.
pub struct TokenKey {
    key: Vec<u8>,
    /// Used nonces, folded to 64 bits, with their tokens' expiry in Unix
    /// seconds. (A token lives minutes, so this holds about one entry per
    /// person in a call; folding halves it. Two random nonces fold alike
    /// with odds of 1 in 2^64, which would refuse one Join tap, once.)
    used: Mutex<HashMap<u64, i64>>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

/// How long a freshly minted token may wait before it is used.
pub const TOKEN_LIFETIME: Duration = Duration::minutes(2);

impl TokenKey {
    /// A key from the server's secret.
    pub fn new(secret: &[u8]) -> Self {
        TokenKey {
            key: secret.to_vec(),
            used: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(b"mentorbridge-join:");
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    pub fn sign(&self, claims: &JoinClaims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims always serialise");
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(self.mac(&payload))
        )
    }

    /// Checks a token at `now` and, if it is good, marks it used.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<JoinClaims, TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        if !bool::from(self.mac(&payload).ct_eq(&signature)) {
            return Err(TokenError::BadSignature);
        }
        let claims: JoinClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if now >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        if now < claims.opens_at || now >= claims.closes_at {
            return Err(TokenError::OutsideWindow {
                opens_at: claims.opens_at,
                closes_at: claims.closes_at,
            });
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() == used.capacity() {
            // Forget expired nonces only when the map would otherwise
            // grow: each verify stays O(1) on average, and the map no
            // larger than the tokens alive at once.
            let now = now.timestamp();
            used.retain(|_, expires| *expires > now);
        }
        if used
            // Rounded up to the second, so it is never forgotten early.
            .insert(fold(&claims.nonce), claims.expires_at.timestamp() + 1)
            .is_some()
        {
            return Err(TokenError::Reused);
        }
        Ok(claims)
    }
}

/// A nonce in 64 bits: its two halves exclusive-ored, so that every
/// random bit of a version 4 UUID counts.
fn fold(nonce: &Uuid) -> u64 {
    let (high, low) = nonce.as_u64_pair();
    high ^ low
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: DateTime<Utc>) -> JoinClaims {
        JoinClaims {
            session: Uuid::new_v4(),
            user: Uuid::new_v4(),
            role: CallRole::Mentee,
            school: Uuid::new_v4(),
            opens_at: now - Duration::minutes(5),
            closes_at: now + Duration::minutes(30),
            expires_at: now + TOKEN_LIFETIME,
            nonce: Uuid::new_v4(),
            needs_supervisor: false,
        }
    }

    #[test]
    fn a_token_is_accepted_once_inside_its_window() {
        let key = TokenKey::new(b"secret");
        let now = Utc::now();
        let c = claims(now);
        let token = key.sign(&c);
        assert_eq!(key.verify(&token, now), Ok(c));
        assert_eq!(key.verify(&token, now), Err(TokenError::Reused));
    }

    #[test]
    fn a_token_stays_used_however_many_join_after_it_and_expired_ones_are_forgotten() {
        let key = TokenKey::new(b"secret");
        let now = Utc::now();
        let first = key.sign(&claims(now));
        assert!(key.verify(&first, now).is_ok());
        for _ in 0..5000 {
            assert!(key.verify(&key.sign(&claims(now)), now).is_ok());
        }
        assert_eq!(key.verify(&first, now), Err(TokenError::Reused));

        // Once those have lapsed, a new school day's joins do not pile up
        // on top of them.
        let later = now + Duration::hours(1);
        let before = key.used.lock().unwrap().capacity();
        for _ in 0..5000 {
            assert!(key.verify(&key.sign(&claims(later)), later).is_ok());
        }
        let after = key.used.lock().unwrap().capacity();
        assert!(after <= before, "{after} > {before}");
    }

    #[test]
    fn forged_expired_and_early_tokens_are_refused() {
        let key = TokenKey::new(b"secret");
        let now = Utc::now();
        let other = TokenKey::new(b"another secret").sign(&claims(now));
        assert_eq!(key.verify(&other, now), Err(TokenError::BadSignature));

        let mut tampered = claims(now);
        let token = key.sign(&tampered);
        tampered.role = CallRole::Supervisor;
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
        let signature = token.split_once('.').unwrap().1;
        assert_eq!(
            key.verify(&format!("{forged_payload}.{signature}"), now),
            Err(TokenError::BadSignature)
        );

        let expired = key.sign(&claims(now));
        assert_eq!(
            key.verify(&expired, now + Duration::minutes(3)),
            Err(TokenError::Expired)
        );

        let mut early = claims(now);
        early.opens_at = now + Duration::minutes(1);
        assert!(matches!(
            key.verify(&key.sign(&early), now),
            Err(TokenError::OutsideWindow { .. })
        ));
        assert_eq!(key.verify("not a token", now), Err(TokenError::Malformed));
    }
}
