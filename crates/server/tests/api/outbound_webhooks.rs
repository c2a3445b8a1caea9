//! Outbound webhooks: signed Standard Webhooks deliveries of the hub's events,
//! retried on failure, endpoints disabled after persistent failure.

use crate::common::spawn_app;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail: Arc<Mutex<bool>>,
}

async fn start_receiver() -> (String, Receiver) {
    let r = Receiver::default();
    let state = r.clone();
    let router = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                state.got.lock().unwrap().push((headers, body));
                if *state.fail.lock().unwrap() {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, r)
}

#[tokio::test]
async fn consent_changes_and_inbound_messages_reach_endpoints_signed() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver().await;
    let r = app
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["consent.changed", "message.received"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert!(
        !app.get("/api/v1/webhooks").await.body.to_string().contains(&secret),
        "the secret is shown once"
    );

    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.put(
        &format!("/api/v1/contacts/{id}/subscriptions/sms"),
        json!({"status": "subscribed", "legal_basis": "consent", "explanation": "form"}),
    )
    .await;
    let ch = app
        .post(
            "/api/v1/channels",
            json!({"kind": "sms_sandbox", "name": "S", "config": {"senders": ["Recado"]}}),
        )
        .await;
    app.post(
        &format!("/api/v1/channels/{}/simulate", ch.body["id"].as_str().unwrap()),
        json!({"from": "+5511912345678", "text": "Oi"}),
    )
    .await;
    app.run_jobs().await;

    let got = receiver.got.lock().unwrap().clone();
    let types: Vec<String> = got
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<Value>(b).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, vec!["consent.changed", "message.received"]);
    for (headers, body) in &got {
        let id = headers["webhook-id"].to_str().unwrap();
        let ts: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        let sig = headers["webhook-signature"].to_str().unwrap();
        assert_eq!(sig, recado_app::outbound_webhooks::signature(&secret, id, ts, body));
    }
    let consent: Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(
        (consent["data"]["channel"].as_str(), consent["data"]["status"].as_str()),
        (Some("sms"), Some("subscribed"))
    );
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_with_back_off_and_disabled_after_persistent_failure() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver().await;
    *receiver.fail.lock().unwrap() = true;
    let r = app.post("/api/v1/webhooks", json!({"url": url})).await;
    let endpoint = r.body["id"].as_str().unwrap().to_string();
    app.contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let id = app.get("/api/v1/contacts").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.put(
        &format!("/api/v1/contacts/{id}/subscriptions/sms"),
        json!({"status": "subscribed", "legal_basis": "consent", "explanation": "form"}),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
    app.clock.advance(chrono::Duration::seconds(2));
    app.run_jobs().await;
    assert_eq!(receiver.got.lock().unwrap().len(), 2, "retried after its back-off");
    // Keep failing until the endpoint is switched off.
    for _ in 0..60 {
        app.put(
            &format!("/api/v1/contacts/{id}/subscriptions/sms"),
            json!({"status": "unsubscribed"}),
        )
        .await;
        app.put(
            &format!("/api/v1/contacts/{id}/subscriptions/sms"),
            json!({"status": "subscribed", "legal_basis": "consent", "explanation": "again"}),
        )
        .await;
        app.clock.advance(chrono::Duration::hours(2));
        app.run_jobs().await;
    }
    let list = app.get("/api/v1/webhooks").await;
    let e = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == endpoint.as_str())
        .unwrap()
        .clone();
    assert_eq!(e["enabled"], false, "{e}");
    assert!(e["disabled_reason"].as_str().unwrap().contains("500"));
    let before = receiver.got.lock().unwrap().len();
    app.put(
        &format!("/api/v1/contacts/{id}/subscriptions/sms"),
        json!({"status": "unsubscribed"}),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(
        receiver.got.lock().unwrap().len(),
        before,
        "a disabled endpoint gets nothing"
    );
    let r = app
        .post(&format!("/api/v1/webhooks/{endpoint}/enable"), json!({}))
        .await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn endpoints_need_an_http_url_and_known_events() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/webhooks", json!({"url": "ftp://x.example"})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_url"));
    let r = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://x.example/h", "events": ["message.exploded"]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_events"));
}
