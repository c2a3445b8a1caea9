//! IVR calls over `voice_http`, sent by a workflow's `send_ivr`: a key that
//! sends an SMS, a wrong key, a transfer, silence, a key posted twice for
//! one menu play, the opt-out key, and a call retried at its next
//! attempt's URLs.

use super::{gather_of, kinds, menu, message_of, narration, rig, timeline, AGENT, CALLER_ID, PHONE};
use recado_channels::voice::twiml::testkit::{status_callback_form, HungUpBy, Script};
use recado_channels::voice::twiml::{signature, Response, Verb};
use serde_json::{json, Value};

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
