//! Campaigns (SPEC §7, API "Campaigns and broadcasts"): every send counts
//! in a campaign, named or by default; the counters follow what really
//! happened to each message, as it happens; rename, time series, recipients
//! and the CSV export.

use crate::common::{spawn_app, TestApp};
use chrono::Datelike;
use recado_core::clock::Clock;
use serde_json::{json, Value};

async fn sms_app(config: Value) -> (TestApp, String) {
    let app = spawn_app().await;
    let channel = app.channel("sms_sandbox", "SMS", config).await;
    (app, channel)
}

async fn subscribed(app: &TestApp, phone: &str) -> String {
    let id = app.contact(json!({"firstname": "Ana", "mobilephone": phone})).await;
    app.subscribe(&id, "sms").await;
    id
}

async fn send(app: &TestApp, contact: &str, extra: Value) -> Value {
    let mut body = json!({"channel": "sms", "contact_id": contact, "text": "Oferta da semana"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.post("/api/v1/messages", body).await;
    assert!(r.status == 202 || r.status == 409, "{} {}", r.status, r.body);
    r.body
}

/// The campaign listed under `name`.
async fn campaign_named(app: &TestApp, name: &str) -> Value {
    let r = app.get("/api/v1/campaigns").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no campaign {name}: {}", r.body))
}

async fn stats(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["stats"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_send_without_a_campaign_counts_in_the_default_campaign_of_its_source_channel_and_month() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    send(&app, &ana, json!({})).await;
    let now = app.clock.now();
    let c = campaign_named(&app, &format!("API_SMS_{}_{:02}", now.year(), now.month())).await;
    assert_eq!(
        (c["channel"].as_str(), c["source"].as_str()),
        (Some("sms"), Some("api"))
    );
    assert_eq!(c["stats"]["recipients"], 1);
}

#[tokio::test]
async fn a_send_naming_a_new_campaign_creates_it_and_later_sends_join_it() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    let bia = subscribed(&app, "+5511987654321").await;
    send(&app, &ana, json!({"campaign": "Black Friday"})).await;
    send(&app, &bia, json!({"campaign": " Black Friday "})).await;
    let r = app.get("/api/v1/campaigns").await;
    let named: Vec<&Value> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Black Friday")
        .collect();
    assert_eq!(named.len(), 1, "{}", r.body);
    assert_eq!(named[0]["stats"]["recipients"], 2);
}

#[tokio::test]
async fn counters_equal_what_happened_to_each_message() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let mut contacts = Vec::new();
    for phone in ["+5511900000001", "+5511900000002", "+5511900000003"] {
        contacts.push(subscribed(&app, phone).await);
    }
    // Not subscribed: refused, counted as not sent with its reason.
    contacts.push(app.contact(json!({"mobilephone": "+5511900000004"})).await);
    let long = "Oferta ".repeat(30);
    for c in &contacts {
        send(&app, c, json!({"campaign": "BF", "text": long})).await;
    }
    app.run_jobs().await;
    let c = campaign_named(&app, "BF").await;
    let s = stats(&app, &id(&c)).await;
    assert_eq!(
        (
            s["recipients"].as_i64(),
            s["sent"].as_i64(),
            s["not_sent"].as_i64(),
            s["delivered"].as_i64()
        ),
        (Some(4), Some(3), Some(1), Some(3)),
        "{s}"
    );
    assert_eq!(s["not_sent_by_reason"], json!({"not_subscribed": 1}));
    assert_eq!(s["parts"], 6, "two parts for each of three sends");
    assert_eq!(s["rates"]["delivery"], 1.0);
}

#[tokio::test]
async fn undelivered_sends_are_counted_by_error_code() {
    let (app, _) = sms_app(json!({"senders": ["Recado"], "delivery_ratio": 0.0, "failure_code": "30003"})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    send(&app, &ana, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    let s = stats(&app, &id(&campaign_named(&app, "BF").await)).await;
    assert_eq!((s["sent"].as_i64(), s["not_delivered"].as_i64()), (Some(1), Some(1)));
    assert_eq!(s["not_delivered_by_code"], json!({"30003": 1}));
    assert_eq!(s["rates"]["delivery"], 0.0);
}

#[tokio::test]
async fn a_rate_is_null_when_its_denominator_is_zero() {
    let app = spawn_app().await;
    let r = app
        .post("/api/v1/campaigns", json!({"name": "Natal", "channel": "sms"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["source"], "api");
    assert_eq!(
        r.body["stats"]["rates"],
        json!({"delivery": null, "click": null, "reply": null, "unsubscribe": null})
    );
}

fn short_code(text: &str) -> String {
    let link = text.split_whitespace().find(|w| w.contains("/s/")).unwrap();
    link.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn every_click_is_counted_and_each_recipient_once() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    let bia = subscribed(&app, "+5511987654321").await;
    let extra = json!({"campaign": "BF", "text": "Veja https://loja.example/bf", "shorten_urls": true});
    let a = send(&app, &ana, extra.clone()).await;
    let b = send(&app, &bia, extra).await;
    app.run_jobs().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for text in [&a["text"], &a["text"], &b["text"]] {
        let code = short_code(text.as_str().unwrap());
        let r = no_redirect.get(app.url(&format!("/s/{code}"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 302);
    }
    let s = stats(&app, &id(&campaign_named(&app, "BF").await)).await;
    assert_eq!(
        (s["clicked"].as_i64(), s["clicked_unique"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(s["rates"]["click"], 1.0, "two of two delivered clicked");
}

#[tokio::test]
async fn an_opt_out_on_the_unsubscribe_page_counts_once_for_the_campaign_of_its_message() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    let m = send(&app, &ana, json!({"campaign": "BF", "text": "Sair: {UNSUB_URL}"})).await;
    app.run_jobs().await;
    let link = m["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/u/"))
        .unwrap();
    let token = link.rsplit('/').next().unwrap();
    for _ in 0..2 {
        let r = app.client.post(app.url(&format!("/u/{token}"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let s = stats(&app, &id(&campaign_named(&app, "BF").await)).await;
    assert_eq!(s["unsubscribed"], 1, "{s}");
}

#[tokio::test]
async fn a_reply_and_a_stop_count_for_the_campaign_message_they_answer() {
    let (app, channel) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    send(&app, &ana, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    for text in ["Quero!", "Mais uma pergunta", "STOP"] {
        app.simulate(&channel, json!({"from": "+5511912345678", "text": text}))
            .await;
    }
    let s = stats(&app, &id(&campaign_named(&app, "BF").await)).await;
    assert_eq!(
        (s["replied"].as_i64(), s["unsubscribed"].as_i64()),
        (Some(1), Some(1)),
        "one recipient replied (three times) and opted out: {s}"
    );
    let recipients = app
        .get(&format!(
            "/api/v1/campaigns/{}/recipients?state=unsubscribed",
            id(&campaign_named(&app, "BF").await)
        ))
        .await;
    assert_eq!(recipients.body["items"][0]["contact_id"], ana.as_str());
    assert!(recipients.body["items"][0]["replied_at"].is_string());
}

#[tokio::test]
async fn renaming_a_campaign_keeps_its_statistics() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    send(&app, &ana, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    let c = campaign_named(&app, "BF").await;
    let r = app
        .patch(
            &format!("/api/v1/campaigns/{}", id(&c)),
            json!({"name": "Black Friday 2026"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Black Friday 2026");
    assert_eq!(r.body["stats"], c["stats"]);
    assert_eq!(r.body["stats"]["delivered"], 1);
}

#[tokio::test]
async fn a_name_taken_by_another_campaign_is_refused_with_campaign_exists() {
    let app = spawn_app().await;
    let first = app
        .post("/api/v1/campaigns", json!({"name": "Natal", "channel": "sms"}))
        .await;
    let second = app
        .post("/api/v1/campaigns", json!({"name": "Ano novo", "channel": "sms"}))
        .await;
    let again = app
        .post("/api/v1/campaigns", json!({"name": "Natal", "channel": "whatsapp"}))
        .await;
    assert_eq!((again.status, again.code()), (409, "campaign_exists"));
    let rename = app
        .patch(
            &format!("/api/v1/campaigns/{}", id(&second.body)),
            json!({"name": "Natal"}),
        )
        .await;
    assert_eq!((rename.status, rename.code()), (409, "campaign_exists"));
    assert_eq!(
        app.get(&format!("/api/v1/campaigns/{}", id(&first.body))).await.body["name"],
        "Natal"
    );
}

#[tokio::test]
async fn campaign_names_and_fields_are_validated() {
    let app = spawn_app().await;
    let blank = app
        .post("/api/v1/campaigns", json!({"name": "  ", "channel": "sms"}))
        .await;
    assert_eq!(
        (blank.status, blank.code(), blank.field()),
        (422, "invalid_campaign", "name")
    );
    let channel = app
        .post("/api/v1/campaigns", json!({"name": "X", "channel": "fax"}))
        .await;
    assert_eq!(channel.status, 422, "{}", channel.body);
    let missing = app.get("/api/v1/campaigns/cmp_nosuch").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn an_over_long_campaign_name_on_a_send_is_refused_with_invalid_campaign() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    let r = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": ana, "text": "Oi", "campaign": "x".repeat(201)}),
        )
        .await;
    assert_eq!((r.status, r.code(), r.field()), (422, "invalid_campaign", "campaign"));
}

#[tokio::test]
async fn the_series_counts_per_hour_and_per_day_in_the_workspace_time_zone() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    send(&app, &ana, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    app.clock.advance(chrono::Duration::hours(2));
    send(&app, &ana, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    let c = id(&campaign_named(&app, "BF").await);
    let hours = app.get(&format!("/api/v1/campaigns/{c}/series?bucket=hour")).await;
    let items = hours.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", hours.body);
    assert_eq!(
        (items[0]["sent"].as_i64(), items[0]["delivered"].as_i64()),
        (Some(1), Some(1))
    );
    let days = app.get(&format!("/api/v1/campaigns/{c}/series?bucket=day")).await;
    let total: i64 = days.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sent"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2);
    let bad = app.get(&format!("/api/v1/campaigns/{c}/series?bucket=week")).await;
    assert_eq!((bad.status, bad.field()), (422, "bucket"));
}

#[tokio::test]
async fn the_recipients_list_filters_by_state_and_refuses_unknown_states() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    let ana = subscribed(&app, "+5511912345678").await;
    let bia = app.contact(json!({"mobilephone": "+5511987654321"})).await;
    send(&app, &ana, json!({"campaign": "BF"})).await;
    send(&app, &bia, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    let c = id(&campaign_named(&app, "BF").await);
    let all = app.get(&format!("/api/v1/campaigns/{c}/recipients")).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let refused = app
        .get(&format!("/api/v1/campaigns/{c}/recipients?state=not_sent"))
        .await;
    let items = refused.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["contact_id"].as_str(), items[0]["reason"].as_str()),
        (Some(bia.as_str()), Some("not_subscribed"))
    );
    let delivered = app
        .get(&format!("/api/v1/campaigns/{c}/recipients?state=delivered"))
        .await;
    assert_eq!(delivered.body["items"][0]["contact_id"], ana.as_str());
    assert!(delivered.body["items"][0]["sent_at"].is_string());
    assert!(delivered.body["items"][0]["delivered_at"].is_string());
    let bad = app.get(&format!("/api/v1/campaigns/{c}/recipients?state=lost")).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_state"));
}

#[tokio::test]
async fn the_csv_export_has_one_row_per_recipient_with_the_documented_columns() {
    let (app, _) = sms_app(json!({"senders": ["Recado"]})).await;
    for i in 0..5 {
        let c = subscribed(&app, &format!("+55119000000{i:02}")).await;
        send(&app, &c, json!({"campaign": "BF"})).await;
    }
    let refused = app.contact(json!({"mobilephone": "+5511900000099"})).await;
    send(&app, &refused, json!({"campaign": "BF"})).await;
    app.run_jobs().await;
    let c = id(&campaign_named(&app, "BF").await);
    let r = app
        .client
        .get(app.url(&format!("/api/v1/campaigns/{c}/export.csv")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header.join(","),
        "contact_id,phone,message_id,state,reason,sent_at,delivered_at,clicked_at,replied_at,unsubscribed_at"
    );
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let s = stats(&app, &c).await;
    assert_eq!(records.len() as i64, s["recipients"].as_i64().unwrap());
    let delivered = records.iter().filter(|r| &r[3] == "delivered").count() as i64;
    assert_eq!(delivered, s["delivered"].as_i64().unwrap());
    let not_sent: Vec<&csv::StringRecord> = records.iter().filter(|r| &r[3] == "not_sent").collect();
    assert_eq!(not_sent.len(), 1);
    assert_eq!((&not_sent[0][1], &not_sent[0][4]), ("+5511900000099", "not_subscribed"));
}

#[tokio::test]
async fn a_campaign_of_another_workspace_is_not_found() {
    let app = spawn_app().await;
    let c = app
        .post("/api/v1/campaigns", json!({"name": "Natal", "channel": "sms"}))
        .await;
    let other = app.other_workspace("outra").await;
    let r = app.get_as(&format!("/api/v1/campaigns/{}", id(&c.body)), &other).await;
    assert_eq!(r.status, 404);
    let list = app.get_as("/api/v1/campaigns", &other).await;
    assert_eq!(list.body["items"], json!([]));
}
