//! Broadcasts (SPEC §7, API "Campaigns and broadcasts"): the estimate says
//! what then happens; recipients are prepared once each; scheduling,
//! pause, resume and cancel take effect at once.

use crate::common::{spawn_app, TestApp};
use chrono::Datelike;
use recado_core::clock::Clock;
use serde_json::{json, Value};

struct Setup {
    app: TestApp,
    segment: String,
}

/// A sandbox SMS channel and a segment of the contacts with `country` BR.
async fn setup() -> Setup {
    let app = spawn_app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    let r = app
        .post(
            "/api/v1/segments",
            json!({"name": "Brazil", "filter": {"property": "country", "op": "eq", "value": "BR"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let segment = r.body["id"].as_str().unwrap().to_string();
    Setup { app, segment }
}

impl Setup {
    /// `n` members subscribed to SMS, numbered from `from`.
    async fn members(&self, from: usize, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in from..from + n {
            let id = self
                .app
                .contact(json!({"firstname": format!("C{i}"), "country": "BR", "mobilephone": format!("+55119{i:08}")}))
                .await;
            self.app.subscribe(&id, "sms").await;
            ids.push(id);
        }
        ids
    }

    fn body(&self, extra: Value) -> Value {
        let mut body = json!({"segment_id": self.segment, "channel": "sms", "text": "Oferta {{contact.firstname}}"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    async fn create(&self, extra: Value) -> Value {
        let r = self.app.post("/api/v1/broadcasts", self.body(extra)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    async fn broadcast(&self, id: &str) -> Value {
        let r = self.app.get(&format!("/api/v1/broadcasts/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    async fn stats(&self, campaign_id: &str) -> Value {
        self.app.get(&format!("/api/v1/campaigns/{campaign_id}")).await.body["stats"].clone()
    }

    /// Runs jobs and lets time pass until the broadcast is over.
    async fn run_to_end(&self, id: &str) -> Value {
        for _ in 0..50 {
            self.app.run_jobs().await;
            let b = self.broadcast(id).await;
            if b["status"] == "done" || b["status"] == "cancelled" {
                return b;
            }
            self.app.clock.advance(chrono::Duration::seconds(1));
        }
        panic!("broadcast {id} did not end: {}", self.broadcast(id).await);
    }

    /// Prepares the broadcast's next page, as its job does, without
    /// running the dispatcher.
    async fn prepare_a_page(&self, id: &str) {
        let ws = self.app.get("/api/v1/workspace").await.body["id"]
            .as_str()
            .unwrap()
            .to_string();
        let _ = recado_app::broadcasts::prepare::job(self.app.app_state.clone(), ws, id.to_string()).await;
    }
}

fn sandbox_sent(app: &TestApp) -> usize {
    app.sandbox_sms().len()
}

#[tokio::test]
async fn the_estimate_matches_what_the_broadcast_then_does() {
    let s = setup().await;
    s.members(0, 20).await;
    // Not subscribed, and subscribed without a number.
    for i in 0..5 {
        s.app
            .contact(json!({"country": "BR", "mobilephone": format!("+55118{i:08}")}))
            .await;
        let id = s.app.contact(json!({"country": "BR", "firstname": "Sem"})).await;
        s.app.subscribe(&id, "sms").await;
    }
    // Not in the segment.
    s.app
        .contact(json!({"country": "PT", "mobilephone": "+351912345678"}))
        .await;
    let extra =
        json!({"text": "Oi {{contact.firstname}}: https://loja.example/bf Sair: {UNSUB_URL}", "shorten_urls": true});
    let e = s.app.post("/api/v1/broadcasts/estimate", s.body(extra.clone())).await;
    assert_eq!(e.status, 200, "{}", e.body);
    assert_eq!(e.body["recipients"], 30);
    assert_eq!(e.body["excluded"], json!({"invalid_phone": 5, "not_subscribed": 5}));
    assert_eq!(e.body["messages"], 20);
    let b = s.create(extra).await;
    let done = s.run_to_end(b["id"].as_str().unwrap()).await;
    assert_eq!(done["prepared"], 30);
    let stats = s.stats(b["campaign_id"].as_str().unwrap()).await;
    assert_eq!(stats["recipients"], e.body["recipients"]);
    assert_eq!(stats["not_sent_by_reason"], e.body["excluded"]);
    assert_eq!(stats["sent"], e.body["messages"]);
    assert_eq!(stats["parts"], e.body["parts"]["total"]);
    assert_eq!(stats["delivered"], 20);
    assert_eq!(done["sent"], 20);
}

#[tokio::test]
async fn a_click_on_a_broadcast_link_counts_for_its_campaign() {
    let s = setup().await;
    s.members(0, 2).await;
    let b = s
        .create(json!({"text": "Veja https://loja.example/bf", "shorten_urls": true}))
        .await;
    s.run_to_end(b["id"].as_str().unwrap()).await;
    let campaign = b["campaign_id"].as_str().unwrap();
    let recipients = s.app.get(&format!("/api/v1/campaigns/{campaign}/recipients")).await;
    let message_id = recipients.body["items"][0]["message_id"].as_str().unwrap().to_string();
    let m = s.app.get(&format!("/api/v1/messages/{message_id}")).await;
    let text = m.body["text"].as_str().unwrap();
    let code = text
        .split_whitespace()
        .find(|w| w.contains("/s/"))
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect.get(s.app.url(&format!("/s/{code}"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let stats = s.stats(campaign).await;
    assert_eq!(
        (stats["clicked"].as_i64(), stats["clicked_unique"].as_i64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn every_recipient_of_a_broadcast_larger_than_a_page_gets_exactly_one_message() {
    let s = setup().await;
    let members = s.members(0, 1100).await;
    let b = s.create(json!({})).await;
    s.run_to_end(b["id"].as_str().unwrap()).await;
    let outbox = s.app.sandbox_sms();
    assert_eq!(outbox.len(), members.len());
    let mut to: Vec<&str> = outbox.iter().map(|m| m["to"].as_str().unwrap()).collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), members.len(), "no number twice");
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_for_its_time() {
    let s = setup().await;
    s.members(0, 3).await;
    let at = s.app.clock.now() + chrono::Duration::hours(1);
    let b = s.create(json!({"scheduled_at": at.to_rfc3339()})).await;
    assert_eq!(b["status"], "scheduled");
    s.app.run_jobs().await;
    assert_eq!(sandbox_sent(&s.app), 0);
    assert_eq!(s.broadcast(b["id"].as_str().unwrap()).await["status"], "scheduled");
    s.app.clock.advance(chrono::Duration::minutes(61));
    let done = s.run_to_end(b["id"].as_str().unwrap()).await;
    assert_eq!((done["status"].as_str(), sandbox_sent(&s.app)), (Some("done"), 3));
}

#[tokio::test]
async fn a_paused_broadcast_submits_nothing_more_and_resuming_sends_each_recipient_once() {
    let s = setup().await;
    s.members(0, 40).await;
    let b = s.create(json!({})).await;
    let id = b["id"].as_str().unwrap();
    s.prepare_a_page(id).await;
    assert_eq!(s.broadcast(id).await["prepared"], 40, "prepared, not yet sent");
    let paused = s.app.post(&format!("/api/v1/broadcasts/{id}/pause"), json!({})).await;
    assert_eq!((paused.status, paused.body["status"].as_str()), (200, Some("paused")));
    for _ in 0..3 {
        s.app.run_jobs().await;
        s.app.clock.advance(chrono::Duration::seconds(1));
    }
    assert_eq!(sandbox_sent(&s.app), 0, "nothing is submitted while paused");
    assert_eq!(s.broadcast(id).await["sent"], 0);
    let resumed = s.app.post(&format!("/api/v1/broadcasts/{id}/resume"), json!({})).await;
    assert_eq!(
        (resumed.status, resumed.body["status"].as_str()),
        (200, Some("sending"))
    );
    let done = s.run_to_end(id).await;
    assert_eq!((done["sent"].as_i64(), sandbox_sent(&s.app)), (Some(40), 40));
}

#[tokio::test]
async fn pausing_before_preparation_prepares_nothing_until_resumed() {
    let s = setup().await;
    s.members(0, 5).await;
    let b = s.create(json!({})).await;
    let id = b["id"].as_str().unwrap();
    s.app.post(&format!("/api/v1/broadcasts/{id}/pause"), json!({})).await;
    s.app.run_jobs().await;
    assert_eq!(s.broadcast(id).await["prepared"], 0);
    let resumed = s.app.post(&format!("/api/v1/broadcasts/{id}/resume"), json!({})).await;
    assert_eq!(resumed.body["status"], "preparing");
    assert_eq!(s.run_to_end(id).await["sent"], 5);
}

#[tokio::test]
async fn a_cancelled_broadcast_settles_its_unsent_messages_as_not_sent() {
    let s = setup().await;
    s.members(0, 10).await;
    let b = s.create(json!({})).await;
    let id = b["id"].as_str().unwrap();
    s.prepare_a_page(id).await;
    let cancelled = s.app.post(&format!("/api/v1/broadcasts/{id}/cancel"), json!({})).await;
    assert_eq!(
        (cancelled.status, cancelled.body["status"].as_str()),
        (200, Some("cancelled"))
    );
    s.app.run_jobs().await;
    assert_eq!(sandbox_sent(&s.app), 0);
    let stats = s.stats(b["campaign_id"].as_str().unwrap()).await;
    assert_eq!(stats["not_sent_by_reason"], json!({"broadcast_cancelled": 10}));
    let again = s.app.post(&format!("/api/v1/broadcasts/{id}/resume"), json!({})).await;
    assert_eq!((again.status, again.code()), (409, "broadcast_state"));
}

#[tokio::test]
async fn each_unnamed_broadcast_gets_its_own_default_campaign() {
    let s = setup().await;
    s.members(0, 1).await;
    let first = s.create(json!({})).await;
    let second = s.create(json!({})).await;
    let now = s.app.clock.now();
    let base = format!("BROADCAST_SMS_{}_{:02}", now.year(), now.month());
    assert_eq!(first["name"], base.as_str());
    assert_eq!(second["name"], format!("{base}_2").as_str());
    assert_ne!(first["campaign_id"], second["campaign_id"]);
    let named = s.app.post("/api/v1/broadcasts", s.body(json!({"name": base}))).await;
    assert_eq!((named.status, named.code()), (409, "campaign_exists"));
}

#[tokio::test]
async fn a_broadcast_request_that_cannot_be_sent_is_refused_before_anything_is_stored() {
    let s = setup().await;
    let cases = [
        (json!({"segment_id": "sg_nosuch"}), "unknown_segment", "segment_id"),
        (json!({"text": "  "}), "invalid_broadcast", "text"),
        (json!({"from": "Not@Valid!"}), "invalid_sender", "from"),
        (json!({"policy": "squeeze"}), "invalid_broadcast", "policy"),
        (json!({"scheduled_at": "tomorrow"}), "invalid_time", "scheduled_at"),
        (json!({"channel": "whatsapp"}), "invalid_broadcast", "text"),
    ];
    for (extra, code, field) in cases {
        let r = s.app.post("/api/v1/broadcasts", s.body(extra.clone())).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, code, field),
            "{extra}: {}",
            r.body
        );
    }
    let list = s.app.get("/api/v1/broadcasts").await;
    assert_eq!(list.body["items"], json!([]));
}
