//! The IVR simulator through the API: each key's action, a wrong key and
//! silence played through the one call machine, and nothing dialled,
//! stored or sent.

use super::{app, ivr, play, tts, w, words};
use serde_json::json;

#[tokio::test]
async fn answering_a_simulated_call_records_sent_then_delivered_and_plays_the_menu() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer"]).await;
    assert_eq!(
        words(&entries),
        w(&["VOICE_SENT", "VOICE_DELIVERED", "play:Olá. Tecle 1, 2, 3 ou 9."])
    );
    assert_eq!(entries[1]["details"]["answered_by"], "human");
    assert_eq!(
        (last["listening"].as_bool(), last["ended"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn a_simulated_narration_is_served_as_telephone_audio() {
    let app = app().await;
    let (entries, _) = play(&app, json!({}), &["answer"]).await;
    let url = entries[2]["audio_url"].as_str().unwrap();
    let path = &url[url.find("/voice/media/").expect("a narration rendered by the hub")..];
    assert!(path.ends_with(".wav"), "{url}");
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let wav = r.bytes().await.unwrap();
    assert_eq!(&wav[..4], b"RIFF");
}

#[tokio::test]
async fn a_transfer_key_records_the_key_and_says_where_the_call_would_go() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "1"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&["VOICE_KEY_PRESSED", "play:A transferir.", "would", "hang_up"])
    );
    assert_eq!(entries[3]["details"]["key"], "1");
    assert!(entries[5]["text"].as_str().unwrap().contains("+34911222333"));
    assert_eq!(last["ended"], true);
}

#[tokio::test]
async fn an_sms_key_says_which_sms_would_go_to_the_contacts_number() {
    let app = app().await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let (entries, _) = play(&app, json!({"contact_id": ana}), &["answer", "2"]).await;
    assert_eq!(entries[2]["text"], "Olá Ana. Tecle 1, 2, 3 ou 9.");
    assert_eq!(
        words(&entries[3..]),
        w(&["VOICE_KEY_PRESSED", "would", "play:Enviámos um SMS.", "hang_up"])
    );
    let would = entries[4]["text"].as_str().unwrap();
    assert!(
        would.contains("O seu código: 1234") && would.contains("+5511912345678") && would.contains("Recado"),
        "{would}"
    );
}

#[tokio::test]
async fn the_opt_out_key_records_voice_unsubscribed_right_after_its_key() {
    let app = app().await;
    let (entries, _) = play(&app, json!({}), &["answer", "9"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED",
            "would",
            "play:Não voltará a receber chamadas.",
            "hang_up"
        ])
    );
    assert_eq!(entries[4]["details"], json!({"key": "9", "source": "ivr_key"}));
}

#[tokio::test]
async fn a_play_key_plays_its_narration_and_then_the_menu_again() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "3"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "VOICE_KEY_PRESSED",
            "play:Abrimos às nove.",
            "play:Olá. Tecle 1, 2, 3 ou 9."
        ])
    );
    assert_eq!(last["listening"], true);
}

#[tokio::test]
async fn wrong_keys_replay_the_menu_until_its_plays_run_out() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "5", "#"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "play:Opção inválida.",
            "play:Olá. Tecle 1, 2, 3 ou 9.",
            "play:Opção inválida.",
            "hang_up"
        ])
    );
    assert!(!words(&entries).contains(&"VOICE_KEY_PRESSED".to_string()));
    assert_eq!(last["ended"], true);
}

#[tokio::test]
async fn silence_plays_the_no_input_narration_until_goodbye() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "silence", "silence"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "play:Ainda está aí?",
            "play:Olá. Tecle 1, 2, 3 ou 9.",
            "play:Ainda está aí?",
            "hang_up"
        ])
    );
    assert_eq!(last["ended"], true);
}

#[tokio::test]
async fn a_simulated_call_dials_stores_and_sends_nothing() {
    let app = app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    play(&app, json!({"contact_id": ana}), &["answer", "2"]).await;
    play(&app, json!({"contact_id": ana}), &["answer", "9"]).await;
    app.run_jobs().await;
    let messages = app.get("/api/v1/messages").await;
    assert_eq!(messages.body["items"], json!([]), "{}", messages.body);
    let timeline = app.get(&format!("/api/v1/contacts/{ana}/timeline")).await;
    assert_eq!(timeline.body["items"], json!([]), "{}", timeline.body);
    assert!(app.sandbox_sms().is_empty());
}

#[tokio::test]
async fn a_simulated_voice_message_plays_once_and_hangs_up() {
    let app = app().await;
    let voice = json!({"narration": tts("O seu pedido chegou."), "caller_id": "+34910000000"});
    let r = app
        .post("/api/v1/voice/simulate", json!({"voice": voice, "press": "answer"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let entries = r.body["entries"].as_array().unwrap();
    assert_eq!(
        words(entries),
        w(&["VOICE_SENT", "VOICE_DELIVERED", "play:O seu pedido chegou.", "hang_up"])
    );
    assert_eq!(r.body["ended"], true);
}

#[tokio::test]
async fn a_key_before_the_answer_is_refused() {
    let app = app().await;
    let r = app
        .post("/api/v1/voice/simulate", json!({"ivr": ivr(), "press": "1"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "call_not_answered"), "{}", r.body);
}

#[tokio::test]
async fn a_simulated_definition_is_refused_by_the_field_at_fault() {
    let app = app().await;
    let mut bad = ivr();
    bad["keys"]["1"]["to"] = json!("911222333");
    let r = app
        .post("/api/v1/voice/simulate", json!({"ivr": bad, "press": "answer"}))
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_voice", "keys.1.to"),
        "{}",
        r.body
    );
}
