//! Several nodes on one PostgreSQL database (real `recado serve` processes,
//! two at a time): the job queue is shared and no job runs twice, an SMPP
//! channel is bound by one node only, and killing a node moves its bind and
//! the jobs it had leased to the other.

use crate::common::process::{free_port, start_node, temp_data_dir, wait_healthy};
use axum::routing::post;
use axum::Router;
use recado_channels::sms::testkit::{TestSmsc, SMSC_PASSWORD, SMSC_SYSTEM_ID};
use recado_store::testing::{testing_postgres, TestDatabase};
use serde_json::{json, Value};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "rcd_nodes_test_token_0123456789abcdef";
/// Both nodes must read the channel secrets the other stored.
const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

struct Node {
    base: String,
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn node(db: &TestDatabase, client: &reqwest::Client) -> Node {
    let port = free_port();
    let child = start_node(
        &db.url,
        &temp_data_dir("recado-node"),
        port,
        TOKEN,
        &[("RECADO_SECRET_KEY", SECRET_KEY), ("RECADO_WORKERS", "2")],
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(client, &base).await;
    Node { base, child }
}

async fn call(client: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = client.request(method, url).bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// How many jobs of `kind` this node finished, from its own metrics.
async fn jobs_done(client: &reqwest::Client, node: &Node, kind: &str) -> u64 {
    let text = client
        .get(format!("{}/metrics", node.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("recado_jobs_total{")
                && l.contains(&format!("kind=\"{kind}\""))
                && l.contains("outcome=\"done\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// An outbound-webhook endpoint whose first delivery never gets an answer
/// (the node delivering it holds the job's lease until it dies); later
/// deliveries are answered at once.
#[derive(Clone, Default)]
struct StuckEndpoint {
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

async fn stuck_endpoint() -> (String, StuckEndpoint) {
    let endpoint = StuckEndpoint::default();
    let arrivals = endpoint.arrivals.clone();
    let router = Router::new().route(
        "/hook",
        post(move || {
            let arrivals = arrivals.clone();
            async move {
                let first = {
                    let mut a = arrivals.lock().unwrap();
                    a.push(Instant::now());
                    a.len() == 1
                };
                if first {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, endpoint)
}

async fn eventually(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn send_sms(client: &reqwest::Client, node: &Node, contact: &str, n: usize) -> String {
    let (status, body) = call(
        client,
        reqwest::Method::POST,
        format!("{}/api/v1/messages", node.base),
        Some(json!({"channel": "sms", "contact_id": contact, "text": format!("Pedido {n} confirmado")})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// Waits until every message in `ids` is delivered; names the others when
/// they are not, within `within`.
async fn all_delivered(client: &reqwest::Client, node: &Node, ids: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut pending = Vec::new();
        for id in ids {
            let url = format!("{}/api/v1/messages/{id}", node.base);
            let (_, m) = call(client, reqwest::Method::GET, url, None).await;
            if m["status"] != "delivered" {
                pending.push(format!("{id}: {} {}", m["status"], m["error"]));
            }
        }
        if pending.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "not delivered in time: {pending:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_the_queue_bind_an_smpp_channel_once_and_take_over_from_a_killed_node() {
    if !testing_postgres() {
        // Several nodes share PostgreSQL only; a SQLite database has one node.
        return;
    }
    let Some(smsc) = TestSmsc::start_or_skip(&[]).await else {
        return;
    };
    let db = TestDatabase::new().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut a = node(&db, &client).await;

    // The SMPP channel and a subscribed contact, through node A.
    let (status, body) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/channels", a.base),
        Some(json!({"kind": "sms_smpp", "name": "SMSC", "config": {
            "host": "127.0.0.1", "port": smsc.smpp_port, "system_id": SMSC_SYSTEM_ID,
            "password": SMSC_PASSWORD, "senders": ["+15550001111"], "window": 10}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let ana = subscribed_contact(&client, &a, "Ana", "+5511912345678").await;

    // Node B joins: A keeps the bind, B does not bind a second session.
    let mut b = node(&db, &client).await;
    for _ in 0..15 {
        let stats = smsc.stats().await;
        assert!(stats["bound"].as_u64().unwrap() <= 1, "two binds at once: {stats}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats = smsc.stats().await;
    assert_eq!(
        (stats["bound"].as_u64(), stats["binds"].as_u64()),
        (Some(1), Some(1)),
        "{stats}"
    );

    // Sends accepted by both nodes go out once each through A's bind; the
    // receipts' jobs are shared between the nodes.
    let mut sent = Vec::new();
    for n in 0..30 {
        let via = if n % 2 == 0 { &a } else { &b };
        sent.push(send_sms(&client, via, &ana, n).await);
    }
    all_delivered(&client, &b, &sent, Duration::from_secs(60)).await;
    assert_eq!(
        smsc.pdus_of("submit_sm").await.len(),
        30,
        "every SMS submitted exactly once"
    );
    let (receipts_a, receipts_b) = (
        jobs_done(&client, &a, "sms.smpp_receipt").await,
        jobs_done(&client, &b, "sms.smpp_receipt").await,
    );
    assert_eq!(
        receipts_a + receipts_b,
        30,
        "each receipt job ran once (A {receipts_a}, B {receipts_b})"
    );
    assert!(
        receipts_a > 0 && receipts_b > 0,
        "both nodes ran jobs (A {receipts_a}, B {receipts_b})"
    );

    // B dies; A, the only node left, takes a webhook delivery whose endpoint
    // never answers, so A holds the job's lease.
    b.child.kill().expect("SIGKILL");
    b.child.wait().ok();
    let (url, endpoint) = stuck_endpoint().await;
    let (status, body) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/webhooks", a.base),
        Some(json!({"url": url, "events": ["consent.changed"]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    subscribed_contact(&client, &a, "Bia", "+5511987654321").await;
    eventually(
        "A to start delivering the webhook",
        Duration::from_secs(15),
        async || !endpoint.arrivals.lock().unwrap().is_empty(),
    )
    .await;
    let first_delivery = endpoint.arrivals.lock().unwrap()[0];

    // Node C joins, then A dies with the delivery in flight.
    let c = node(&db, &client).await;
    assert!(
        first_delivery.elapsed() < Duration::from_secs(9),
        "A's webhook delivery must still be in flight when A dies (its HTTP timeout is 10 s)"
    );
    a.child.kill().expect("SIGKILL");
    a.child.wait().ok();
    let killed_at = Instant::now();

    // C takes over the bind...
    eventually("C to bind the channel", Duration::from_secs(15), async || {
        let stats = smsc.stats().await;
        stats["bound"] == 1 && stats["binds"] == 2
    })
    .await;
    // ... and the delivery A had leased, once A's heartbeat is seen to stop.
    eventually("C to deliver A's leased webhook", Duration::from_secs(45), async || {
        endpoint.arrivals.lock().unwrap().len() >= 2
    })
    .await;
    assert!(endpoint.arrivals.lock().unwrap()[1] > killed_at);

    // C now sends through its own bind.
    let mut later = Vec::new();
    for n in 0..5 {
        later.push(send_sms(&client, &c, &ana, 100 + n).await);
    }
    all_delivered(&client, &c, &later, Duration::from_secs(30)).await;
    assert_eq!(smsc.pdus_of("submit_sm").await.len(), 35, "no SMS was submitted twice");
    drop(c);
}

/// A contact with an SMS subscription, created through `node`.
async fn subscribed_contact(client: &reqwest::Client, node: &Node, name: &str, phone: &str) -> String {
    let (status, body) = call(
        client,
        reqwest::Method::POST,
        format!("{}/api/v1/contacts", node.base),
        Some(json!({"properties": {"firstname": name, "mobilephone": phone}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (status, body) = call(
        client,
        reqwest::Method::PUT,
        format!("{}/api/v1/contacts/{id}/subscriptions/sms", node.base),
        Some(json!({"status": "subscribed", "legal_basis": "consent", "explanation": "form"})),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    id
}
