//! A 100,000-recipient broadcast through the real binary: pausing stops
//! submissions within a second and resuming finishes it; SIGKILL during
//! preparation and again during dispatch, then restart, and it completes
//! with every recipient prepared once and no message submitted twice.

use crate::common::process::{free_port, start_node, temp_data_dir, wait_healthy};
use crate::common::remote::{sandbox_count, sandbox_received, Remote};
use recado_store::testing::TestDatabase;
use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_broadcast_test_token_0123456789ab";
const RECIPIENTS: usize = 100_000;

struct Hub {
    db: TestDatabase,
    data_dir: std::path::PathBuf,
    port: u16,
    remote: Remote,
    process: Child,
    began: Instant,
}

impl Hub {
    async fn start(prefix: &str) -> Hub {
        let db = TestDatabase::new().await;
        let data_dir = temp_data_dir(prefix);
        let port = free_port();
        let remote = Remote::new(&format!("http://127.0.0.1:{port}"), TOKEN);
        let process = start_node(&db.url, &data_dir, port, TOKEN, &[]);
        wait_healthy(&remote.client, &remote.base).await;
        Hub {
            db,
            data_dir,
            port,
            remote,
            process,
            began: Instant::now(),
        }
    }

    fn progress(&self, what: &str) {
        eprintln!("{:>6.1} s  {what}", self.began.elapsed().as_secs_f64());
    }

    async fn kill_and_restart(&mut self) {
        self.process.kill().expect("SIGKILL");
        self.process.wait().ok();
        self.process = start_node(&self.db.url, &self.data_dir, self.port, TOKEN, &[]);
        wait_healthy(&self.remote.client, &self.remote.base).await;
    }

    /// An SMS sandbox channel, `RECIPIENTS` subscribed contacts in a segment,
    /// and a broadcast to it. The broadcast's id and campaign id.
    async fn broadcast(&self) -> (String, String) {
        self.remote
            .post(
                "/api/v1/channels",
                serde_json::json!({"kind": "sms_sandbox", "name": "SMS", "config": {"senders": ["Recado"]}}),
            )
            .await;
        let ws = self.remote.get("/api/v1/workspace").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let store = recado_store::Store::connect(&self.db.url).await.unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        recado_store::testing::seed_subscribed_contacts(&store, &ws, 0, RECIPIENTS, now)
            .await
            .unwrap();
        store.close().await;
        self.progress("contacts generated");
        let segment = self
            .remote
            .post(
                "/api/v1/segments",
                serde_json::json!({"name": "SMS", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
            )
            .await;
        let b = self
            .remote
            .post(
                "/api/v1/broadcasts",
                serde_json::json!({"segment_id": segment["id"], "channel": "sms", "text": "Oi {{contact.firstname}}, feira amanhã!"}),
            )
            .await;
        (
            b["id"].as_str().unwrap().to_string(),
            b["campaign_id"].as_str().unwrap().to_string(),
        )
    }

    async fn status(&self, id: &str) -> serde_json::Value {
        self.remote.get(&format!("/api/v1/broadcasts/{id}")).await
    }

    async fn wait_until_done(&self, id: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let b = self.status(id).await;
            if b["status"] == "done" || Instant::now() > deadline {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Every recipient has one message; none reached the provider twice,
    /// and the only ones it did not receive are `uncertain`.
    async fn assert_each_recipient_once(&self, campaign: &str) {
        let recipients = self
            .remote
            .all_pages(&format!("/api/v1/campaigns/{campaign}/recipients"))
            .await;
        let mut per_contact: HashMap<&str, usize> = HashMap::new();
        for r in &recipients {
            *per_contact
                .entry(r["contact_id"].as_str().unwrap_or_default())
                .or_default() += 1;
        }
        assert_eq!(per_contact.len(), RECIPIENTS, "every member has a message");
        assert!(per_contact.values().all(|n| *n == 1), "a member has two messages");
        let received = sandbox_received(&self.data_dir);
        let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "the provider received these twice: {twice:?}");
        let mut uncertain = 0;
        for r in &recipients {
            if !received.contains_key(r["message_id"].as_str().unwrap()) {
                assert_eq!(r["state"], "uncertain", "{r} never reached the provider");
                uncertain += 1;
            }
        }
        self.progress(&format!("{} received once, {uncertain} uncertain", received.len()));
        assert_eq!(received.len() + uncertain, RECIPIENTS);
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pausing_a_hundred_thousand_recipient_broadcast_stops_submissions_within_a_second() {
    let hub = Hub::start("recado-broadcast-pause").await;
    let (id, campaign) = hub.broadcast().await;
    while sandbox_count(&hub.data_dir) < RECIPIENTS / 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hub.remote
        .post(&format!("/api/v1/broadcasts/{id}/pause"), serde_json::json!({}))
        .await;
    let paused_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_a_second = sandbox_count(&hub.data_dir);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = sandbox_count(&hub.data_dir);
    hub.progress(&format!(
        "paused: {after_a_second} received {:?} after the pause, {later} three seconds later",
        paused_at.elapsed() - Duration::from_secs(3)
    ));
    assert_eq!(later, after_a_second, "submissions went on after the pause");
    assert!(later < RECIPIENTS, "the broadcast was over before the pause");
    let b = hub.status(&id).await;
    assert_eq!(
        (b["status"].as_str(), b["sent"].as_u64()),
        (Some("paused"), Some(later as u64))
    );
    hub.remote
        .post(&format!("/api/v1/broadcasts/{id}/resume"), serde_json::json!({}))
        .await;
    let done = hub.wait_until_done(&id).await;
    hub.progress("done");
    assert_eq!(done["status"], "done");
    hub.assert_each_recipient_once(&campaign).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_preparation_and_dispatch_of_a_hundred_thousand_recipient_broadcast_reaches_each_once() {
    let mut hub = Hub::start("recado-broadcast-crash").await;
    let (id, campaign) = hub.broadcast().await;
    // During preparation: some recipients prepared, not all.
    loop {
        let prepared = hub.status(&id).await["prepared"].as_u64().unwrap_or(0);
        if prepared > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    hub.kill_and_restart().await;
    let b = hub.status(&id).await;
    hub.progress(&format!("killed while preparing: {} prepared", b["prepared"]));
    assert!(
        b["prepared"].as_u64().unwrap() < RECIPIENTS as u64,
        "preparation was over"
    );
    // During dispatch: the provider has received some, not all.
    while sandbox_count(&hub.data_dir) < RECIPIENTS / 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hub.kill_and_restart().await;
    hub.progress(&format!(
        "killed while sending: {} received",
        sandbox_count(&hub.data_dir)
    ));
    assert!(sandbox_count(&hub.data_dir) < RECIPIENTS, "the sends were over");
    let done = hub.wait_until_done(&id).await;
    hub.progress("done");
    assert_eq!(
        (done["status"].as_str(), done["prepared"].as_u64()),
        (Some("done"), Some(RECIPIENTS as u64))
    );
    hub.assert_each_recipient_once(&campaign).await;
}
