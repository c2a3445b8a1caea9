//! The settings pages in headless Chromium, as a new admin meets them: a
//! WhatsApp Cloud API number connected through the form (to a stand-in
//! Graph API), its webhook URL and verify token passing the handshake, the
//! test button showing the provider's answer and a wrong token's error; the
//! usage page at 75 %, a pack taking it to 37.5 %, and the 80 % e-mail.
//! Screenshots land in `target/screenshots/`, at desktop and phone widths.

use crate::browser::{tools, Browser};
use crate::common::cloud_api::CloudApi;
use crate::common::smtp_sink::SmtpSink;
use crate::common::{spawn_app_with, TestApp};
use recado::config::Secret;
use serde_json::json;

const ADMIN: &str = "admin@localhost";
const PASSWORD: &str = "settings-admin-password";

#[tokio::test]
async fn an_admin_connects_a_cloud_number_passes_the_handshake_and_tests_it() {
    let Some((driver, chromium)) = tools() else { return };
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    let api = CloudApi::start().await;
    api.require_access_token("EAAG-right-token");
    let b = Browser::start(&driver, &chromium, true).await;
    b.client.set_window_size(1366, 1000).await.unwrap();
    b.sign_in(&app.base, ADMIN, PASSWORD).await;

    b.click("#settings-link").await;
    b.wait_for("#channels-page").await;
    b.screenshot("settings-01-channels-empty").await;
    b.click("#connect-whatsapp_cloud").await;
    b.wait_for("#channel-form").await;
    let verify_token = b.attribute("#f-verify_token", "value").await;
    assert!(
        verify_token.len() >= 20,
        "a fresh verify token is offered: {verify_token}"
    );
    b.type_into("#f-name", "Loja Centro").await;
    b.type_into("#f-waba_id", "100000000000001").await;
    b.type_into("#f-phone_numbers", "1065000001 +1 555 000 1111").await;
    b.type_into("#f-access_token", "EAAG-wrong-token").await;
    b.type_into("#f-app_secret", "meta-app-secret").await;
    b.type_into("#f-graph_base_url", &api.base_url).await;
    b.screenshot("settings-02-connect-form").await;
    b.click("#connect-button").await;
    b.wait_for("#connected").await;
    let webhook_url = b.text_of("#webhook-url").await;
    assert_eq!(b.text_of("#verify-token").await, verify_token);
    b.screenshot("settings-03-connected").await;

    // The stand-in's side of Meta's handshake, at the URL the page gave.
    let path = webhook_url.strip_prefix("http://127.0.0.1").unwrap();
    let handshake = reqwest::get(format!(
        "{}{path}?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge=9071",
        app.base
    ))
    .await
    .unwrap();
    assert_eq!(
        (handshake.status().as_u16(), handshake.text().await.unwrap()),
        (200, "9071".to_string())
    );

    b.click("#test-button").await;
    b.wait_for("#test-result").await;
    let refused = b.text_of("#test-result").await;
    assert!(refused.contains("Invalid OAuth access token"), "{refused}");
    b.screenshot("settings-04-test-wrong-token").await;

    b.type_into("#f-access_token", "EAAG-right-token").await;
    b.click("#save-button").await;
    b.wait_for("#saved").await;
    b.click("#test-button").await;
    b.wait_for("#test-result").await;
    let answer = b.text_of("#test-result").await;
    assert!(answer.contains("Loja Stand-in") && answer.contains("GREEN"), "{answer}");
    assert!(
        !b.source().await.contains("EAAG-right-token"),
        "a secret is never shown again"
    );
    b.screenshot("settings-05-test-answer").await;

    b.click("#settings-nav a[href='/settings/channels']").await;
    b.wait_for("#channel-list").await;
    b.screenshot("settings-06-channel-list").await;
    b.client.set_window_size(360, 800).await.unwrap();
    b.screenshot("settings-07-channel-list-phone").await;
    b.close().await;
}

/// `n` contacts with WhatsApp numbers, imported in one request and
/// subscribed in one bulk change.
async fn subscribed_whatsapp_contacts(app: &TestApp, first: usize, n: usize, city: &str) {
    let mut csv = String::from("firstname,city,whatsapp_phone\n");
    for i in first..first + n {
        csv.push_str(&format!("C{i},{city},+551198{i:07}\n"));
    }
    let r = app
        .client
        .post(app.url("/api/v1/contacts/import"))
        .bearer_auth(&app.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/contacts?limit=500&cursor={c}"),
            None => "/api/v1/contacts?limit=500".to_string(),
        };
        let page = app.get(&path).await.body;
        for c in page["items"].as_array().unwrap() {
            if c["properties"]["city"] == city {
                ids.push(c["id"].as_str().unwrap().to_string());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(ids.len(), n);
    let r = app
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": ids, "channel": "whatsapp", "status": "subscribed", "legal_basis": "consent", "explanation": "opted in at the counter"}),
        )
        .await;
    assert_eq!(r.body["updated"], n, "{}", r.body);
}

/// A template broadcast to everyone in `city`, run to the end.
async fn broadcast_to(app: &TestApp, city: &str) {
    let segment = app
        .post(
            "/api/v1/segments",
            json!({"name": city, "filter": {"property": "city", "op": "eq", "value": city}}),
        )
        .await;
    assert_eq!(segment.status, 201, "{}", segment.body);
    let b = app
        .post(
            "/api/v1/broadcasts",
            json!({"segment_id": segment.body["id"], "channel": "whatsapp", "template": {"name": "hello_world", "language": "en_US"}}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.body);
    app.run_jobs().await;
}

#[tokio::test]
async fn the_usage_page_shows_75_percent_a_pack_halves_it_and_80_percent_is_emailed_once() {
    let Some((driver, chromium)) = tools() else { return };
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.admin_password = Some(Secret::new(PASSWORD));
        s.smtp = Some(recado_app::settings::SmtpSettings {
            url: Secret::new(&url),
            from: "hub@example.com".into(),
        });
    })
    .await;
    app.channel("whatsapp_sandbox", "Front desk", json!({"tier": "unlimited"}))
        .await;
    subscribed_whatsapp_contacts(&app, 0, 750, "Recife").await;
    broadcast_to(&app, "Recife").await;
    assert_eq!(app.get("/api/v1/whatsapp/usage").await.body["used"], 750);

    let b = Browser::start(&driver, &chromium, true).await;
    b.client.set_window_size(1366, 1100).await.unwrap();
    b.sign_in(&app.base, ADMIN, PASSWORD).await;
    b.goto(&format!("{}/settings/usage", app.base)).await;
    b.wait_for("#usage-page").await;
    assert_eq!(b.text_of("#usage-percent").await, "75.0 %");
    let forecast = b.text_of("#forecast").await;
    assert!(forecast.contains("the limit is reached on"), "{forecast}");
    assert!(b.text_of("#notified").await.contains("70 %"));
    b.screenshot("settings-10-usage-75").await;

    b.click("#add-packs").await;
    b.wait_for_text("Packs changed.").await;
    assert_eq!(b.text_of("#usage-percent").await, "37.5 %");
    b.screenshot("settings-11-usage-pack").await;
    b.click("#remove-pack").await;
    b.wait_for_text("Packs changed.").await;
    assert_eq!(b.text_of("#usage-percent").await, "75.0 %");

    assert!(sink.received().iter().all(|m| !m.data.contains("usage at 80 %")));
    subscribed_whatsapp_contacts(&app, 750, 50, "Olinda").await;
    broadcast_to(&app, "Olinda").await;
    app.run_jobs().await;
    b.goto(&format!("{}/settings/usage", app.base)).await;
    assert_eq!(b.text_of("#usage-percent").await, "80.0 %");
    assert!(
        b.text_of("#settings-link").await.contains('!'),
        "the settings link asks for attention"
    );
    b.screenshot("settings-12-usage-80").await;
    let at_80 = sink
        .received()
        .iter()
        .filter(|m| m.data.contains("WhatsApp usage at 80 %"))
        .count();
    assert_eq!(at_80, 1, "one e-mail at 80 %");
    b.client.set_window_size(360, 800).await.unwrap();
    b.screenshot("settings-13-usage-phone").await;
    b.close().await;
}

#[tokio::test]
async fn the_other_settings_pages_read_well_at_desktop_and_phone_widths() {
    let Some((driver, chromium)) = tools() else { return };
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    app.channel("whatsapp_sandbox", "Front desk", json!({})).await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Loja"]})).await;
    let r = app
        .post(
            "/api/v1/keywords",
            json!({"word": "SAIR", "kind": "opt_out", "language": "pt"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/unreachable", "events": ["message.status"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = Browser::start(&driver, &chromium, true).await;
    b.sign_in(&app.base, ADMIN, PASSWORD).await;
    for (page, ready, name) in [
        ("/settings/templates", "#templates-page", "settings-20-templates"),
        ("/settings/keywords", "#custom-list", "settings-21-keywords"),
        ("/settings/webhooks", "#add-endpoint", "settings-22-webhooks"),
        ("/settings/workspace", "#workspace-form", "settings-23-workspace"),
        ("/admin/users", "#add-user", "settings-24-users"),
    ] {
        b.client.set_window_size(1366, 900).await.unwrap();
        b.goto(&format!("{}{page}", app.base)).await;
        b.wait_for(ready).await;
        b.screenshot(name).await;
        b.client.set_window_size(360, 800).await.unwrap();
        b.screenshot(&format!("{name}-phone")).await;
        let overflow = b
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(0) <= 1,
            "{page} scrolls sideways at 360 px: {overflow}"
        );
    }
    b.close().await;
}
