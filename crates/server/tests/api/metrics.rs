//! The domain metrics of docs/operations.md on `/metrics`, and the example
//! alert rules of docs/alerts.yml: every series they name exists, and
//! promtool accepts them.

use crate::common::{spawn_app, TestApp};
use crate::workflows::{active_workflow, enrol, setup, subscribed};
use serde_json::json;
use std::path::PathBuf;

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// A workspace with a sandbox SMS channel and a contact subscribed to it.
async fn sms_app() -> (TestApp, String) {
    let app = spawn_app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.subscribe(&ana, "sms").await;
    (app, ana)
}

async fn send_sms(app: &TestApp, contact: &str) -> String {
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": contact, "text": "Pedido 1"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn each_provider_request_is_counted_by_channel_kind_and_outcome() {
    let (app, ana) = sms_app().await;
    send_sms(&app, &ana).await;
    app.run_jobs().await;
    assert_eq!(
        app.metric(r#"recado_provider_requests_total{kind="sms_sandbox",outcome="accepted"}"#)
            .await,
        Some(1.0)
    );
    assert_eq!(
        app.metric(r#"recado_provider_request_duration_seconds_count{kind="sms_sandbox"}"#)
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_counted_unreachable() {
    let app = spawn_app().await;
    let closed = crate::common::process::free_port();
    app.channel(
        "sms_http",
        "Provider",
        json!({"base_url": format!("http://127.0.0.1:{closed}"), "account_sid": "AC123",
               "auth_token": "secret-token", "senders": ["+15017122661"]}),
    )
    .await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.subscribe(&ana, "sms").await;
    send_sms(&app, &ana).await;
    app.run_jobs().await;
    assert_eq!(
        app.metric(r#"recado_provider_requests_total{kind="sms_http",outcome="unreachable"}"#)
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn messages_are_counted_by_channel_direction_and_status() {
    let (app, ana) = sms_app().await;
    send_sms(&app, &ana).await;
    app.run_jobs().await;
    let wa = app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    app.simulate(&wa, json!({"from": "+5511988887777", "name": "Bia", "text": "Oi"}))
        .await;
    for (series, expected) in [
        (r#"{channel="sms",direction="outbound",status="queued"}"#, 1.0),
        (r#"{channel="sms",direction="outbound",status="sent"}"#, 1.0),
        (r#"{channel="whatsapp",direction="inbound",status="received"}"#, 1.0),
    ] {
        let name = format!("recado_message_status_total{series}");
        assert_eq!(app.metric(&name).await, Some(expected), "{name}");
    }
}

#[tokio::test]
async fn the_intake_lag_of_provider_events_is_measured_per_job_kind() {
    let app = spawn_app().await;
    let wa = app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    app.simulate(&wa, json!({"from": "+5511988887777", "name": "Bia", "text": "Oi"}))
        .await;
    assert_eq!(
        app.metric(r#"recado_webhook_lag_seconds_count{kind="whatsapp.webhook"}"#)
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn uncertain_sends_are_gauged_per_workspace() {
    let (app, ana) = sms_app().await;
    let id = send_sms(&app, &ana).await;
    // The attempt may have reached the provider before a crash.
    app.app_state.store.mark_send_attempted(&id, 1).await.unwrap();
    app.run_jobs().await;
    let ws = app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.metric(&format!(r#"recado_messages_uncertain{{workspace="{ws}"}}"#))
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn waiting_workflow_runs_become_overdue_a_minute_after_their_wake_up_time() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "wait", "nodes": {
            "wait": {"type": "delay", "duration": "P1D", "next": "done"}, "done": {"type": "end"}}}),
    )
    .await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    assert_eq!(app.metric(r#"recado_workflow_runs{state="waiting"}"#).await, Some(1.0));
    assert_eq!(app.metric("recado_workflow_runs_overdue").await, Some(0.0));
    // No worker runs while the clock passes the wake-up time by 2 minutes.
    app.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(2));
    assert_eq!(app.metric("recado_workflow_runs_overdue").await, Some(1.0));
    assert_eq!(app.metric("recado_workflow_run_oldest_due_seconds").await, Some(120.0));
}

/// The metric names an alert expression reads (`up` is Prometheus' own).
fn names_in_alert_rules() -> Vec<String> {
    let rules = std::fs::read_to_string(repo_file("docs/alerts.yml")).unwrap();
    let mut names: Vec<String> = Vec::new();
    let mut rest = rules.as_str();
    while let Some(at) = rest.find("recado_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[tokio::test]
async fn every_series_the_alert_rules_and_operations_guide_name_is_exported() {
    let (app, ana) = sms_app().await;
    send_sms(&app, &ana).await;
    app.run_jobs().await;
    let wa = app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    app.simulate(&wa, json!({"from": "+5511988887777", "name": "Bia", "text": "Oi"}))
        .await;
    let page = app.metrics_page().await;
    let exported = |name: &str| {
        let base = name
            .strip_suffix("_bucket")
            .or_else(|| name.strip_suffix("_count"))
            .unwrap_or(name);
        page.lines()
            .any(|l| l.starts_with(&format!("# TYPE {base} ")) || l.starts_with(&format!("{name}{{")))
    };
    let from_rules = names_in_alert_rules();
    assert!(from_rules.len() >= 8, "{from_rules:?}");
    let guide = std::fs::read_to_string(repo_file("docs/operations.md")).unwrap();
    let from_guide: Vec<String> = guide
        .lines()
        .filter_map(|l| l.strip_prefix("| `recado_"))
        .map(|l| format!("recado_{}", &l[..l.find('`').unwrap()]))
        .collect();
    assert!(from_guide.len() >= 15, "{from_guide:?}");
    // Series that exist once their event happened; the rest from this session.
    let need_an_event = [
        "recado_smpp_bound",
        "recado_workflow_runs_advanced_total",
        "recado_broadcast_recipients_prepared_total",
        "recado_voice_ari_events_total",
        "recado_voice_key_seconds",
    ];
    let missing: Vec<&String> = from_rules
        .iter()
        .chain(&from_guide)
        .filter(|name| !need_an_event.contains(&name.as_str()) && !exported(name))
        .collect();
    assert!(missing.is_empty(), "not on /metrics: {missing:?}\n{page}");
}

#[test]
fn the_example_alert_rules_pass_promtool() {
    let promtool = repo_file("target/tools/promtool");
    if !promtool.exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "promtool is missing: scripts/install-promtool puts it at {}",
            promtool.display()
        );
        eprintln!("skipped: no promtool (scripts/install-promtool)");
        return;
    }
    let out = std::process::Command::new(&promtool)
        .args(["check", "rules"])
        .arg(repo_file("docs/alerts.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
