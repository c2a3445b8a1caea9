use recado_channels::whatsapp::signature::{handshake, Handshake};
use recado_channels::whatsapp::{sign, verify_signature, verify_token_matches};

const SECRET: &[u8] = b"test-app-secret";
const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;
const VECTOR: &str = "sha256=c84a394cc475525991e78ff16e430b02e47f953877d2af0ade26956ce6f384dc";

#[test]
fn signature_matches_the_reference_vector() {
    assert_eq!(sign(SECRET, BODY), VECTOR);
    assert!(verify_signature(SECRET, BODY, Some(VECTOR)));
}

#[test]
fn uppercase_hex_and_surrounding_spaces_still_verify() {
    let upper = format!("sha256={}", VECTOR.trim_start_matches("sha256=").to_uppercase());
    assert!(verify_signature(SECRET, BODY, Some(&upper)));
    assert!(verify_signature(SECRET, BODY, Some(&format!(" {VECTOR} "))));
}

#[test]
fn missing_malformed_or_foreign_signatures_are_refused() {
    let truncated = &VECTOR[..VECTOR.len() - 2];
    for header in [
        None,
        Some(""),
        Some("sha256="),
        Some("sha1=c84a394cc475525991e78ff16e430b02e47f9538"),
        Some(truncated),
        Some("sha256=zz"),
        Some("c84a394cc475525991e78ff16e430b02e47f953877d2af0ade26956ce6f384dc"),
        Some("é"),
    ] {
        assert!(!verify_signature(SECRET, BODY, header), "{header:?}");
    }
}

#[test]
fn a_changed_body_or_another_secret_fails_verification() {
    assert!(!verify_signature(
        SECRET,
        br#"{"object":"whatsapp_business_account","entry":[ ]}"#,
        Some(VECTOR)
    ));
    assert!(!verify_signature(b"other-secret", BODY, Some(VECTOR)));
}

#[test]
fn escaped_unicode_bytes_are_signed_as_received_not_as_reserialised() {
    let raw = br#"{"text":"\u00e4\u00f6\u00e5"}"#;
    let header = sign(SECRET, raw);
    assert!(verify_signature(SECRET, raw, Some(&header)));
    assert!(!verify_signature(
        SECRET,
        "{\"text\":\"äöå\"}".as_bytes(),
        Some(&header)
    ));
}

#[test]
fn verify_token_must_match_exactly_and_never_when_unset() {
    assert!(verify_token_matches("tok-123", "tok-123"));
    assert!(!verify_token_matches("tok-123", "tok-124"));
    assert!(!verify_token_matches("tok-123", "tok-1234"));
    assert!(!verify_token_matches("", ""));
}

#[test]
fn handshake_echoes_the_challenge_only_for_subscribe_with_the_right_token() {
    assert_eq!(
        handshake("t", Some("subscribe"), Some("t"), Some("987654321")),
        Handshake::Accept("987654321".into())
    );
    assert_eq!(
        handshake("t", Some("subscribe"), Some("x"), Some("1")),
        Handshake::Reject
    );
    assert_eq!(
        handshake("t", Some("unsubscribe"), Some("t"), Some("1")),
        Handshake::Reject
    );
    assert_eq!(handshake("t", Some("subscribe"), Some("t"), None), Handshake::Reject);
}
