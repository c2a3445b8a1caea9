//! A provider outage longer than a send's retries: an `sms_http` provider
//! and the WhatsApp Cloud API both answer 500 for five minutes of the hub's
//! time while sends keep being queued, then come back. The hub's clock is
//! driven by hand and its jobs run as the workers would run them.

use crate::common::cloud_api::{self, CloudApi};
use crate::common::twilio::{self, Twilio};
use crate::common::{spawn_app, TestApp};
use recado_core::clock::Clock;
use serde_json::{json, Value};
use std::collections::HashMap;

const AUTH_TOKEN: &str = "twilio-auth-token";
const OUTAGE_MS: i64 = 5 * 60_000;
/// A send is queued on each channel this often during the outage.
const SEND_EVERY_MS: i64 = 30_000;

async fn message(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// When the message's `type` event happened, in ms.
fn event_at(message: &Value, kind: &str) -> Option<i64> {
    message["events"]
        .as_array()?
        .iter()
        .find(|e| e["type"] == kind)
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str()?).ok())
        .map(|at| at.timestamp_millis())
}

/// Sends queued every 30 s of a five-minute outage of both providers, one
/// SMS and one WhatsApp template each time: none stays `queued`. A send
/// whose retries ran out during the outage is `failed` with the provider's
/// last error and was never taken by it; the others were refused while the
/// provider was down and `sent` after it came back, once.
#[tokio::test]
async fn sends_queued_during_a_five_minute_provider_outage_end_failed_with_its_last_error_or_sent_once_after_it_came_back(
) {
    let app = spawn_app().await;
    let start = app.clock.now_ms();
    let back_at = start + OUTAGE_MS;
    let twilio = Twilio::start(AUTH_TOKEN).await;
    let clock = app.clock.clone();
    twilio.refuse_while(move || clock.now_ms() < back_at);
    let cloud = CloudApi::start().await;
    let clock = app.clock.clone();
    cloud.refuse_while(move || clock.now_ms() < back_at);
    cloud.set_templates(vec![
        json!({"id": "1", "name": "order_update", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
                                    "components": [{"type": "BODY", "text": "Olá {{1}}, pedido {{2}} enviado."}]}),
    ]);
    app.channel("sms_http", "Provider", twilio.channel_config("+15017122661"))
        .await;
    app.channel("whatsapp_cloud", "Main number", json!({
        "waba_id": "WABA1", "phone_numbers": [{"phone_number_id": "1065000001", "display_phone_number": "+15550001111"}],
        "access_token": "EAAG-token", "app_secret": "app-secret", "verify_token": "verify-me",
        "graph_base_url": cloud.base_url, "graph_version": "v23.0", "tier": "unlimited"}))
        .await;
    let synced = app.post("/api/v1/whatsapp/templates/sync", json!({})).await;
    assert_eq!(synced.status, 200, "{}", synced.body);

    // Sends queued through the outage; the clock moves a second at a time
    // and due jobs run after each step, until the retries are over.
    let mut sends: Vec<(String, i64)> = Vec::new();
    let mut next_send = start;
    let mut n = 0;
    loop {
        let now = app.clock.now_ms();
        if now >= next_send && now < back_at {
            let contact = app
                .contact(json!({"firstname": "Ana", "mobilephone": format!("+55119123400{n:02}")}))
                .await;
            app.subscribe(&contact, "sms").await;
            app.subscribe(&contact, "whatsapp").await;
            for body in [
                json!({"channel": "sms", "contact_id": contact, "text": format!("Seu código é {n:04}")}),
                json!({"channel": "whatsapp", "contact_id": contact, "template": {"name": "order_update", "language": "pt_BR",
                       "parameters": {"body": ["Ana", format!("{n:04}")]}}}),
            ] {
                let r = app.post("/api/v1/messages", body).await;
                assert_eq!(r.status, 202, "{}", r.body);
                sends.push((r.body["id"].as_str().unwrap().to_string(), now));
            }
            n += 1;
            next_send += SEND_EVERY_MS;
        }
        app.run_jobs().await;
        if now > back_at + 5 * 60_000 {
            break;
        }
        app.clock.advance(chrono::Duration::seconds(1));
    }

    let mut sms_taken: HashMap<String, usize> = HashMap::new();
    for t in twilio.taken() {
        *sms_taken.entry(t.message_id.unwrap_or_default()).or_default() += 1;
    }
    let mut sms_refused: HashMap<String, usize> = HashMap::new();
    for id in twilio.refused() {
        *sms_refused.entry(id.unwrap_or_default()).or_default() += 1;
    }
    let mut wa_taken: HashMap<String, usize> = HashMap::new();
    let mut wa_refused: HashMap<String, usize> = HashMap::new();
    for r in cloud.requests().iter().filter(|r| r.path.ends_with("/messages")) {
        let id = r.body["biz_opaque_callback_data"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let counts = if r.wamid.is_some() {
            &mut wa_taken
        } else {
            &mut wa_refused
        };
        *counts.entry(id).or_default() += 1;
    }

    let mut outcomes: HashMap<(String, String), usize> = HashMap::new();
    for (id, queued_at) in &sends {
        let m = message(&app, id).await;
        let channel = m["channel"].as_str().unwrap().to_string();
        let status = m["status"].as_str().unwrap().to_string();
        let (taken, refused, outage_error) = match channel.as_str() {
            "sms" => (&sms_taken, &sms_refused, twilio::OUTAGE_ERROR),
            _ => (&wa_taken, &wa_refused, cloud_api::OUTAGE_ERROR),
        };
        let taken = taken.get(id).copied().unwrap_or(0);
        let refused = refused.get(id).copied().unwrap_or(0);
        let queued_s = (queued_at - start) / 1000;
        assert!(
            refused > 0,
            "{channel} {id} queued at {queued_s} s was never tried during the outage: {m}"
        );
        match status.as_str() {
            "failed" => {
                assert_eq!(m["error"]["code"], "provider_error", "{m}");
                let error = m["error"]["message"].as_str().unwrap_or_default();
                assert!(error.contains(outage_error), "the provider's last error is kept: {m}");
                assert_eq!(taken, 0, "{channel} {id} is failed but the provider took it: {m}");
            }
            "sent" => {
                assert_eq!(
                    taken, 1,
                    "{channel} {id} queued at {queued_s} s was taken {taken} times: {m}"
                );
                let sent_at = event_at(&m, "sent").unwrap_or_else(|| panic!("a sent event: {m}"));
                assert!(
                    sent_at >= back_at,
                    "{channel} {id} sent before the provider came back: {m}"
                );
            }
            other => panic!("{channel} {id} queued at {queued_s} s ends {other}: {m}"),
        }
        *outcomes.entry((channel, status)).or_default() += 1;
    }
    eprintln!("{} sends: {outcomes:?}", sends.len());
    for channel in ["sms", "whatsapp"] {
        for status in ["failed", "sent"] {
            assert!(
                outcomes.contains_key(&(channel.to_string(), status.to_string())),
                "no {channel} send ended {status}: the outage tested only one side ({outcomes:?})"
            );
        }
    }
}
