//! Request ids and request tracing: every response carries `x-request-id`,
//! and every request is logged in a span with its route template, its id,
//! status and latency, never its raw path or query.

use crate::common::spawn_app;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::util::SubscriberInitExt;

fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .expect("an x-request-id header")
        .to_str()
        .unwrap()
        .to_string()
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn a_response_carries_a_generated_request_id() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    // A route, the same route again, and a path that matches no route.
    for path in ["/healthz", "/healthz", "/no/such/page"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let id = request_id(&res);
        assert!(is_uuid(&id), "{path}: {id}");
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each request gets its own id");
}

#[tokio::test]
async fn an_incoming_request_id_is_echoed_back() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/contacts"))
        .bearer_auth(&app.token)
        .header("x-request-id", "order-sync-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(request_id(&res), "order-sync-7f3a");
}

/// What the hub logged in this test, one JSON object per line.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The span of the finished request with this id.
    fn finished_request(&self, request_id: &str) -> Value {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|e| e["fields"]["message"] == "request finished" && e["span"]["request_id"] == request_id)
            .map(|e| e["span"].clone())
            .unwrap_or_else(|| panic!("no finished request {request_id} in:\n{}", self.text()))
    }
}

#[tokio::test]
async fn a_request_is_logged_under_its_route_template_never_its_path_or_query() {
    // Tests run on one thread, the server's tasks too: this subscriber
    // sees everything the hub logs here. The test's own HTTP client is
    // left out.
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let _guard = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,reqwest=off,hyper_util=off,sqlx=warn",
        ))
        .with_writer(move || writer.clone())
        .set_default();
    let app = spawn_app().await;
    let get = |path: &str, id: &str| {
        app.client
            .get(app.url(path))
            .bearer_auth(&app.token)
            .header("x-request-id", id)
            .send()
    };
    let search = get("/api/v1/contacts?q=%2B5511912345678", "search-1").await.unwrap();
    assert_eq!(search.status(), 200);
    let missing = get("/api/v1/contacts/+5511912345678", "lookup-1").await.unwrap();
    assert_eq!(missing.status(), 404);

    let span = logs.finished_request("search-1");
    assert_eq!(
        (&span["method"], &span["route"], &span["status"]),
        (&Value::from("GET"), &Value::from("/api/v1/contacts"), &Value::from(200))
    );
    assert!(span["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{span}");
    let span = logs.finished_request("lookup-1");
    assert_eq!(
        (&span["route"], &span["status"]),
        (&Value::from("/api/v1/contacts/{id}"), &Value::from(404))
    );
    assert!(
        !logs.text().contains("5511912345678"),
        "a phone number reached the logs:\n{}",
        logs.text()
    );
}
