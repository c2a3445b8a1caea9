//! Twilio-style form posts: status callbacks and inbound messages.
//!
//! The input is `URL '\n' FORM`: the URL the provider says it called (checked by the
//! signature, with its default-port variants), then the `application/x-www-form-urlencoded`
//! body. Without a line break the whole input is the body and the URL is the hub's own.
//!
//! - `verify_signature` never panics, on any URL and any header, and accepts the signature
//!   computed for the same URL and parameters;
//! - `parse_status_callback` and `parse_inbound` never panic, and what they return is
//!   consistent with the parameters (non-empty, trimmed ids);
//! - encoding the parameters again and parsing them gives the same parameters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recado_channels::sms::http::{parse_inbound, parse_status_callback, signature, verify_signature};

const AUTH_TOKEN: &str = "fuzz-auth-token";
const HUB_URL: &str = "https://hub.example/hooks/sms/ch_1/status";

fuzz_target!(|data: &[u8]| {
    let (url, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (HUB_URL.to_string(), data),
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();

    // Signatures: the right one verifies; arbitrary headers never panic.
    let good = signature(AUTH_TOKEN, &url, &params);
    assert!(verify_signature(AUTH_TOKEN, &url, &params, Some(&good)));
    assert!(!verify_signature("", &url, &params, Some(&good)));
    assert!(!verify_signature(AUTH_TOKEN, &url, &params, None));
    let _ = verify_signature(AUTH_TOKEN, &url, &params, Some(&url));
    for (_, value) in params.iter().take(4) {
        let _ = verify_signature(AUTH_TOKEN, &url, &params, Some(value));
    }

    match parse_status_callback(&params) {
        Ok(status) => {
            assert!(!status.message_sid.is_empty());
            assert_eq!(status.message_sid.trim(), status.message_sid);
            assert!(!status.raw_status.is_empty());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match parse_inbound(&params) {
        Ok(inbound) => {
            assert!(!inbound.message_sid.is_empty());
            assert!(!inbound.from.is_empty() && !inbound.to.is_empty());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // parse → serialize → parse.
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let again: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
    assert_eq!(again, params);
    assert_eq!(parse_status_callback(&again), parse_status_callback(&params));
});
