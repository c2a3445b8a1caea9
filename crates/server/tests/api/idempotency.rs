//! `Idempotency-Key` on `POST /api/v1/messages`: the same key and body
//! within 24 h return the first response and send nothing new; another body
//! is 409 `idempotency_key_reused`; a key still being handled is 409
//! `idempotency_key_in_use`. (The WhatsApp side: `whatsapp.rs`.)

use crate::common::{spawn_app, TestApp};
use recado_store::idempotency::{Claim, Holder};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Claims `key` for `body` as node `node` would.
async fn claim(app: &TestApp, workspace: &str, key: &str, body: &[u8], node: &str) -> Claim {
    let now = app.app_state.clock.now_ms();
    let holder = Holder {
        node,
        dead_before: now - recado_app::workers::NODE_DEAD_AFTER_MS,
    };
    let hash = hex::encode(Sha256::digest(body));
    app.app_state
        .store
        .claim_idempotency(workspace, key, &hash, holder, now, 24 * 3600 * 1000)
        .await
        .unwrap()
}

async fn workspace_of(app: &TestApp) -> String {
    app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An SMS sandbox channel and a contact, subscribed when `subscribed`.
async fn setup(subscribed: bool) -> (TestApp, String) {
    let app = spawn_app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    if subscribed {
        app.subscribe(&ana, "sms").await;
    }
    (app, ana)
}

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> crate::common::Reply {
    app.send(
        app.client
            .post(app.url("/api/v1/messages"))
            .bearer_auth(&app.token)
            .header("Idempotency-Key", key)
            .json(body),
    )
    .await
}

async fn sms_timeline(app: &TestApp, contact: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline")).await;
    let mut kinds: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .filter(|k| k.starts_with("SMS_"))
        .collect();
    kinds.reverse();
    kinds
}

#[tokio::test]
async fn the_same_key_and_body_return_the_stored_response_without_a_second_message() {
    let (app, ana) = setup(true).await;
    let body = json!({"channel": "sms", "contact_id": ana, "text": "Seu pedido chegou"});
    let first = post_with_key(&app, "order-7", &body).await;
    assert_eq!(first.status, 202, "{}", first.body);
    app.run_jobs().await;
    let again = post_with_key(&app, "order-7", &body).await;
    assert_eq!(again.status, 202);
    // The stored answer, not the message as it is now (delivered).
    assert_eq!(again.body, first.body);
    assert_eq!(first.body["status"], "queued");
    app.run_jobs().await;
    assert_eq!(
        sms_timeline(&app, &ana).await,
        vec!["SMS_QUEUED", "SMS_SENT", "SMS_DELIVERED"]
    );
}

#[tokio::test]
async fn a_refused_send_repeated_with_its_key_is_refused_and_recorded_once() {
    let (app, ana) = setup(false).await;
    let body = json!({"channel": "sms", "contact_id": ana, "text": "Oferta"});
    let first = post_with_key(&app, "offer-1", &body).await;
    let again = post_with_key(&app, "offer-1", &body).await;
    assert_eq!((first.status, first.code()), (409, "not_subscribed"));
    assert_eq!((again.status, again.code()), (409, "not_subscribed"));
    assert_eq!(again.body, first.body, "the refusal as it was first sent");
    assert_eq!(sms_timeline(&app, &ana).await, vec!["SMS_NOT_SENT"]);
}

#[tokio::test]
async fn a_key_longer_than_255_characters_is_refused() {
    let (app, ana) = setup(true).await;
    let body = json!({"channel": "sms", "contact_id": ana, "text": "Oi"});
    let r = post_with_key(&app, &"k".repeat(256), &body).await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_idempotency_key", "Idempotency-Key")
    );
    assert_eq!(sms_timeline(&app, &ana).await, Vec::<String>::new());
    assert_eq!(post_with_key(&app, &"k".repeat(255), &body).await.status, 202);
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_being_handled_is_in_use() {
    let (app, ana) = setup(true).await;
    let body = serde_json::to_vec(&json!({"channel": "sms", "contact_id": ana, "text": "Oi"})).unwrap();
    let workspace = app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The first request holds the key on this running node: claimed, no
    // response stored yet.
    let claimed = claim(&app, &workspace, "slow-1", &body, &app.app_state.node.id).await;
    assert_eq!(claimed, Claim::Claimed);
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/messages"))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", "slow-1")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "idempotency_key_in_use"));
    assert_eq!(sms_timeline(&app, &ana).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_key_left_by_a_node_that_is_gone_is_taken_over_and_its_message_sent_once() {
    let (app, ana) = setup(true).await;
    let body = json!({"channel": "sms", "contact_id": ana, "text": "Oi"});
    let workspace = workspace_of(&app).await;
    // A node that crashed while handling the key: it has no heartbeat.
    let bytes = serde_json::to_vec(&body).unwrap();
    assert_eq!(
        claim(&app, &workspace, "crashed-1", &bytes, "node_gone.run1").await,
        Claim::Claimed
    );
    let retried = post_with_key(&app, "crashed-1", &body).await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    let again = post_with_key(&app, "crashed-1", &body).await;
    assert_eq!(again.body["id"], retried.body["id"]);
    assert_eq!(sms_timeline(&app, &ana).await, vec!["SMS_QUEUED"]);
}

#[tokio::test]
async fn a_send_stores_its_answer_under_its_key_in_the_transaction_that_records_it() {
    let (app, ana) = setup(true).await;
    let body = json!({"channel": "sms", "contact_id": ana, "text": "Oi"});
    let sent = post_with_key(&app, "recorded-1", &body).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let workspace = workspace_of(&app).await;
    let bytes = serde_json::to_vec(&body).unwrap();
    let Claim::Earlier(kept) = claim(&app, &workspace, "recorded-1", &bytes, "node_other.run1").await else {
        panic!("the key was free again")
    };
    assert_eq!(kept.message_id.as_deref(), sent.body["id"].as_str());
    assert_eq!(kept.status_code, 202);
    assert_eq!(serde_json::from_str::<Value>(&kept.response).unwrap(), sent.body);
}

#[tokio::test]
async fn a_key_is_forgotten_after_24_hours() {
    let (app, ana) = setup(true).await;
    let first = post_with_key(
        &app,
        "daily",
        &json!({"channel": "sms", "contact_id": ana, "text": "Dia 1"}),
    )
    .await;
    assert_eq!(first.status, 202, "{}", first.body);
    let other = json!({"channel": "sms", "contact_id": ana, "text": "Dia 2"});
    app.clock
        .advance(chrono::Duration::hours(24) - chrono::Duration::milliseconds(1));
    assert_eq!(
        post_with_key(&app, "daily", &other).await.code(),
        "idempotency_key_reused"
    );
    app.clock.advance(chrono::Duration::milliseconds(2));
    let second = post_with_key(&app, "daily", &other).await;
    assert_eq!(second.status, 202, "{}", second.body);
    assert_ne!(second.body["id"], first.body["id"]);
}

#[tokio::test]
async fn a_key_on_a_body_not_declared_as_json_is_refused_without_spending_the_key() {
    let (app, ana) = setup(true).await;
    let body = serde_json::to_vec(&json!({"channel": "sms", "contact_id": ana, "text": "Oi"})).unwrap();
    let send = |content_type: &'static str| {
        app.send(
            app.client
                .post(app.url("/api/v1/messages"))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", "typed-1")
                .header("content-type", content_type)
                .body(body.clone()),
        )
    };
    let untyped = send("text/plain").await;
    assert_eq!((untyped.status, untyped.code()), (415, "unsupported_media_type"));
    let typed = send("application/json").await;
    assert_eq!(typed.status, 202, "{}", typed.body);
}

#[tokio::test]
async fn the_same_key_in_another_workspace_is_another_request() {
    let (app, ana) = setup(true).await;
    let first = post_with_key(
        &app,
        "shared-1",
        &json!({"channel": "sms", "contact_id": ana, "text": "Oi"}),
    )
    .await;
    assert_eq!(first.status, 202, "{}", first.body);
    let other = app.other_workspace("shop").await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/messages"))
                .bearer_auth(&other)
                .header("Idempotency-Key", "shared-1")
                .json(&json!({"channel": "sms", "to": "+5511912345678", "text": "Oi"})),
        )
        .await;
    // Handled as its own request: that workspace has no SMS channel.
    assert_eq!((r.status, r.code()), (422, "no_channel"));
}
