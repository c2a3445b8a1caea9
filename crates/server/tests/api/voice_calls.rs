//! Voice messages through `POST /api/v1/messages` with the sandbox voice
//! provider, whose phones behave by the last two digits of their number:
//! consent, the call's events on the message and the timeline, outcomes
//! and their reasons, refusals with their field.

use crate::common::{spawn_app, TestApp};
use serde_json::{json, Value};

/// A voice sandbox channel and a contact subscribed to voice at `phone`.
pub async fn setup(app: &TestApp, phone: &str) -> (String, String) {
    let channel = app
        .channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
    let contact = app.contact(json!({"firstname": "Ana", "mobilephone": phone})).await;
    app.subscribe(&contact, "voice").await;
    (channel, contact)
}

pub fn narration(text: &str) -> Value {
    json!({"kind": "tts", "language": "pt-BR", "text": text})
}

async fn call(app: &TestApp, contact: &str) -> crate::common::Reply {
    app.post(
        "/api/v1/messages",
        json!({"channel": "voice", "contact_id": contact,
               "voice": {"narration": narration("Olá {{contact.firstname}}, a sua encomenda chegou.")}}),
    )
    .await
}

/// The contact's `VOICE_*` timeline entries, oldest first.
pub async fn voice_timeline(app: &TestApp, contact: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline")).await;
    let mut items: Vec<Value> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap_or("").starts_with("VOICE_"))
        .cloned()
        .collect();
    items.reverse();
    items
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_voice_message_to_a_subscribed_contact_is_sent_then_delivered() {
    let app = spawn_app().await;
    let (_, ana) = setup(&app, "+5511900000042").await;
    let r = call(&app, &ana).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["type"], "voice");
    assert_eq!(
        r.body["text"], "Olá Ana, a sua encomenda chegou.",
        "tokens filled when sent"
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(m.body["status"], "delivered", "{}", m.body);
    assert_eq!(m.body["from"], "+34910000000", "the channel's default caller id");
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
    let delivered = &timeline[2];
    assert_eq!(delivered["details"]["answered_by"], "human");
    assert_eq!(delivered["message_id"], id.as_str());
    assert_eq!(delivered["sender"], "+34910000000");
    assert_eq!(delivered["campaign"], "API_VOICE_2026_11");
    assert_eq!(
        (&delivered["details"]["duration_s"], &delivered["details"]["attempts"]),
        (&json!(0), &json!(1)),
        "an ended call's duration (the test clock stands still) and attempts"
    );
}

#[tokio::test]
async fn a_voice_message_to_a_contact_not_subscribed_to_voice_is_not_sent() {
    let app = spawn_app().await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let bea = app.contact(json!({"mobilephone": "+5511900000042"})).await;
    app.subscribe(&bea, "sms").await;
    let r = call(&app, &bea).await;
    assert_eq!((r.status, r.code()), (409, "not_subscribed"), "{}", r.body);
    app.run_jobs().await;
    let timeline = voice_timeline(&app, &bea).await;
    assert_eq!(kinds(&timeline), ["VOICE_NOT_SENT"]);
    assert_eq!(timeline[0]["details"]["reason"], "not_subscribed");
}

#[tokio::test]
async fn unanswered_calls_end_not_delivered_with_their_reason() {
    let app = spawn_app().await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    for (phone, reason) in [
        ("+5511900000001", "busy"),
        ("+5511900000002", "no_answer"),
        ("+5511900000003", "failed"),
    ] {
        let contact = app.contact(json!({"mobilephone": phone})).await;
        app.subscribe(&contact, "voice").await;
        let r = call(&app, &contact).await;
        assert_eq!(r.status, 202, "{}", r.body);
        app.run_jobs().await;
        let timeline = voice_timeline(&app, &contact).await;
        assert_eq!(
            kinds(&timeline),
            ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"],
            "{phone}"
        );
        assert_eq!(timeline[2]["details"]["reason"], reason, "{phone}");
        let m = app
            .get(&format!("/api/v1/messages/{}", r.body["id"].as_str().unwrap()))
            .await;
        assert_eq!(m.body["status"], "not_delivered");
        assert_eq!(m.body["error"]["code"], reason);
    }
}

#[tokio::test]
async fn a_voice_message_without_a_valid_narration_is_refused_with_its_field() {
    let app = spawn_app().await;
    let (_, ana) = setup(&app, "+5511900000042").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "voice", "contact_id": ana,
                   "voice": {"narration": {"kind": "tts", "language": "tlh", "text": "Qapla'"}}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_voice", "narration.language")
    );
    let r = app
        .post("/api/v1/messages", json!({"channel": "voice", "contact_id": ana}))
        .await;
    assert_eq!((r.status, r.code(), r.field()), (422, "invalid_voice", "voice"));
}

#[tokio::test]
async fn a_caller_id_the_channel_does_not_list_is_refused() {
    let app = spawn_app().await;
    let (_, ana) = setup(&app, "+5511900000042").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "voice", "contact_id": ana,
                   "voice": {"caller_id": "+34919999999", "narration": narration("Olá")}}),
        )
        .await;
    assert_eq!((r.status, r.code(), r.field()), (422, "invalid_voice", "caller_id"));
}

#[tokio::test]
async fn a_call_to_a_new_number_creates_its_contact_in_the_named_property() {
    let app = spawn_app().await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "voice", "to": "912 345 042",
                   "voice": {"country": "ES", "phone_property": "phone", "narration": narration("Hola")}}),
        )
        .await;
    // A new contact has not consented to calls yet.
    assert_eq!((r.status, r.code()), (409, "not_subscribed"), "{}", r.body);
    let contacts = app.get("/api/v1/contacts?q=912345042").await;
    let contact = &contacts.body["items"][0];
    assert_eq!(contact["properties"]["phone"], "+34912345042");
}

#[tokio::test]
async fn a_voice_channels_secret_is_never_shown() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "voice_http", "name": "Twilio voice",
                   "config": {"account_sid": "AC1", "auth_token": "voice-secret", "caller_ids": ["+34910000000"]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body.to_string().contains("voice-secret"));
    assert!(r.body["webhook_url"].as_str().unwrap().contains("/webhooks/voice/"));
    let listed = app.get("/api/v1/channels").await;
    assert!(!listed.body.to_string().contains("voice-secret"));
    assert_eq!(listed.body["items"][0]["config"]["default_caller_id"], "+34910000000");
}
