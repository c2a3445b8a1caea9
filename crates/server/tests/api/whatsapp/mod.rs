//! The WhatsApp channel end to end, against a stand-in Cloud API on loopback:
//! handshake and signatures, inbound processing, sessions, keywords, sending,
//! statuses and the monthly conversation limit.

use crate::common::cloud_api::CloudApi;
use crate::common::{spawn_app, TestApp};
use recado_channels::whatsapp::testkit::{self, Inbound as InboundBuilder};
use recado_channels::whatsapp::webhook::{ProviderError, ProviderStatus};
use recado_core::clock::Clock;
use serde_json::{json, Value};

mod channels;
mod templates;
mod usage;

const APP_SECRET: &str = "test-app-secret";
const VERIFY_TOKEN: &str = "verify-me";
const PHONE_ID: &str = "1065000001";
const CUSTOMER: &str = "5511912345678";

struct Wa {
    app: TestApp,
    api: CloudApi,
    channel_id: String,
}

async fn setup() -> Wa {
    let app = spawn_app().await;
    let api = CloudApi::start().await;
    api.set_templates(vec![
        json!({"id": "1", "name": "order_update", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
               "components": [{"type": "BODY", "text": "Olá {{1}}, pedido {{2}} enviado."}]}),
        json!({"id": "2", "name": "promo", "language": "en_US", "category": "MARKETING", "status": "APPROVED",
               "components": [{"type": "BODY", "text": "Hi {{1}}!"}, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]}]}),
        json!({"id": "3", "name": "pending_one", "language": "en_US", "category": "UTILITY", "status": "PENDING",
               "components": [{"type": "BODY", "text": "Hi"}]}),
    ]);
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp_cloud", "name": "Main number", "config": {
                "waba_id": "WABA1", "phone_numbers": [{"phone_number_id": PHONE_ID, "display_phone_number": "+15550001111"}],
                "access_token": "EAAG-token", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN,
                "graph_base_url": api.base_url, "graph_version": "v23.0", "tier": "unlimited"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let channel_id = r.body["id"].as_str().unwrap().to_string();
    let synced = app.post("/api/v1/whatsapp/templates/sync", json!({})).await;
    assert_eq!(
        (synced.status, synced.body["synced"].as_u64()),
        (200, Some(3)),
        "{}",
        synced.body
    );
    Wa { app, api, channel_id }
}

impl Wa {
    fn path(&self) -> String {
        format!("/webhooks/whatsapp/{}", self.channel_id)
    }

    fn now_secs(&self) -> i64 {
        self.app.clock.now_ms() / 1000
    }

    async fn deliver(&self, body: Vec<u8>) -> u16 {
        let sig = recado_channels::whatsapp::sign(APP_SECRET.as_bytes(), &body);
        let r = self.app.post_webhook(&self.path(), body, Some(&sig)).await;
        self.app.run_jobs().await;
        r.status
    }

    async fn inbound_text(&self, wamid: &str, text: &str) -> u16 {
        self.deliver(testkit::inbound_text(
            PHONE_ID,
            CUSTOMER,
            "Ana",
            wamid,
            self.now_secs(),
            text,
        ))
        .await
    }

    async fn contact(&self) -> Value {
        let r = self.app.get("/api/v1/contacts?q=%2B5511912345678").await;
        r.body["items"][0].clone()
    }

    async fn contact_id(&self) -> String {
        self.contact().await["id"].as_str().expect("contact exists").to_string()
    }

    async fn subscribe(&self, id: &str) {
        let r = self
            .app
            .put(
                &format!("/api/v1/contacts/{id}/subscriptions/whatsapp"),
                json!({"status": "subscribed", "legal_basis": "consent", "explanation": "opted in at the shop"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    async fn send_text(&self, contact_id: &str, text: &str) -> crate::common::Reply {
        self.app
            .post(
                "/api/v1/messages",
                json!({"channel": "whatsapp", "contact_id": contact_id, "text": text}),
            )
            .await
    }

    async fn send_template(&self, contact_id: &str) -> crate::common::Reply {
        self.app
            .post("/api/v1/messages", json!({"channel": "whatsapp", "contact_id": contact_id, "template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["Ana", "4521"]}}}))
            .await
    }
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
    let wa = setup().await;
    let ok = wa
        .app
        .client
        .get(wa.app.url(&format!(
            "{}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=987654321",
            wa.path()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "987654321");
    let bad = wa
        .app
        .client
        .get(wa.app.url(&format!(
            "{}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            wa.path()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 403);
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_401_and_stores_nothing() {
    let wa = setup().await;
    let body = testkit::inbound_text(PHONE_ID, CUSTOMER, "Ana", "wamid.X", wa.now_secs(), "hi");
    let forged = recado_channels::whatsapp::sign(b"another-secret", &body);
    let r = wa.app.post_webhook(&wa.path(), body.clone(), Some(&forged)).await;
    assert_eq!((r.status, r.code()), (401, "bad_signature"));
    let r = wa.app.post_webhook(&wa.path(), body, None).await;
    assert_eq!((r.status, r.code()), (401, "bad_signature"));
    assert_eq!(
        wa.app
            .app_state
            .store
            .count_webhook_events(&wa.channel_id)
            .await
            .unwrap(),
        0
    );
    assert_eq!(wa.app.run_jobs().await, 0);
    assert!(wa.app.get("/api/v1/contacts").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_signed_text_webhook_creates_contact_message_thread_ticket_and_session() {
    let wa = setup().await;
    assert_eq!(wa.inbound_text("wamid.IN1", "Olá, tudo bem?").await, 200);
    let contact = wa.contact().await;
    assert_eq!(contact["phones"]["whatsapp_phone"], "+5511912345678");
    assert_eq!(contact["properties"]["firstname"], "Ana");
    let id = contact["id"].as_str().unwrap();
    let session = wa.app.get(&format!("/api/v1/contacts/{id}/whatsapp/session")).await;
    assert_eq!(session.body["open"], true, "{}", session.body);
    assert!(session.body["expires_at"].is_string());
    let timeline = wa.app.get(&format!("/api/v1/contacts/{id}/timeline")).await;
    let received: Vec<&Value> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "WHATSAPP_RECEIVED")
        .collect();
    assert_eq!(received.len(), 1);
    let message = wa
        .app
        .get(&format!(
            "/api/v1/messages/{}",
            received[0]["message_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            message.body["direction"].as_str(),
            message.body["status"].as_str(),
            message.body["text"].as_str()
        ),
        (Some("in"), Some("received"), Some("Olá, tudo bem?"))
    );
    let thread_id = message.body["thread_id"].as_str().unwrap();
    let thread = wa
        .app
        .app_state
        .store
        .thread(
            &wa.app
                .app_state
                .store
                .workspace_by_name("default")
                .await
                .unwrap()
                .unwrap()
                .id,
            thread_id,
        )
        .await
        .unwrap();
    let ticket = wa
        .app
        .app_state
        .store
        .current_ticket(&thread.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status, "open");

    // The same delivery again stores nothing new.
    assert_eq!(wa.inbound_text("wamid.IN1", "Olá, tudo bem?").await, 200);
    let timeline = wa.app.get(&format!("/api/v1/contacts/{id}/timeline")).await;
    assert_eq!(
        timeline.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "WHATSAPP_RECEIVED")
            .count(),
        1
    );
}

async fn whatsapp_history(wa: &Wa, id: &str) -> Vec<(String, String)> {
    let r = wa
        .app
        .get(&format!("/api/v1/contacts/{id}/subscriptions/whatsapp/history"))
        .await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["status"].as_str().unwrap().to_string(),
                h["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn keywords_in_any_language_change_whatsapp_consent_and_are_confirmed() {
    let wa = setup().await;
    wa.inbound_text("wamid.K0", "hello").await;
    let id = wa.contact_id().await;
    wa.subscribe(&id).await;
    let mut n = 0;
    for (text, expected) in [
        ("  STOP  ", "unsubscribed"),
        ("INICIAR", "subscribed"),
        ("parar", "unsubscribed"),
        ("INICIAR", "subscribed"),
        ("Arrêter", "unsubscribed"),
        ("INICIAR", "subscribed"),
        ("停止", "unsubscribed"),
    ] {
        n += 1;
        wa.inbound_text(&format!("wamid.K{n}"), text).await;
        let subs = wa.app.get(&format!("/api/v1/contacts/{id}/subscriptions")).await;
        assert_eq!(subs.body["whatsapp"]["status"], expected, "after {text:?}");
        assert_eq!(subs.body["whatsapp"]["source"], "keyword");
    }
    let before = whatsapp_history(&wa, &id).await.len();
    wa.inbound_text("wamid.K99", "can I START getting news?").await;
    assert_eq!(
        whatsapp_history(&wa, &id).await.len(),
        before,
        "a message that merely contains a keyword changes nothing"
    );
    let history = whatsapp_history(&wa, &id).await;
    assert!(history[..7].iter().all(|(_, source)| source == "keyword"));
    // Each change was confirmed inside the session.
    let confirmations = wa.api.requests().iter().filter(|r| r.body["type"] == "text").count();
    assert_eq!(confirmations, 7);
}

#[tokio::test]
async fn free_form_goes_out_inside_the_session_and_templates_outside_it() {
    let wa = setup().await;
    wa.inbound_text("wamid.S1", "Oi").await;
    let id = wa.contact_id().await;
    let r = wa.send_text(&id, "Olá Ana, como posso ajudar?").await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "queued");
    wa.app.run_jobs().await;
    let sent = wa.api.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("/v23.0/{PHONE_ID}/messages"));
    assert_eq!(sent[0].authorization.as_deref(), Some("Bearer EAAG-token"));
    assert_eq!(sent[0].body["messaging_product"], "whatsapp");
    assert_eq!(sent[0].body["to"], "+5511912345678");
    assert_eq!(sent[0].body["text"]["body"], "Olá Ana, como posso ajudar?");
    assert_eq!(sent[0].body["biz_opaque_callback_data"], r.body["id"]);
    recado_channels::whatsapp::contract::assert_valid_send_body(&sent[0].body);
    let m = wa
        .app
        .get(&format!("/api/v1/messages/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (m.body["status"].as_str(), m.body["provider_message_id"].as_str()),
        (Some("sent"), Some("wamid.standin.1"))
    );

    wa.app.clock.advance(chrono::Duration::hours(25));
    let late = wa.send_text(&id, "still there?").await;
    assert_eq!((late.status, late.code()), (409, "outside_session_window"));
    let timeline = wa.app.get(&format!("/api/v1/contacts/{id}/timeline")).await;
    assert_eq!(timeline.body["items"][0]["type"], "WHATSAPP_NOT_SENT");

    let unsubscribed = wa.send_template(&id).await;
    assert_eq!((unsubscribed.status, unsubscribed.code()), (409, "not_subscribed"));
    wa.subscribe(&id).await;
    let t = wa.send_template(&id).await;
    assert_eq!(t.status, 202, "{}", t.body);
    wa.app.run_jobs().await;
    let sent = wa.api.requests();
    assert_eq!(sent.len(), 2, "refused sends never reach the provider");
    assert_eq!(sent[1].body["type"], "template");
    assert_eq!(sent[1].body["template"]["name"], "order_update");
    assert_eq!(
        sent[1].body["template"]["components"][0]["parameters"][1]["text"],
        "4521"
    );
    recado_channels::whatsapp::contract::assert_valid_send_body(&sent[1].body);
}

#[tokio::test]
async fn statuses_never_move_backwards_and_131047_marks_not_sent() {
    let wa = setup().await;
    wa.inbound_text("wamid.R0", "hi").await;
    let id = wa.contact_id().await;
    let a = wa.send_text(&id, "first").await;
    let b = wa.send_text(&id, "second").await;
    wa.app.run_jobs().await;
    let ts = wa.now_secs();
    for status in [ProviderStatus::Read, ProviderStatus::Delivered, ProviderStatus::Sent] {
        wa.deliver(testkit::status(PHONE_ID, "wamid.standin.1", status, ts, None, &[]))
            .await;
    }
    let m = wa
        .app
        .get(&format!("/api/v1/messages/{}", a.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(m.body["status"], "read");
    let events: Vec<&str> = m.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec!["queued", "sent", "delivered", "read"],
        "a read receipt implies sent and delivered, once each"
    );

    let error = ProviderError {
        code: 131047,
        title: "Re-engagement message".into(),
        message: "Re-engagement message".into(),
        details: Some("More than 24 hours have passed".into()),
    };
    wa.deliver(testkit::status(
        PHONE_ID,
        "wamid.standin.2",
        ProviderStatus::Failed,
        ts,
        None,
        &[error],
    ))
    .await;
    let m = wa
        .app
        .get(&format!("/api/v1/messages/{}", b.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(m.body["status"], "not_sent");
    assert_eq!(m.body["error"]["code"], "outside_session_window");
    assert!(m.body["error"]["message"].as_str().unwrap().contains("131047"));
}

#[tokio::test]
async fn a_provider_rate_limit_is_retried_after_its_back_off_and_sent_once() {
    let wa = setup().await;
    wa.inbound_text("wamid.L0", "hi").await;
    let id = wa.contact_id().await;
    wa.api.fail_next(429, 130429, "Rate limit hit", Some(60));
    let r = wa.send_text(&id, "hello").await;
    wa.app.run_jobs().await;
    let m = wa
        .app
        .get(&format!("/api/v1/messages/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(m.body["status"], "queued");
    wa.app.clock.advance(chrono::Duration::seconds(61));
    wa.app.run_jobs().await;
    let m = wa
        .app
        .get(&format!("/api/v1/messages/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(m.body["status"], "sent");
    assert_eq!(wa.api.requests().len(), 2);
}

#[tokio::test]
async fn a_quarantined_message_shows_no_content_in_the_api() {
    let wa = setup().await;
    let body = InboundBuilder::new(PHONE_ID, CUSTOMER, "Ana", "wamid.P1", wa.now_secs())
        .policy_violation()
        .text("forbidden content");
    assert_eq!(wa.deliver(body).await, 200);
    let id = wa.contact_id().await;
    let timeline = wa.app.get(&format!("/api/v1/contacts/{id}/timeline")).await;
    let mid = timeline.body["items"][0]["message_id"].as_str().unwrap().to_string();
    let m = wa.app.get(&format!("/api/v1/messages/{mid}")).await;
    assert_eq!(m.body["quarantined"], true);
    assert!(m.body["text"].is_null());
    assert!(m.body["content"].is_null());
    assert!(!m.body.to_string().contains("forbidden content"));
}

#[tokio::test]
async fn the_marketing_opt_out_button_unsubscribes_with_source_template_button() {
    let wa = setup().await;
    let id = wa
        .app
        .contact(json!({"firstname": "Ana", "whatsapp_phone": "+5511912345678"}))
        .await;
    wa.subscribe(&id).await;
    let r = wa.app.post("/api/v1/messages", json!({"channel": "whatsapp", "contact_id": id, "template": {"name": "promo", "language": "en_US", "parameters": {"body": ["Ana"]}}})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    wa.app.run_jobs().await;
    let tap = InboundBuilder::new(PHONE_ID, CUSTOMER, "Ana", "wamid.B1", wa.now_secs())
        .context("wamid.standin.1")
        .template_button("Stop promotions", "Stop promotions");
    wa.deliver(tap).await;
    let subs = wa.app.get(&format!("/api/v1/contacts/{id}/subscriptions")).await;
    assert_eq!(
        (
            subs.body["whatsapp"]["status"].as_str(),
            subs.body["whatsapp"]["source"].as_str()
        ),
        (Some("unsubscribed"), Some("template_button"))
    );
}

#[tokio::test]
async fn provider_opt_out_131050_unsubscribes_with_source_provider() {
    let wa = setup().await;
    let id = wa
        .app
        .contact(json!({"firstname": "Ana", "whatsapp_phone": "+5511912345678"}))
        .await;
    wa.subscribe(&id).await;
    wa.send_template(&id).await;
    wa.app.run_jobs().await;
    let error = ProviderError {
        code: 131050,
        title: "User stopped marketing".into(),
        message: "stopped".into(),
        details: None,
    };
    wa.deliver(testkit::status(
        PHONE_ID,
        "wamid.standin.1",
        ProviderStatus::Failed,
        wa.now_secs(),
        None,
        &[error],
    ))
    .await;
    let subs = wa.app.get(&format!("/api/v1/contacts/{id}/subscriptions")).await;
    assert_eq!(
        (
            subs.body["whatsapp"]["status"].as_str(),
            subs.body["whatsapp"]["source"].as_str()
        ),
        (Some("unsubscribed"), Some("provider"))
    );
}

#[tokio::test]
async fn a_sandbox_account_works_offline_end_to_end() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp_sandbox", "name": "Try it"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let channel = r.body["id"].as_str().unwrap().to_string();
    let sim = app
        .post(
            &format!("/api/v1/channels/{channel}/simulate"),
            json!({"from": "+351912345678", "name": "João", "text": "Bom dia"}),
        )
        .await;
    assert_eq!(sim.status, 202, "{}", sim.body);
    app.run_jobs().await;
    let contact = app.get("/api/v1/contacts?q=351912345678").await.body["items"][0].clone();
    assert_eq!(contact["properties"]["firstname"], "João");
    let id = contact["id"].as_str().unwrap();
    let reply = app
        .post(
            "/api/v1/messages",
            json!({"channel": "whatsapp", "contact_id": id, "text": "Bom dia João!"}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    app.run_jobs().await;
    let m = app
        .get(&format!("/api/v1/messages/{}", reply.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(m.body["status"], "read");
}

#[tokio::test]
async fn a_send_interrupted_by_a_crash_becomes_uncertain_and_is_reconciled_by_its_status() {
    let wa = setup().await;
    wa.inbound_text("wamid.C0", "hi").await;
    let id = wa.contact_id().await;
    let r = wa.send_text(&id, "hello").await;
    let mid = r.body["id"].as_str().unwrap().to_string();
    // The worker marked the request as attempted, then died before the answer.
    wa.app.app_state.store.mark_send_attempted(&mid, 1).await.unwrap();
    wa.app.run_jobs().await;
    let m = wa.app.get(&format!("/api/v1/messages/{mid}")).await;
    assert_eq!(m.body["status"], "uncertain");
    assert!(
        wa.api.requests().iter().all(|r| r.body["text"]["body"] != "hello"),
        "an uncertain send is never repeated"
    );
    // Meta's status report echoes the hub's id and settles it.
    wa.deliver(testkit::status(
        PHONE_ID,
        "wamid.FROM.META",
        ProviderStatus::Delivered,
        wa.now_secs(),
        Some(&mid),
        &[],
    ))
    .await;
    let m = wa.app.get(&format!("/api/v1/messages/{mid}")).await;
    assert_eq!(
        (m.body["status"].as_str(), m.body["provider_message_id"].as_str()),
        (Some("delivered"), Some("wamid.FROM.META"))
    );
}

#[tokio::test]
async fn idempotency_keys_return_the_first_response_and_refuse_another_body() {
    let wa = setup().await;
    wa.inbound_text("wamid.I0", "hi").await;
    let id = wa.contact_id().await;
    let body = json!({"channel": "whatsapp", "contact_id": id, "text": "only once"});
    let send = |body: Value| {
        let app = &wa.app;
        app.send(
            app.client
                .post(app.url("/api/v1/messages"))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", "order-42")
                .json(&body),
        )
    };
    let first = send(body.clone()).await;
    let second = send(body.clone()).await;
    assert_eq!((first.status, second.status), (202, 202));
    assert_eq!(first.body["id"], second.body["id"]);
    let other = send(json!({"channel": "whatsapp", "contact_id": id, "text": "something else"})).await;
    assert_eq!((other.status, other.code()), (409, "idempotency_key_reused"));
    wa.app.run_jobs().await;
    assert_eq!(
        wa.api
            .requests()
            .iter()
            .filter(|r| r.body["text"]["body"] == "only once")
            .count(),
        1
    );
}

#[tokio::test]
async fn concurrent_first_messages_from_a_new_number_meet_one_contact() {
    let app = spawn_app().await;
    let channel = app.channel("whatsapp_sandbox", "Sandbox", json!({})).await;
    let path = format!("/api/v1/channels/{channel}/simulate");
    let mut posts = Vec::new();
    for round in 0..5 {
        for n in 0..50 {
            let body = json!({"from": format!("+55119{n:08}"), "name": format!("Person {n}"), "text": format!("hello {round}")});
            posts.push(app.post(&path, body));
        }
    }
    for reply in futures::future::join_all(posts).await {
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    app.run_jobs_concurrently(8).await;
    let contacts = app.get("/api/v1/contacts?limit=500").await.body;
    let mut numbers: Vec<&str> = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["phones"]["whatsapp_phone"].as_str().unwrap())
        .collect();
    numbers.sort();
    let all = numbers.len();
    numbers.dedup();
    assert_eq!((all, numbers.len()), (50, 50), "one contact per number");
}

#[tokio::test]
async fn an_inbound_message_with_a_nul_character_is_stored_with_it_replaced() {
    let wa = setup().await;
    assert_eq!(wa.inbound_text("wamid.NUL1", "hi\u{0}there").await, 200);
    wa.app.run_jobs().await;
    let contact = wa.contact_id().await;
    let timeline = wa.app.get(&format!("/api/v1/contacts/{contact}/timeline")).await.body;
    let received = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "WHATSAPP_RECEIVED")
        .unwrap_or_else(|| panic!("the acknowledged message is stored: {timeline}"))
        .clone();
    let message = wa
        .app
        .get(&format!(
            "/api/v1/messages/{}",
            received["message_id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(message["text"], "hi\u{FFFD}there");
}
