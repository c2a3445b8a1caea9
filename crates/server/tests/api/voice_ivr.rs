//! IVR calls sent from workflows through the sandbox voice provider (whose
//! phone `…1d` presses key `d` after the menu, `…01` is busy): the key's
//! SMS, the opt-out key, a wrong key, retries, and workflow branches on the
//! call's events.

use crate::common::web::Web;
use crate::common::{spawn_app, spawn_app_with, TestApp};
use crate::voice_calls::narration;
use crate::workflows::{active_workflow, enrol};
use serde_json::{json, Value};

/// Sandbox SMS and voice channels.
async fn channels(app: &TestApp) {
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
}

/// A contact at `phone` subscribed to voice (and not to SMS).
async fn callee(app: &TestApp, phone: &str) -> String {
    let id = app.contact(json!({"firstname": "Ana", "mobilephone": phone})).await;
    app.subscribe(&id, "voice").await;
    id
}

fn ivr() -> Value {
    json!({
        "narration": narration("Olá {{contact.firstname}}. Tecle 2 para receber o código, 9 para não receber mais chamadas."),
        "keys": {
            "1": {"action": "transfer", "to": "+34911222333", "narration": narration("A transferir.")},
            "2": {"action": "send_sms", "sender": "Recado", "text": "Your code: 1234",
                  "narration": narration("Enviámos um SMS."), "then": "hangup"},
            "9": {"action": "unsubscribe", "narration": narration("Não voltará a receber chamadas.")}
        },
        "wrong_key": {"narration": narration("Opção inválida.")},
        "max_menu_plays": 2
    })
}

/// An IVR call, then a branch on the key pressed: key 2 sets `choice` to
/// `code`, any other key to `other`.
fn ivr_workflow(ivr: Value) -> Value {
    json!({
        "triggers": [{"type": "manual"}],
        "start": "call",
        "nodes": {
            "call": {"type": "send_ivr", "ivr": ivr, "next": "wait", "on_failure": "refused"},
            "wait": {"type": "wait_event", "of": "call",
                     "events": ["VOICE_KEY_PRESSED:2", "VOICE_KEY_PRESSED", "VOICE_NOT_DELIVERED"],
                     "timeout": "PT1H",
                     "on": {"VOICE_KEY_PRESSED:2": "code", "VOICE_KEY_PRESSED": "other",
                            "VOICE_NOT_DELIVERED": "sms", "timeout": "end"}},
            "code": {"type": "set_property", "property": "choice", "value": "code", "next": "end"},
            "other": {"type": "set_property", "property": "choice", "value": "other", "next": "end"},
            "sms": {"type": "send_sms", "from": "Recado", "text": "We could not reach you by phone.", "next": "end"},
            "refused": {"type": "set_property", "property": "choice", "value": "refused", "next": "end"},
            "end": {"type": "end"}
        }
    })
}

/// Every timeline entry of the contact, oldest first, as `(type, details)`.
async fn timeline(app: &TestApp, contact: &str) -> Vec<(String, Value)> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline?limit=200")).await;
    let mut items: Vec<(String, Value)> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_string(), e["details"].clone()))
        .collect();
    items.reverse();
    items
}

fn only<'a>(items: &'a [(String, Value)], prefixes: &[&str]) -> Vec<&'a str> {
    items
        .iter()
        .map(|(kind, _)| kind.as_str())
        .filter(|k| prefixes.iter().any(|p| k.starts_with(p)) && !k.ends_with("_QUEUED"))
        .collect()
}

async fn property(app: &TestApp, contact: &str, name: &str) -> Value {
    app.get(&format!("/api/v1/contacts/{contact}")).await.body["properties"][name].clone()
}

#[tokio::test]
async fn a_key_that_sends_an_sms_reaches_the_contact_after_the_key_event() {
    let app = spawn_app().await;
    channels(&app).await;
    let ana = callee(&app, "+5511900000012").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&ana]).await;
    app.run_jobs().await;
    let events = timeline(&app, &ana).await;
    assert_eq!(
        only(&events, &["VOICE_", "SMS_"]),
        [
            "VOICE_SENT",
            "VOICE_DELIVERED",
            "VOICE_KEY_PRESSED",
            "SMS_SENT",
            "SMS_DELIVERED"
        ],
        "{events:?}"
    );
    let key = events.iter().find(|(k, _)| k == "VOICE_KEY_PRESSED").unwrap();
    assert_eq!(key.1["key"], "2");
    let sms = app.sandbox_sms();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0]["text"], "Your code: 1234");
}

#[tokio::test]
async fn a_workflow_branches_on_the_key_pressed_in_the_call() {
    let app = spawn_app().await;
    channels(&app).await;
    let two = callee(&app, "+5511900000012").await;
    let one = callee(&app, "+5511900000011").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&two, &one]).await;
    app.run_jobs().await;
    assert_eq!(property(&app, &two, "choice").await, "code");
    assert_eq!(property(&app, &one, "choice").await, "other");
}

#[tokio::test]
async fn the_opt_out_key_unsubscribes_the_contact_from_voice_calls() {
    let app = spawn_app().await;
    channels(&app).await;
    let ana = callee(&app, "+5511900000019").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&ana]).await;
    app.run_jobs().await;
    let events = timeline(&app, &ana).await;
    assert_eq!(
        only(&events, &["VOICE_"]),
        [
            "VOICE_SENT",
            "VOICE_DELIVERED",
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED"
        ]
    );
    let history = app
        .get(&format!("/api/v1/contacts/{ana}/subscriptions/voice/history"))
        .await;
    assert_eq!(history.body["items"][0]["status"], "unsubscribed", "{}", history.body);
    assert_eq!(history.body["items"][0]["source"], "ivr_key");
}

#[tokio::test]
async fn a_second_ivr_call_after_the_opt_out_is_not_sent() {
    let app = spawn_app().await;
    channels(&app).await;
    let ana = callee(&app, "+5511900000019").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&ana]).await;
    app.run_jobs().await;
    let again = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &again, &[&ana]).await;
    app.run_jobs().await;
    let events = timeline(&app, &ana).await;
    let (kind, details) = events.iter().rev().find(|(k, _)| k.starts_with("VOICE_")).unwrap();
    assert_eq!(
        (kind.as_str(), &details["reason"]),
        ("VOICE_NOT_SENT", &json!("not_subscribed"))
    );
    assert_eq!(
        property(&app, &ana, "choice").await,
        "refused",
        "the send's on_failure path"
    );
}

#[tokio::test]
async fn a_wrong_key_plays_the_menu_again_and_records_no_key() {
    let app = spawn_app().await;
    channels(&app).await;
    let ana = callee(&app, "+5511900000017").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&ana]).await;
    app.run_jobs().await;
    let events = timeline(&app, &ana).await;
    assert_eq!(only(&events, &["VOICE_"]), ["VOICE_SENT", "VOICE_DELIVERED"]);
    assert!(app.sandbox_sms().is_empty());
}

#[tokio::test]
async fn a_busy_phone_is_retried_as_configured_then_not_delivered() {
    let app = spawn_app().await;
    channels(&app).await;
    let ana = callee(&app, "+5511900000001").await;
    app.subscribe(&ana, "sms").await;
    let mut definition = ivr();
    definition["retry"] = json!({"on": ["busy"], "max_attempts": 2, "delay_s": 600});
    let workflow = active_workflow(&app, ivr_workflow(definition)).await;
    enrol(&app, &workflow, &[&ana]).await;
    app.run_jobs().await;
    assert_eq!(
        only(&timeline(&app, &ana).await, &["VOICE_"]),
        ["VOICE_SENT"],
        "waiting to retry"
    );
    app.clock.advance(chrono::Duration::seconds(600));
    app.run_jobs().await;
    let events = timeline(&app, &ana).await;
    assert_eq!(only(&events, &["VOICE_"]), ["VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    let (_, details) = events.iter().find(|(k, _)| k == "VOICE_NOT_DELIVERED").unwrap();
    assert_eq!((&details["reason"], &details["attempts"]), (&json!("busy"), &json!(2)));
}

#[tokio::test]
async fn a_workflow_sends_an_sms_when_the_call_is_not_delivered() {
    let app = spawn_app().await;
    channels(&app).await;
    let ana = callee(&app, "+5511900000002").await;
    app.subscribe(&ana, "sms").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&ana]).await;
    app.run_jobs().await;
    let events = timeline(&app, &ana).await;
    assert_eq!(
        only(&events, &["VOICE_", "SMS_"]),
        ["VOICE_SENT", "VOICE_NOT_DELIVERED", "SMS_SENT", "SMS_DELIVERED"]
    );
    assert_eq!(app.sandbox_sms()[0]["text"], "We could not reach you by phone.");
}

#[tokio::test]
async fn an_ivr_whose_key_names_an_unknown_sms_sender_is_refused_on_save() {
    let app = spawn_app().await;
    channels(&app).await;
    let mut definition = ivr();
    definition["keys"]["2"]["sender"] = json!("Unknown");
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "IVR", "definition": ivr_workflow(definition)}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_workflow", "call"),
        "{}",
        r.body
    );
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("keys.2.sender"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn an_ivr_definition_with_a_bad_key_is_refused_on_save_naming_the_key() {
    let app = spawn_app().await;
    channels(&app).await;
    let mut definition = ivr();
    definition["keys"]["1"]["to"] = json!("not a number");
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "IVR", "definition": ivr_workflow(definition)}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, "call"), "{}", r.body);
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("ivr.keys.1.to"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn an_ivr_campaign_counts_answered_calls_keys_and_reasons() {
    let app = spawn_app().await;
    channels(&app).await;
    let two = callee(&app, "+5511900000012").await;
    let nine = callee(&app, "+5511900000019").await;
    let busy = callee(&app, "+5511900000001").await;
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &[&two, &nine, &busy]).await;
    app.run_jobs().await;
    let r = app.get("/api/v1/campaigns?channel=voice").await;
    let campaign = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "WORKFLOW_VOICE_2026_11")
        .unwrap_or_else(|| panic!("{}", r.body))
        .clone();
    let stats = &campaign["stats"];
    assert_eq!(campaign["source"], "workflow");
    assert_eq!(
        (
            &stats["recipients"],
            &stats["sent"],
            &stats["delivered"],
            &stats["calls_answered"]
        ),
        (&json!(3), &json!(3), &json!(2), &json!(2)),
        "{stats}"
    );
    assert_eq!(stats["keys"], json!({"2": 1, "9": 1}), "{stats}");
    assert_eq!(stats["not_delivered_by_code"], json!({"busy": 1}), "{stats}");
    assert_eq!(stats["unsubscribed"], 1, "{stats}");
}

/// The page of a workflow's IVR campaign whose calls pressed 2, 2 and 9,
/// as an admin sees it.
async fn ivr_campaign_page() -> String {
    let app = spawn_app_with(|s| s.admin_password = Some(recado::config::Secret::new("ivr-page-password"))).await;
    channels(&app).await;
    let mut callees = Vec::new();
    for phone in ["+5511900000012", "+5511900001012", "+5511900000019"] {
        callees.push(callee(&app, phone).await);
    }
    let workflow = active_workflow(&app, ivr_workflow(ivr())).await;
    enrol(&app, &workflow, &callees.iter().map(String::as_str).collect::<Vec<_>>()).await;
    app.run_jobs().await;
    let r = app.get("/api/v1/campaigns?channel=voice").await;
    let id = r.body["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", r.body))
        .to_string();
    let mut web = Web::new(&app.base);
    web.sign_in("admin@localhost", "ivr-page-password").await;
    let (status, page) = web.get(&format!("/campaigns/{id}")).await;
    assert_eq!(status, 200);
    page
}

#[tokio::test]
async fn an_ivr_campaigns_page_lists_the_keys_pressed_by_key() {
    let page = ivr_campaign_page().await;
    let table = &page[page.find("id=\"keys-pressed\"").expect("the keys table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains("<tr data-key=\"2\"><td>Key 2</td><td class=\"num\">2</td></tr>"),
        "{table}"
    );
    assert!(
        table.contains("<tr data-key=\"9\"><td>Key 9</td><td class=\"num\">1</td></tr>"),
        "{table}"
    );
}

#[tokio::test]
async fn a_voice_campaigns_page_counts_answered_calls_and_no_clicks_parts_or_conversations() {
    let page = ivr_campaign_page().await;
    assert!(
        page.contains("<li data-counter=\"calls_answered\"><span class=\"value\">3</span>"),
        "{page}"
    );
    for absent in ["clicked", "clicked_unique", "parts", "conversations"] {
        assert!(!page.contains(&format!("data-counter=\"{absent}\"")), "{absent} shown");
    }
    assert!(!page.contains("<th>Clicked</th>"), "a clicks column for calls");
}

#[tokio::test]
async fn a_campaigns_recipients_are_listed_by_name_linking_to_their_contact() {
    let page = ivr_campaign_page().await;
    let table = &page[page.find("<h2>Recipients</h2>").expect("the recipients")..];
    assert_eq!(table.matches(">Ana</a>").count(), 3, "{table}");
    assert!(table.contains("<a href=\"/contacts/ct_"), "{table}");
}
