//! How contacts enter: the signed webhook, schedules across DST, events.

use super::{active_workflow, log_of, messages_of, runs_of, setup, subscribed};
use hmac::{Hmac, Mac};
use serde_json::json;

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn confirmation() -> serde_json::Value {
    json!({
        "triggers": [{"type": "webhook", "match": ["phone", "email"], "create_contact": true}],
        "start": "confirm",
        "nodes": {
            "confirm": {"type": "send_whatsapp_template",
                        "template": {"name": "order_update", "language": "pt_BR",
                                     "parameters": {"body": ["{{contact.firstname}}", "{{trigger.data.order}}"]}},
                        "next": "done"},
            "done": {"type": "end"}
        }
    })
}

async fn webhook_workflow(app: &crate::common::TestApp) -> (String, String, String) {
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "Orders", "definition": confirmation()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let secret = r.body["webhook_secret"]
        .as_str()
        .expect("the secret is shown once")
        .to_string();
    let url = r.body["webhook_url"].as_str().unwrap().to_string();
    assert!(url.ends_with(&format!("/hooks/workflows/{id}")), "{url}");
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{id}")).await.body["webhook_secret"],
        json!(null)
    );
    app.post(&format!("/api/v1/workflows/{id}/publish"), json!({})).await;
    app.post(&format!("/api/v1/workflows/{id}/activate"), json!({})).await;
    (id, secret, url)
}

async fn call(app: &crate::common::TestApp, id: &str, body: &[u8], signature: Option<&str>) -> crate::common::Reply {
    let mut req = app
        .client
        .post(app.url(&format!("/hooks/workflows/{id}")))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("x-recado-signature", sig);
    }
    app.send(req).await
}

#[tokio::test]
async fn a_signed_webhook_enrols_the_contact_it_names_and_sends_the_template() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let (id, secret, _) = webhook_workflow(app).await;
    let body =
        serde_json::to_vec(&json!({"contact": {"phone": "+55 11 91234-5678"}, "data": {"order": "A-17"}})).unwrap();
    let r = call(app, &id, &body, Some(&sign(&secret, &body))).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.body["run_id"].as_str().unwrap().starts_with("run_"));
    app.run_jobs().await;
    let sent = messages_of(app, &ana).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "whatsapp");
    assert!(
        sent[0].2.contains("Ana") && sent[0].2.contains("A-17"),
        "trigger data fills the template: {sent:?}"
    );
    assert_eq!(runs_of(app, &id).await, vec![(ana, "completed".into(), None)]);
}

#[tokio::test]
async fn a_webhook_with_a_wrong_signature_is_401_and_enrols_no_one() {
    let s = setup(1.0).await;
    let app = &s.app;
    subscribed(app, "+5511912345678", "Ana").await;
    let (id, _, _) = webhook_workflow(app).await;
    let body = serde_json::to_vec(&json!({"contact": {"phone": "+5511912345678"}})).unwrap();
    for signature in [Some(sign("whsec_wrong", &body)), Some("sha256=zz".to_string()), None] {
        let r = call(app, &id, &body, signature.as_deref()).await;
        assert_eq!((r.status, r.code()), (401, "bad_signature"), "{}", r.body);
    }
    app.run_jobs().await;
    assert!(runs_of(app, &id).await.is_empty());
}

#[tokio::test]
async fn a_webhook_to_a_workflow_without_a_webhook_trigger_is_404() {
    let s = setup(1.0).await;
    let app = &s.app;
    let id = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "e", "nodes": {"e": {"type": "end"}}}),
    )
    .await;
    let r = call(app, &id, b"{}", Some("sha256=00")).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn a_webhook_to_a_paused_workflow_is_409_workflow_not_active() {
    let s = setup(1.0).await;
    let app = &s.app;
    let (id, secret, _) = webhook_workflow(app).await;
    let p = app.post(&format!("/api/v1/workflows/{id}/pause"), json!({})).await;
    assert_eq!(p.body["status"], "paused");
    let body = br#"{"contact": {"phone": "+5511912345678"}}"#;
    let r = call(app, &id, body, Some(&sign(&secret, body))).await;
    assert_eq!((r.status, r.code()), (409, "workflow_not_active"), "{}", r.body);
}

#[tokio::test]
async fn a_schedule_at_eight_in_madrid_fires_once_a_day_across_the_dst_change() {
    let s = setup(1.0).await;
    let app = &s.app;
    let w = app
        .patch("/api/v1/workspace", json!({"timezone": "Europe/Madrid"}))
        .await;
    assert_eq!(w.status, 200, "{}", w.body);
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let segment = app
        .post(
            "/api/v1/segments",
            json!({"name": "All", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
        )
        .await;
    // Saturday 2026-03-28, the day before Madrid moves to summer time.
    app.clock.set("2026-03-28T05:00:00Z".parse().unwrap());
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "schedule", "at": "08:00", "segment_id": segment.body["id"]}],
               "settings": {"reenrolment": "after_end"},
               "start": "send", "nodes": {
                   "send": {"type": "send_sms", "from": "Recado", "text": "Bom dia", "next": "done"},
                   "done": {"type": "end"}}}),
    )
    .await;
    // Every 30 minutes over four days, as a worker would poll.
    let mut fired_at = Vec::new();
    for _ in 0..(4 * 48) {
        app.clock.advance(chrono::Duration::minutes(30));
        let before = runs_of(app, &wf).await.len();
        app.run_jobs().await;
        if runs_of(app, &wf).await.len() > before {
            fired_at.push(recado_core::clock::Clock::now(&app.clock).to_rfc3339());
        }
    }
    // 08:00 CET is 07:00Z; 08:00 CEST is 06:00Z.
    assert_eq!(
        fired_at,
        vec![
            "2026-03-28T07:00:00+00:00",
            "2026-03-29T06:00:00+00:00",
            "2026-03-30T06:00:00+00:00",
            "2026-03-31T06:00:00+00:00",
        ]
    );
    assert_eq!(messages_of(app, &ana).await.len(), 4);
}

#[tokio::test]
async fn an_event_trigger_enrols_the_contact_the_event_happened_to() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let bia = subscribed(app, "+5511987654321", "Bia").await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "event", "event": "SMS_DELIVERED",
                             "where": {"property": "firstname", "op": "eq", "value": "ana"}}],
               "start": "thanks", "nodes": {
                   "thanks": {"type": "send_whatsapp_template", "template": {"name": "hello_world", "language": "en_US"}, "next": "done"},
                   "done": {"type": "end"}}}),
    )
    .await;
    for c in [&ana, &bia] {
        let r = app
            .post(
                "/api/v1/messages",
                json!({"channel": "sms", "contact_id": c, "text": "Pedido enviado"}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.run_jobs().await;
    let runs = runs_of(app, &wf).await;
    assert_eq!(
        runs,
        vec![(ana.clone(), "completed".into(), None)],
        "only the contact the filter admits"
    );
    assert!(log_of(app, &wf)
        .await
        .iter()
        .any(|l| l.0 == ana && l.1 == "thanks" && l.2 == "ok"));
}

#[tokio::test]
async fn the_openapi_document_describes_the_webhook_trigger_without_bearer_auth() {
    let s = setup(1.0).await;
    let r = s.app.send(s.app.client.get(s.app.url("/api/openapi.json"))).await;
    let hook = &r.body["paths"]["/hooks/workflows/{id}"]["post"];
    assert!(hook.is_object(), "missing the webhook trigger path");
    assert_eq!(hook["security"], serde_json::json!([{}]), "signed, not bearer: {hook}");
    for status in ["202", "401", "404", "409"] {
        assert!(hook["responses"][status].is_object(), "missing {status}");
    }
}
