//! WhatsApp sends left `uncertain` by a crash: the first status WhatsApp
//! posts settles them (it echoes the hub's id); one that never gets a status
//! was never taken and ends `failed`, never sent again.

use crate::common::cloud_api::CloudApi;
use crate::common::{spawn_app, TestApp};
use recado_channels::whatsapp::testkit;
use recado_channels::whatsapp::webhook::ProviderStatus;
use recado_core::clock::Clock;
use serde_json::json;

const APP_SECRET: &str = "app-secret";
const PHONE_ID: &str = "1065000001";

/// A WhatsApp channel on a stand-in Cloud API, and a template send to a
/// subscribed contact whose attempt was marked before the node died: the
/// app, the stand-in, the channel and the message.
async fn interrupted_send() -> (TestApp, CloudApi, String, String) {
    let app = spawn_app().await;
    let api = CloudApi::start().await;
    api.set_templates(vec![
        json!({"id": "1", "name": "order_update", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
                                  "components": [{"type": "BODY", "text": "Olá {{1}}, pedido {{2}} enviado."}]}),
    ]);
    let channel = app
        .channel("whatsapp_cloud", "Main number", json!({
            "waba_id": "WABA1", "phone_numbers": [{"phone_number_id": PHONE_ID, "display_phone_number": "+15550001111"}],
            "access_token": "EAAG-token", "app_secret": APP_SECRET, "verify_token": "verify-me",
            "graph_base_url": api.base_url, "graph_version": "v23.0", "tier": "unlimited"}))
        .await;
    let synced = app.post("/api/v1/whatsapp/templates/sync", json!({})).await;
    assert_eq!(synced.status, 200, "{}", synced.body);
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.subscribe(&ana, "whatsapp").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "whatsapp", "contact_id": ana, "template": {"name": "order_update",
               "language": "pt_BR", "parameters": {"body": ["Ana", "4521"]}}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    // The attempt was marked, then the node died before the request left.
    let attempted_at = app.clock.now_ms();
    app.app_state
        .store
        .mark_send_attempted(&id, attempted_at)
        .await
        .unwrap();
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
    assert_eq!(m["status"], "uncertain", "{m}");
    (app, api, channel, id)
}

#[tokio::test]
async fn an_uncertain_whatsapp_send_that_no_status_settles_ends_failed_ten_minutes_after_its_attempt() {
    let (app, api, _, id) = interrupted_send().await;
    let url = format!("/api/v1/messages/{id}");
    app.clock.advance(chrono::Duration::minutes(3));
    let early = recado_app::whatsapp::reconcile::run(&app.app_state).await.unwrap();
    assert_eq!(early, 0, "too early to give up");
    assert_eq!(app.get(&url).await.body["status"], "uncertain");
    app.clock.advance(chrono::Duration::minutes(8));
    let late = recado_app::whatsapp::reconcile::run(&app.app_state).await.unwrap();
    assert_eq!(late, 1);
    let m = app.get(&url).await.body;
    assert_eq!(
        (m["status"].as_str(), m["error"]["code"].as_str()),
        (Some("failed"), Some("provider_has_no_record")),
        "{m}"
    );
    app.run_jobs().await;
    assert!(
        api.requests().iter().all(|r| !r.path.ends_with("/messages")),
        "never sent"
    );
}

#[tokio::test]
async fn a_status_that_comes_after_an_uncertain_whatsapp_send_ended_failed_still_settles_it() {
    let (app, _api, channel, id) = interrupted_send().await;
    app.clock.advance(chrono::Duration::minutes(11));
    recado_app::whatsapp::reconcile::run(&app.app_state).await.unwrap();
    // WhatsApp's webhooks were held up: its statuses come late.
    let ts = app.clock.now_ms() / 1000;
    let body = testkit::status(PHONE_ID, "wamid.late", ProviderStatus::Delivered, ts, Some(&id), &[]);
    let (body, signature) = testkit::signed(APP_SECRET.as_bytes(), body);
    let r = app
        .post_webhook(&format!("/webhooks/whatsapp/{channel}"), body, Some(&signature))
        .await;
    assert_eq!(r.status, 200);
    app.run_jobs().await;
    let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
    assert_eq!(
        (m["status"].as_str(), m["provider_message_id"].as_str()),
        (Some("delivered"), Some("wamid.late")),
        "{m}"
    );
}
