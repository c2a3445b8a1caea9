//! What the provider posts about a call, read into the call's events: each `CallStatus`, who
//! answered, the `<Gather>` and `<Dial>` actions, the document request, and the
//! `X-Twilio-Signature` of all of them.

use recado_channels::sms::testkit::signed_form;
use recado_channels::voice::twiml::testkit::{dial_action_form, gather_form, status_callback_form};
use recado_channels::voice::twiml::{
    answered_by, parse_dial_action, parse_gather, parse_status_callback, parse_voice_request, signature,
    verify_signature, CallStatus, DialStatus, ParseError,
};
use recado_core::voice::call::{self, AnsweredBy, Failure, Input, ProviderEvent, Settings, VoiceEvent};
use recado_core::voice::Key;

const SID: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "auth-token-secret";

fn events(status: &str, extra: &[(&str, &str)]) -> Vec<ProviderEvent> {
    parse_status_callback(&status_callback_form(SID, status, extra))
        .expect("a status callback")
        .events()
}

fn answered(by: AnsweredBy) -> ProviderEvent {
    ProviderEvent::Answered { answered_by: by }
}

fn failed(failure: Failure) -> ProviderEvent {
    ProviderEvent::Failed { failure }
}

#[test]
fn queued_and_initiated_mean_the_provider_took_the_call() {
    assert_eq!(events("queued", &[]), vec![ProviderEvent::Accepted]);
    assert_eq!(events("initiated", &[]), vec![ProviderEvent::Accepted]);
}

#[test]
fn ringing_is_ringing() {
    assert_eq!(events("ringing", &[]), vec![ProviderEvent::Ringing]);
}

#[test]
fn in_progress_is_the_answer_by_someone_unknown_without_detection() {
    assert_eq!(events("in-progress", &[]), vec![answered(AnsweredBy::Unknown)]);
}

#[test]
fn answered_is_the_answer_too() {
    assert_eq!(events("answered", &[]), vec![answered(AnsweredBy::Unknown)]);
}

#[test]
fn answering_machine_detection_says_who_answered() {
    assert_eq!(
        events("in-progress", &[("AnsweredBy", "human")]),
        vec![answered(AnsweredBy::Human)]
    );
    assert_eq!(
        events("in-progress", &[("AnsweredBy", "machine_end_beep")]),
        vec![answered(AnsweredBy::Machine)]
    );
    for raw in ["machine_start", "machine_end_silence", "machine_end_other", "fax"] {
        assert_eq!(answered_by(raw), AnsweredBy::Machine, "{raw}");
    }
    assert_eq!(answered_by("unknown"), AnsweredBy::Unknown);
}

#[test]
fn completed_after_an_answer_is_the_hang_up_and_proves_the_answer() {
    assert_eq!(
        events("completed", &[("CallDuration", "12"), ("SipResponseCode", "200")]),
        vec![answered(AnsweredBy::Unknown), ProviderEvent::HungUp]
    );
}

#[test]
fn completed_without_an_answer_is_a_bare_hang_up() {
    assert_eq!(
        events("completed", &[("CallDuration", "0")]),
        vec![ProviderEvent::HungUp]
    );
    assert_eq!(events("completed", &[]), vec![ProviderEvent::HungUp]);
}

#[test]
fn completed_without_an_answer_ends_the_call_not_delivered() {
    let settings = Settings::default();
    let (c, _) = call::apply(&settings, &call::Call::new(), Input::Dial, 0);
    let mut c = c;
    let mut recorded = Vec::new();
    for (i, status) in ["initiated", "ringing", "completed"].into_iter().enumerate() {
        for event in events(status, &[("CallDuration", "0")]) {
            let (next, out) = call::apply(&settings, &c, Input::Provider { attempt: 1, event }, i as i64);
            c = next;
            recorded.extend(out.events);
        }
    }
    assert!(c.is_ended());
    assert!(
        matches!(
            recorded.as_slice(),
            [
                VoiceEvent::Sent,
                VoiceEvent::NotDelivered {
                    why: call::Unreached::NoAnswer,
                    ..
                }
            ]
        ),
        "{recorded:?}"
    );
}

#[test]
fn busy_is_busy() {
    assert_eq!(events("busy", &[("SipResponseCode", "486")]), vec![ProviderEvent::Busy]);
}

#[test]
fn no_answer_is_no_answer() {
    assert_eq!(events("no-answer", &[]), vec![ProviderEvent::NoAnswer]);
}

#[test]
fn failed_is_read_by_its_sip_response_code() {
    let by_sip = |code: &str| events("failed", &[("SipResponseCode", code)]);
    assert_eq!(by_sip("404"), vec![failed(Failure::InvalidNumber)]);
    assert_eq!(by_sip("484"), vec![failed(Failure::InvalidNumber)]);
    assert_eq!(by_sip("480"), vec![failed(Failure::Unreachable)]);
    assert_eq!(by_sip("503"), vec![failed(Failure::Congestion)]);
    assert_eq!(by_sip("603"), vec![ProviderEvent::Rejected]);
    assert_eq!(by_sip("403"), vec![failed(Failure::Other)]);
    assert_eq!(events("failed", &[]), vec![failed(Failure::Other)]);
}

#[test]
fn canceled_is_a_cancelled_failure() {
    assert_eq!(events("canceled", &[]), vec![failed(Failure::Cancelled)]);
}

#[test]
fn a_status_callback_keeps_its_sid_sequence_duration_and_sip_code() {
    let report = parse_status_callback(&status_callback_form(
        SID,
        "completed",
        &[
            ("CallDuration", "61"),
            ("SequenceNumber", "3"),
            ("SipResponseCode", "200"),
            ("AnsweredBy", "machine_start"),
        ],
    ))
    .unwrap();
    assert_eq!(report.call_sid, SID);
    assert_eq!(report.status, CallStatus::Completed);
    assert!(report.status.is_final());
    assert_eq!(report.duration_s, Some(61));
    assert_eq!(report.sequence, Some(3));
    assert_eq!(report.sip_response_code, Some(200));
    assert_eq!(report.raw_answered_by.as_deref(), Some("machine_start"));
}

#[test]
fn an_unreadable_status_callback_is_refused() {
    assert_eq!(
        parse_status_callback(&status_callback_form(SID, "hangup", &[])),
        Err(ParseError::UnknownStatus("hangup".into()))
    );
    let without_sid: Vec<_> = status_callback_form(SID, "ringing", &[])
        .into_iter()
        .filter(|(k, _)| k != "CallSid")
        .collect();
    assert_eq!(parse_status_callback(&without_sid), Err(ParseError::Missing("CallSid")));
    assert!(matches!(
        parse_status_callback(&status_callback_form(SID, "completed", &[("CallDuration", "12s")])),
        Err(ParseError::NotANumber {
            name: "CallDuration",
            ..
        })
    ));
}

#[test]
fn a_gathered_digit_is_a_key() {
    let result = parse_gather(&gather_form(SID, "2")).unwrap();
    assert_eq!(result.call_sid, SID);
    assert_eq!(result.key, Key::new('2'));
    assert_eq!(
        result.event(4),
        Some(ProviderEvent::Dtmf {
            key: Key::new('2').unwrap(),
            seq: 4
        })
    );
}

#[test]
fn hash_and_star_are_keys_too() {
    assert_eq!(parse_gather(&gather_form(SID, "#")).unwrap().key, Key::new('#'));
    assert_eq!(parse_gather(&gather_form(SID, "*")).unwrap().key, Key::new('*'));
}

#[test]
fn empty_digits_are_no_input() {
    let result = parse_gather(&gather_form(SID, "")).unwrap();
    assert_eq!(result.key, None);
    assert_eq!(result.event(1), None);
    let without: Vec<_> = gather_form(SID, "")
        .into_iter()
        .filter(|(k, _)| k != "Digits")
        .collect();
    assert_eq!(parse_gather(&without).unwrap().key, None);
}

#[test]
fn digits_that_are_not_one_key_are_refused() {
    assert_eq!(
        parse_gather(&gather_form(SID, "12")),
        Err(ParseError::NotAKey("12".into()))
    );
    assert_eq!(
        parse_gather(&gather_form(SID, "A")),
        Err(ParseError::NotAKey("A".into()))
    );
}

#[test]
fn the_dial_action_says_whether_the_transfer_connected() {
    let done = parse_dial_action(&dial_action_form(SID, "completed")).unwrap();
    assert_eq!(done.status, DialStatus::Completed);
    assert!(done.status.connected());
    assert_eq!(done.duration_s, Some(42));
    assert!(done.dial_call_sid.is_some_and(|s| s.starts_with("CA")));
    for (raw, status) in [
        ("busy", DialStatus::Busy),
        ("no-answer", DialStatus::NoAnswer),
        ("failed", DialStatus::Failed),
        ("canceled", DialStatus::Canceled),
    ] {
        let result = parse_dial_action(&dial_action_form(SID, raw)).unwrap();
        assert_eq!(result.status, status);
        assert!(!result.status.connected(), "{raw}");
    }
    assert_eq!(
        parse_dial_action(&dial_action_form(SID, "bridged")),
        Err(ParseError::UnknownDialStatus("bridged".into()))
    );
}

#[test]
fn the_document_request_proves_the_answer_and_carries_answered_by() {
    let mut form = status_callback_form(SID, "in-progress", &[("AnsweredBy", "machine_end_beep")]);
    form.retain(|(k, _)| k != "CallbackSource");
    let request = parse_voice_request(&form).unwrap();
    assert_eq!(request.call_sid, SID);
    assert_eq!(request.to, "+5511900000001");
    assert_eq!(request.status, CallStatus::InProgress);
    assert_eq!(request.event(), answered(AnsweredBy::Machine));
}

#[test]
fn a_signed_callback_verifies_over_the_full_url_with_its_query() {
    let url = "https://hub.example.com/voice/status/vc_01?attempt=1";
    let form = status_callback_form(SID, "ringing", &[("SequenceNumber", "1")]);
    let (_, header) = signed_form(TOKEN, url, &form);
    assert_eq!(header, signature(TOKEN, url, &form));
    assert!(verify_signature(TOKEN, url, &form, Some(&header)));
}

#[test]
fn a_callback_signed_with_another_token_is_refused() {
    let url = "https://hub.example.com/voice/status/vc_01?attempt=1";
    let form = status_callback_form(SID, "ringing", &[]);
    let forged = signature("another-token", url, &form);
    assert!(!verify_signature(TOKEN, url, &form, Some(&forged)));
    assert!(!verify_signature(TOKEN, url, &form, None));
}

#[test]
fn a_signature_does_not_cover_another_query_or_a_changed_parameter() {
    let url = "https://hub.example.com/voice/key/vc_01?play=1";
    let form = gather_form(SID, "2");
    let header = signature(TOKEN, url, &form);
    assert!(!verify_signature(
        TOKEN,
        "https://hub.example.com/voice/key/vc_01?play=2",
        &form,
        Some(&header)
    ));
    assert!(!verify_signature(TOKEN, url, &gather_form(SID, "9"), Some(&header)));
}
