use recado_channels::whatsapp::{classify, ErrorAction};

use ErrorAction::*;

#[test]
fn every_documented_code_maps_to_its_action() {
    let table: &[(i64, Option<u16>, ErrorAction)] = &[
        (
            131047,
            Some(400),
            NotSent {
                reason: "outside_session_window",
            },
        ),
        (
            470,
            None,
            NotSent {
                reason: "outside_session_window",
            },
        ),
        (
            131026,
            Some(400),
            Permanent {
                reason: "undeliverable",
            },
        ),
        (
            131051,
            Some(400),
            Permanent {
                reason: "unsupported_message_type",
            },
        ),
        (130429, Some(429), RetryLater),
        (131056, Some(400), RetryLater),
        (131056, Some(429), RetryLater),
        (
            131048,
            Some(400),
            Permanent {
                reason: "spam_rate_limit",
            },
        ),
        (
            131049,
            None,
            Permanent {
                reason: "ecosystem_engagement_limit",
            },
        ),
        (131050, None, OptedOut),
        (
            132000,
            Some(400),
            NotSent {
                reason: "template_parameters",
            },
        ),
        (
            132001,
            Some(404),
            NotSent {
                reason: "template_not_found",
            },
        ),
        (
            132005,
            Some(400),
            NotSent {
                reason: "template_text_too_long",
            },
        ),
        (
            132007,
            Some(400),
            NotSent {
                reason: "template_format_policy",
            },
        ),
        (
            132012,
            Some(400),
            NotSent {
                reason: "template_parameter_format",
            },
        ),
        (
            132015,
            Some(400),
            NotSent {
                reason: "template_paused",
            },
        ),
        (
            132016,
            Some(400),
            NotSent {
                reason: "template_disabled",
            },
        ),
        (
            132069,
            Some(400),
            NotSent {
                reason: "template_error",
            },
        ),
        (131000, Some(500), RetryLater),
        (1, Some(500), RetryLater),
        (2, Some(503), RetryLater),
        (
            131008,
            Some(400),
            Permanent {
                reason: "invalid_parameter",
            },
        ),
        (
            131009,
            Some(400),
            Permanent {
                reason: "invalid_parameter",
            },
        ),
        (
            100,
            Some(400),
            Permanent {
                reason: "invalid_parameter",
            },
        ),
        (
            131052,
            Some(400),
            Permanent {
                reason: "media_download_error",
            },
        ),
        (
            131053,
            Some(400),
            Permanent {
                reason: "media_upload_error",
            },
        ),
        (
            131030,
            Some(400),
            Permanent {
                reason: "recipient_not_allowed",
            },
        ),
        (
            131031,
            Some(403),
            Permanent {
                reason: "account_locked",
            },
        ),
        (
            368,
            Some(403),
            Permanent {
                reason: "policy_violation_block",
            },
        ),
        (
            130497,
            Some(403),
            Permanent {
                reason: "country_restricted",
            },
        ),
        (
            133010,
            Some(400),
            Permanent {
                reason: "phone_number_not_registered",
            },
        ),
        (4, Some(400), RetryLater),
        (80007, Some(429), RetryLater),
        (613, Some(400), RetryLater),
        (
            0,
            Some(401),
            Permanent {
                reason: "access_token_invalid",
            },
        ),
        (
            190,
            Some(401),
            Permanent {
                reason: "access_token_invalid",
            },
        ),
    ];
    for &(code, status, expected) in table {
        assert_eq!(classify(code, status), expected, "code {code} with HTTP {status:?}");
    }
}

#[test]
fn known_codes_decide_even_when_the_http_status_disagrees() {
    assert_eq!(
        classify(131047, Some(500)),
        NotSent {
            reason: "outside_session_window"
        }
    );
    assert_eq!(classify(131000, Some(400)), RetryLater);
}

#[test]
fn unknown_codes_are_permanent_unless_the_status_is_429_or_5xx() {
    assert_eq!(
        classify(999_999, Some(400)),
        Permanent {
            reason: "provider_error"
        }
    );
    assert_eq!(
        classify(999_999, Some(404)),
        Permanent {
            reason: "provider_error"
        }
    );
    assert_eq!(
        classify(999_999, None),
        Permanent {
            reason: "provider_error"
        }
    );
    assert_eq!(classify(999_999, Some(429)), RetryLater);
    assert_eq!(classify(-1, Some(502)), RetryLater);
}
