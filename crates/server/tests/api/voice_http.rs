//! Calls over an HTTP voice provider of the TwiML dialect (`voice_http`),
//! end to end against the stand-in provider of `recado-channels`
//! (`TwimlRunner`): it answers the Calls API on loopback, then plays each
//! call against the hub as the provider would — signed status callbacks,
//! the call's document, `<Gather>` actions with the digits its script
//! presses, `<Redirect>`s and `<Dial>` actions.

use crate::common::process::free_port;
use crate::common::{spawn_app_with, TestApp};
use crate::workflows::{active_workflow, enrol};
use recado_channels::voice::twiml::contract::assert_valid_create_call;
use recado_channels::voice::twiml::testkit::{status_callback_form, HungUpBy, RunnerCall, Script, TwimlRunner};
use recado_channels::voice::twiml::{signature, Response, Verb};
use serde_json::{json, Value};
use std::time::Duration;

const CALLER_ID: &str = "+34910000000";
const PHONE: &str = "+5511900000042";
const WAIT: Duration = Duration::from_secs(20);

/// The hub (reachable at its public URL, as the provider needs), the
/// stand-in provider, and a `voice_http` channel on it.
struct Rig {
    app: TestApp,
    runner: TwimlRunner,
    channel: String,
}

async fn rig() -> Rig {
    rig_with_cps(50).await
}

async fn rig_with_cps(max_cps: u32) -> Rig {
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    let runner = TwimlRunner::start().await;
    let channel = app
        .channel(
            "voice_http",
            "Calls",
            json!({"base_url": runner.base_url(), "account_sid": runner.account_sid(),
                   "auth_token": runner.auth_token(), "caller_ids": [CALLER_ID], "max_cps": max_cps}),
        )
        .await;
    Rig { app, runner, channel }
}

impl Rig {
    /// A contact subscribed to voice at `phone`.
    async fn contact(&self, phone: &str) -> String {
        let contact = self
            .app
            .contact(json!({"firstname": "Ana", "mobilephone": phone}))
            .await;
        self.app.subscribe(&contact, "voice").await;
        contact
    }

    /// A voice message to `contact` through the API; its message id.
    async fn voice_message(&self, contact: &str) -> String {
        let r = self
            .app
            .post(
                "/api/v1/messages",
                json!({"channel": "voice", "contact_id": contact,
                       "voice": {"narration": narration("Olá {{contact.firstname}}, a sua encomenda chegou.")}}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Dials what is queued and plays the one new call to its end; then
    /// runs what the call left to do.
    async fn play_call(&self) -> RunnerCall {
        let before = self.runner.calls().len();
        self.app.run_jobs().await;
        let calls = self.runner.calls();
        assert_eq!(calls.len(), before + 1, "one call placed: {calls:#?}");
        let call = self.runner.finished(&calls[before].sid, WAIT).await;
        self.app.run_jobs().await;
        assert!(call.errors().is_empty(), "{:#?}", call.errors());
        call
    }

    fn url(&self, leg: &str, message: &str, query: &str) -> String {
        format!(
            "{}/webhooks/voice/{}/{leg}/{message}?{query}",
            self.app.app_state.settings.public_url, self.channel
        )
    }

    async fn message(&self, id: &str) -> Value {
        self.app.get(&format!("/api/v1/messages/{id}")).await.body
    }
}

fn narration(text: &str) -> Value {
    json!({"kind": "tts", "language": "pt-BR", "text": text})
}

/// The contact's timeline entries, oldest first.
async fn timeline(app: &TestApp, contact: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline")).await;
    let mut items = r.body["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

fn kinds(items: &[Value], prefix: &str) -> Vec<String> {
    items
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .filter(|k| k.starts_with(prefix))
        .collect()
}

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
    let rig = rig_with_cps(2).await;
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

// ---- IVR calls ----

const AGENT: &str = "+34911222333";

/// A menu: key 1 transfers to an agent, key 2 sends a code by SMS.
fn menu() -> Value {
    json!({
        "narration": narration("Para falar com um agente, tecle 1. Para receber o código por SMS, tecle 2."),
        "keys": {
            "1": {"action": "transfer", "to": AGENT, "narration": narration("Vamos transferir a sua chamada.")},
            "2": {"action": "send_sms", "text": "O seu codigo: 1234", "narration": narration("Enviámos-lhe um SMS.")}
        },
        "wrong_key": {"narration": narration("Opção inválida.")},
        "no_input": {"timeout_s": 5, "narration": narration("Ainda está aí?")}
    })
}

impl Rig {
    /// The rig with the SMS channel a menu's SMS key needs.
    async fn with_sms(self) -> Rig {
        self.app
            .channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]}))
            .await;
        self
    }

    /// An IVR call of `definition` to `contact`, sent by a workflow's
    /// `send_ivr` (not dialled yet).
    async fn ivr_call(&self, contact: &str, definition: Value) {
        let workflow = active_workflow(
            &self.app,
            json!({
                "triggers": [{"type": "manual"}],
                "start": "call",
                "nodes": {
                    "call": {"type": "send_ivr", "ivr": definition, "next": "end"},
                    "end": {"type": "end"}
                }
            }),
        )
        .await;
        enrol(&self.app, &workflow, &[contact]).await;
    }

    /// Where the provider fetches the rendering of a pt-BR narration.
    fn media_url(&self, text: &str) -> String {
        use recado_channels::voice::speech::{cache_key, TELEPHONE_RATE};
        format!(
            "{}/voice/media/{}.wav",
            self.app.app_state.settings.public_url,
            cache_key("pt-br", TELEPHONE_RATE, text)
        )
    }
}

/// The hub's message id of a call, from the URL the hub gave the provider.
fn message_of(call: &RunnerCall) -> String {
    let path = call.url.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_string()
}

fn gather_of(document: &str) -> recado_channels::voice::twiml::Gather {
    let parsed = Response::parse(document).expect("valid TwiML");
    match parsed.verbs.as_slice() {
        [Verb::Gather(gather)] => gather.clone(),
        other => panic!("not a menu: {other:?}"),
    }
}

#[tokio::test]
async fn voice_http_an_ivr_key_that_sends_an_sms_records_the_key_then_the_sms_events_in_order() {
    let rig = rig().await.with_sms().await;
    let ana = rig.contact(PHONE).await;
    rig.app.subscribe(&ana, "sms").await;
    rig.runner.script(PHONE, Script::answer_and_press(["2"]));
    rig.ivr_call(&ana, menu()).await;
    let call = rig.play_call().await;
    let id = message_of(&call);

    assert_eq!(call.digits_sent(), ["2"]);
    assert!(call.dials().is_empty());
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    assert_eq!(
        call.plays(),
        [
            rig.media_url("Para falar com um agente, tecle 1. Para receber o código por SMS, tecle 2."),
            rig.media_url("Enviámos-lhe um SMS.")
        ]
    );
    let events = timeline(&rig.app, &ana).await;
    let wanted = [
        "VOICE_SENT",
        "VOICE_DELIVERED",
        "VOICE_KEY_PRESSED",
        "SMS_SENT",
        "SMS_DELIVERED",
    ];
    let seen: Vec<&Value> = events
        .iter()
        .filter(|e| wanted.contains(&e["type"].as_str().unwrap()))
        .collect();
    let seen_kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(seen_kinds, wanted, "{events:#?}");
    assert_eq!(seen[2]["details"]["key"], "2");
    assert_eq!(seen[2]["message_id"], id.as_str());
    let sms = rig.app.sandbox_sms();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0]["to"], PHONE);
    assert_eq!(sms[0]["text"], "O seu codigo: 1234");
}

#[tokio::test]
async fn voice_http_a_wrong_key_plays_the_wrong_key_narration_then_the_menu_again() {
    let rig = rig().await.with_sms().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::answer_and_press(["7", "2"]));
    rig.ivr_call(&ana, menu()).await;
    let call = rig.play_call().await;

    let documents = call.documents();
    let first = gather_of(&documents[0]);
    let second = gather_of(&documents[1]);
    assert!(first.action.as_deref().unwrap().ends_with("&play=1"), "{first:?}");
    assert!(second.action.as_deref().unwrap().ends_with("&play=2"), "{second:?}");
    let menu_url = rig.media_url("Para falar com um agente, tecle 1. Para receber o código por SMS, tecle 2.");
    assert_eq!(
        second.prompts,
        [
            recado_channels::voice::twiml::Prompt::Play {
                url: rig.media_url("Opção inválida.")
            },
            recado_channels::voice::twiml::Prompt::Play { url: menu_url }
        ]
    );
    let events = timeline(&rig.app, &ana).await;
    let keys: Vec<&Value> = events.iter().filter(|e| e["type"] == "VOICE_KEY_PRESSED").collect();
    assert_eq!(keys.len(), 1, "a wrong key is no key: {events:#?}");
    assert_eq!(keys[0]["details"]["key"], "2");
}

#[tokio::test]
async fn voice_http_a_transfer_key_dials_the_keys_number_with_the_calls_caller_id() {
    let rig = rig().await.with_sms().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::answer_and_press(["1"]));
    rig.ivr_call(&ana, menu()).await;
    let call = rig.play_call().await;
    let id = message_of(&call);

    let dials = call.dials();
    assert_eq!(dials.len(), 1, "{call:#?}");
    let (dial, status) = &dials[0];
    assert_eq!(dial.number, AGENT);
    assert_eq!(dial.caller_id.as_deref(), Some(CALLER_ID));
    assert_eq!(dial.action.as_deref(), Some(rig.url("dial", &id, "attempt=1").as_str()));
    assert_eq!(status, "completed");
    assert_eq!(
        call.plays().last(),
        Some(&rig.media_url("Vamos transferir a sua chamada."))
    );
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
    assert_eq!(rig.message(&id).await["status"], "delivered");
}

#[tokio::test]
async fn voice_http_silence_replays_the_menu_with_the_no_input_narration_until_its_plays_are_spent() {
    let rig = rig().await.with_sms().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::answer_silent());
    rig.ivr_call(&ana, menu()).await;
    let call = rig.play_call().await;

    // Three plays of the menu (the default), each answered by silence, then
    // goodbye.
    assert_eq!(call.digits_sent(), ["", "", ""]);
    let documents = call.documents();
    assert_eq!(documents.len(), 4, "{documents:#?}");
    let again = gather_of(&documents[1]);
    assert_eq!(
        again.prompts.first(),
        Some(&recado_channels::voice::twiml::Prompt::Play {
            url: rig.media_url("Ainda está aí?")
        })
    );
    assert!(matches!(
        Response::parse(&documents[3]).unwrap().verbs.as_slice(),
        [Verb::Hangup]
    ));
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]
    );
}

#[tokio::test]
async fn voice_http_a_key_posted_twice_for_the_same_menu_play_counts_once() {
    let rig = rig().await.with_sms().await;
    let ana = rig.contact(PHONE).await;
    rig.ivr_call(&ana, menu()).await;
    // The hub's dial is claimed but its answer lost (the provider failed):
    // the provider's requests drive the call from here, by hand.
    rig.runner
        .script(PHONE, Script::refuse(503, 20500, "Internal Server Error"));
    rig.app.run_jobs().await;
    let events = timeline(&rig.app, &ana).await;
    let queued = events.iter().find(|e| e["type"] == "VOICE_QUEUED").unwrap();
    let id = queued["message_id"].as_str().unwrap().to_string();
    let sid = "CA0123456789abcdef0123456789abcdef";
    let answered = status_callback_form(sid, "in-progress", &[]);
    let url = rig.url("status", &id, "attempt=1");
    assert_eq!(rig.runner.post_signed(&url, &answered).await.unwrap(), 204);
    let gather = rig.url("gather", &id, "attempt=1&play=1");
    let mut form = status_callback_form(sid, "in-progress", &[]);
    form.push(("Digits".into(), "2".into()));
    let mut documents = Vec::new();
    for _ in 0..2 {
        let answer = rig
            .app
            .client
            .post(&gather)
            .header("X-Twilio-Signature", signature(rig.runner.auth_token(), &gather, &form))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        documents.push(answer.text().await.unwrap());
    }
    assert_eq!(documents[0], documents[1], "the same document both times");
    let events = timeline(&rig.app, &ana).await;
    let keys = events.iter().filter(|e| e["type"] == "VOICE_KEY_PRESSED").count();
    assert_eq!(keys, 1, "{events:#?}");
}

#[tokio::test]
async fn voice_http_the_opt_out_key_unsubscribes_from_voice_then_the_call_says_goodbye() {
    let rig = rig().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::answer_and_press(["9"]));
    let definition = json!({
        "narration": narration("Tecle 9 para não receber mais chamadas."),
        "keys": {"9": {"action": "unsubscribe", "narration": narration("Não voltará a receber chamadas.")}}
    });
    rig.ivr_call(&ana, definition).await;
    let call = rig.play_call().await;

    assert_eq!(
        call.plays().last(),
        Some(&rig.media_url("Não voltará a receber chamadas."))
    );
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        [
            "VOICE_QUEUED",
            "VOICE_SENT",
            "VOICE_DELIVERED",
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED"
        ]
    );
    let history = rig
        .app
        .get(&format!("/api/v1/contacts/{ana}/subscriptions/voice/history"))
        .await;
    assert_eq!(history.body["items"][0]["status"], "unsubscribed", "{}", history.body);
    assert_eq!(history.body["items"][0]["source"], "ivr_key");
}

#[tokio::test]
async fn voice_http_a_retried_call_is_dialled_again_at_its_next_attempts_urls() {
    let rig = rig().await;
    let ana = rig.contact(PHONE).await;
    rig.runner.script(PHONE, Script::busy());
    let definition = json!({
        "narration": narration("Tecle 1."),
        "keys": {"1": {"action": "play", "narration": narration("Obrigado.")}},
        "retry": {"on": ["busy"], "max_attempts": 2, "delay_s": 60}
    });
    rig.ivr_call(&ana, definition).await;
    let first = rig.play_call().await;
    let id = message_of(&first);
    assert_eq!(rig.message(&id).await["status"], "sent", "waiting to try again");
    rig.app.clock.advance(chrono::Duration::seconds(61));
    let second = rig.play_call().await;
    assert_eq!(second.url, rig.url("twiml", &id, "attempt=2"));
    assert_eq!(
        second.status_callback.as_deref(),
        Some(rig.url("status", &id, "attempt=2").as_str())
    );
    let m = rig.message(&id).await;
    assert_eq!(m["status"], "not_delivered", "{m}");
    assert_eq!(
        m["provider_message_id"],
        first.sid.as_str(),
        "the first attempt's id stays"
    );
    let events = timeline(&rig.app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]
    );
    assert_eq!(events.last().unwrap()["details"]["attempts"], 2);
}

#[tokio::test]
async fn voice_http_a_call_whose_final_callback_was_lost_is_settled_from_the_providers_record() {
    // The hub's public URL leads nowhere: every callback of the provider is
    // lost, as when it posts while no node is up.
    let app = spawn_app_with(|s| s.public_url = format!("http://127.0.0.1:{}", free_port())).await;
    let runner = TwimlRunner::start().await;
    app.channel(
        "voice_http",
        "Calls",
        json!({"base_url": runner.base_url(), "account_sid": runner.account_sid(),
               "auth_token": runner.auth_token(), "caller_ids": [CALLER_ID]}),
    )
    .await;
    let ana = app.contact(json!({"firstname": "Ana", "mobilephone": PHONE})).await;
    app.subscribe(&ana, "voice").await;
    runner.script(PHONE, Script::busy());
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "voice", "contact_id": ana, "voice": {"narration": narration("Olá.")}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.run_jobs().await;
    let sid = runner.calls()[0].sid.clone();
    runner.finished(&sid, WAIT).await;
    let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
    assert_eq!(
        (m["status"].as_str(), m["provider_message_id"].as_str()),
        (Some("sent"), Some(sid.as_str()))
    );

    app.clock.advance(chrono::Duration::milliseconds(
        recado_app::voice::reconcile::SILENT_AFTER_MS + 1_000,
    ));
    recado_app::voice::reconcile::run(&app.app_state).await.unwrap();
    let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
    assert_eq!(
        (m["status"].as_str(), m["error"]["code"].as_str()),
        (Some("not_delivered"), Some("busy")),
        "{m}"
    );
    let events = timeline(&app, &ana).await;
    assert_eq!(
        kinds(&events, "VOICE_"),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]
    );
}
