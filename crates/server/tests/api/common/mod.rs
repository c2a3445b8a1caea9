//! `spawn_app()`: the real hub on a random port with its own fresh database
//! (SQLite or PostgreSQL, per `RECADO_TEST_BACKEND`), plus a small client.
#![allow(dead_code)]

pub mod cloud_api;
pub mod process;
pub mod remote;
pub mod smtp_sink;
pub mod twilio;
pub mod web;

use recado::config::{Secret, Settings};
use recado::Application;
use recado_core::clock::{Clock, ManualClock};
use recado_store::testing::TestDatabase;
use serde_json::Value;
use std::sync::Arc;

pub const ADMIN_TOKEN: &str = "rcd_test_admin_token_0123456789abcdef";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub app_state: recado_app::AppState,
    pub clock: ManualClock,
    _db: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the hub with test settings adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_log();
    let db = TestDatabase::new().await;
    let dir = db
        .data_dir()
        .cloned()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("recado-pg-{}", ulid_like())));
    let mut settings = Settings::for_tests(&db.url, dir);
    settings.admin_token = Some(Secret::new(ADMIN_TOKEN));
    adjust(&mut settings);
    let clock = ManualClock::new(test_start());
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()) as Arc<dyn Clock>)
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let app_state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::new(),
        token: ADMIN_TOKEN.to_string(),
        app_state,
        clock,
        _db: db,
    }
}

/// Every test starts at the same instant, so a result never depends on the
/// day the suite runs (a Monday morning, in the middle of a month).
pub fn test_start() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 16, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

/// `TEST_LOG=1` shows the hub's tracing output of the tests that run.
fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_test_writer()
                .try_init();
        }
    });
}

fn ulid_like() -> String {
    recado_core::ids::new_id(recado_core::ids::IdKind::Workspace)
}

/// A response's status and JSON body (Null when the body is not JSON).
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(path, &self.token).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_as(path, body, &self.token).await
    }

    pub async fn post_as(&self, path: &str, body: Value, token: &str) -> Reply {
        self.send(self.client.post(self.url(path)).bearer_auth(token).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.put(self.url(path)).bearer_auth(&self.token).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.patch(self.url(path)).bearer_auth(&self.token).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.client.delete(self.url(path)).bearer_auth(&self.token))
            .await
    }

    /// Creates a contact and returns its id.
    pub async fn contact(&self, properties: Value) -> String {
        let r = self
            .post("/api/v1/contacts", serde_json::json!({ "properties": properties }))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Creates a channel and returns its id.
    pub async fn channel(&self, kind: &str, name: &str, config: Value) -> String {
        let r = self
            .post(
                "/api/v1/channels",
                serde_json::json!({"kind": kind, "name": name, "config": config}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Subscribes a contact to a channel manually, with consent as the basis.
    pub async fn subscribe(&self, contact: &str, channel: &str) {
        let r = self
            .put(
                &format!("/api/v1/contacts/{contact}/subscriptions/{channel}"),
                serde_json::json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// A sandbox inbound message (`body` as `/simulate` takes it), processed.
    pub async fn simulate(&self, channel: &str, body: Value) {
        let r = self.post(&format!("/api/v1/channels/{channel}/simulate"), body).await;
        assert_eq!(r.status, 202, "{}", r.body);
        self.run_jobs().await;
    }

    /// The id of the first thread `GET /api/v1/threads{query}` lists.
    pub async fn first_thread(&self, query: &str) -> String {
        let r = self.get(&format!("/api/v1/threads{query}")).await;
        r.body["items"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no thread: {}", r.body))
            .to_string()
    }

    /// A second workspace and its admin token.
    pub async fn other_workspace(&self, name: &str) -> String {
        let r = self
            .post(
                "/api/v1/workspaces",
                serde_json::json!({"name": name, "admin_email": format!("admin@{name}.example")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["admin_token"].as_str().unwrap().to_string()
    }

    /// Runs due jobs until none is left (workers are off in tests).
    /// The hub's `/metrics` page.
    pub async fn metrics_page(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The value of the series `name{labels}` on the hub's `/metrics` page.
    pub async fn metric(&self, name_and_labels: &str) -> Option<f64> {
        let page = self.metrics_page().await;
        page.lines()
            .find_map(|l| l.strip_prefix(name_and_labels)?.trim().parse().ok())
    }

    /// Runs due jobs, due workflow runs and due schedule triggers until
    /// nothing is due. Returns how many jobs ran.
    /// What the SMS sandbox received: one JSON object per submission
    /// (`message_id`, `from`, `to`, `text`, …), in order.
    pub fn sandbox_sms(&self) -> Vec<Value> {
        let path = recado_app::sms::sandbox_outbox::path(&self.app_state.settings.data_dir);
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a whole JSON line"))
            .collect()
    }

    pub async fn run_jobs(&self) -> usize {
        let registry = recado_app::workers::Registry::builtin();
        let mut n = 0;
        loop {
            let mut ran = 0;
            while recado_app::workers::run_once(&self.app_state, &registry, "test-worker")
                .await
                .expect("queue reachable")
            {
                n += 1;
                ran += 1;
                assert!(n < 10_000, "jobs keep coming");
            }
            let fired = recado_app::workflows::enrol::fire_schedules(&self.app_state)
                .await
                .expect("schedules fire");
            let advanced = recado_app::workflows::engine::advance_all_due(&self.app_state, "test-engine")
                .await
                .expect("workflow runs advance");
            if ran == 0 && fired == 0 && advanced == 0 {
                return n;
            }
        }
    }

    /// Runs due jobs with `workers` workers at once (as `serve` does), then
    /// drains what they left one by one. Returns how many jobs ran.
    pub async fn run_jobs_concurrently(&self, workers: usize) -> usize {
        let registry = recado_app::workers::Registry::builtin();
        let mut tasks = Vec::new();
        for n in 0..workers {
            let (state, registry) = (self.app_state.clone(), registry.clone());
            tasks.push(tokio::spawn(async move {
                let name = format!("test-worker-{n}");
                let mut ran = 0;
                while recado_app::workers::run_once(&state, &registry, &name)
                    .await
                    .expect("queue reachable")
                {
                    ran += 1;
                }
                ran
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("worker finished");
        }
        total + self.run_jobs().await
    }

    /// Posts a raw webhook body with the given signature header.
    pub async fn post_webhook(&self, path: &str, body: Vec<u8>, signature: Option<&str>) -> Reply {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        self.send(req).await
    }
}
