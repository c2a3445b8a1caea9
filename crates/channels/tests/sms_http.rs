//! The Twilio-compatible SMS provider against a local stand-in: the exact send form and its
//! contract with the provider's OpenAPI file, basic auth, error mapping, transport failures,
//! `X-Twilio-Signature`, status callbacks and inbound messages.

use std::time::Duration;

use base64::Engine;
use recado_channels::sms::http::contract::{assert_valid_create_message, form_errors};
use recado_channels::sms::http::{
    parse_inbound, parse_status_callback, request_form, signature, twiml_empty_response, verify_signature,
    HttpSmsClient, HttpSmsConfig, ParseError,
};
use recado_channels::sms::testkit::{inbound_form, signed_form, status_callback_form};
use recado_channels::sms::{DeliveryState, SmsSendError};
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token-secret";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";
const CALLBACK: &str = "https://hub.example.com/webhooks/sms/ch_1/status";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn config(server: &MockServer) -> HttpSmsConfig {
    HttpSmsConfig {
        base_url: format!("{}/", server.uri()),
        account_sid: SID.into(),
        auth_token: TOKEN.into(),
        messaging_service_sid: None,
    }
}

fn client(server: &MockServer) -> HttpSmsClient {
    HttpSmsClient::new(config(server), reqwest::Client::new()).with_timeout(Duration::from_secs(5))
}

fn created(sid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "sid": sid, "status": "queued", "num_segments": "1", "error_code": null,
        "account_sid": SID, "to": "+5511900000001", "from": "+15550001111"
    }))
}

fn twilio_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code, "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status
    }))
}

async fn send_error(response: ResponseTemplate) -> SmsSendError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(response)
        .mount(&server)
        .await;
    client(&server)
        .send("+15550001111", "+5511900000001", "Oi", CALLBACK)
        .await
        .expect_err("the provider refused")
}

#[tokio::test]
async fn send_posts_the_form_fields_with_basic_auth_and_returns_the_sid() {
    let server = MockServer::start().await;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header("authorization", format!("Basic {auth}").as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "To=%2B5511900000001&From=%2B15550001111&Body=Ol%C3%A1+%7B%7D+%26+mais&StatusCallback=https%3A%2F%2Fhub.example.com%2Fwebhooks%2Fsms%2Fch_1%2Fstatus",
        ))
        .respond_with(created("SM00000000000000000000000000000001"))
        .expect(1)
        .mount(&server)
        .await;
    let sent = client(&server)
        .send("+15550001111", "+5511900000001", "Olá {} & mais", CALLBACK)
        .await
        .expect("accepted");
    assert_eq!(sent.sid, "SM00000000000000000000000000000001");
    assert_eq!(sent.status, "queued");
}

#[tokio::test]
async fn a_messaging_service_replaces_from() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(body_string(
            "To=%2B5511900000001&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&Body=Oi",
        ))
        .respond_with(created("SM2"))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());
    let client = HttpSmsClient::new(cfg, reqwest::Client::new());
    assert_eq!(
        client.send("Ignored", "+5511900000001", "Oi", "").await.unwrap().sid,
        "SM2"
    );
}

#[test]
fn request_form_has_the_exact_fields_in_order() {
    assert_eq!(
        request_form("+15550001111", "+5511900000001", "Oi", CALLBACK, None),
        pairs(&[
            ("To", "+5511900000001"),
            ("From", "+15550001111"),
            ("Body", "Oi"),
            ("StatusCallback", CALLBACK)
        ])
    );
    assert_eq!(
        request_form(
            "+1555",
            "+5511900000001",
            "Oi",
            "",
            Some("MG0123456789abcdef0123456789abcdef")
        ),
        pairs(&[
            ("To", "+5511900000001"),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
            ("Body", "Oi")
        ])
    );
}

#[test]
fn request_forms_validate_against_the_providers_create_message_schema() {
    let long_unicode = "Promoção de verão 😀 ".repeat(40);
    for form in [
        request_form("+15550001111", "+5511900000001", "Oi", CALLBACK, None),
        request_form("Recado", "+351912345678", "Alphanumeric sender", CALLBACK, None),
        request_form("12345", "+15550002222", "Short code", "", None),
        request_form(
            "",
            "+5511900000001",
            &long_unicode,
            CALLBACK,
            Some("MG0123456789abcdef0123456789abcdef"),
        ),
    ] {
        assert_valid_create_message(&form);
    }
}

#[test]
fn the_contract_check_refuses_wrong_forms() {
    let bad = [
        pairs(&[("From", "+15550001111"), ("Body", "no To")]),
        pairs(&[("To", "+5511900000001"), ("Body", "no sender")]),
        pairs(&[("To", "+5511900000001"), ("From", "+15550001111")]),
        pairs(&[("To", "+12ab"), ("From", "+15550001111"), ("Body", "x")]),
        pairs(&[("To", "+5511900000001"), ("From", "ABCDEFGHIJKL"), ("Body", "x")]),
        pairs(&[("to", "+5511900000001"), ("From", "+15550001111"), ("Body", "x")]),
        pairs(&[
            ("To", "+5511900000001"),
            ("From", "+15550001111"),
            ("Body", "x"),
            ("StatusCallback", "not a url"),
        ]),
        pairs(&[
            ("To", "+5511900000001"),
            ("MessagingServiceSid", "MGshort"),
            ("Body", "x"),
        ]),
        pairs(&[
            ("To", "+5511900000001"),
            ("From", "+15550001111"),
            ("Body", "x"),
            ("ValidityPeriod", "soon"),
        ]),
    ];
    for form in bad {
        assert!(!form_errors(&form).is_empty(), "accepted a wrong form: {form:?}");
    }
}

#[test]
fn signature_matches_the_providers_known_answer() {
    let params = pairs(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]);
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(signature("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    // Order of the posted parameters does not matter.
    let mut reversed = params.clone();
    reversed.reverse();
    assert!(verify_signature(
        "12345",
        url,
        &reversed,
        Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    ));
}

#[test]
fn signature_is_accepted_with_or_without_the_default_port() {
    let params = pairs(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
    let with_port = signature(TOKEN, "https://hub.example.com:443/cb", &params);
    assert!(verify_signature(
        TOKEN,
        "https://hub.example.com/cb",
        &params,
        Some(&with_port)
    ));
    let without = signature(TOKEN, "https://hub.example.com/cb", &params);
    assert!(verify_signature(
        TOKEN,
        "https://hub.example.com:443/cb",
        &params,
        Some(&without)
    ));
}

#[test]
fn bad_signature_is_rejected() {
    let form = status_callback_form("SM1", "delivered", None);
    let (_, good) = signed_form(TOKEN, CALLBACK, &form);
    assert!(verify_signature(TOKEN, CALLBACK, &form, Some(&good)));
    assert!(!verify_signature("another-token", CALLBACK, &form, Some(&good)));
    assert!(!verify_signature(
        TOKEN,
        "https://hub.example.com/other",
        &form,
        Some(&good)
    ));
    let mut tampered = form.clone();
    tampered[2].1 = "undelivered".into();
    assert!(!verify_signature(TOKEN, CALLBACK, &tampered, Some(&good)));
    let mut extra = form.clone();
    extra.push(("Injected".into(), "1".into()));
    assert!(!verify_signature(TOKEN, CALLBACK, &extra, Some(&good)));
    assert!(!verify_signature(TOKEN, CALLBACK, &form, None));
    assert!(!verify_signature(TOKEN, CALLBACK, &form, Some("")));
    assert!(!verify_signature(TOKEN, CALLBACK, &form, Some("not base64!")));
    // A channel with no token configured accepts nothing, not even a signature made with "".
    let (_, empty_key) = signed_form("", CALLBACK, &form);
    assert!(!verify_signature("", CALLBACK, &form, Some(&empty_key)));
}

#[test]
fn status_callback_states() {
    let accepted = ["queued", "sending", "sent", "accepted", "scheduled"];
    for status in accepted {
        let cb = parse_status_callback(&status_callback_form("SM1", status, None)).unwrap();
        assert_eq!(cb.state, DeliveryState::Accepted, "{status}");
        assert_eq!(cb.raw_status, status);
    }
    let delivered = parse_status_callback(&status_callback_form("SM1", "delivered", None)).unwrap();
    assert_eq!(delivered.state, DeliveryState::Delivered);
    assert_eq!(delivered.message_sid, "SM1");
    for status in ["undelivered", "failed", "canceled"] {
        let cb = parse_status_callback(&status_callback_form("SM9", status, Some("30003"))).unwrap();
        assert_eq!(
            cb.state,
            DeliveryState::NotDelivered {
                code: Some("30003".into())
            },
            "{status}"
        );
        assert_eq!(cb.error_code.as_deref(), Some("30003"));
    }
    // Legacy names alone still work.
    let legacy = pairs(&[("SmsSid", "SM2"), ("SmsStatus", "delivered")]);
    assert_eq!(parse_status_callback(&legacy).unwrap().message_sid, "SM2");
    assert_eq!(
        parse_status_callback(&pairs(&[("MessageStatus", "sent")])),
        Err(ParseError::Missing("MessageSid"))
    );
    assert!(matches!(
        parse_status_callback(&status_callback_form("SM1", "teleported", None)),
        Err(ParseError::UnknownStatus(_))
    ));
    assert!(matches!(
        parse_status_callback(&status_callback_form("SM1", "received", None)),
        Err(ParseError::InboundStatus(_))
    ));
}

#[test]
fn inbound_parsing() {
    let form = inbound_form("SMaaa", "+15550002222", "+15550001111", "STOP");
    let inbound = parse_inbound(&form).unwrap();
    assert_eq!(inbound.message_sid, "SMaaa");
    assert_eq!(inbound.from, "+15550002222");
    assert_eq!(inbound.to, "+15550001111");
    assert_eq!(inbound.body, "STOP");
    // Media only: no Body.
    let media = pairs(&[
        ("MessageSid", "MM1"),
        ("From", "+15550002222"),
        ("To", "+15550001111"),
        ("NumMedia", "1"),
    ]);
    assert_eq!(parse_inbound(&media).unwrap().body, "");
    assert_eq!(
        parse_inbound(&pairs(&[("MessageSid", "SM1"), ("To", "+1")])),
        Err(ParseError::Missing("From"))
    );
    assert_eq!(
        twiml_empty_response(),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
    );
}

#[tokio::test]
async fn too_many_requests_with_retry_after_is_retry_later() {
    let err = send_error(twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "7")).await;
    assert_eq!(
        err,
        SmsSendError::RetryLater {
            message: "20429: Too Many Requests".into(),
            retry_after_ms: Some(7000)
        }
    );
    assert!(err.is_safe_to_retry());
}

#[tokio::test]
async fn server_errors_are_retry_later() {
    for status in [500, 502, 503] {
        let err = send_error(ResponseTemplate::new(status).set_body_string("upstream trouble")).await;
        assert!(
            matches!(
                err,
                SmsSendError::RetryLater {
                    retry_after_ms: None,
                    ..
                }
            ),
            "{status}: {err:?}"
        );
    }
}

#[tokio::test]
async fn unsubscribed_recipient_is_rejected_as_provider_opt_out() {
    let err = send_error(twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")).await;
    assert_eq!(
        err,
        SmsSendError::Rejected {
            code: "provider_opt_out".into(),
            message: "21610: Attempt to send to unsubscribed recipient".into()
        }
    );
    assert!(!err.is_safe_to_retry());
}

#[tokio::test]
async fn invalid_numbers_and_other_refusals_are_rejected() {
    for (code, name) in [
        (21211, "invalid_recipient"),
        (21614, "invalid_recipient"),
        (21606, "invalid_sender"),
        (21212, "invalid_sender"),
        (30007, "30007"),
    ] {
        match send_error(twilio_error(400, code, "refused")).await {
            SmsSendError::Rejected { code: got, .. } => assert_eq!(got, name, "{code}"),
            other => panic!("{code}: {other:?}"),
        }
    }
    match send_error(twilio_error(401, 20003, "Authenticate")).await {
        SmsSendError::Rejected { code, .. } => assert_eq!(code, "auth_failed"),
        other => panic!("{other:?}"),
    }
    match send_error(ResponseTemplate::new(404)).await {
        SmsSendError::Rejected { code, .. } => assert_eq!(code, "http_404"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn timeout_after_the_request_was_written_is_uncertain() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created("SM3").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = HttpSmsClient::new(config(&server), reqwest::Client::new()).with_timeout(Duration::from_millis(300));
    let err = client
        .send("+15550001111", "+5511900000001", "Oi", CALLBACK)
        .await
        .unwrap_err();
    assert!(matches!(err, SmsSendError::Uncertain(_)), "{err:?}");
    assert!(!err.is_safe_to_retry());
    // The request did reach the provider.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_accepted_send_with_an_unreadable_answer_is_uncertain() {
    let err = send_error(ResponseTemplate::new(201).set_body_string("<html>")).await;
    assert!(matches!(err, SmsSendError::Uncertain(_)), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let cfg = HttpSmsConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        ..HttpSmsConfig::new(SID, TOKEN)
    };
    let err = HttpSmsClient::new(cfg, reqwest::Client::new())
        .send("+15550001111", "+5511900000001", "Oi", CALLBACK)
        .await
        .unwrap_err();
    assert!(matches!(err, SmsSendError::Unreachable(_)), "{err:?}");
    assert!(err.is_safe_to_retry());
}

#[test]
fn the_config_debug_output_hides_the_token() {
    let text = format!("{:?}", HttpSmsConfig::new(SID, TOKEN));
    assert!(!text.contains(TOKEN), "{text}");
}
