//! The workspace's monthly WhatsApp conversation limit: thresholds notified once,
//! sends stopped at 100 %, and the usage on the metrics page.

use super::setup;
use crate::common::TestApp;
use serde_json::json;

#[tokio::test]
async fn metrics_show_each_workspaces_whatsapp_usage_percent() {
    let wa = setup().await;
    let r = wa
        .app
        .put("/api/v1/whatsapp/usage/settings", json!({"monthly_limit": 5}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for i in 0..2 {
        let id = wa
            .app
            .contact(json!({"firstname": format!("C{i}"), "whatsapp_phone": format!("+55119123456{i:02}")}))
            .await;
        wa.subscribe(&id).await;
        assert_eq!(wa.send_template(&id).await.status, 202);
    }
    let ws = wa.app.get("/api/v1/workspace").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let series = format!(r#"recado_whatsapp_usage_percent{{workspace="{ws}"}}"#);
    assert_eq!(wa.app.metric(&series).await, Some(40.0), "2 of 5 conversations");
}

#[tokio::test]
async fn the_monthly_limit_notifies_each_threshold_once_and_stops_at_100_percent() {
    let wa = setup().await;
    let r = wa
        .app
        .send(
            wa.app
                .client
                .put(wa.app.url("/api/v1/whatsapp/usage/settings"))
                .bearer_auth(&wa.app.token)
                .json(&json!({"monthly_limit": 5})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Five subscribed contacts who never wrote: every template is a counted conversation.
    let mut ids = Vec::new();
    for i in 0..6 {
        let id = wa
            .app
            .contact(json!({"firstname": format!("C{i}"), "whatsapp_phone": format!("+55119123456{i:02}")}))
            .await;
        wa.subscribe(&id).await;
        ids.push(id);
    }
    for (i, id) in ids.iter().take(5).enumerate() {
        let r = wa.send_template(id).await;
        assert_eq!(r.status, 202, "send {i}: {}", r.body);
        if i == 3 {
            assert_eq!(thresholds(&wa.app).await, vec![70, 80], "4 of 5 is 80 %");
        }
    }
    assert_eq!(thresholds(&wa.app).await, vec![70, 80, 90, 95, 100]);
    let usage = wa.app.get("/api/v1/whatsapp/usage").await;
    assert_eq!(
        (
            usage.body["used"].as_u64(),
            usage.body["remaining"].as_u64(),
            usage.body["percent"].as_u64()
        ),
        (Some(5), Some(0), Some(100))
    );
    assert_eq!(usage.body["notified_thresholds"], json!([70, 80, 90, 95, 100]));

    let sixth = wa.send_template(&ids[5]).await;
    assert_eq!((sixth.status, sixth.code()), (409, "quota_exhausted"));
    assert_eq!(
        thresholds(&wa.app).await.len(),
        5,
        "each threshold is notified once per period"
    );

    // Inbound keeps flowing at 100 %.
    assert_eq!(wa.inbound_text("wamid.Q1", "ainda recebem?").await, 200);
    assert!(wa.contact().await["id"].is_string());
    wa.app.run_jobs().await;
    assert_eq!(
        wa.api
            .requests()
            .iter()
            .filter(|r| r.body["type"] == "template")
            .count(),
        5
    );
}

async fn thresholds(app: &TestApp) -> Vec<i64> {
    let n = app.get("/api/v1/notifications").await;
    let mut p: Vec<i64> = n.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["percent"].as_i64().unwrap())
        .collect();
    p.sort();
    p
}

#[tokio::test]
async fn a_template_broadcast_larger_than_the_remaining_quota_sends_up_to_it_as_its_estimate_said() {
    let wa = setup().await;
    let r = wa
        .app
        .put("/api/v1/whatsapp/usage/settings", json!({"monthly_limit": 3}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for i in 0..5 {
        let id = wa
            .app
            .contact(json!({"firstname": format!("C{i}"), "city": "Recife", "whatsapp_phone": format!("+55119123456{i:02}")}))
            .await;
        wa.subscribe(&id).await;
    }
    let segment = wa
        .app
        .post(
            "/api/v1/segments",
            json!({"name": "Recife", "filter": {"property": "city", "op": "eq", "value": "Recife"}}),
        )
        .await;
    let body = json!({"segment_id": segment.body["id"], "channel": "whatsapp",
        "template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["{{contact.firstname}}", "77"]}}});
    let estimate = wa.app.post("/api/v1/broadcasts/estimate", body.clone()).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    assert_eq!(
        (
            estimate.body["conversations"].as_u64(),
            estimate.body["quota_remaining"].as_u64(),
            estimate.body["stops_at_quota"].as_bool()
        ),
        (Some(5), Some(3), Some(true))
    );
    assert_eq!(estimate.body["excluded"], json!({"quota_exhausted": 2}));
    let b = wa.app.post("/api/v1/broadcasts", body).await;
    assert_eq!(b.status, 201, "{}", b.body);
    wa.app.run_jobs().await;
    let stats = wa
        .app
        .get(&format!(
            "/api/v1/campaigns/{}",
            b.body["campaign_id"].as_str().unwrap()
        ))
        .await
        .body["stats"]
        .clone();
    assert_eq!(
        (
            stats["recipients"].as_i64(),
            stats["sent"].as_i64(),
            stats["conversations"].as_i64()
        ),
        (Some(5), Some(3), Some(3))
    );
    assert_eq!(stats["not_sent_by_reason"], estimate.body["excluded"]);
}
