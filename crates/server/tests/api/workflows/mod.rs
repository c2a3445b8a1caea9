//! Workflows end to end with the sandbox SMS and WhatsApp channels: drafts
//! validated on save, versions, enrolment by hand, segment, webhook and
//! schedule, sends through the API's send path, waits on delivery events and
//! clicks, exit conditions, the action log and performance.

mod actions;
mod browser;
mod contact_triggers;
mod journeys;
mod triggers;
mod ui;

use crate::common::{spawn_app, TestApp};
use serde_json::{json, Value};

pub struct Setup {
    pub app: TestApp,
}

/// A workspace with a sandbox SMS channel (sender `Recado`, the given
/// delivery ratio) and a sandbox WhatsApp account with its templates.
pub async fn setup(delivery_ratio: f64) -> Setup {
    let app = spawn_app().await;
    app.channel(
        "sms_sandbox",
        "SMS",
        json!({"senders": ["Recado"], "delivery_ratio": delivery_ratio}),
    )
    .await;
    app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    Setup { app }
}

/// A contact with a mobile number, subscribed to SMS and WhatsApp.
pub async fn subscribed(app: &TestApp, phone: &str, firstname: &str) -> String {
    let id = app.contact(json!({"firstname": firstname, "mobilephone": phone})).await;
    for channel in ["sms", "whatsapp"] {
        let r = app
            .put(
                &format!("/api/v1/contacts/{id}/subscriptions/{channel}"),
                json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    id
}

/// Creates, publishes and activates a workflow; returns its id.
pub async fn active_workflow(app: &TestApp, definition: Value) -> String {
    let r = app
        .post("/api/v1/workflows", json!({"name": "Test", "definition": definition}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let p = app.post(&format!("/api/v1/workflows/{id}/publish"), json!({})).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let a = app.post(&format!("/api/v1/workflows/{id}/activate"), json!({})).await;
    assert_eq!(
        (a.status, a.body["status"].as_str()),
        (200, Some("active")),
        "{}",
        a.body
    );
    id
}

pub async fn enrol(app: &TestApp, workflow: &str, contacts: &[&str]) -> Value {
    let r = app
        .post(
            &format!("/api/v1/workflows/{workflow}/enrolments"),
            json!({"contact_ids": contacts}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The action log of a workflow, oldest first, as `(contact, node, outcome, reason)`.
pub async fn log_of(app: &TestApp, workflow: &str) -> Vec<(String, String, String, Option<String>)> {
    let r = app.get(&format!("/api/v1/workflows/{workflow}/log?limit=500")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut lines: Vec<_> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["contact_id"].as_str().unwrap().to_string(),
                l["node_id"].as_str().unwrap().to_string(),
                l["outcome"].as_str().unwrap().to_string(),
                l["reason"].as_str().map(str::to_string),
            )
        })
        .collect();
    lines.reverse();
    lines
}

/// The runs of a workflow as `(contact, status, end_reason)`.
pub async fn runs_of(app: &TestApp, workflow: &str) -> Vec<(String, String, Option<String>)> {
    let r = app.get(&format!("/api/v1/workflows/{workflow}/runs?limit=500")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["contact_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["end_reason"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// The messages of a contact, newest first, as `(channel, status, text)`.
pub async fn messages_of(app: &TestApp, contact: &str) -> Vec<(String, String, String)> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline?limit=200")).await;
    let mut ids: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["type"] == "SMS_QUEUED"
                || e["type"] == "WHATSAPP_QUEUED"
                || e["type"].as_str().unwrap().ends_with("_NOT_SENT")
        })
        .filter_map(|e| e["message_id"].as_str().map(str::to_string))
        .collect();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let m = app.get(&format!("/api/v1/messages/{id}")).await.body;
        out.push((
            m["channel"].as_str().unwrap().to_string(),
            m["status"].as_str().unwrap().to_string(),
            m["text"].as_str().unwrap_or("").to_string(),
        ));
    }
    out
}
