//! The batched send path: sends accepted together, claimed and submitted
//! many at a time, each exactly once, each to its own contact.

use crate::common::{spawn_app, TestApp};
use futures::future::join_all;
use serde_json::json;

async fn sandbox_with_subscribed_contacts(n: usize) -> (TestApp, Vec<(String, String)>) {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut contacts = Vec::new();
    for i in 0..n {
        let phone = format!("+55119300{i:05}");
        let id = app
            .contact(json!({"firstname": format!("C{i}"), "mobilephone": phone}))
            .await;
        contacts.push((id, phone));
    }
    let ids: Vec<&str> = contacts.iter().map(|(id, _)| id.as_str()).collect();
    let r = app
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": ids, "channel": "sms", "status": "subscribed",
                   "legal_basis": "consent", "explanation": "signed up"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    (app, contacts)
}

async fn send_to_all(app: &TestApp, contacts: &[(String, String)]) -> Vec<serde_json::Value> {
    let sends = contacts.iter().map(|(_, phone)| async move {
        let r = app
            .post(
                "/api/v1/messages",
                json!({"channel": "sms", "to": phone, "text": format!("Hello {phone}")}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        r.body
    });
    join_all(sends).await
}

fn outbox_ids(app: &TestApp) -> Vec<String> {
    app.sandbox_sms()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn concurrent_sends_to_different_numbers_each_reach_their_own_contact() {
    let (app, contacts) = sandbox_with_subscribed_contacts(40).await;
    let answers = send_to_all(&app, &contacts).await;
    for ((contact_id, phone), answer) in contacts.iter().zip(&answers) {
        assert_eq!(answer["contact_id"], contact_id.as_str(), "the send to {phone}");
        assert_eq!(answer["to"], phone.as_str());
        assert_eq!(answer["status"], "queued");
        assert_eq!(answer["events"][0]["type"], "queued");
    }
}

#[tokio::test]
async fn queued_sends_are_claimed_in_one_batch_and_each_submitted_once() {
    let (app, contacts) = sandbox_with_subscribed_contacts(30).await;
    let answers = send_to_all(&app, &contacts).await;
    let claimed = recado_app::dispatch::run_batch(&app.app_state, "test-dispatcher", 256)
        .await
        .unwrap();
    assert_eq!(claimed, 30, "one claim takes every due send");
    let mut received = outbox_ids(&app);
    received.sort();
    let mut ids: Vec<String> = answers.iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    assert_eq!(received, ids, "each send reached the provider once");
    for id in &ids {
        let m = app.get(&format!("/api/v1/messages/{id}")).await;
        assert_eq!(m.body["status"], "sent", "{}", m.body);
    }
    // The next claim takes the 30 receipts, and no send again.
    let claimed = recado_app::dispatch::run_batch(&app.app_state, "test-dispatcher", 256)
        .await
        .unwrap();
    assert_eq!(claimed, 30);
    assert_eq!(outbox_ids(&app).len(), 30, "nothing was submitted twice");
    for id in &ids {
        let m = app.get(&format!("/api/v1/messages/{id}")).await;
        assert_eq!(m.body["status"], "delivered", "{}", m.body);
    }
}

#[tokio::test]
async fn a_send_whose_batch_claim_finds_it_attempted_becomes_uncertain_and_is_not_resubmitted() {
    let (app, contacts) = sandbox_with_subscribed_contacts(2).await;
    let answers = send_to_all(&app, &contacts).await;
    let id = answers[0]["id"].as_str().unwrap();
    // As if a node had marked it and died before recording the answer.
    app.app_state.store.mark_send_attempted(id, 1).await.unwrap();
    recado_app::dispatch::run_batch(&app.app_state, "test-dispatcher", 256)
        .await
        .unwrap();
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(m.body["status"], "uncertain", "{}", m.body);
    assert!(
        !outbox_ids(&app).contains(&id.to_string()),
        "an attempted send is never submitted again"
    );
    let other = answers[1]["id"].as_str().unwrap();
    let m = app.get(&format!("/api/v1/messages/{other}")).await;
    assert_eq!(m.body["status"], "sent", "the rest of the batch went out: {}", m.body);
}
