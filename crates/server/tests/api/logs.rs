//! What the hub writes to its log at the default level: ids, never the
//! phone numbers or words of the people it messages.

use crate::common::process::{free_port, start_logged_node, stop_gracefully, temp_data_dir, wait_healthy};
use recado_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_log_test_token_0123456789abcdef";

/// Numbers and words this test hands the hub; none may reach the log.
const ZELIA: &str = "+5511977776666";
const BRUNO: &str = "+5511955554444";
const CAIO: &str = "+5511933332222";
const SMS_TEXT: &str = "Codigo secreto 834521";
const INBOUND_TEXT: &str = "Quero cancelar o pedido 9912";
const REPLY_TEXT: &str = "Resposta do atendente 7731";

struct Hub {
    client: reqwest::Client,
    base: String,
}

impl Hub {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await.1
    }

    async fn channel_of_kind(&self, kind: &str) -> String {
        let channels = self.get("/api/v1/channels").await;
        channels["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind)
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("no {kind} channel: {channels}"))
            .to_string()
    }

    async fn subscribed_contact(&self, phone: &str, name: &str) -> String {
        let (status, contact) = self
            .post(
                "/api/v1/contacts",
                json!({"properties": {"firstname": name, "mobilephone": phone}}),
            )
            .await;
        assert_eq!(status, 201, "{contact}");
        let id = contact["id"].as_str().unwrap().to_string();
        for channel in ["sms", "whatsapp"] {
            let (status, body) = self
                .call(
                    reqwest::Method::PUT,
                    &format!("/api/v1/contacts/{id}/subscriptions/{channel}"),
                    Some(json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up"})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        id
    }

    /// Waits until `GET path` satisfies `done`.
    async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        // Generous: the suite runs many hubs at once on a small machine.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let body = self.get(path).await;
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "{path} never got there: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Ways a number can appear in a log line: as given, and without its `+`.
fn forms_of(phone: &str) -> [String; 2] {
    [phone.to_string(), phone.trim_start_matches('+').to_string()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_at_the_default_level_carry_no_phone_number_and_no_message_text() {
    let db = TestDatabase::new().await;
    let data_dir = temp_data_dir("recado-logs");
    std::fs::create_dir_all(&data_dir).unwrap();
    let log_path = data_dir.join("hub.log");
    let port = free_port();
    let hub = Hub {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut child = start_logged_node(&db.url, &data_dir, port, TOKEN, &["--demo"], &log_path);
    wait_healthy(&hub.client, &hub.base).await;

    // An SMS sent and delivered, and one refused for want of consent.
    let zelia = hub.subscribed_contact(ZELIA, "Zelia").await;
    let (status, sent) = hub
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": zelia, "text": SMS_TEXT}),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    let sent_id = sent["id"].as_str().unwrap();
    hub.wait_for(&format!("/api/v1/messages/{sent_id}"), |m| m["status"] == "delivered")
        .await;
    let (status, caio) = hub
        .post(
            "/api/v1/contacts",
            json!({"properties": {"firstname": "Caio", "mobilephone": CAIO}}),
        )
        .await;
    assert_eq!(status, 201, "{caio}");
    let (status, refused) = hub
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": caio["id"], "text": SMS_TEXT}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    let (status, invalid) = hub
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "to": "+55119", "text": SMS_TEXT}),
        )
        .await;
    assert_eq!(status, 422, "{invalid}");

    // A WhatsApp message from a new number, answered from the inbox.
    let wa = hub.channel_of_kind("whatsapp_sandbox").await;
    let (status, body) = hub
        .post(
            &format!("/api/v1/channels/{wa}/simulate"),
            json!({"from": BRUNO, "name": "Bruno", "text": INBOUND_TEXT}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let query = format!("/api/v1/threads?q={}", BRUNO.replace('+', "%2B"));
    let threads = hub
        .wait_for(&query, |t| t["items"].as_array().is_some_and(|i| !i.is_empty()))
        .await;
    let thread = threads["items"][0]["id"].as_str().unwrap();
    let (status, reply) = hub
        .post(
            &format!("/api/v1/threads/{thread}/messages"),
            json!({"text": REPLY_TEXT}),
        )
        .await;
    assert_eq!(status, 202, "{reply}");
    let reply_id = reply["id"].as_str().unwrap();
    hub.wait_for(&format!("/api/v1/messages/{reply_id}"), |m| {
        m["status"] == "delivered" || m["status"] == "read"
    })
    .await;
    // An opt-out keyword from the same number.
    let (status, body) = hub
        .post(
            &format!("/api/v1/channels/{wa}/simulate"),
            json!({"from": BRUNO, "name": "Bruno", "text": "PARAR"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A clean stop writes the last lines.
    stop_gracefully(&mut child);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("Recado is listening"), "{log}");
    let mut needles: Vec<String> = [ZELIA, BRUNO, CAIO].iter().flat_map(|p| forms_of(p)).collect();
    needles.extend([SMS_TEXT, INBOUND_TEXT, REPLY_TEXT].map(String::from));
    let found: Vec<&String> = needles.iter().filter(|n| log.contains(n.as_str())).collect();
    assert!(found.is_empty(), "the log shows {found:?}:\n{log}");
    let _ = std::fs::remove_dir_all(&data_dir);
}
