//! The contacts pages in headless Chromium: a CSV with good and bad lines
//! imported through the page (preview, mapping, report), three of the new
//! contacts ticked and subscribed to SMS in bulk; then an agent sends an
//! SMS from a contact's page while the meter counts, and finds it on the
//! timeline. Screenshots land in `target/screenshots/`.

use crate::browser::{tools, Browser};
use crate::common::spawn_app_with;
use recado::config::Secret;
use serde_json::json;

const ADMIN: &str = "admin@localhost";
const PASSWORD: &str = "contacts-admin-password";
const AGENT: &str = "agent@example.com";
const AGENT_PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn an_admin_imports_a_csv_and_subscribes_three_of_its_contacts_in_bulk() {
    let Some((driver, chromium)) = tools() else { return };
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    let b = Browser::start(&driver, &chromium, true).await;
    b.client.set_window_size(1366, 1000).await.unwrap();
    b.sign_in(&app.base, ADMIN, PASSWORD).await;
    b.click("#contacts-link").await;
    b.click("#import-link").await;
    b.wait_for("#import-form").await;
    b.type_into(
        "#csv-text",
        "Nome,Sobrenome,Celular,E-mail\nAna,Souza,+5511912345678,ana@example.com\nBia,Lima,123,bia@example.com\nCaio,Reis,+5511912345670,caio@example.com\nDani,Alves,+5511912345671,dani@example.com\n",
    )
    .await;
    b.screenshot("contacts-01-import-text").await;
    b.click("#preview-button").await;
    b.wait_for("#preview-table").await;
    b.select("#map-0", "firstname").await;
    b.select("#map-1", "lastname").await;
    b.select("#map-2", "mobilephone").await;
    b.screenshot("contacts-02-import-mapping").await;
    b.click("#import-button").await;
    b.wait_for("#import-report").await;
    assert_eq!(b.text_of("#report-created").await, "3");
    assert_eq!(b.text_of("#report-failed").await, "1");
    assert!(
        b.text_of("#report-errors").await.contains('3'),
        "line 3 of the file is reported"
    );
    b.screenshot("contacts-03-import-report").await;

    b.click("#to-contacts").await;
    b.wait_for("#contact-list").await;
    let ticked = b
        .client
        .find_all(fantoccini::Locator::Css("#contact-list input[name=id]"))
        .await
        .unwrap();
    assert_eq!(ticked.len(), 3, "the good lines are in the list");
    for t in &ticked {
        t.click().await.unwrap();
    }
    b.select("#bulk-basis", "consent").await;
    b.type_into("#bulk-explanation", "agreed on the paper form at the fair")
        .await;
    b.screenshot("contacts-04-bulk").await;
    b.click("#bulk-subscription").await;
    b.wait_for_text("Consent changed for 3 contact(s).").await;
    b.screenshot("contacts-05-bulk-done").await;
    let contacts = app.get("/api/v1/contacts").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    for c in &contacts {
        let h = app
            .get(&format!(
                "/api/v1/contacts/{}/subscriptions/sms/history",
                c["id"].as_str().unwrap()
            ))
            .await
            .body;
        assert_eq!(
            (h["items"][0]["source"].as_str(), h["items"][0]["legal_basis"].as_str()),
            (Some("bulk"), Some("consent"))
        );
    }
    b.client.set_window_size(360, 800).await.unwrap();
    b.screenshot("contacts-06-list-phone").await;
    b.close().await;
}

#[tokio::test]
async fn an_agent_sends_an_sms_from_a_contact_page_with_the_meter_and_sees_it_on_the_timeline() {
    let Some((driver, chromium)) = tools() else { return };
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": AGENT, "name": "Marta", "password": AGENT_PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201);
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Loja"]})).await;
    let id = app
        .contact(json!({"firstname": "Ana", "lastname": "Souza", "mobilephone": "+5511912345678"}))
        .await;
    app.subscribe(&id, "sms").await;
    let b = Browser::start(&driver, &chromium, true).await;
    b.client.set_window_size(1366, 1300).await.unwrap();
    b.sign_in(&app.base, AGENT, AGENT_PASSWORD).await;
    b.goto(&format!("{}/contacts/{id}", app.base)).await;
    b.wait_for("#sms-form").await;
    let text = "Olá {{contact.firstname}}, seu pedido saiu: https://loja.example/pedidos/4521";
    b.type_into("#sms-text", text).await;
    b.wait_for_text("GSM-7 · 1 part").await;
    let meter = b.text_of("#sms-meter").await;
    let analysis = app
        .post(
            "/api/v1/sms/analyze",
            json!({"text": "Olá Ana, seu pedido saiu: https://loja.example/pedidos/4521"}),
        )
        .await
        .body;
    assert!(
        meter.contains(&format!("{} characters left", analysis["remaining_in_segment"])),
        "{meter} vs {analysis}"
    );
    assert!(meter.contains("replaced á→a"), "{meter}");
    b.screenshot("contacts-10-sms-meter").await;
    b.click("#send-sms").await;
    b.wait_for("#sms-notice").await;
    app.run_jobs().await;
    b.goto(&format!("{}/contacts/{id}", app.base)).await;
    b.wait_for("#contact-timeline").await;
    let timeline = b.text_of("#contact-timeline").await;
    use recado_core::clock::Clock;
    let campaign = format!("CRM_SMS_{}", app.clock.now().format("%Y_%m"));
    assert!(
        timeline.contains("SMS_SENT") && timeline.contains("SMS_DELIVERED") && timeline.contains(&campaign),
        "{timeline}"
    );
    b.screenshot("contacts-11-timeline").await;
    b.client.set_window_size(360, 800).await.unwrap();
    b.screenshot("contacts-12-contact-phone").await;
    b.close().await;
}
