//! Voice messages over `voice_http`: sent, delivered and heard; busy,
//! unanswered, failed, refused or never handed to the provider; the Calls
//! API request against the provider's spec; signed and unsigned callbacks;
//! the documents served; calls per second; and a call whose final callback
//! was lost, settled from the provider's record.

use super::{kinds, narration, rig, rig_with, timeline, CALLER_ID, PHONE, WAIT};
use crate::common::process::free_port;
use crate::common::{spawn_app_with, TestApp};
use recado_channels::voice::twiml::contract::assert_valid_create_call;
use recado_channels::voice::twiml::testkit::{status_callback_form, HungUpBy, Script};
use recado_channels::voice::twiml::{signature, Response, Verb};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn voice_http_a_voice_message_is_sent_then_delivered_and_the_phone_hears_its_narration() {
    let rig = rig().await;
    rig.runner.fetch_media(true);
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::answer_silent());
    let id = rig.voice_message(&ana).await;
    let call = rig.play_call().await;

    let m = rig.message(&id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert_eq!(m["provider_message_id"], call.sid.as_str());
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]
    );
    // The callee heard the hub's own rendering of the narration, then the
    // document hung up.
    let plays = call.plays();
    assert_eq!(plays.len(), 1, "{call:#?}");
    let media = format!("{}/voice/media/", rig.app.app_state.settings.public_url);
    assert!(plays[0].starts_with(&media), "{}", plays[0]);
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    let audio = reqwest::get(&plays[0]).await.unwrap();
    assert_eq!(audio.status(), 200);
    assert_eq!(audio.headers()["content-type"], "audio/wav");
    let wav = audio.bytes().await.unwrap();
    assert!(wav.starts_with(b"RIFF") && &wav[8..12] == b"WAVE", "a WAV file");
}

#[tokio::test]
async fn voice_http_busy_no_answer_and_failed_calls_end_not_delivered_with_their_reason() {
    let rig = rig().await;
    for (phone, script, reason) in [
        ("+5511900000101", Script::busy(), "busy"),
        ("+5511900000102", Script::no_answer(), "no_answer"),
        ("+5511900000103", Script::failed(), "failed"),
    ] {
        let contact = rig.contact(phone).await;
        rig.runner.script(phone, script);
        let id = rig.voice_message(&contact).await;
        let call = rig.play_call().await;
        assert!(call.documents().is_empty(), "an unanswered call asks for no document");
        let events = timeline(&rig.app, &contact).await;
        assert_eq!(
            kinds(&events, "VOICE_"),
            ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"],
            "{phone}"
        );
        assert_eq!(events.last().unwrap()["details"]["reason"], reason, "{phone}");
        let m = rig.message(&id).await;
        assert_eq!(m["status"], "not_delivered", "{phone}");
        assert_eq!(m["error"]["code"], reason, "{phone}");
    }
}

#[tokio::test]
async fn voice_http_a_call_the_provider_refuses_is_not_sent() {
    let rig = rig().await;
    let phone = "+5511900000104";
    let contact = rig.contact(phone).await;
    rig.runner.script(
        phone,
        Script::refuse(400, 21215, "Geo permissions do not allow this call"),
    );
    let id = rig.voice_message(&contact).await;
    rig.app.run_jobs().await;
    let m = rig.message(&id).await;
    assert_eq!(m["status"], "not_sent", "{m}");
    let events = timeline(&rig.app, &contact).await;
    assert_eq!(kinds(&events, "VOICE_"), ["VOICE_QUEUED", "VOICE_NOT_SENT"]);
    let not_sent = events.iter().find(|e| e["type"] == "VOICE_NOT_SENT").unwrap();
    assert_eq!(not_sent["details"]["reason"], "provider_refused");
}

/// A hub with a `voice_http` channel whose Calls API nobody answers (a
/// port nothing listens on), and a voice message to a subscribed contact
/// on it: the contact and the message ids.
async fn call_to_an_unreachable_provider() -> (TestApp, String, String) {
    let app = spawn_app_with(|_| {}).await;
    let nobody = format!("http://127.0.0.1:{}", free_port());
    app.channel(
        "voice_http",
        "Calls",
        json!({"base_url": nobody, "account_sid": "AC0123456789abcdef0123456789abcdef",
               "auth_token": "secret", "caller_ids": [CALLER_ID], "max_cps": 5}),
    )
    .await;
    let contact = app.contact(json!({"firstname": "Ana", "mobilephone": PHONE})).await;
    app.subscribe(&contact, "voice").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "voice", "contact_id": contact, "voice": {"narration": narration("Olá.")}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    (app, contact, id)
}

#[tokio::test]
async fn voice_http_a_call_not_yet_handed_to_its_provider_outlives_its_timer() {
    let (app, contact, id) = call_to_an_unreachable_provider().await;
    app.run_jobs().await;
    // Past the attempt's timer (ring + longest call + grace), the dial still
    // waiting for the provider: the call is not closed unheard.
    app.clock.advance(chrono::Duration::minutes(15));
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
    assert_eq!(m["status"], "queued", "{m}");
    assert_eq!(kinds(&timeline(&app, &contact).await, "VOICE_"), ["VOICE_QUEUED"]);
}

#[tokio::test]
async fn voice_http_a_call_whose_provider_is_never_reached_ends_not_sent() {
    let (app, contact, id) = call_to_an_unreachable_provider().await;
    // Every retry of the dial fails until the job is buried.
    for _ in 0..40 {
        app.run_jobs().await;
        app.clock.advance(chrono::Duration::minutes(10));
    }
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
    assert_eq!(m["status"], "not_sent", "{m}");
    let events = timeline(&app, &contact).await;
    assert_eq!(kinds(&events, "VOICE_"), ["VOICE_QUEUED", "VOICE_NOT_SENT"]);
    let not_sent = events.iter().find(|e| e["type"] == "VOICE_NOT_SENT").unwrap();
    assert_eq!(not_sent["details"]["reason"], "provider_unreachable");
}

#[tokio::test]
async fn voice_http_the_calls_api_request_is_valid_against_the_providers_spec_and_names_the_call() {
    let rig = rig().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::busy());
    let id = rig.voice_message(&ana).await;
    let call = rig.play_call().await;
    assert_valid_create_call(&call.form);
    assert_eq!(call.to, PHONE);
    assert_eq!(call.from, CALLER_ID);
    assert_eq!(call.url, rig.url("twiml", &id, "attempt=1"));
    assert_eq!(
        call.status_callback.as_deref(),
        Some(rig.url("status", &id, "attempt=1").as_str())
    );
    assert_eq!(
        call.status_callback_events,
        ["initiated", "ringing", "answered", "completed"]
    );
    let timeout = call.form.iter().find(|(k, _)| k == "Timeout").map(|(_, v)| v.as_str());
    assert_eq!(timeout, Some("30"), "the ring time");
    assert!(!call.machine_detection);
}

#[tokio::test]
async fn voice_http_a_status_callback_with_a_bad_or_missing_signature_is_refused_and_changes_nothing() {
    let rig = rig().await;
    let ana = rig.contact(PHONE).await;
    let id = rig.voice_message(&ana).await;
    let url = rig.url("status", &id, "attempt=1");
    let form = status_callback_form("CA00000000000000000000000000000001", "busy", &[]);
    let status = rig.runner.post_with_bad_signature(&url, &form).await.unwrap();
    assert_eq!(status, 401);
    let unsigned = rig.app.client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let body: Value = unsigned.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_signature");
    let m = rig.message(&id).await;
    assert_eq!(m["status"], "queued", "{m}");
    assert!(m["provider_message_id"].is_null());
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(kinds(&events, "VOICE_"), ["VOICE_QUEUED"]);
}

#[tokio::test]
async fn voice_http_a_signed_request_about_a_call_the_channel_does_not_have_is_not_found() {
    let rig = rig().await;
    let url = rig.url("status", "msg_unknown", "attempt=1");
    let form = status_callback_form("CA00000000000000000000000000000001", "busy", &[]);
    assert_eq!(rig.runner.post_signed(&url, &form).await.unwrap(), 404);
    let elsewhere = format!(
        "{}/webhooks/voice/chn_unknown/status/msg_unknown?attempt=1",
        rig.app.app_state.settings.public_url
    );
    assert_eq!(rig.runner.post_signed(&elsewhere, &form).await.unwrap(), 404);
}

#[tokio::test]
async fn voice_http_a_status_callback_at_the_calls_url_settles_a_call_whose_provider_id_was_never_learnt() {
    let rig = rig().await;
    let ana = rig.contact(PHONE).await;
    let id = rig.voice_message(&ana).await;
    // The dial is claimed, then the provider fails: the hub knows no id of
    // the call, which it may yet have placed.
    rig.runner
        .script(PHONE, Script::refuse(503, 20500, "Internal Server Error"));
    rig.app.run_jobs().await;
    assert!(rig.runner.calls().is_empty());
    let m = rig.message(&id).await;
    assert!(m["provider_message_id"].is_null(), "{m}");
    // A callback at the call's own URL names it all the same.
    let sid = "CA0123456789abcdef0123456789abcdef";
    let form = status_callback_form(sid, "busy", &[("SipResponseCode", "486"), ("CallDuration", "0")]);
    let url = rig.url("status", &id, "attempt=1");
    assert_eq!(rig.runner.post_signed(&url, &form).await.unwrap(), 204);
    let m = rig.message(&id).await;
    assert_eq!(m["status"], "not_delivered", "{m}");
    assert_eq!(m["provider_message_id"], sid);
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]
    );
}

#[tokio::test]
async fn voice_http_the_documents_served_are_valid_twiml_as_xml() {
    let rig = rig().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::answer_silent());
    let id = rig.voice_message(&ana).await;
    let call = rig.play_call().await;
    let documents = call.documents();
    assert_eq!(documents.len(), 1, "{call:#?}");
    let document = Response::parse(&documents[0]).expect("valid TwiML");
    assert!(
        matches!(document.verbs.as_slice(), [Verb::Play { .. }, Verb::Hangup]),
        "{document:?}"
    );
    // Asked again (the provider may), the same document, as XML.
    let url = rig.url("twiml", &id, "attempt=1");
    let form = status_callback_form(&call.sid, "in-progress", &[]);
    let answer = rig
        .app
        .client
        .post(&url)
        .header("X-Twilio-Signature", signature(rig.runner.auth_token(), &url, &form))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/xml");
    let again = answer.text().await.unwrap();
    // The call is over by now: the provider is told to hang up.
    assert!(
        matches!(
            Response::parse(&again).expect("valid TwiML").verbs.as_slice(),
            [Verb::Hangup]
        ),
        "{again}"
    );
}

#[tokio::test]
async fn voice_http_dials_of_a_channel_keep_its_calls_per_second() {
    let rig = rig_with(None, 2).await;
    for n in 0..3 {
        let phone = format!("+55119000002{n:02}");
        rig.runner.script(&phone, Script::busy());
        let contact = rig.contact(&phone).await;
        rig.voice_message(&contact).await;
    }
    let started = std::time::Instant::now();
    rig.app.run_jobs().await;
    assert_eq!(rig.runner.calls().len(), 3);
    // Three calls at two a second: the third leaves a second after the first.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn voice_http_a_call_whose_final_callback_was_lost_is_settled_from_the_providers_record() {
    // The hub's public URL leads nowhere: every callback of the provider is
    // lost, as when it posts while no node is up.
    let rig = rig_with(Some(format!("http://127.0.0.1:{}", free_port())), 50).await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::busy());
    let id = rig.voice_message(&ana).await;
    rig.app.run_jobs().await;
    let sid = rig.runner.calls()[0].sid.clone();
    rig.runner.finished(&sid, WAIT).await;
    let m = rig.message(&id).await;
    assert_eq!(
        (m["status"].as_str(), m["provider_message_id"].as_str()),
        (Some("sent"), Some(sid.as_str()))
    );

    rig.app.clock.advance(chrono::Duration::milliseconds(
        recado_app::voice::reconcile::SILENT_AFTER_MS + 1_000,
    ));
    recado_app::voice::reconcile::run(&rig.app.app_state).await.unwrap();
    let m = rig.message(&id).await;
    assert_eq!(
        (m["status"].as_str(), m["error"]["code"].as_str()),
        (Some("not_delivered"), Some("busy")),
        "{m}"
    );
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]
    );
}
