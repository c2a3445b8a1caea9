//! Talking to a hub started as a separate process (crash and load tests):
//! JSON calls with its admin token, every page of a list, contacts imported
//! and subscribed in bulk, and what the SMS sandbox received.

use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

pub struct Remote {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Remote {
    pub fn new(base: &str, token: &str) -> Remote {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        Remote::with_client(base, token, client)
    }

    /// The same through `client`, whose timeout a test chose for its hub.
    pub fn with_client(base: &str, token: &str, client: reqwest::Client) -> Remote {
        Remote {
            client,
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    /// A POST that must succeed; its JSON answer.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or_default()
    }

    /// A GET that must succeed; its JSON answer.
    pub async fn get(&self, path: &str) -> serde_json::Value {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Every item of a paged list.
    pub async fn all_pages(&self, path: &str) -> Vec<serde_json::Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let mut url = format!("{path}{sep}limit=500");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(&url).await;
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    /// `n` contacts (`firstname` C{i}, `mobilephone` +551191{i:07}) imported
    /// in files of 1,000 lines and subscribed to SMS in requests of 1,000, a
    /// few at a time. Their ids.
    pub async fn import_subscribed(&self, n: usize) -> Vec<String> {
        let imports = (0..n).step_by(1000).map(|first| async move {
            let mut csv = String::from("firstname,mobilephone\n");
            for i in first..(first + 1000).min(n) {
                csv.push_str(&format!("C{i},+551191{i:07}\n"));
            }
            let r = self
                .client
                .post(format!("{}/api/v1/contacts/import", self.base))
                .bearer_auth(&self.token)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let report: serde_json::Value = r.json().await.unwrap();
            report["created"].as_u64().unwrap_or(0)
        });
        let created: u64 = futures::stream::iter(imports)
            .buffer_unordered(4)
            .collect::<Vec<_>>()
            .await
            .iter()
            .sum();
        assert_eq!(created, n as u64);
        let contacts: Vec<String> = self
            .all_pages("/api/v1/contacts")
            .await
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(contacts.len(), n);
        let bulks = contacts.chunks(1000).map(|ids| {
            let body = serde_json::json!({"contact_ids": ids, "channel": "sms", "status": "subscribed",
                                          "legal_basis": "consent", "explanation": "signed up at the counter"});
            async move {
                self.post("/api/v1/subscriptions/bulk", body).await["updated"]
                    .as_u64()
                    .unwrap_or(0)
            }
        });
        let updated: u64 = futures::stream::iter(bulks)
            .buffer_unordered(4)
            .collect::<Vec<_>>()
            .await
            .iter()
            .sum();
        assert_eq!(updated, n as u64);
        contacts
    }
}

/// What the SMS sandbox under `data_dir` received: message id → times.
pub fn sandbox_received(data_dir: &std::path::Path) -> HashMap<String, usize> {
    let outbox = std::fs::read_to_string(data_dir.join("sandbox").join("sms.jsonl")).unwrap_or_default();
    let mut received = HashMap::new();
    for line in outbox.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("the sandbox writes whole lines");
        *received
            .entry(v["message_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    received
}

/// How many submissions the SMS sandbox under `data_dir` received.
pub fn sandbox_count(data_dir: &std::path::Path) -> usize {
    std::fs::read_to_string(data_dir.join("sandbox").join("sms.jsonl"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}
