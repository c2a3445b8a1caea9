//! The voice pages in headless Chromium: the simulator, the editor's Listen
//! button, a voice channel connected, the contact page and the campaign
//! page, with screenshots at desktop and phone widths.

use super::{app, ivr_workflow, voice_contact, ADMIN, PASSWORD};
use crate::browser::{tools, Browser};
use crate::common::TestApp;
use serde_json::json;

const PHONE: (u32, u32) = (360, 760);

async fn browser(app: &TestApp, javascript: bool) -> Option<Browser> {
    let (driver, chromium) = tools()?;
    let b = Browser::start(&driver, &chromium, javascript).await;
    b.client.set_window_size(1366, 1000).await.unwrap();
    b.sign_in(&app.base, ADMIN, PASSWORD).await;
    Some(b)
}

/// Screenshots at desktop and phone widths, `at` scrolled to the top.
async fn both_widths(b: &Browser, name: &str, height: u32, at: &str) {
    let scroll = format!("const e = document.querySelector({at:?}); if (e) e.scrollIntoView();");
    b.client.set_window_size(1366, height).await.unwrap();
    b.client.execute(&scroll, vec![]).await.unwrap();
    b.screenshot(&format!("{name}-desktop")).await;
    b.client
        .set_window_size(PHONE.0, PHONE.1.max(height.min(1600)))
        .await
        .unwrap();
    b.client.execute(&scroll, vec![]).await.unwrap();
    b.screenshot(&format!("{name}-phone")).await;
    b.client.set_window_size(1366, 1000).await.unwrap();
}

/// Waits until `script` (a JavaScript expression) is true in the page.
async fn until(b: &Browser, script: &str) {
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    loop {
        let v = b
            .client
            .execute(&format!("return !!({script});"), vec![])
            .await
            .unwrap();
        if v == json!(true) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never true: {script}");
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}

#[tokio::test]
async fn the_simulator_in_the_browser_plays_the_menu_and_logs_each_key() {
    let app = app().await;
    let Some(b) = browser(&app, true).await else { return };
    b.goto(&format!("{}/voice/simulator", app.base)).await;
    b.wait_for("#answer").await;
    b.click("#answer").await;
    b.wait_for_text("<code>VOICE_DELIVERED</code>").await;
    // The menu's narration is loaded and starts playing by itself.
    until(
        &b,
        "[...document.querySelectorAll('#sim-log audio')].some(a => a.currentTime > 0 || !a.paused)",
    )
    .await;
    b.click("#key-3").await;
    b.wait_for_text("key: 3").await;
    b.click("#key-hash").await;
    b.wait_for_text("The contact presses #.").await;
    b.wait_for_text("Plays the wrong-key narration").await;
    let log = b.text_of("#sim-log").await;
    assert!(
        log.contains("VOICE_KEY_PRESSED") && log.contains("Plays key 3's narration"),
        "{log}"
    );
    both_widths(&b, "voice-simulator", 1300, "main").await;
    b.click("#key-9").await;
    b.wait_for_text("VOICE_UNSUBSCRIBED").await;
    b.wait_for("#key-1[disabled]").await;
    b.close().await;
}

#[tokio::test]
async fn the_editor_in_the_browser_listens_to_a_keys_narration() {
    let app = app().await;
    let id = ivr_workflow(&app).await;
    let Some(b) = browser(&app, true).await else { return };
    b.goto(&format!("{}/workflows/{id}/edit", app.base)).await;
    b.wait_for("#step-0").await;
    b.click("[data-narration='s0.v.keys.3.narration'] button[data-listen]")
        .await;
    until(
        &b,
        "document.querySelector(\"[data-narration='s0.v.keys.3.narration'] audio.listen-player\").src.includes('/voice/media/')",
    )
    .await;
    both_widths(&b, "voice-editor-ivr-step", 3400, "#step-0").await;
    // The workflow's page shows the call in its graph, with a way to try it.
    b.goto(&format!("{}/workflows/{id}", app.base)).await;
    b.wait_for("#node-call[data-type='send_ivr']").await;
    both_widths(&b, "voice-workflow-graph", 900, "main").await;
    b.click("#try-call").await;
    b.wait_for("#simulator").await;
    assert!(b.text_of("#simulator-back").await.contains("IVR"));
    b.close().await;
}

#[tokio::test]
async fn a_voice_channel_is_connected_in_the_browser() {
    let app = app().await;
    let Some(b) = browser(&app, false).await else { return };
    b.goto(&format!("{}/settings/channels", app.base)).await;
    b.click("#connect-voice_asterisk").await;
    b.wait_for("#channel-form").await;
    b.type_into("#f-name", "Central PBX").await;
    b.type_into("#f-ari_url", "http://127.0.0.1:8088/ari").await;
    b.type_into("#f-ari_user", "recado").await;
    b.type_into("#f-ari_password", "ari-secret").await;
    b.type_into("#f-dial_template", "PJSIP/trunk").await;
    b.type_into("#f-caller_ids", "+34910000000").await;
    b.click("#connect-button").await;
    b.wait_for("#e-dial_template").await;
    both_widths(&b, "voice-channel-form-error", 1500, "main").await;
    b.type_into("#f-ari_password", "ari-secret").await;
    b.type_into("#f-dial_template", "PJSIP/{number}@trunk").await;
    b.click("#connect-button").await;
    b.wait_for("#connected").await;
    assert!(b.text_of("#channel-page .hint").await.contains("+34910000000"));
    both_widths(&b, "voice-channel-connected", 1400, "main").await;
    b.close().await;
}

#[tokio::test]
async fn the_contact_page_in_the_browser_listens_and_sends_a_voice_message() {
    let app = app().await;
    // The sandbox phone …12 answers and presses 2.
    let ana = voice_contact(&app, "+5511900000012").await;
    let Some(b) = browser(&app, true).await else { return };
    b.goto(&format!("{}/contacts/{ana}#voice", app.base)).await;
    b.wait_for("#voice-form").await;
    b.type_into(
        "#voice-form textarea[name='narration.text']",
        "Olá {{contact.firstname}}, o seu pedido chegou.",
    )
    .await;
    b.select("#voice-caller-id", "+34910000001").await;
    b.click("#voice-form button[data-listen]").await;
    until(
        &b,
        "document.querySelector('#voice-form audio.listen-player').src.includes('/voice/media/')",
    )
    .await;
    both_widths(&b, "voice-contact-form", 1000, "#voice").await;
    b.click("#send-voice").await;
    b.wait_for("#voice-notice").await;
    assert!(b.text_of("#voice-notice").await.contains("queued"));
    app.run_jobs().await;
    b.client.refresh().await.unwrap();
    b.wait_for("#contact-timeline tr[data-kind='VOICE_KEY_PRESSED'][data-key='2']")
        .await;
    both_widths(&b, "voice-contact-timeline", 1000, "#timeline-panel").await;
    b.close().await;
}

#[tokio::test]
async fn the_campaign_page_in_the_browser_lists_the_keys_pressed_in_its_calls() {
    let app = app().await;
    // Sandbox phones …12 and …19 answer and press 2 and 9.
    let two = voice_contact(&app, "+5511900000012").await;
    for (contact, phone) in [(two.clone(), None), (String::new(), Some("+5511900000019"))] {
        let contact = match phone {
            None => contact,
            Some(phone) => {
                let id = app.contact(json!({"firstname": "Rui", "mobilephone": phone})).await;
                app.subscribe(&id, "voice").await;
                id
            }
        };
        let r = app
            .post(
                "/api/v1/messages",
                json!({"channel": "voice", "contact_id": contact, "campaign": "Recall",
                       "voice": {"narration": {"kind": "tts", "language": "pt-BR", "text": "Tecle 2 para confirmar."}}}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.run_jobs().await;
    let campaigns = app.get("/api/v1/campaigns?channel=voice").await;
    let id = campaigns.body["items"][0]["id"].as_str().unwrap().to_string();
    let Some(b) = browser(&app, false).await else { return };
    b.goto(&format!("{}/campaigns/{id}", app.base)).await;
    b.wait_for("#keys-pressed tr[data-key='2']").await;
    assert_eq!(b.text_of("#keys-pressed tr[data-key='9'] td.num").await, "1");
    both_widths(&b, "voice-campaign-keys", 1100, "#keys-pressed").await;
    both_widths(&b, "voice-campaign-chart", 1100, "svg.chart").await;
    b.close().await;
}
