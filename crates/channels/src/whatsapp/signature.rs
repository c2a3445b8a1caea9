//! Webhook authenticity: the `X-Hub-Signature-256` header and the verification handshake.
//!
//! Meta signs the raw request bytes with HMAC-SHA256 keyed by the app secret. The bytes must
//! be hashed exactly as received: Meta signs an escaped-unicode JSON form, so re-serialising a
//! parsed body would change the bytes of any non-ASCII text and break the check.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Name of the header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";

/// The header value Meta would send for `raw_body`: `sha256=<lowercase hex>`.
pub fn sign(app_secret: &[u8], raw_body: &[u8]) -> String {
    let mut mac = new_mac(app_secret);
    mac.update(raw_body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// True when `header` is a valid `sha256=<hex>` signature of `raw_body` under `app_secret`.
///
/// A missing header, another algorithm (the legacy `sha1=` header is not accepted), bad hex
/// or a digest of the wrong length are all `false`. The digest comparison is constant-time.
pub fn verify_signature(app_secret: &[u8], raw_body: &[u8], header: Option<&str>) -> bool {
    let Some(header) = header else {
        return false;
    };
    let header = header.trim();
    // The algorithm label is compared without case so `SHA256=` from a proxy still verifies;
    // the hex digest itself may be upper or lower case.
    if header.len() < PREFIX.len() || !header.is_char_boundary(PREFIX.len()) {
        return false;
    }
    let (label, digest_hex) = header.split_at(PREFIX.len());
    if !label.eq_ignore_ascii_case(PREFIX) {
        return false;
    }
    let Ok(digest) = hex::decode(digest_hex) else {
        return false;
    };
    if digest.len() != 32 {
        return false;
    }
    let mut mac = new_mac(app_secret);
    mac.update(raw_body);
    mac.verify_slice(&digest).is_ok()
}

/// Constant-time comparison of the configured verify token with `hub.verify_token`.
///
/// Both sides are hashed first so that neither the content nor the length of the configured
/// token leaks through timing. An empty configured token never matches: a channel whose token
/// was not set must not accept the handshake from anyone.
pub fn verify_token_matches(expected: &str, given: &str) -> bool {
    if expected.is_empty() {
        return false;
    }
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    a.ct_eq(&b).into()
}

/// Outcome of the `GET` verification handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// Answer 200 with exactly this body (the raw `hub.challenge`).
    Accept(String),
    /// Answer 403: wrong mode, wrong token or no challenge.
    Reject,
}

/// Decides the handshake from the three query values as received (keys keep their dots).
pub fn handshake(expected_token: &str, mode: Option<&str>, token: Option<&str>, challenge: Option<&str>) -> Handshake {
    match (mode, token, challenge) {
        (Some("subscribe"), Some(token), Some(challenge)) if verify_token_matches(expected_token, token) => {
            Handshake::Accept(challenge.to_string())
        }
        _ => Handshake::Reject,
    }
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}
