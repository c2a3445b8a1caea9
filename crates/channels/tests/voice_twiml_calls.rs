//! The TwiML Calls API client against a local stand-in: the exact create form and its contract
//! with the provider's OpenAPI file, basic auth, reading and hanging up calls, error mapping
//! and transport failures.

use std::time::Duration;

use base64::Engine;
use recado_channels::voice::twiml::contract::{
    assert_valid_create_call, assert_valid_update_call, create_call_errors, update_call_errors,
};
use recado_channels::voice::twiml::{
    create_call_form, hang_up_form, refusal_code, CallError, CallRequest, CallSid, CallStatus, CallsClient, TwimlConfig,
};
use recado_core::voice::call::{AnsweredBy, ProviderEvent};
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token-secret";
const CALLS: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json";
const CALL_SID: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ONE_CALL: &str =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn config(server: &MockServer) -> TwimlConfig {
    TwimlConfig {
        base_url: format!("{}/", server.uri()),
        account_sid: SID.into(),
        auth_token: TOKEN.into(),
    }
}

fn client(server: &MockServer) -> CallsClient {
    CallsClient::new(config(server), reqwest::Client::new()).with_timeout(Duration::from_secs(5))
}

fn request() -> CallRequest {
    CallRequest {
        to: "+5511900000001".into(),
        from: "+15550001111".into(),
        url: "https://hub.example.com/voice/twiml/vc_01?attempt=1".into(),
        status_callback: "https://hub.example.com/voice/status/vc_01?attempt=1".into(),
        timeout_s: 30,
        machine_detection: false,
        time_limit_s: None,
    }
}

fn created(sid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "sid": sid, "status": "queued", "account_sid": SID, "direction": "outbound-api",
        "to": "+5511900000001", "from": "+15550001111", "answered_by": null, "duration": null
    }))
}

fn twilio_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code, "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status
    }))
}

async fn create_error(response: ResponseTemplate) -> CallError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CALLS))
        .respond_with(response)
        .mount(&server)
        .await;
    client(&server)
        .create_call(&request())
        .await
        .expect_err("the provider did not place the call")
}

/// The forms the server received, decoded.
async fn received_forms(server: &MockServer) -> Vec<Vec<(String, String)>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| form_urlencoded::parse(&r.body).into_owned().collect())
        .collect()
}

#[tokio::test]
async fn create_call_posts_the_form_with_basic_auth_and_returns_the_call_sid() {
    let server = MockServer::start().await;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    Mock::given(method("POST"))
        .and(path(CALLS))
        .and(header("authorization", format!("Basic {auth}").as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "To=%2B5511900000001&From=%2B15550001111\
             &Url=https%3A%2F%2Fhub.example.com%2Fvoice%2Ftwiml%2Fvc_01%3Fattempt%3D1&Method=POST\
             &StatusCallback=https%3A%2F%2Fhub.example.com%2Fvoice%2Fstatus%2Fvc_01%3Fattempt%3D1\
             &StatusCallbackMethod=POST&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing\
             &StatusCallbackEvent=answered&StatusCallbackEvent=completed&Timeout=30",
        ))
        .respond_with(created(CALL_SID))
        .expect(1)
        .mount(&server)
        .await;
    let sid = client(&server).create_call(&request()).await.expect("placed");
    assert_eq!(sid, CallSid(CALL_SID.into()));
}

#[test]
fn create_call_form_has_the_exact_fields_in_order() {
    let mut with_options = request();
    with_options.machine_detection = true;
    with_options.time_limit_s = Some(600);
    with_options.timeout_s = 45;
    assert_eq!(
        create_call_form(&with_options),
        pairs(&[
            ("To", "+5511900000001"),
            ("From", "+15550001111"),
            ("Url", "https://hub.example.com/voice/twiml/vc_01?attempt=1"),
            ("Method", "POST"),
            ("StatusCallback", "https://hub.example.com/voice/status/vc_01?attempt=1"),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("Timeout", "45"),
            ("MachineDetection", "Enable"),
            ("TimeLimit", "600"),
        ])
    );
}

#[test]
fn the_ring_timeout_is_clamped_to_the_providers_range() {
    let timeout = |s: u32| {
        let mut r = request();
        r.timeout_s = s;
        create_call_form(&r)
            .into_iter()
            .find(|(k, _)| k == "Timeout")
            .map(|(_, v)| v)
            .unwrap()
    };
    assert_eq!(timeout(0), "1");
    assert_eq!(timeout(900), "600");
    assert_eq!(timeout(60), "60");
}

#[tokio::test]
async fn the_forms_the_client_sends_validate_against_the_providers_create_call_schema() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CALLS))
        .respond_with(created(CALL_SID))
        .mount(&server)
        .await;
    let client = client(&server);
    let mut variants = vec![request()];
    let mut amd = request();
    amd.machine_detection = true;
    amd.time_limit_s = Some(300);
    variants.push(amd);
    let mut extremes = request();
    extremes.timeout_s = 10_000;
    extremes.to = "+351912345678".into();
    variants.push(extremes);
    for r in &variants {
        client.create_call(r).await.expect("placed");
    }
    let forms = received_forms(&server).await;
    assert_eq!(forms.len(), variants.len());
    for form in forms {
        assert_valid_create_call(&form);
    }
}

#[test]
fn the_contract_check_refuses_broken_forms() {
    let good = create_call_form(&request());
    let without = |name: &str| -> Vec<(String, String)> { good.iter().filter(|(k, _)| k != name).cloned().collect() };
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = good.iter().filter(|(k, _)| k != name).cloned().collect();
        form.push((name.to_string(), value.to_string()));
        form
    };
    let bad = [
        ("no To", without("To")),
        ("no From", without("From")),
        ("nothing to play", without("Url")),
        ("To not E.164", with("To", "11900000001")),
        ("From with letters", with("From", "+1555ABC")),
        ("Url not a URL", with("Url", "not a url")),
        ("StatusCallback not a URL", with("StatusCallback", "hub/status")),
        ("unknown event", with("StatusCallbackEvent", "hangup")),
        ("Timeout zero", with("Timeout", "0")),
        ("Timeout too long", with("Timeout", "601")),
        ("Timeout not a number", with("Timeout", "soon")),
        ("Method", with("Method", "PUT")),
        ("MachineDetection", with("MachineDetection", "true")),
        ("misspelt name", with("StatusCallBack", "https://hub.example.com/s")),
    ];
    assert_valid_create_call(&good);
    for (what, form) in bad {
        assert!(
            !create_call_errors(&form).is_empty(),
            "accepted a form with {what}: {form:?}"
        );
    }
}

#[tokio::test]
async fn hang_up_posts_status_completed_to_the_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(ONE_CALL))
        .and(body_string("Status=completed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": CALL_SID, "status": "completed", "duration": "12", "answered_by": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .hang_up(&CallSid(CALL_SID.into()))
        .await
        .expect("hung up");
    for form in received_forms(&server).await {
        assert_valid_update_call(&form);
    }
}

#[test]
fn the_hang_up_form_validates_against_the_providers_update_call_schema() {
    assert_valid_update_call(&hang_up_form());
    assert!(!update_call_errors(&pairs(&[("Status", "hungup")])).is_empty());
    assert!(!update_call_errors(&pairs(&[("Sttaus", "completed")])).is_empty());
}

#[tokio::test]
async fn hanging_up_a_call_that_is_already_over_is_not_an_error() {
    for response in [
        twilio_error(404, 20404, "The requested resource was not found"),
        twilio_error(400, 21220, "Call is not in-progress. Cannot redirect."),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(ONE_CALL))
            .respond_with(response)
            .mount(&server)
            .await;
        assert_eq!(client(&server).hang_up(&CallSid(CALL_SID.into())).await, Ok(()));
    }
}

#[tokio::test]
async fn fetch_call_reads_status_answered_by_and_duration() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ONE_CALL))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": CALL_SID, "status": "completed", "duration": "37", "answered_by": "machine_end_beep",
            "account_sid": SID, "direction": "outbound-api"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let info = client(&server)
        .fetch_call(&CallSid(CALL_SID.into()))
        .await
        .expect("read");
    assert_eq!(info.status, CallStatus::Completed);
    assert_eq!(info.answered_by, Some(AnsweredBy::Machine));
    assert_eq!(info.duration_s, Some(37));
}

#[tokio::test]
async fn a_fetched_call_reconciles_as_the_events_of_its_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ONE_CALL))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": CALL_SID, "status": "busy", "duration": "0", "answered_by": null
        })))
        .mount(&server)
        .await;
    let info = client(&server).fetch_call(&CallSid(CALL_SID.into())).await.unwrap();
    assert_eq!(info.events(), vec![ProviderEvent::Busy]);
}

#[tokio::test]
async fn a_400_with_the_providers_error_is_a_refusal_with_a_stable_code() {
    let e = create_error(twilio_error(400, 21211, "Invalid 'To' Phone Number: +55119")).await;
    assert_eq!(
        e,
        CallError::Refused {
            code: "invalid_recipient".into(),
            message: "21211: Invalid 'To' Phone Number: +55119".into(),
            http_status: 400,
        }
    );
}

#[tokio::test]
async fn a_refusal_is_voice_not_sent_and_never_retried() {
    let e = create_error(twilio_error(400, 21215, "Geo permission")).await;
    assert_eq!(e.refusal(), Some("destination_not_allowed"));
    assert_eq!(e.provider_event(), Some(ProviderEvent::Refused));
    assert!(!e.is_safe_to_retry());
}

#[test]
fn refusal_codes_are_stable_names_or_the_providers_number() {
    assert_eq!(refusal_code(Some(21212), 400), "invalid_caller_id");
    assert_eq!(refusal_code(Some(21210), 400), "invalid_caller_id");
    assert_eq!(refusal_code(Some(21217), 400), "invalid_recipient");
    assert_eq!(refusal_code(Some(21208), 400), "invalid_request");
    assert_eq!(refusal_code(Some(20003), 401), "auth_failed");
    assert_eq!(refusal_code(Some(13999), 400), "13999");
    assert_eq!(refusal_code(None, 403), "http_403");
}

#[tokio::test]
async fn a_503_means_retry_later() {
    let e = create_error(ResponseTemplate::new(503).set_body_string("upstream unavailable")).await;
    assert_eq!(
        e,
        CallError::RetryLater {
            message: "upstream unavailable".into(),
            retry_after_ms: None
        }
    );
    assert!(e.is_safe_to_retry());
    assert_eq!(e.provider_event(), None);
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let e = create_error(twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "7")).await;
    assert_eq!(
        e,
        CallError::RetryLater {
            message: "20429: Too Many Requests".into(),
            retry_after_ms: Some(7_000)
        }
    );
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let at = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
    let e = create_error(ResponseTemplate::new(503).insert_header("Retry-After", at.as_str())).await;
    let CallError::RetryLater {
        retry_after_ms: Some(ms),
        ..
    } = e
    else {
        panic!("expected a retry with a delay, got {e:?}");
    };
    assert!((110_000..=120_000).contains(&ms), "{ms}");
}

#[tokio::test]
async fn error_20429_is_throttling_whatever_the_status() {
    let e = create_error(twilio_error(400, 20429, "Too Many Requests")).await;
    assert!(matches!(e, CallError::RetryLater { .. }), "{e:?}");
}

#[tokio::test]
async fn a_closed_port_is_unreachable_and_safe_to_retry() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = CallsClient::new(
        TwimlConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            account_sid: SID.into(),
            auth_token: TOKEN.into(),
        },
        reqwest::Client::new(),
    );
    let e = client.create_call(&request()).await.unwrap_err();
    assert!(matches!(e, CallError::Unreachable(_)), "{e:?}");
    assert!(e.is_safe_to_retry());
}

#[tokio::test]
async fn a_timeout_after_the_request_was_sent_is_uncertain() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CALLS))
        .respond_with(created(CALL_SID).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let e = CallsClient::new(config(&server), reqwest::Client::new())
        .with_timeout(Duration::from_millis(300))
        .create_call(&request())
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Uncertain(_)), "{e:?}");
    assert!(!e.is_safe_to_retry());
    assert_eq!(e.provider_event(), None);
}

#[tokio::test]
async fn an_accepted_call_without_a_sid_is_uncertain() {
    let e = create_error(ResponseTemplate::new(201).set_body_string("<html>ok</html>")).await;
    assert!(matches!(e, CallError::Uncertain(_)), "{e:?}");
}

#[test]
fn the_auth_token_never_shows_in_debug_output() {
    let config = TwimlConfig::new(SID, TOKEN);
    let shown = format!("{config:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains(SID));
    assert_eq!(
        config.calls_url(),
        format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json")
    );
}
