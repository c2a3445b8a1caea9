//! The workflow pages in headless Chromium with scripts off (the pages need
//! none): an admin builds a workflow in the editor by clicking, sees a
//! refusal next to the step, saves, publishes, activates and views the
//! graph, then enrols a contact from the contact page. Screenshots of every
//! workflow page land in `target/screenshots/`.

use super::ui::{journey, ADMIN, PASSWORD};
use super::{active_workflow, enrol, subscribed};
use crate::browser::{tools, Browser};
use crate::common::spawn_app_with;
use recado::config::Secret;
use serde_json::json;

#[tokio::test]
async fn an_admin_builds_publishes_and_activates_a_workflow_and_enrols_a_contact() {
    let Some((driver, chromium)) = tools() else { return };
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    app.channel(
        "sms_sandbox",
        "SMS",
        json!({"senders": ["Recado"], "delivery_ratio": 1.0}),
    )
    .await;
    app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    let ana = subscribed(&app, "+5511912345678", "Ana").await;
    let b = Browser::start(&driver, &chromium, false).await;
    let base = &app.base;
    b.sign_in(base, ADMIN, PASSWORD).await;

    b.click("#workflows-link").await;
    b.wait_for("#new-workflow").await;
    b.click("#new-workflow").await;
    b.wait_for("#workflow-editor").await;
    b.client.set_window_size(1366, 1500).await.unwrap();
    b.screenshot("workflow-01-editor-empty").await;

    // A first step sending an SMS from a sender the channel does not have.
    b.type_into("#workflow-name", "Welcome").await;
    b.type_into("input[name='s0.from']", "Nobody").await;
    b.type_into("textarea[name='s0.sms_text']", "Olá {{contact.firstname}}, bem-vinda!")
        .await;
    b.click("#add-step").await;
    b.wait_for("input[name='s1.id']").await;
    b.select("select[name='s1.type']", "end").await;
    b.select("select[name='s0.next']", "n2").await;
    b.click("#save-workflow").await;
    b.wait_for("fieldset[data-step='n1'] [data-error-for='n1']").await;
    assert!(b
        .text_of("fieldset[data-step='n1'] .field-error")
        .await
        .contains("Nobody"));
    b.screenshot("workflow-02-editor-error").await;

    // Fixed, it saves and shows the draft's graph.
    b.type_into("input[name='s0.from']", "Recado").await;
    b.click("#save-workflow").await;
    b.wait_for("#workflow-graph").await;
    let id = b.path().await.trim_start_matches("/workflows/").to_string();
    let draft = app.get(&format!("/api/v1/workflows/{id}")).await.body["draft"].clone();
    assert_eq!(draft["nodes"]["n1"]["from"], "Recado");
    assert_eq!(draft["nodes"]["n1"]["next"], "n2");
    assert_eq!(draft["nodes"]["n2"], json!({"type": "end"}));

    b.click("#publish").await;
    b.wait_for_text("Published: new runs start on this version.").await;
    b.click("#enrol-existing").await;
    b.click("#activate").await;
    b.wait_for("#pause-form").await;
    assert_eq!(b.text_of("#workflow-status").await, "active");
    assert!(b.has("#node-n1").await && b.has("#node-n2").await);
    b.screenshot("workflow-03-graph-simple").await;

    // From the contact page, Ana enters the workflow; her run is listed.
    b.goto(&format!("{base}/contacts/{ana}")).await;
    b.wait_for("#enrol-form").await;
    b.select("#enrol-workflow", &id).await;
    b.click("#enrol-button").await;
    b.wait_for("#enrol-notice").await;
    assert_eq!(b.text_of("#enrol-notice").await, "Enrolled in the workflow.");
    app.run_jobs().await;
    b.client.refresh().await.unwrap();
    b.wait_for("#contact-runs").await;
    assert!(b.text_of("#contact-runs").await.contains("Welcome"));
    b.screenshot("workflow-04-contact").await;
    let runs = app.get(&format!("/api/v1/workflows/{id}/runs")).await.body;
    assert_eq!(runs["items"][0]["contact_id"], ana.as_str());

    // A workflow with branches and counts: its graph, performance and log.
    let wf = active_workflow(&app, journey()).await;
    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511912345679"}))
        .await;
    enrol(&app, &wf, &[&ana, &bia]).await;
    app.run_jobs().await;
    b.goto(&format!("{base}/workflows")).await;
    b.wait_for("#workflow-list").await;
    b.screenshot("workflow-05-list").await;
    b.goto(&format!("{base}/workflows/{wf}")).await;
    b.wait_for("#workflow-graph").await;
    for node in ["hello", "delivered", "country", "mark", "done"] {
        assert!(b.has(&format!("#node-{node}")).await, "{node}");
    }
    b.screenshot("workflow-06-graph-journey").await;
    b.click("#tab-performance").await;
    b.wait_for("#node-performance").await;
    b.screenshot("workflow-07-performance").await;
    b.click("#tab-log").await;
    b.wait_for("#action-log").await;
    b.select("#filter-outcome", "failed").await;
    b.click("#apply-filters").await;
    b.wait_for("#filter-outcome option[value=failed][selected]").await;
    assert!(b.text_of("#action-log").await.contains("not_subscribed"));
    b.screenshot("workflow-08-log").await;
    b.click("#tab-edit").await;
    b.wait_for("#workflow-editor").await;
    b.client.set_window_size(1366, 3200).await.unwrap();
    b.screenshot("workflow-09-editor-journey").await;
    b.close().await;
}
