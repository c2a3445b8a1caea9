//! The campaign pages in headless Chromium: an admin composes a broadcast
//! (the SMS meter counts as they type), estimates it, sends it, and reads its
//! campaign page — counters, chart, breakdown, recipients, CSV — then finds
//! it in the sortable list. With scripts off, the pages read the same.
//! Screenshots land in `target/screenshots/`.

use crate::browser::{tools, Browser};
use crate::common::{spawn_app_with, TestApp};
use recado::config::Secret;
use serde_json::json;

const ADMIN: &str = "admin@localhost";
const PASSWORD: &str = "campaign-admin-password";

async fn app_with_members() -> TestApp {
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    app.channel(
        "sms_sandbox",
        "SMS",
        json!({"senders": ["Recado"], "delivery_ratio": 0.8, "failure_code": "30003"}),
    )
    .await;
    for i in 0..12 {
        let id = app
            .contact(
                json!({"firstname": format!("Cliente {i}"), "city": "Recife", "mobilephone": format!("+55119{i:08}")}),
            )
            .await;
        if i < 10 {
            app.subscribe(&id, "sms").await;
        }
    }
    let r = app
        .post(
            "/api/v1/segments",
            json!({"name": "Recife", "filter": {"property": "city", "op": "eq", "value": "Recife"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app
}

#[tokio::test]
async fn an_admin_estimates_sends_and_follows_a_broadcast_on_its_campaign_page() {
    let Some((driver, chromium)) = tools() else { return };
    let app = app_with_members().await;
    let b = Browser::start(&driver, &chromium, true).await;
    let base = &app.base;
    b.sign_in(base, ADMIN, PASSWORD).await;
    b.client.set_window_size(1366, 1400).await.unwrap();

    b.click("#campaigns-link").await;
    b.wait_for("#new-broadcast").await;
    b.click("#new-broadcast").await;
    b.wait_for("#broadcast-form").await;
    let segment = app.get("/api/v1/segments").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    b.select("#segment-select", &segment).await;
    b.type_into(
        "#broadcast-text",
        "Olá {{contact.firstname}}, a feira começa amanhã! https://loja.example/feira Sair: {UNSUB_URL}",
    )
    .await;
    b.wait_for_text("GSM-7 · ").await;
    b.screenshot("campaign-01-composer-meter").await;

    b.click("#estimate-broadcast").await;
    b.wait_for("#estimate").await;
    assert_eq!(b.text_of("[data-estimate='recipients'] .value").await, "12");
    assert_eq!(b.text_of("[data-estimate='messages'] .value").await, "10");
    assert!(b.text_of("#excluded").await.contains("not_subscribed"));
    b.screenshot("campaign-02-estimate").await;

    b.click("#send-broadcast").await;
    b.wait_for("#broadcast").await;
    assert!(b.path().await.starts_with("/campaigns/cmp_"));
    app.run_jobs().await;
    b.goto(&format!("{base}{}", b.path().await)).await;
    b.wait_for("#counters").await;
    assert_eq!(b.text_of("[data-counter='recipients'] .value").await, "12");
    assert_eq!(b.text_of("[data-counter='sent'] .value").await, "10");
    assert_eq!(b.text_of("#broadcast-status").await, "done");
    assert!(b.has("#chart svg polyline.sent").await);
    assert!(b.text_of("#not-sent").await.contains("not_subscribed"));
    b.screenshot("campaign-03-page").await;

    b.select("#state-filter", "not_sent").await;
    b.click(".filters button").await;
    b.wait_for("#recipients .st-not_sent").await;
    assert!(!b.has("#recipients .st-delivered").await);
    b.screenshot("campaign-04-recipients-filtered").await;

    b.goto(&format!("{base}/campaigns?sort=delivery")).await;
    b.wait_for("#campaign-list").await;
    b.screenshot("campaign-05-list").await;
    b.close().await;

    // Without scripts the pages read the same.
    let plain = Browser::start(&driver, &chromium, false).await;
    plain.sign_in(base, ADMIN, PASSWORD).await;
    plain.goto(&format!("{base}/campaigns")).await;
    plain.wait_for("#campaign-list").await;
    assert!(plain.text_of("#campaign-list").await.contains("BROADCAST_SMS_"));
    plain.close().await;
}
