//! Voice through the API: narrations previewed as a contact would hear them.

use crate::common::spawn_app;
use recado_channels::voice::speech::{wav_facts, TELEPHONE_RATE};
use serde_json::{json, Value};

async fn preview(app: &crate::common::TestApp, body: Value) -> (u16, Option<String>, Vec<u8>) {
    let r = app
        .client
        .post(app.url("/api/v1/voice/preview"))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, kind, r.bytes().await.unwrap().to_vec())
}

fn tts(text: &str) -> Value {
    json!({"kind": "tts", "language": "pt-BR", "text": text})
}

#[tokio::test]
async fn a_preview_speaks_the_narration_with_the_contacts_tokens_filled() {
    let app = spawn_app().await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let (status, kind, wav) = preview(
        &app,
        json!({"narration": tts("Olá {{contact.firstname}}, o seu pedido chegou."), "contact_id": ana}),
    )
    .await;
    assert_eq!((status, kind.as_deref()), (200, Some("audio/wav")));
    let (rate, ms) = wav_facts(&wav).expect("a WAV file");
    assert_eq!(rate, TELEPHONE_RATE);
    assert!(ms > 1_000, "{ms} ms");
    let (_, _, literal) = preview(&app, json!({"narration": tts("Olá Ana, o seu pedido chegou.")})).await;
    assert_eq!(wav, literal, "the same words as the text with the name written in");
    let (_, _, unnamed) = preview(
        &app,
        json!({"narration": tts("Olá {{contact.firstname}}, o seu pedido chegou.")}),
    )
    .await;
    assert_ne!(wav, unnamed, "without a contact the token is left out");
}

#[tokio::test]
async fn a_narration_in_a_language_no_voice_speaks_is_refused_with_its_field() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/voice/preview",
            json!({"narration": {"kind": "tts", "language": "tlh", "text": "Qapla'"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_voice", "narration.language")
    );
}

#[tokio::test]
async fn a_preview_names_only_a_contact_of_the_callers_workspace() {
    let app = spawn_app().await;
    let other = app.other_workspace("other").await;
    let theirs = app
        .post_as("/api/v1/contacts", json!({"properties": {"firstname": "Bia"}}), &other)
        .await;
    let r = app
        .post(
            "/api/v1/voice/preview",
            json!({"narration": tts("Olá"), "contact_id": theirs.body["id"]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}
