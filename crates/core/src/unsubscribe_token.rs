//! Signed unsubscribe tokens for `PUBLIC_URL/u/{token}`: the token names the
//! workspace, contact and message and carries an HMAC over them, so it cannot
//! be guessed, altered, or used for another contact.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubscribeClaim {
    pub workspace_id: String,
    pub contact_id: String,
    pub message_id: String,
}

fn mac(key: &[u8; 32], payload: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    m.update(b"unsubscribe\0");
    m.update(payload);
    m
}

pub fn sign(key: &[u8; 32], claim: &UnsubscribeClaim) -> String {
    let payload = format!("{}|{}|{}", claim.workspace_id, claim.contact_id, claim.message_id);
    let tag = mac(key, payload.as_bytes()).finalize().into_bytes();
    format!("{}.{}", B64.encode(payload), B64.encode(tag))
}

/// The claim of an authentic token; None for anything forged or damaged.
pub fn verify(key: &[u8; 32], token: &str) -> Option<UnsubscribeClaim> {
    let (payload_b64, tag_b64) = token.split_once('.')?;
    let payload = B64.decode(payload_b64).ok()?;
    let tag = B64.decode(tag_b64).ok()?;
    mac(key, &payload).verify_slice(&tag).ok()?;
    let text = String::from_utf8(payload).ok()?;
    let mut parts = text.split('|');
    let claim = UnsubscribeClaim {
        workspace_id: parts.next()?.to_string(),
        contact_id: parts.next()?.to_string(),
        message_id: parts.next()?.to_string(),
    };
    parts.next().is_none().then_some(claim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(contact: &str) -> UnsubscribeClaim {
        UnsubscribeClaim {
            workspace_id: "ws_1".into(),
            contact_id: contact.into(),
            message_id: "msg_1".into(),
        }
    }

    #[test]
    fn a_token_verifies_only_with_its_key_and_unchanged() {
        let key = [9u8; 32];
        let token = sign(&key, &claim("ct_1"));
        assert_eq!(verify(&key, &token), Some(claim("ct_1")));
        assert_eq!(verify(&[8u8; 32], &token), None);
        let (payload, tag) = token.split_once('.').unwrap();
        let other_payload = B64.encode("ws_1|ct_2|msg_1");
        assert_eq!(
            verify(&key, &format!("{other_payload}.{tag}")),
            None,
            "a token cannot be moved to another contact"
        );
        assert_eq!(verify(&key, &format!("{payload}.{}", B64.encode([0u8; 32]))), None);
        assert_eq!(verify(&key, "garbage"), None);
    }
}
