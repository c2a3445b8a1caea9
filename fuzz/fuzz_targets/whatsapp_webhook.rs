//! WhatsApp webhook deliveries: the input is the raw `POST` body.
//!
//! - `verify_signature` never panics, whatever the header (a header taken from the input,
//!   trimmed, truncated, relabelled), and accepts the body's own signature;
//! - `parse_webhook` never panics: any body is items or a `WebhookParseError` (400);
//! - the items it returns serialize, and parsing the same bytes again gives the same items.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recado_channels::whatsapp::{parse_webhook, sign, verify_signature};

const APP_SECRET: &[u8] = b"fuzz-app-secret";

fuzz_target!(|data: &[u8]| {
    // The signature check on hostile headers: the first line of the input, as text.
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(first_line);
    assert!(
        !verify_signature(APP_SECRET, data, Some(&header))
            || header.trim().eq_ignore_ascii_case(&sign(APP_SECRET, data))
    );
    let _ = verify_signature(APP_SECRET, data, Some(&format!("sha256={header}")));
    let tail: String = header.chars().skip(header.chars().count() / 2).collect();
    let _ = verify_signature(APP_SECRET, data, Some(&format!("SHA256={tail}")));
    assert!(!verify_signature(APP_SECRET, data, None));

    // The body's own signature verifies, in any case of label and digest, and with spaces.
    let good = sign(APP_SECRET, data);
    assert!(verify_signature(APP_SECRET, data, Some(&good)));
    assert!(verify_signature(
        APP_SECRET,
        data,
        Some(&format!(" {} ", good.to_uppercase()))
    ));
    // One digest character less never verifies.
    assert!(!verify_signature(APP_SECRET, data, Some(&good[..good.len() - 1])));

    // Items compare through their JSON form: a coordinate may be NaN ("NaN" as a string),
    // which is never equal to itself but serializes the same way every time.
    let as_json = |parsed: Result<Vec<_>, _>| match parsed {
        Ok(items) => Ok(serde_json::to_value(items).expect("webhook items serialize")),
        Err(e) => Err(e),
    };
    let parsed = as_json(parse_webhook(data));
    assert_eq!(as_json(parse_webhook(data)), parsed, "parsing is deterministic");
});
