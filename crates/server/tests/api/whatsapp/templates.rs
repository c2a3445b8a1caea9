//! WhatsApp templates: only approved ones are sent, with exactly their
//! parameters; the template-status webhook and the periodic sync keep the
//! stored status, which is always one Meta documents.

use super::{setup, Wa};
use recado_channels::whatsapp::testkit;
use serde_json::{json, Value};

impl Wa {
    async fn template_status_update(&self, name: &str, language: &str, event: &str) -> u16 {
        self.deliver(testkit::template_status("WABA1", 1, name, language, event, None))
            .await
    }

    async fn stored_status(&self, name: &str, language: &str) -> Value {
        let listed = self.app.get("/api/v1/whatsapp/templates").await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name && t["language"] == language)
            .map(|t| t["status"].clone())
            .unwrap_or(Value::Null)
    }

    async fn ready_contact(&self) -> String {
        self.inbound_text("wamid.T0", "hi").await;
        let id = self.contact_id().await;
        self.subscribe(&id).await;
        id
    }
}

#[tokio::test]
async fn templates_must_be_approved_and_get_exactly_their_parameters() {
    let wa = setup().await;
    wa.inbound_text("wamid.T0", "hi").await;
    let id = wa.contact_id().await;
    wa.subscribe(&id).await;
    let pending = wa
        .app
        .post(
            "/api/v1/messages",
            json!({"channel": "whatsapp", "contact_id": id, "template": {"name": "pending_one", "language": "en_US"}}),
        )
        .await;
    assert_eq!((pending.status, pending.code()), (422, "template_not_approved"));
    let short = wa.app.post("/api/v1/messages", json!({"channel": "whatsapp", "contact_id": id, "template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["Ana"]}}})).await;
    assert_eq!((short.status, short.code()), (422, "template_parameters"));
    wa.app.run_jobs().await;
    assert!(wa.api.requests().is_empty());
}

#[tokio::test]
async fn a_paused_template_is_refused_until_it_is_reinstated() {
    let wa = setup().await;
    let id = wa.ready_contact().await;
    assert_eq!(wa.template_status_update("order_update", "pt_BR", "PAUSED").await, 200);
    assert_eq!(wa.stored_status("order_update", "pt_BR").await, "PAUSED");
    let paused = wa.send_template(&id).await;
    assert_eq!(
        (paused.status, paused.code()),
        (422, "template_not_approved"),
        "{}",
        paused.body
    );

    assert_eq!(
        wa.template_status_update("order_update", "pt_BR", "REINSTATED").await,
        200
    );
    assert_eq!(wa.stored_status("order_update", "pt_BR").await, "APPROVED");
    let sent = wa.send_template(&id).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
}

#[tokio::test]
async fn a_template_status_update_the_hub_does_not_know_keeps_the_stored_status() {
    let wa = setup().await;
    assert_eq!(
        wa.template_status_update("order_update", "pt_BR", "SOMETHING_NEW")
            .await,
        200
    );
    assert_eq!(wa.stored_status("order_update", "pt_BR").await, "APPROVED");
}

#[tokio::test]
async fn a_listed_template_with_an_undocumented_status_is_left_out_of_the_sync() {
    let wa = setup().await;
    wa.api.set_templates(vec![
        json!({"id": "1", "name": "order_update", "language": "pt_BR", "category": "UTILITY", "status": "approved",
               "components": [{"type": "BODY", "text": "Olá {{1}}, pedido {{2}} enviado."}]}),
        json!({"id": "9", "name": "odd_one", "language": "en_US", "category": "UTILITY", "status": "SOMETHING_NEW",
               "components": [{"type": "BODY", "text": "Hi"}]}),
    ]);
    let synced = wa.app.post("/api/v1/whatsapp/templates/sync", json!({})).await;
    assert_eq!(
        (synced.status, synced.body["synced"].as_u64()),
        (200, Some(1)),
        "{}",
        synced.body
    );
    assert_eq!(wa.stored_status("order_update", "pt_BR").await, "APPROVED");
    assert_eq!(wa.stored_status("odd_one", "en_US").await, Value::Null);
}
