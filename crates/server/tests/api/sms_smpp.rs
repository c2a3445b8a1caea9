//! An SMPP channel against an SMSC that is not our code (the npm `smpp`
//! package, see crates/channels/tests/smsc): long messages as concatenated
//! parts, receipts, MO keywords, and a dropped connection.

use crate::common::{spawn_app, TestApp};
use recado_channels::sms::testkit::{TestSmsc, SMSC_PASSWORD, SMSC_SYSTEM_ID};
use serde_json::json;
use std::time::{Duration, Instant};

async fn setup() -> Option<(TestApp, TestSmsc, String)> {
    let smsc = TestSmsc::start_or_skip(&[]).await?;
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "sms_smpp", "name": "SMSC", "config": {
            "host": "127.0.0.1", "port": smsc.smpp_port, "system_id": SMSC_SYSTEM_ID, "password": SMSC_PASSWORD,
            "senders": ["+15550001111"], "window": 10}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body.to_string().contains(SMSC_PASSWORD));
    let id = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.put(
        &format!("/api/v1/contacts/{id}/subscriptions/sms"),
        json!({"status": "subscribed", "legal_basis": "consent", "explanation": "form"}),
    )
    .await;
    Some((app, smsc, id))
}

/// Runs jobs until `done` holds (receipts and MO arrive asynchronously).
async fn until(app: &TestApp, what: &str, done: impl AsyncFn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        app.run_jobs().await;
        if done().await {
            return;
        }
        if Instant::now() >= deadline {
            let dead = app.get("/api/v1/jobs?status=dead").await;
            let queued = app.get("/api/v1/jobs?status=queued").await;
            panic!(
                "timed out waiting for {what}; dead jobs: {}; queued: {}",
                dead.body, queued.body
            );
        }
        // Retried jobs wait for their back-off: move time on.
        app.clock.advance(chrono::Duration::seconds(2));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_three_part_message_goes_out_as_three_concatenated_submits_and_the_receipts_deliver_it() {
    let Some((app, smsc, contact)) = setup().await else {
        return;
    };
    let text = "Promoção de fim de semana! ".repeat(14);
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": contact, "text": text}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["segments"], 3, "{}", r.body);
    let mid = r.body["id"].as_str().unwrap().to_string();
    until(&app, "delivery", async || {
        app.get(&format!("/api/v1/messages/{mid}")).await.body["status"] == "delivered"
    })
    .await;
    let submits = smsc.pdus_of("submit_sm").await;
    assert_eq!(submits.len(), 3, "{submits:?}");
    let timeline = app.get(&format!("/api/v1/contacts/{contact}/timeline")).await;
    let kinds: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .rev()
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.starts_with("SMS_"))
            .copied()
            .collect::<Vec<_>>(),
        vec!["SMS_QUEUED", "SMS_SENT", "SMS_DELIVERED"]
    );
}

#[tokio::test]
async fn an_mo_stop_unsubscribes_the_sender_and_a_dropped_connection_loses_no_message() {
    let Some((app, smsc, contact)) = setup().await else {
        return;
    };
    until(&app, "the bind", async || {
        smsc.stats().await["binds"].as_u64().unwrap_or(0) >= 1
    })
    .await;
    assert!(
        smsc.send_mo(json!({"from": "+5511912345678", "to": "+15550001111", "text": "STOP"}))
            .await
    );
    until(&app, "the opt-out", async || {
        app.get(&format!("/api/v1/contacts/{contact}/subscriptions")).await.body["sms"]["status"] == "unsubscribed"
    })
    .await;
    let subs = app.get(&format!("/api/v1/contacts/{contact}/subscriptions")).await;
    assert_eq!(subs.body["sms"]["source"], "keyword");

    app.put(
        &format!("/api/v1/contacts/{contact}/subscriptions/sms"),
        json!({"status": "subscribed", "legal_basis": "consent", "explanation": "asked again"}),
    )
    .await;
    assert!(smsc.drop_connections().await >= 1);
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": contact, "text": "after the drop"}),
        )
        .await;
    let mid = r.body["id"].as_str().unwrap().to_string();
    until(&app, "delivery after reconnecting", async || {
        let status = app.get(&format!("/api/v1/messages/{mid}")).await.body["status"]
            .as_str()
            .unwrap_or("")
            .to_string();
        status == "delivered"
    })
    .await;
    assert!(
        smsc.stats().await["binds"].as_u64().unwrap() >= 2,
        "the session bound again"
    );
}

#[tokio::test]
async fn metrics_show_the_smpp_bind_of_a_channel() {
    let Some((app, _smsc, _contact)) = setup().await else {
        return;
    };
    let channels = app.get("/api/v1/channels").await;
    let channel = channels.body["items"][0]["id"].as_str().unwrap().to_string();
    let series = format!(r#"recado_smpp_bound{{channel="{channel}"}}"#);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.metric(&series).await != Some(1.0) {
        assert!(Instant::now() < deadline, "the channel was not reported bound");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
