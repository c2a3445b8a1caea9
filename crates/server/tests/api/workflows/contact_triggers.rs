//! Triggers fired by what happens to a contact: coming to match a segment,
//! a property change, an inbound keyword.

use super::{runs_of, setup, subscribed};
use crate::common::TestApp;
use serde_json::{json, Value};

/// A segment of contacts whose `plan` is `gold`.
async fn gold_segment(app: &TestApp) -> String {
    let r = app
        .post(
            "/api/v1/segments",
            json!({"name": "Gold", "filter": {"property": "plan", "op": "eq", "value": "gold"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// A published and activated workflow; `enrol_existing` as given.
async fn activated(app: &TestApp, definition: Value, enrol_existing: bool) -> String {
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "Gold welcome", "definition": definition}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let p = app.post(&format!("/api/v1/workflows/{id}/publish"), json!({})).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let a = app
        .post(
            &format!("/api/v1/workflows/{id}/activate"),
            json!({"enrol_existing": enrol_existing}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    app.run_jobs().await;
    id
}

fn welcome(segment: &str, reenrolment: &str) -> Value {
    json!({
        "triggers": [{"type": "segment", "segment_id": segment}],
        "settings": {"reenrolment": reenrolment},
        "start": "hi",
        "nodes": {
            "hi": {"type": "send_sms", "from": "Recado", "text": "Bem-vindo ao Gold, {{contact.firstname}}", "next": "done"},
            "done": {"type": "end"}
        }
    })
}

async fn set(app: &TestApp, contact: &str, properties: Value) {
    let r = app
        .patch(
            &format!("/api/v1/contacts/{contact}"),
            json!({ "properties": properties }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.run_jobs().await;
}

fn contacts_of(runs: &[(String, String, Option<String>)]) -> Vec<String> {
    let mut c: Vec<String> = runs.iter().map(|r| r.0.clone()).collect();
    c.sort();
    c
}

#[tokio::test]
async fn a_contact_that_comes_to_match_the_segment_is_enrolled_and_existing_members_are_not() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    set(app, &ana, json!({"plan": "gold"})).await;
    let bia = subscribed(app, "+5511987654321", "Bia").await;
    let segment = gold_segment(app).await;
    let wf = activated(app, welcome(&segment, "never"), false).await;
    assert!(
        runs_of(app, &wf).await.is_empty(),
        "members at activation wait for a change"
    );

    set(app, &bia, json!({"plan": "gold"})).await;
    set(app, &ana, json!({"city": "Recife"})).await;
    let runs = runs_of(app, &wf).await;
    assert_eq!(
        contacts_of(&runs),
        vec![bia.clone()],
        "only Bia came to match: {runs:?}"
    );
}

#[tokio::test]
async fn a_new_contact_created_in_the_segment_is_enrolled() {
    let s = setup(1.0).await;
    let app = &s.app;
    let segment = gold_segment(app).await;
    let wf = activated(app, welcome(&segment, "never"), true).await;
    let carla = app
        .contact(json!({"firstname": "Carla", "mobilephone": "+5511911112222", "plan": "gold"}))
        .await;
    app.run_jobs().await;
    assert_eq!(contacts_of(&runs_of(app, &wf).await), vec![carla]);
}

#[tokio::test]
async fn activation_with_enrol_existing_enrols_each_member_once() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    set(app, &ana, json!({"plan": "gold"})).await;
    let segment = gold_segment(app).await;
    let wf = activated(app, welcome(&segment, "always"), true).await;
    set(app, &ana, json!({"city": "Recife"})).await;
    let runs = runs_of(app, &wf).await;
    assert_eq!(
        contacts_of(&runs),
        vec![ana],
        "a change while still a member enrols no one: {runs:?}"
    );
}

#[tokio::test]
async fn leaving_the_segment_and_matching_again_enrols_again_when_reenrolment_allows() {
    let s = setup(1.0).await;
    let app = &s.app;
    let bia = subscribed(app, "+5511987654321", "Bia").await;
    let segment = gold_segment(app).await;
    let after_end = activated(app, welcome(&segment, "after_end"), false).await;
    let never = activated(app, welcome(&segment, "never"), false).await;
    set(app, &bia, json!({"plan": "gold"})).await;
    set(app, &bia, json!({"plan": "silver"})).await;
    set(app, &bia, json!({"plan": "gold"})).await;
    let twice = runs_of(app, &after_end).await;
    assert_eq!(twice.len(), 2, "after_end enrols her again: {twice:?}");
    assert!(twice.iter().all(|r| r.1 == "completed"), "{twice:?}");
    assert_eq!(runs_of(app, &never).await.len(), 1, "never enrols her once");
}

#[tokio::test]
async fn a_property_changed_trigger_enrols_when_its_condition_holds_after_the_change() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let bia = subscribed(app, "+5511987654321", "Bia").await;
    let wf = activated(
        app,
        json!({
            "triggers": [{"type": "event", "event": "PROPERTY_CHANGED",
                          "where": {"property": "customer", "op": "eq", "value": "yes"}}],
            "start": "thanks",
            "nodes": {
                "thanks": {"type": "send_sms", "from": "Recado", "text": "Obrigado pela compra", "next": "done"},
                "done": {"type": "end"}
            }
        }),
        false,
    )
    .await;
    set(app, &ana, json!({"customer": "yes"})).await;
    set(app, &bia, json!({"customer": "no"})).await;
    assert_eq!(contacts_of(&runs_of(app, &wf).await), vec![ana]);
}

#[tokio::test]
async fn a_property_update_puts_the_changed_names_on_the_timeline() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    set(app, &ana, json!({"city": "Recife", "firstname": "Ana"})).await;
    let timeline = app.get(&format!("/api/v1/contacts/{ana}/timeline")).await;
    let changes: Vec<&Value> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "PROPERTY_CHANGED")
        .collect();
    assert_eq!(changes.len(), 1, "{}", timeline.body);
    assert_eq!(
        changes[0]["details"]["properties"],
        json!(["city"]),
        "an unchanged value is not a change"
    );
}

#[tokio::test]
async fn a_keyword_trigger_enrols_only_on_a_message_that_is_its_keyword() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let bia = subscribed(app, "+5511987654321", "Bia").await;
    let wf = activated(
        app,
        json!({
            "triggers": [{"type": "event", "event": "SMS_RESPONSE", "keyword": "promo"}],
            "start": "offer",
            "nodes": {
                "offer": {"type": "send_sms", "from": "Recado", "text": "10% de desconto: PROMO10", "next": "done"},
                "done": {"type": "end"}
            }
        }),
        false,
    )
    .await;
    let channels = app.get("/api/v1/channels").await;
    let sms = channels.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "sms_sandbox")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (from, text) in [("+5511912345678", " Promo "), ("+5511987654321", "promo please")] {
        let r = app
            .post(
                &format!("/api/v1/channels/{sms}/simulate"),
                json!({"from": from, "text": text}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.run_jobs().await;
    assert_eq!(contacts_of(&runs_of(app, &wf).await), vec![ana]);
    let _ = bia;
}

#[tokio::test]
async fn a_keyword_on_an_event_that_is_not_an_inbound_message_is_invalid() {
    let s = setup(1.0).await;
    let r = s
        .app
        .post(
            "/api/v1/workflows",
            json!({"name": "Bad", "definition": {
                "triggers": [{"type": "event", "event": "SMS_DELIVERED", "keyword": "promo"}],
                "start": "done", "nodes": {"done": {"type": "end"}}}}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_workflow"), "{}", r.body);
    assert_eq!(r.body["error"]["field"], "triggers[0]", "{}", r.body);
}

#[tokio::test]
async fn a_segment_a_workflow_uses_cannot_be_deleted_until_the_workflow_is() {
    let s = setup(1.0).await;
    let app = &s.app;
    let segment = gold_segment(app).await;
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "Gold welcome", "definition": {
                "triggers": [{"type": "segment", "segment_id": segment}], "start": "done",
                "nodes": {"done": {"type": "end"}}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let workflow = r.body["id"].as_str().unwrap().to_string();
    let r = app.delete(&format!("/api/v1/segments/{segment}")).await;
    assert_eq!((r.status, r.code()), (409, "segment_in_use"));
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("Gold welcome"),
        "{}",
        r.body
    );
    assert_eq!(app.get(&format!("/api/v1/segments/{segment}")).await.status, 200);
    assert_eq!(app.delete(&format!("/api/v1/workflows/{workflow}")).await.status, 204);
    assert_eq!(app.delete(&format!("/api/v1/segments/{segment}")).await.status, 204);
}
