//! What each kind of step does, checked through the API: the campaign a
//! workflow send belongs to, consent changes, free-form WhatsApp and its
//! session rule, versions published while runs wait, and the outbound
//! webhook events of runs and failed actions.

use super::{active_workflow, enrol, log_of, runs_of, setup, subscribed};
use axum::routing::post;
use axum::Router;
use recado_core::clock::Clock;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// `WORKFLOW_{channel}_{YEAR}_{MONTH}` at the test clock's now.
fn month_campaign(app: &crate::common::TestApp, channel: &str) -> String {
    let now = chrono::DateTime::from_timestamp_millis(app.clock.now_ms()).unwrap();
    format!("WORKFLOW_{channel}_{}", now.format("%Y_%m"))
}

/// The campaign of each SMS queued for a contact, from its timeline.
async fn campaigns_of(app: &crate::common::TestApp, contact: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline?limit=200")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "SMS_QUEUED")
        .map(|e| e["campaign"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn a_workflow_send_without_a_campaign_belongs_to_workflow_channel_year_month() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "sms", "nodes": {
            "sms": {"type": "send_sms", "from": "Recado", "text": "Oi", "next": "named"},
            "named": {"type": "send_sms", "from": "Recado", "text": "Oi de novo", "campaign": "Black Friday", "next": "done"},
            "done": {"type": "end"}}}),
    )
    .await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    let mut campaigns = campaigns_of(app, &ana).await;
    campaigns.sort();
    assert_eq!(campaigns, vec!["Black Friday".to_string(), month_campaign(app, "SMS")]);
}

#[tokio::test]
async fn a_set_subscription_step_changes_consent_with_its_legal_basis_and_source_workflow() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "opt_in", "nodes": {
            "opt_in": {"type": "set_subscription", "channel": "sms", "status": "subscribed",
                       "legal_basis": "consent", "explanation": "asked for offers at the counter", "next": "done"},
            "done": {"type": "end"}}}),
    )
    .await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    let history = app
        .get(&format!("/api/v1/contacts/{ana}/subscriptions/sms/history"))
        .await;
    let latest = &history.body["items"][0];
    assert_eq!(latest["status"], "subscribed", "{}", history.body);
    assert_eq!(latest["legal_basis"], "consent");
    assert_eq!(latest["explanation"], "asked for offers at the counter");
    assert_eq!(latest["source"], "workflow");
}

#[tokio::test]
async fn a_set_subscription_step_without_legal_basis_is_an_invalid_workflow() {
    let s = setup(1.0).await;
    let r = s
        .app
        .post(
            "/api/v1/workflows",
            json!({"name": "Opt in", "definition": {"triggers": [{"type": "manual"}], "start": "opt_in", "nodes": {
                "opt_in": {"type": "set_subscription", "channel": "sms", "status": "subscribed", "next": "done"},
                "done": {"type": "end"}}}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_workflow", "opt_in"),
        "{}",
        r.body
    );
}

/// One free-form WhatsApp step, entered by hand.
fn whatsapp_text_workflow() -> Value {
    json!({"triggers": [{"type": "manual"}], "start": "text", "nodes": {
        "text": {"type": "send_whatsapp_text", "text": "Oi {{contact.firstname}}", "next": "done"},
        "done": {"type": "end"}}})
}

#[tokio::test]
async fn a_whatsapp_text_step_outside_an_open_session_is_refused_outside_session_window() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let wf = active_workflow(app, whatsapp_text_workflow()).await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    assert_eq!(
        runs_of(app, &wf).await,
        vec![(ana.clone(), "failed".into(), Some("outside_session_window".into()))]
    );
}

#[tokio::test]
async fn a_whatsapp_text_step_inside_the_session_is_sent() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let channels = app.get("/api/v1/channels").await.body;
    let wa = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "whatsapp_sandbox")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/channels/{wa}/simulate"),
            json!({"from": "+5511912345678", "name": "Ana", "text": "Oi"}),
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
    app.run_jobs().await;
    let wf = active_workflow(app, whatsapp_text_workflow()).await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    assert_eq!(runs_of(app, &wf).await, vec![(ana.clone(), "completed".into(), None)]);
    assert!(log_of(app, &wf)
        .await
        .contains(&(ana.clone(), "text".into(), "ok".into(), None)));
}

#[tokio::test]
async fn runs_keep_their_version_when_a_new_one_is_published_and_performance_shows_both() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let bia = subscribed(app, "+5511912345679", "Bia").await;
    let v1 = json!({"triggers": [{"type": "manual"}], "start": "pause", "nodes": {
        "pause": {"type": "delay", "duration": "P1D", "next": "done"},
        "done": {"type": "end"}}});
    let wf = active_workflow(app, v1).await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    let v2 = json!({"triggers": [{"type": "manual"}], "start": "tag", "nodes": {
        "tag": {"type": "set_property", "property": "stage", "value": "v2", "next": "done"},
        "done": {"type": "end"}}});
    let r = app
        .put(&format!("/api/v1/workflows/{wf}/draft"), json!({"definition": v2}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = app.post(&format!("/api/v1/workflows/{wf}/publish"), json!({})).await;
    assert_eq!(p.body["version"], 2, "{}", p.body);
    enrol(app, &wf, &[&bia]).await;
    app.run_jobs().await;
    let runs = app.get(&format!("/api/v1/workflows/{wf}/runs")).await.body;
    let version_of = |contact: &str| -> Value {
        runs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["contact_id"] == contact)
            .map(|r| json!([r["version"], r["status"]]))
            .unwrap()
    };
    assert_eq!(
        version_of(&ana),
        json!([1, "active"]),
        "Ana stays in her delay of version 1"
    );
    assert_eq!(version_of(&bia), json!([2, "completed"]));
    let perf = app.get(&format!("/api/v1/workflows/{wf}/performance")).await.body;
    let versions: Vec<i64> = perf["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{perf}");
    assert!(versions.contains(&1) && versions.contains(&2), "{perf}");
}

#[tokio::test]
async fn run_completions_and_failed_actions_reach_outbound_webhooks() {
    let s = setup(1.0).await;
    let app = &s.app;
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let router = Router::new().route(
        "/hook",
        post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let r = app
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["workflow.run.completed", "workflow.action.failed"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Not subscribed: the send step fails and the run ends `failed`.
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "send", "nodes": {
            "send": {"type": "send_sms", "from": "Recado", "text": "Oi", "next": "done"},
            "done": {"type": "end"}}}),
    )
    .await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    let got = got.lock().unwrap().clone();
    let of_type = |t: &str| got.iter().find(|e| e["type"] == t).cloned();
    let failed = of_type("workflow.action.failed").expect("workflow.action.failed delivered");
    assert_eq!(failed["data"]["node_id"], "send", "{failed}");
    assert_eq!(failed["data"]["reason"], "not_subscribed");
    assert_eq!(failed["data"]["contact_id"], ana.as_str());
    let completed = of_type("workflow.run.completed").expect("workflow.run.completed delivered");
    assert_eq!(completed["data"]["workflow_id"], wf.as_str(), "{completed}");
    assert_eq!(completed["data"]["status"], "failed");
    assert_eq!(completed["data"]["end_reason"], "not_subscribed");
}
