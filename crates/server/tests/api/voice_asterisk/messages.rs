//! Voice messages: answered, a key during the narration, busy, no answer,
//! and how fast a key is committed.

use super::*;

#[tokio::test]
async fn a_message_answered_is_sent_then_delivered_with_its_narration_fetched_from_the_hub() {
    let rig = rig_or_skip!("message");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen").await;
    let ana = contact(&app, "+34600000001").await;
    let fetched_before = narrations_fetched(&app).await;

    let id = call(&app, &ana, &unique_words("Hello Ana, your order is ready")).await;
    let row = ended(&app, &ws, &id).await;

    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(m.body["status"], "delivered", "{}", m.body);
    assert_eq!(m.body["from"], "+34910000000");
    assert_eq!(row.provider_call_id.as_deref(), Some(format!("{id}-1").as_str()));
    assert!(row.answered_at.is_some() && row.ended_at.is_some());
    assert!(
        narrations_fetched(&app).await > fetched_before,
        "Asterisk fetched the narration from the hub's public URL"
    );
}

#[tokio::test]
async fn a_key_pressed_during_a_message_is_recorded() {
    let rig = rig_or_skip!("message-key");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@answer-dtmf").await;
    let ana = contact(&app, "+34600000002").await;
    // Longer than the phone's two seconds before its key.
    let text = unique_words("Hello Ana. This message is long enough for you to press a key while it plays");
    let id = call(&app, &ana, &text).await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(
        kinds(&timeline),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
    assert_eq!(timeline[3]["details"]["key"], "1");
}

#[tokio::test]
async fn a_busy_phone_is_not_delivered_busy() {
    let rig = rig_or_skip!("busy");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@busy").await;
    let bea = contact(&app, "+34600000003").await;
    let id = call(&app, &bea, "Hello").await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &bea).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    assert_eq!(timeline[2]["details"]["reason"], "busy");
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(
        (m.body["status"].as_str(), m.body["error"]["code"].as_str()),
        (Some("not_delivered"), Some("busy"))
    );
}

#[tokio::test]
async fn a_phone_ringing_out_is_not_delivered_no_answer() {
    let rig = rig_or_skip!("no-answer");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@no-answer").await;
    let cai = contact(&app, "+34600000004").await;
    let id = call(&app, &cai, "Hello").await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &cai).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    assert_eq!(timeline[2]["details"]["reason"], "no_answer");
}

/// On a multi-threaded runtime, as `serve` runs the hub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_committed_within_50_ms_of_arriving() {
    let rig = rig_or_skip!("key-latency");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@answer-dtmf").await;
    let text = unique_words("Hello. This message is long enough for you to press a key while it plays");
    let mut calls = Vec::new();
    for n in 0..8 {
        let c = contact(&app, &format!("+3460000010{n}")).await;
        calls.push((call(&app, &c, &text).await, c));
    }
    for (id, _) in &calls {
        ended(&app, &ws, id).await;
    }
    for (_, c) in &calls {
        let timeline = voice_timeline(&app, c).await;
        assert!(kinds(&timeline).contains(&"VOICE_KEY_PRESSED"), "{timeline:?}");
    }
    let page = app.metrics_page().await;
    let value = |prefix: &str| -> f64 {
        page.lines()
            .find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let count = value("recado_voice_key_seconds_count");
    let within = value("recado_voice_key_seconds_bucket{le=\"0.05\"}");
    let sum = value("recado_voice_key_seconds_sum");
    eprintln!(
        "keys: {count}, within 50 ms: {within}, mean {:.1} ms, within 10 ms: {}, within 25 ms: {}",
        sum / count * 1000.0,
        value("recado_voice_key_seconds_bucket{le=\"0.01\"}"),
        value("recado_voice_key_seconds_bucket{le=\"0.025\"}"),
    );
    assert_eq!(count, calls.len() as f64);
    assert_eq!(within, count, "every key committed within 50 ms");
}
