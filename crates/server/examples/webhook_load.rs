//! Load generator for signed WhatsApp webhooks against a running hub.
//!
//! It creates a `whatsapp_cloud` channel (the hub must be reachable with an
//! admin token), pre-builds signed deliveries with unique message ids, then
//! either sends them as fast as `--concurrency` connections allow
//! (throughput) or at a fixed `--rate` per second (latency under load), and
//! prints events/s and latency percentiles. Each request counts only when the
//! hub answered 200, i.e. after the event was committed.
//!
//! cargo run --release -p recado --example webhook_load -- \
//!     --url http://127.0.0.1:8080 --token "$TOKEN" --requests 100000 --concurrency 64
//! cargo run --release -p recado --example webhook_load -- \
//!     --url http://127.0.0.1:8080 --token "$TOKEN" --rate 5000 --seconds 20

use recado_channels::whatsapp::{sign, testkit};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    url: String,
    token: String,
    requests: usize,
    concurrency: usize,
    rate: Option<u64>,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        token: String::new(),
        requests: 50_000,
        concurrency: 64,
        rate: None,
        seconds: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--url" => a.url = value,
            "--token" => a.token = value,
            "--requests" => a.requests = value.parse().expect("--requests N"),
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency N"),
            "--rate" => a.rate = Some(value.parse().expect("--rate N")),
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!a.token.is_empty(), "--token is required (an admin API token)");
    a
}

const SECRET: &str = "load-test-app-secret";
const PHONE_ID: &str = "load-phone-1";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args = args();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(256))
        .build()
        .unwrap();
    let channel: serde_json::Value = client
        .post(format!("{}/api/v1/channels", args.url))
        .bearer_auth(&args.token)
        .json(
            &serde_json::json!({"kind": "whatsapp_cloud", "name": format!("load {}", std::process::id()), "config": {
            "waba_id": "LOADWABA", "phone_numbers": [{"phone_number_id": PHONE_ID}], "access_token": "unused",
            "app_secret": SECRET, "verify_token": "unused", "graph_base_url": "http://127.0.0.1:9"}}),
        )
        .send()
        .await
        .expect("hub reachable")
        .json()
        .await
        .unwrap();
    let endpoint = format!(
        "{}/webhooks/whatsapp/{}",
        args.url,
        channel["id"].as_str().expect("channel created")
    );
    let total = match args.rate {
        Some(rate) => (rate * args.seconds) as usize,
        None => args.requests,
    };
    // Bodies are built and signed before the clock starts: the figure is the hub's.
    let run = std::process::id();
    let bodies: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..total)
            .map(|i| {
                let body = testkit::inbound_text(
                    PHONE_ID,
                    &format!("55119{:08}", i % 50_000),
                    "Load",
                    &format!("wamid.load.{run}.{i}"),
                    1_750_000_000,
                    "Olá, quero saber do meu pedido",
                );
                let signature = sign(SECRET.as_bytes(), &body);
                (body, signature)
            })
            .collect(),
    );
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let workers = if args.rate.is_some() {
        args.concurrency.max(512)
    } else {
        args.concurrency
    };
    for _ in 0..workers {
        let (client, endpoint, bodies, next) = (client.clone(), endpoint.clone(), bodies.clone(), next.clone());
        let rate = args.rate;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                // Open loop at a fixed rate: request i is due at i / rate seconds.
                let due = rate.map(|r| started + Duration::from_secs_f64(i as f64 / r as f64));
                if let Some(due) = due {
                    tokio::time::sleep_until(due.into()).await;
                }
                let sent_at = due.unwrap_or_else(Instant::now);
                let (body, signature) = &bodies[i];
                let ok = client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body.clone())
                    .send()
                    .await
                    .map(|r| r.status().as_u16() == 200)
                    .unwrap_or(false);
                if ok {
                    latencies.push(sent_at.elapsed());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "{} events stored in {:.2} s = {:.0} events/s ({} failed); latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms{}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        failures,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        args.rate.map(|r| format!(" at a target of {r}/s")).unwrap_or_default(),
    );
}
